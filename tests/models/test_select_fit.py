"""Choosing k (`segment select`), fitting (`segment fit`) and the first JSON model format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment.models.align import align_labels, match_classes
from segment.models.selection import select_n_components


@pytest.fixture(scope="module")
def gss82(shared_data):
    return pd.read_csv(shared_data / "lca" / "gss82.csv")


def test_select_on_gss82_recommends_three_classes_like_bic(gss82):
    result = select_n_components(gss82, range(1, 5), n_boot=4, random_state=0)
    table = result.table.set_index("k")
    # poLCA: BIC 5658.729 (k=2), 5650.926 (k=3), 5684.719 (k=4)
    np.testing.assert_allclose(
        table.loc[[2, 3, 4], "bic"], [5658.729, 5650.926, 5684.719], atol=0.01
    )
    assert result.recommended == 3
    assert "lowest BIC" in result.reason
    assert table.loc[1, "stability"] == pytest.approx(1.0)
    assert (table["stability"].between(0, 1)).all()
    assert table.loc[4, "smallest_share"] == pytest.approx(0.028, abs=0.002)


def test_select_reports_why_a_lower_bic_solution_was_passed_over():
    rng = np.random.default_rng(0)
    z = rng.choice(3, size=600, p=[0.48, 0.48, 0.04])  # a 4% class: too small to recommend
    X = np.where(rng.random((600, 6)) < 0.85, z[:, None], rng.integers(0, 3, (600, 6))).astype(
        float
    )
    result = select_n_components(X, [2, 3], n_boot=0, random_state=0)
    table = result.table.set_index("k")
    assert table.loc[3, "bic"] < table.loc[2, "bic"]
    assert result.recommended == 2
    assert "k=3 has a lower BIC but fails those criteria" in result.reason


def test_cli_select_text_and_json(gss82, capsys, shared_data):
    path = str(shared_data / "lca" / "gss82.csv")
    code, out, _ = run(["select", path, "--k", "2-3", "--bootstrap", "2", "--quiet"], capsys)
    assert code == 0
    assert "Recommended: k = 3" in out and "BIC" in out and "stability" in out
    code, out, _ = run(
        ["select", path, "--k", "2,3", "--bootstrap", "0", "--format", "json"], capsys
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["recommended"] == 3
    assert [row["k"] for row in doc["table"]] == [2, 3]
    assert {
        "loglik",
        "bic",
        "aic",
        "sabic",
        "entropy",
        "smallest_share",
        "smallest_n",
        "stability",
    } <= set(doc["table"][0])


@pytest.mark.parametrize("k_text", ["0-3", "a-b", "", "3-x"])
def test_cli_select_rejects_bad_k(capsys, shared_data, k_text):
    code, _, err = run(["select", str(shared_data / "lca" / "gss82.csv"), "--k", k_text], capsys)
    assert code == 2
    assert "--k" in err


def test_hungarian_alignment_recovers_a_permutation():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 4, 200)
    perm = np.array([2, 0, 3, 1])
    np.testing.assert_array_equal(align_labels(ref, perm[ref], 4), ref)
    assert match_classes(np.eye(3)[[1, 2, 0]]).tolist() == [1, 2, 0]


def test_select_with_an_ordinal_measurement_model_has_fewer_parameters(shared_data):
    from segment.models import OrdinalLatentClassModel

    X = (
        pd.read_csv(shared_data / "lca" / "election.csv")
        .filter(like="MORAL")
        .join(pd.read_csv(shared_data / "lca" / "election.csv").filter(like="CARES"))
    )
    nominal = select_n_components(X, [2, 3], n_init=2, n_boot=2, random_state=0)
    ordinal = select_n_components(
        X,
        [2, 3],
        n_init=2,
        n_boot=2,
        random_state=0,
        estimator=OrdinalLatentClassModel(item_types="ordinal"),
    )
    assert (ordinal.table["n_parameters"] < nominal.table["n_parameters"]).all()
    assert isinstance(ordinal.models[3], OrdinalLatentClassModel)
    assert ordinal.table["stability"].between(0, 1).all()
    assert (ordinal.table["stability"] > 0).all()  # the bootstrap refits ran


@pytest.mark.parametrize("measurement", ["ordinal", "cumulative"])
def test_cli_fit_and_select_with_ordinal_items(tmp_path, capsys, bundled_survey, measurement):
    from segment.segments.model_file import load_model

    data, codebook, _ = bundled_survey
    out = tmp_path / "model.json"
    code, _, err = run(
        [
            "fit",
            data,
            "--codebook",
            codebook,
            "--k",
            "4",
            "--n-init",
            "1",
            "--measurement",
            measurement,
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    model = load_model(out)
    frame = pd.read_csv(data).head(20)
    assert np.allclose(model.predict_proba(frame).sum(axis=1), 1)
    args = ["select", data, "--codebook", codebook, "--k", "3", "--n-init", "1"]
    args += ["--bootstrap", "0", "--format", "json"]
    counts = {}
    for m in ("nominal", measurement):
        code, text, _ = run([*args, "--measurement", m], capsys)
        assert code == 0
        counts[m] = json.loads(text)["table"][0]["n_parameters"]
    assert counts[measurement] < 0.7 * counts["nominal"]  # 312 vs 515 at k = 3
