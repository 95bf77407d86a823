"""`segment run` and its report: contents, self-containment, privacy, determinism, safety."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment.pipeline import ListExperiment, run_analysis
from segment.report import build_html, write_report
from segment.resources import bundled_path
from segment.segments.model_file import load_model


@pytest.fixture(scope="module")
def html(bundled_report) -> str:
    return (bundled_report / "index.html").read_text(encoding="utf-8")


def test_run_writes_the_three_report_files_and_its_marker(bundled_report):
    assert sorted(p.name for p in bundled_report.iterdir()) == [
        ".segment-output",
        "index.html",
        "model.json",
        "profiles.md",
    ]


@pytest.mark.parametrize(
    "section",
    [
        "Summary",
        "Segment sizes",
        "How many segments",
        "What each segment thinks",
        "A map of respondents",
        "Who they are",
        "Support for the sensitive item: support for CSTO membership",
        "By segment",
        "By subgroup",
        "Profiles",
        "Methods and caveats",
    ],
)
def test_report_has_every_section(html, section):
    assert f">{section}</h" in html


def test_report_is_self_contained(html):
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', html)
    assert all(src.startswith("data:image/png;base64,") for src, _ in images)
    alts = [alt for _, alt in images]
    assert [alt for alt in alts if not alt.startswith("Composition of each segment by ")] == [
        "Segment sizes with 95% intervals",
        "BIC and bootstrap stability by number of segments",
        "Mean answer position of each item by segment, grouped by domain",
        "UMAP map of respondents coloured by segment",
        "Estimated support for CSTO membership by segment",
        "Estimated support for CSTO membership by subgroup",
    ]


def test_who_they_are_has_a_panel_per_profile_variable_it_can_draw(html):
    # one figure per profile item of the bundled codebook, in its order; region (17
    # categories) is listed instead of drawn
    panels = re.findall(r'alt="Composition of each segment by ([^"]+)"', html)
    assert panels == [
        "age",
        "gender",
        "settlement type",
        "education",
        "income",
        "ethnicity",
        "home language",
        "employment",
        "news source",
    ]
    assert "Not drawn: region (17 categories, too many to draw)." in html


def test_report_says_the_data_are_synthetic(html):
    assert html.count("SYNTHETIC DATA") == 2  # the survey and the list experiment


def test_report_never_shows_respondent_ids(html, bundled_survey):
    ids = pd.read_csv(bundled_survey[0], usecols=["resp_id"])["resp_id"].astype(str)
    text = re.sub(r'src="data:[^"]+"', "", html)
    cells = set(re.findall(r"<td[^>]*>([^<]*)</td>", text))
    assert not cells & set(ids)


def test_report_names_the_segments_and_shows_the_seed_voice(html, bundled_report):
    for name in ("Illiberal Loyalists", "Angry Liberals", "Disenchanted Democrats"):
        assert name in html
    assert "Overall, views civic rights as" in html
    md = (bundled_report / "profiles.md").read_text(encoding="utf-8")
    assert md.startswith("# Segment profiles:")
    assert "SYNTHETIC DATA" in md


def test_report_model_scores_new_respondents(bundled_report, bundled_survey):
    model = load_model(bundled_report / "model.json")
    frame = pd.read_csv(bundled_survey[0]).head(50)
    proba = model.predict_proba(frame)
    assert proba.shape == (50, len(model.segments))
    assert proba.sum(axis=1) == pytest.approx(1.0)


def test_report_list_experiment_matches_the_listexp_command(html, capsys):
    code, out, _ = run(
        [
            "listexp",
            bundled_path("data", "kz2022_listexp.csv"),
            "--J",
            "4",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    estimate = json.loads(out)["overall"]["estimate"]
    assert f"<strong>{100 * estimate:.0f}%</strong>" in html


def _small_analysis(seed: int):
    return run_analysis(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
        k=6,
        ks=[],
        embed=False,
        n_init=2,
        n_boot_support=50,
        random_state=seed,
        listexp=ListExperiment(
            bundled_path("data", "kz2022_listexp.csv"), J=4, by=("gender",), synthetic=True
        ),
    )


@pytest.fixture(scope="module")
def k6():
    return _small_analysis(1)


def test_same_data_and_seed_give_the_same_report(k6):
    assert build_html(_small_analysis(1)) == build_html(k6)


def test_k6_on_the_bundled_survey_names_all_six_reference_segments(k6):
    a = k6
    assert a.names["named"].all()
    assert sorted(a.names["name"]) == sorted(s.name for s in a.typology.segments)


def test_small_cells_are_suppressed_in_the_report(k6):
    a = k6
    groups = a.listexp.groups
    assert all(g["n"] is None or g["n"] >= 30 for g in groups)
    html = build_html(a)
    assert "cells were suppressed" in html


def test_a_failed_report_keeps_the_previous_one(tmp_path, monkeypatch, k6):
    a = k6
    out = write_report(a, tmp_path / "r")
    before = (out / "index.html").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("segment.report.writer.save_model", boom)
    with pytest.raises(RuntimeError):
        write_report(a, tmp_path / "r")
    assert (out / "index.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no half-written folder


def test_run_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    code, _, err = run(["run", "-o", target, "--quiet"], capsys)
    assert code == 2
    assert "not a folder segment made (no .segment-output marker)" in err
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_run_on_bad_data_writes_nothing(tmp_path, capsys, bundled_survey):
    data, codebook, _ = bundled_survey
    lines = data.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index("trust_army")] = "7"
    lines[3] = ",".join(row)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(
        ["run", bad, "--codebook", codebook, "-o", tmp_path / "out", "--quiet"], capsys
    )
    assert code == 2
    assert "trust_army, row 3: value 7" in err
    assert not (tmp_path / "out").exists()


def test_report_uses_the_codebook_design_for_intervals(tmp_path):
    import yaml

    frame = pd.read_csv(bundled_path("data", "kz2020_synthetic.csv"))
    # 60 PSUs of 25 respondents in 6 strata (a made-up clustered design)
    frame["psu"] = np.arange(len(frame)) // 25
    frame["stratum"] = frame["psu"] % 6
    data = tmp_path / "clustered.csv"
    frame.to_csv(data, index=False)
    doc = yaml.safe_load(bundled_path("data", "kz2020_synthetic_codebook.yaml").read_text("utf-8"))
    doc["design"] = {"strata": "stratum", "psu": "psu"}
    doc["items"] = [
        *doc["items"],
        {"column": "psu", "type": "numeric", "domain": "other"},
        {"column": "stratum", "type": "numeric", "domain": "other"},
    ]
    codebook = tmp_path / "clustered.yaml"
    codebook.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    a = run_analysis(data, codebook, k=6, ks=[], embed=False, n_init=2, random_state=1)
    assert a.profiles.design.startswith("linearization: 6 strata, 60 PSUs")
    assert "deff" in a.profiles.shares
    assert "design-based intervals (linearization: 6 strata, 60 PSUs" in build_html(a)


def test_run_reads_the_list_experiment_file_in_the_given_encoding(tmp_path):
    from segment.exceptions import InputError

    le = pd.read_csv(bundled_path("data", "kz2022_listexp.csv"))
    le["region"] = le["region"].map({"almaty": "Алматы", "astana": "Астана", "other": "другие"})
    path = tmp_path / "listexp_cp1251.csv"
    le.to_csv(path, index=False, encoding="cp1251")
    args = dict(k=6, ks=[], embed=False, n_init=1, n_boot_support=20)
    spec = ListExperiment(path, J=4, by=("region",))
    survey = (
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    with pytest.raises(InputError, match=re.escape("listexp_cp1251.csv")):
        run_analysis(*survey, listexp=spec, **args)  # read as UTF-8: refused before fitting
    a = run_analysis(*survey, listexp=spec, encoding="cp1251", **args)
    assert {g["group"] for g in a.listexp.groups} == {"Алматы", "Астана", "другие"}
