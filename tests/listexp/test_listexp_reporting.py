"""The flag rule and the memo's Table 1 in `segment run`'s table and in the report: no share
outside 0-100% unless flagged, no dot dropped from the support figures, the published table
beside ours with its three inconsistent rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segment.listexp.published import MEMO_TABLE1
from segment.pipeline import ListExperiment, run_analysis
from segment.report import build_html, figures
from segment.resources import bundled_path


@pytest.fixture(scope="module")
def k6():
    """The bundled survey at k = 6 with the bundled list experiment and the memo's table."""
    return run_analysis(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
        k=6,
        ks=[],
        embed=False,
        n_init=2,
        n_boot_support=50,
        random_state=1,
        # ethnicity "other" (38 respondents, about 19 an arm) is described only under 19
        min_cell=15,
        listexp=ListExperiment(
            bundled_path("data", "kz2022_listexp.csv"),
            J=4,
            by=("gender", "education", "ethnicity", "region"),
            synthetic=True,
            published=bundled_path("profiles", MEMO_TABLE1),
        ),
    )


@pytest.fixture(scope="module")
def support_text(k6) -> str:
    html = build_html(k6)
    section = html[html.index('id="support"') : html.index('id="profiles"')]
    section = re.sub(r"<img[^>]*>", "", section)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_every_reported_share_is_inside_the_bounds_or_flagged(k6):
    le = k6.listexp
    rows = [le.overall, *[g for g in le.groups if not g["suppressed"]]]
    for r in rows:
        for key in ("headline", "headline_ci_low", "headline_ci_high", "bounded", "ci_low"):
            assert 0 <= r[key] <= 1, key
        assert (0 <= r["estimate"] <= 1) == (r["flag"] is None)
    t = le.support.table.dropna(subset=["estimate"])
    assert t["headline"].between(0, 1).all()
    assert (~t["estimate"].between(0, 1) == t["flag"].map(lambda f: isinstance(f, str))).all()


def test_the_report_prints_no_percentage_outside_0_100(support_text):
    text = support_text.replace("0-100%", "").replace("0–100%", "")
    for value in re.findall(r"(-?\d+(?:\.\d)?)%", text):
        v = float(value)
        assert 0 <= v <= 100 or f"{value}%, is outside" in text, value


def test_the_report_flags_the_small_group_with_its_reason(support_text):
    assert (
        "* ethnicity other: the difference in means, 120.0%, is outside 0-100%: n = 38, small "
        "group; SE 41 points; shown: the constrained maximum-likelihood estimate."
    ) in support_text
    assert "100%* 49% to 100%" in support_text


def test_the_report_flags_segments_whose_bch_estimate_is_not_a_share(k6, support_text):
    t = k6.listexp.support.table
    flagged = t[t["flag"].map(lambda f: isinstance(f, str))]
    for r in flagged.itertuples():
        assert f"the corrected difference in means, {100 * r.estimate:.1f}%, is outside" in (
            support_text
        )
    assert "ML three-step" in support_text


def test_the_report_shows_the_memo_beside_ours_with_the_arithmetic(support_text):
    assert "The published table beside ours" in support_text
    for label, arithmetic in (
        ("Kazakh", "3.20 - 2.83 = 37%, printed 42.3"),
        ("Almaty", "3.36 - 2.81 = 55%, printed 27.0"),
        ("All Others", "3.36 - 2.81 = 55%, printed 63.6"),
    ):
        assert (
            f"† {label}: the printed support is not treatment minus control: {arithmetic}."
            in support_text
        )
    assert "42.3%†" in support_text and "29.2%†" not in support_text


def test_segment_run_prints_flags_and_the_memos_rows(k6, capsys, tmp_path):
    from segment.cli.run import _print_run

    _print_run(k6, tmp_path, 1.0)
    out = " ".join(capsys.readouterr().out.split())
    assert "* ethnicity other: the difference in means 120.0% is outside 0-100%" in out
    assert "3.36 - 2.81 = 55%, printed 27.0" in out
    # "36%-41%" is a share's interval; a negative share would follow a space
    for value in re.findall(r"(?<![\d%])(-?\d+)%", out.replace("0-100%", "")):
        assert 0 <= int(value) <= 100


def _drawn(monkeypatch, rows: pd.DataFrame) -> dict:
    seen: dict = {}

    def capture(fig):
        ax = fig.axes[0]
        seen["markers"] = [
            ln.get_marker() for ln in ax.lines if ln.get_marker() not in ("None", "")
        ]
        seen["texts"] = [t.get_text() for t in ax.texts]
        seen["labels"] = [t.get_text() for t in ax.get_yticklabels()]
        return b""

    monkeypatch.setattr(figures, "_png", capture)
    figures.support_figure(rows, overall=0.5, title="t")
    return seen


def test_the_figure_draws_every_row_and_marks_the_flagged_one(monkeypatch):
    rows = pd.DataFrame(
        {
            "label": ["a", "b", "c"],
            "estimate": [0.4, 1.0, np.nan],
            "ci_low": [0.1, 0.58, np.nan],
            "ci_high": [0.7, 1.0, np.nan],
            "flagged": [False, True, False],
        }
    )
    seen = _drawn(monkeypatch, rows)
    assert sorted(seen["markers"]) == ["D", "o"]  # the flagged row is an open diamond
    assert "too few to report" in seen["texts"]
    assert seen["labels"] == ["a", "b*", "c"]


def test_an_estimate_beyond_the_axis_is_drawn_at_its_edge(monkeypatch):
    rows = pd.DataFrame(
        {"label": ["x"], "estimate": [1.24], "ci_low": [0.5], "ci_high": [1.9], "flagged": [True]}
    )
    seen = _drawn(monkeypatch, rows)
    assert seen["markers"] == ["D"]
