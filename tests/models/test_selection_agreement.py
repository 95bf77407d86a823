"""`segment select` and `segment run` give the same table of k for the same data and seed."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import run_cli as run

N = 250


@pytest.fixture(scope="module")
def small_survey(bundled_survey, tmp_path_factory):
    data, codebook, _ = bundled_survey
    path = tmp_path_factory.mktemp("small") / "small.csv"
    pd.read_csv(data).head(N).to_csv(path, index=False)
    return path, codebook


@pytest.mark.filterwarnings("ignore:.*not consecutive integers:UserWarning")
@pytest.mark.parametrize("measurement", ["nominal", "cumulative"])
def test_select_and_run_agree_on_every_number_of_the_table(
    small_survey, tmp_path, capsys, monkeypatch, measurement
):
    path, codebook = small_survey
    common = ["--codebook", codebook, "--seed", "3", "--measurement", measurement]
    code, out, err = run(["select", path, *common, "--k", "2-3", "--format", "json"], capsys)
    assert code == 0, err
    selected = pd.DataFrame(json.loads(out)["table"]).set_index("k")

    analyses = []
    monkeypatch.setattr("segment.report.write_report", lambda a, folder: analyses.append(a))
    code, _, err = run(
        ["run", path, *common, "--ks", "2-3", "--no-map", "-o", tmp_path / "r", "--quiet"],
        capsys,
    )
    assert code == 0, err
    (analysis,) = analyses
    ran = analysis.selection.table.set_index("k")
    assert analysis.model.fit["measurement"] == measurement
    assert list(ran.index) == list(selected.index) == [2, 3]
    for column in ("loglik", "bic", "aic", "n_parameters", "entropy", "smallest_n", "stability"):
        pd.testing.assert_series_equal(
            ran[column].astype(float), selected[column].astype(float), rtol=1e-12
        )
    assert analysis.k == json.loads(out)["recommended"]
