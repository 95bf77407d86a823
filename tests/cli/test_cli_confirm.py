"""`segment fit --confirm` and the confirm-typology step of `segment run`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import run_cli as run

from segment.cards.typology import Typology

N = 400


@pytest.fixture(scope="module")
def small_survey(bundled_survey, tmp_path_factory):
    data, codebook, _ = bundled_survey
    path = tmp_path_factory.mktemp("small") / "small.csv"
    pd.read_csv(data).head(N).to_csv(path, index=False)
    return path, codebook


@pytest.mark.parametrize("typology", ["kz2020", "auto"])
def test_fit_confirm_prints_the_support_table_and_saves_the_six_in_order(
    small_survey, tmp_path, capsys, typology
):
    path, codebook = small_survey
    out_file = tmp_path / "confirm.json"
    argv = ["fit", path, "--codebook", codebook, "--confirm", typology, "--n-boot", "2"]
    code, out, err = run([*argv, "-o", out_file], capsys)
    assert code == 0, err
    names = [s.name for s in Typology.load("kz2020").segments]
    assert "Confirmatory fit against the kz2020 typology (6 segments)" in out
    for name in names:
        assert name in out
    model = json.loads(out_file.read_text(encoding="utf-8"))
    assert model["typology"] == "kz2020"
    assert len(model["segments"]) == 6
    assert "confirmatory 6-segment model" in err


def test_fit_needs_k_or_confirm(small_survey, tmp_path, capsys):
    path, codebook = small_survey
    code, _, err = run(["fit", path, "--codebook", codebook, "-o", tmp_path / "m.json"], capsys)
    assert code == 2 and "--k" in err and "--confirm" in err


@pytest.mark.parametrize(
    ("typology", "message"), [("kz2020", "does not ask"), ("auto", "names no typology")]
)
def test_confirm_on_a_survey_of_another_battery_is_refused(
    shared_data, tmp_path, capsys, typology, message
):
    argv = ["fit", shared_data / "lca" / "election.csv", "--confirm", typology]
    code, _, err = run([*argv, "-o", tmp_path / "m.json"], capsys)
    assert code == 2, err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


@pytest.mark.parametrize(("typology", "confirmed"), [("auto", True), ("none", False)])
def test_run_confirms_only_with_a_typology(small_survey, tmp_path, capsys, typology, confirmed):
    path, codebook = small_survey
    argv = ["run", path, "--codebook", codebook, "--k", "3", "--no-map", "--typology", typology]
    code, out, err = run([*argv, "-o", tmp_path / "r"], capsys)
    assert code == 0, err
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    if confirmed:
        assert "confirm typology: done" in err
        assert "Confirmatory fit: the 6 segments of the kz2020 typology" in out
        assert 'id="confirm"' in html
        for seg in Typology.load("kz2020").segments:
            assert seg.name in out
    else:
        assert "confirm typology: skipped" in err
        assert "Confirmatory" not in out and 'id="confirm"' not in html
