"""How `segment compare` words its results: whole names, a test of no change, p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment._util import format_p
from segment.segments.waves import WaveComparison

LONG = "Value critical media, Residents of Karaganda region and their neighbours"


def _comparison(p_value: float, statistic: float, p_holm=(0.00001, 0.2, 0.5)) -> WaveComparison:
    k = len(p_holm)
    table = pd.DataFrame(
        {
            "segment": np.arange(k),
            "name": [LONG, "Angry Liberals", "Illiberal Loyalists"][:k],
            "share_1": np.full(k, 1 / k),
            "change": np.linspace(-0.05, 0.05, k),
            "ci_low": np.linspace(-0.08, 0.02, k),
            "ci_high": np.linspace(-0.02, 0.08, k),
            "p_holm": p_holm,
        }
    )
    table["share_2"] = table["share_1"] + table["change"]
    return WaveComparison(table, statistic, k - 1, p_value, (1500, 1400), ("2020", "2022"))


def test_summary_prints_whole_segment_names():
    text = _comparison(0.00001, 48.15).summary()
    assert LONG in text
    rows = [line for line in text.splitlines() if line.startswith(("Value", "Angry", "Illib"))]
    assert len(rows) == 3 and len({line.index("%") for line in rows}) == 1  # columns aligned


@pytest.mark.parametrize(
    ("p", "statistic", "expected"),
    [
        (
            0.00001,
            48.15,
            "Test of no change in any share: Wald chi2(2) = 48.15, p < 0.0001: at least one "
            "share changed.",
        ),
        (
            0.0123,
            8.8,
            "Test of no change in any share: Wald chi2(2) = 8.80, p = 0.012: at least one share "
            "changed.",
        ),
        (
            0.68,
            0.77,
            "Test of no change in any share: Wald chi2(2) = 0.77, p = 0.680: the shares are "
            "consistent with no change (at the 0.05 level; this does not show that they are "
            "unchanged).",
        ),
    ],
)
def test_the_omnibus_test_is_a_test_of_no_change(p, statistic, expected):
    result = _comparison(p, statistic)
    assert result.test_text() == expected
    summary = result.summary()
    assert expected in summary
    assert "All shares unchanged" not in summary and "p = 0.0000" not in summary


def test_holm_p_values_below_the_printed_precision_say_so():
    text = _comparison(0.5, 1.0, p_holm=(0.00001, 0.0004, 0.5)).summary()
    assert "<0.0001" in text and "0.0004" in text and "0.000 " not in text


@pytest.mark.parametrize(
    ("p", "prefixed", "bare"),
    [
        (0.0, "p < 0.0001", "<0.0001"),
        (0.00009, "p < 0.0001", "<0.0001"),
        (0.0001, "p = 0.0001", "0.0001"),
        (0.00049, "p = 0.0005", "0.0005"),
        (0.001, "p = 0.001", "0.001"),
        (0.04999, "p = 0.050", "0.050"),
        (1.0, "p = 1.000", "1.000"),
        (float("nan"), "-", "-"),
    ],
)
def test_format_p(p, prefixed, bare):
    assert format_p(p) == prefixed
    assert format_p(p, prefix=False) == bare


def test_cli_compare_markdown_states_the_test_of_no_change(tmp_path, capsys, bundled_survey):
    from segment import read_survey
    from segment.segments.fit import fit_segments
    from segment.segments.model_file import save_model

    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    model = fit_segments(frame.head(300), cb, 2, typology=None, n_init=1)
    model.segments[0]["name"] = LONG
    save_model(model, tmp_path / "model.json")
    for fmt in ("text", "markdown"):
        code, out, err = run(
            ["compare", tmp_path / "model.json", data, data, "--format", fmt], capsys
        )
        assert code == 0, err
        assert LONG in out
        assert (
            "Test of no change in any share: Wald chi2(1) = 0.00, p = 1.000: the shares are "
            in (" ".join(out.split()))
        )
        assert "All shares unchanged" not in out
