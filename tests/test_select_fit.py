"""Choosing k (`segment select`), fitting (`segment fit`) and the first JSON model format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segment._align import align_labels, match_classes
from segment.cli import main
from segment.modelfile import ModelFileError, load_model, save_model
from segment.models import LatentClassModel
from segment.select import select_n_components


def run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


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


def test_cli_fit_writes_a_model_that_reloads_with_identical_probabilities(
    tmp_path, capsys, bundled_survey
):
    data, codebook, _ = bundled_survey
    out_path = tmp_path / "model.json"
    code, _, err = run(
        [
            "fit",
            str(data),
            "--codebook",
            str(codebook),
            "--k",
            "3",
            "--n-init",
            "2",
            "-o",
            str(out_path),
        ],
        capsys,
    )
    assert code == 0, err
    assert "3 segments" in err
    model, doc = load_model(out_path)
    assert doc["format"] == "segment.model/1"
    assert doc["codebook"]["synthetic"] is True
    assert len(doc["training_data"]["sha256"]) == 64
    text = out_path.read_text(encoding="utf-8")
    ids = pd.read_csv(data, usecols=["resp_id"])["resp_id"].astype(str)
    assert not any(f'"{i}"' in text for i in ids[:200])  # no respondent ids in the model file
    frame = pd.read_csv(data)
    from segment import read_survey

    frame, cb = read_survey(data, codebook)
    X = cb.model_codes(frame)
    refit = LatentClassModel(3, n_init=2, random_state=1).fit(
        X, sample_weight=frame["weight"] / frame["weight"].mean()
    )
    np.testing.assert_allclose(model.predict_proba(X), refit.predict_proba(X), atol=1e-12)
    code, _, err = run(
        ["fit", str(data), "--codebook", str(codebook), "--k", "3", "-o", str(out_path)], capsys
    )
    assert code == 2 and "--force" in err


def test_model_file_round_trip_and_determinism(tmp_path, gss82):
    model = LatentClassModel(3, random_state=0).fit(gss82)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    save_model(model, a, X=gss82)
    save_model(LatentClassModel(3, random_state=0).fit(gss82), b, X=gss82)
    assert a.read_bytes() == b.read_bytes()
    loaded, doc = load_model(a)
    np.testing.assert_array_equal(loaded.predict_proba(gss82), model.predict_proba(gss82))
    assert doc["fit"]["bic"] == pytest.approx(5650.926, abs=0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "segment.model/9"}', "cannot read it"),
        ('{"format": "segment.model/1", "model": {', "truncated"),
        ("[1, 2]", "cannot read it"),
    ],
)
def test_unreadable_model_files_are_refused(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_hungarian_alignment_recovers_a_permutation():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 4, 200)
    perm = np.array([2, 0, 3, 1])
    np.testing.assert_array_equal(align_labels(ref, perm[ref], 4), ref)
    assert match_classes(np.eye(3)[[1, 2, 0]]).tolist() == [1, 2, 0]
