"""Model files and scoring (`segment fit` -> `segment score`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment import read_survey
from segment.cards.typology import Typology
from segment.segments.fit import fit_segments
from segment.segments.model_file import (
    FORMAT_VERSION,
    ModelFileError,
    load_model,
    model_to_dict,
    save_model,
)
from segment.segments.scoring import scored_table


@pytest.fixture(scope="module")
def survey(bundled_survey):
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    return data, frame, cb


@pytest.fixture(scope="module")
def model(survey):
    _, frame, cb = survey
    return fit_segments(frame, cb, 6, typology=Typology.load("kz2020"), n_init=3)


@pytest.fixture
def model_path(model, tmp_path):
    path = tmp_path / "model.json"
    save_model(model, path)
    return path


def test_round_trip_gives_identical_probabilities(model, model_path, survey):
    data, frame, _ = survey
    loaded = load_model(model_path)
    raw = pd.read_csv(data)
    np.testing.assert_array_equal(loaded.predict_proba(raw), model.predict_proba(raw))
    np.testing.assert_array_equal(
        model.predict_proba(raw),
        model.estimator.predict_proba(model.codebook.model_codes(frame, model.items)),
    )
    assert loaded.names == model.names
    assert sorted(loaded.names) == sorted(s.name for s in Typology.load("kz2020").segments)
    assert model_path.read_bytes() == (
        save_model(loaded, model_path.with_name("again.json"))
        or model_path.with_name("again.json").read_bytes()
    )


def test_model_file_holds_no_respondent_data(model_path, survey):
    data, _, _ = survey
    doc = json.loads(model_path.read_text(encoding="utf-8"))
    assert set(doc) == {
        "format",
        "format_version",
        "package",
        "model",
        "segments",
        "typology",
        "fit",
        "codebook",
        "training_data",
        "checksum",
    }
    assert len(doc["training_data"]["sha256"]) == 64
    text = model_path.read_text(encoding="utf-8")
    ids = pd.read_csv(data, usecols=["resp_id"])["resp_id"].astype(str)
    assert not any(f'"{i}"' in text or f" {i}," in text for i in ids)


def _rewrite(path, edit):
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["model"]["shares"].__setitem__(0, 0.9),
            "does not match its checksum",
        ),  # edited by hand
        (lambda d: d.__setitem__("format_version", FORMAT_VERSION + 1), "newer segment"),
        (lambda d: d.__setitem__("format", "something.else"), "not a segment model file"),
    ],
)
def test_edited_and_future_model_files_are_refused(model_path, edit, message):
    _rewrite(model_path, edit)
    with pytest.raises(ModelFileError, match=message):
        load_model(model_path)


def test_truncated_model_file_is_refused(model_path, capsys, survey):
    text = model_path.read_text(encoding="utf-8")
    model_path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ModelFileError, match="truncated"):
        load_model(model_path)
    code, _, err = run(["score", str(model_path), "--answer", "trust_army=1"], capsys)
    assert code == 2 and "truncated" in err


def test_loading_never_unpickles(model_path):
    # the loader is JSON-only: a pickle payload is just an invalid file
    import pickle

    model_path.write_bytes(pickle.dumps({"format": "segment.model"}))
    with pytest.raises(ModelFileError):
        load_model(model_path)


def test_partial_answers_and_refused_rows(model, survey):
    data, _, _ = survey
    raw = pd.read_csv(data).head(6)
    raw.loc[1, "trust_army"] = 7  # outside the codebook: that row is refused
    raw["cr_free_speech"] = raw["cr_free_speech"].astype(object)
    raw.loc[2, "cr_free_speech"] = "abc"
    raw.loc[3, model.items[10:]] = np.nan  # partial answers
    scored = model.score_frame(raw)
    assert scored.loc[1, "refused"].startswith("trust_army=7: not an answer code")
    assert "expected one of 1-4; 8 (don't know); 9 (refused) or blank" in scored.loc[1, "refused"]
    assert scored.loc[2, "refused"].startswith("cr_free_speech=abc")
    assert scored.loc[[1, 2], "segment"].isna().all()
    assert scored.loc[3, "items_used"] == 10 and scored.loc[0, "items_used"] == len(model.items)
    assert scored.loc[[0, 3, 4, 5], "refused"].eq("").all()
    probs = scored[[f"p_{n}" for n in model.names]].to_numpy()
    np.testing.assert_allclose(probs[[0, 3, 4, 5]].sum(axis=1), 1.0)
    assert list(scored["resp_id"]) == list(raw["resp_id"])


@pytest.mark.parametrize(
    "row",
    [
        {"cr_free_speech": np.nan},  # every item missing
        {"cr_free_speech": 9},  # only a refused code (missing under refused: missing)
        {},  # none of the model's columns at all
    ],
)
def test_no_answers_get_no_segment_but_a_reason(model, row):
    frame = pd.DataFrame([row] if row else [{"other": 1}])
    scored = model.score_frame(frame)
    assert scored.loc[0, "items_used"] == 0
    assert scored.loc[0, "no_segment"] == "no_answers"
    assert pd.isna(scored.loc[0, "segment"]) and pd.isna(scored.loc[0, "segment_index"])
    assert scored[[f"p_{n}" for n in model.names]].isna().all(axis=None)
    assert pd.isna(scored.loc[0, "low_confidence"]) and scored.loc[0, "refused"] == ""
    assert model.predict(frame)[0] is None  # not the largest segment
    # the posterior of no answers is still the prior, for callers who want it
    np.testing.assert_allclose(model.predict_proba(frame)[0], model.estimator.prior_shares_)


def test_cli_score_file_streams_in_chunks_with_identical_results(
    model_path, survey, tmp_path, capsys
):
    data, _, _ = survey
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    assert run(["score", str(model_path), str(data), "-o", str(whole), "--quiet"], capsys)[0] == 0
    code, _, err = run(
        ["score", str(model_path), str(data), "-o", str(chunked), "--chunk-size", "97", "--quiet"],
        capsys,
    )
    assert code == 0 and "1,500 respondents scored" in err
    assert whole.read_bytes() == chunked.read_bytes()
    scored = pd.read_csv(whole)
    assert len(scored) == 1500 and {
        "segment",
        "max_probability",
        "low_confidence",
        "items_used",
        "refused",
    } <= set(scored.columns)


def test_cli_score_parquet_and_json_lines(model_path, survey, tmp_path, capsys):
    data, _, _ = survey
    parquet = tmp_path / "answers.parquet"
    pd.read_csv(data).to_parquet(parquet)
    out = tmp_path / "scored.jsonl"
    assert (
        run(
            [
                "score",
                str(model_path),
                str(parquet),
                "-o",
                str(out),
                "--format",
                "json",
                "--chunk-size",
                "500",
                "--quiet",
            ],
            capsys,
        )[0]
        == 0
    )
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    names = load_model(model_path).names
    assert len(records) == 1500 and records[0]["segment_label"] in names
    assert records[0]["segment_label"] == names[records[0]["segment"] - 1]


def test_cli_score_one_person(model_path, capsys):
    code, out, _ = run(
        [
            "score",
            str(model_path),
            "--answer",
            "trust_president=4",
            "--answer",
            "cr_free_speech=2",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    record = json.loads(out)
    assert record["items_used"] == 2 and record["segment"] in load_model(model_path).names
    assert sum(record["probabilities"].values()) == pytest.approx(1.0)
    code, _, err = run(["score", str(model_path), "--answer", "no_such_item=1"], capsys)
    assert code == 2 and "no_such_item" in err


def test_cli_score_refuses_to_overwrite_and_needs_output(model_path, survey, tmp_path, capsys):
    data, _, _ = survey
    existing = tmp_path / "x.csv"
    existing.write_text("keep me", encoding="utf-8")
    assert run(["score", str(model_path), str(data), "-o", str(existing)], capsys)[0] == 2
    assert existing.read_text(encoding="utf-8") == "keep me"
    assert run(["score", str(model_path), str(data)], capsys)[0] == 2


def test_model_to_dict_is_deterministic(model):
    assert json.dumps(model_to_dict(model)) == json.dumps(model_to_dict(model))


def test_dask_scoring_on_a_local_cluster_matches_in_process_scoring(
    model, model_path, survey, tmp_path, capsys
):
    distributed = pytest.importorskip("distributed")
    from segment.segments.dask_scoring import score_parquet_dask

    data, _, _ = survey
    raw = pd.read_csv(data)
    source = tmp_path / "answers"
    source.mkdir()
    for i in range(3):
        raw.iloc[i * 500 : (i + 1) * 500].to_parquet(source / f"part{i}.parquet")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            n = score_parquet_dask(model, source, tmp_path / "scored", client=client)
            address = cluster.scheduler_address
            code, _, err = run(
                [
                    "score",
                    str(model_path),
                    str(source),
                    "-o",
                    str(tmp_path / "cli"),
                    "--engine",
                    "dask",
                    "--scheduler",
                    address,
                ],
                capsys,
            )
    assert n == 1500
    expected = scored_table(model, model.score_frame(raw)).frame.reset_index(drop=True)
    assert "p_seg1" in expected and "segment_label" in expected
    for folder in ("scored", "cli"):
        got = pd.read_parquet(tmp_path / folder).sort_values("resp_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert code == 0 and "1,500 respondents scored on Dask" in err
