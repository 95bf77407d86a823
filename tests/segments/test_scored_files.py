"""Scored files (`segment score -o`): safe column names, labels, SPSS and Stata, no segment."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment import read_survey
from segment._util import safe_variable_names
from segment.segments.fit import fit_segments
from segment.segments.model_file import save_model
from segment.segments.scoring import format_of, score_file, scored_table

SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
#: Long names with spaces, commas and apostrophes, as segment names are.
NAMES = [
    "Illiberal Loyalists",
    "Value critical media, Residents of Karaganda region",
    "Don't trust the West, Men over 60",
]


@pytest.fixture(scope="module")
def model(bundled_survey):
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    model = fit_segments(frame.head(300), cb, 3, typology=None, n_init=1)
    for segment, name in zip(model.segments, NAMES, strict=True):
        segment["name"] = name
    return model


@pytest.fixture(scope="module")
def answers(bundled_survey, tmp_path_factory, model):
    raw = pd.read_csv(bundled_survey[0]).head(40)
    raw.loc[2, model.items] = np.nan  # not asked: no segment
    raw.loc[5, "trust_army"] = 7  # off the scale: refused
    path = tmp_path_factory.mktemp("answers") / "answers.csv"
    raw.to_csv(path, index=False)
    return path


@pytest.fixture
def model_path(model, tmp_path):
    path = tmp_path / "model.json"
    save_model(model, path)
    return path


def _read(path, fmt):
    """The scored file, its variable labels and value labels (empty for CSV and JSON)."""
    import pyreadstat

    if fmt == "csv":
        return pd.read_csv(path, dtype={"resp_id": str}), {}, {}
    if fmt == "json":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return pd.DataFrame(rows), {}, {}
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = reader(str(path))
    return frame, meta.column_names_to_labels, meta.variable_value_labels


@pytest.mark.parametrize("fmt", ["csv", "json", "sav", "dta"])
def test_scored_files_have_safe_names_and_keep_the_full_names(model, answers, tmp_path, fmt):
    out = tmp_path / f"scored.{fmt}"
    result = score_file(model, answers, out, fmt=fmt)
    frame, labels, value_labels = _read(out, fmt)
    k = len(NAMES)
    assert list(frame.columns) == [
        "resp_id",
        "segment",
        "segment_label",
        *(f"p_seg{s}" for s in range(1, k + 1)),
        "max_probability",
        "low_confidence",
        "items_used",
        "no_segment",
        "refused",
    ]
    assert all(SAFE.match(c) for c in frame.columns)
    assert result.rows == 40 and result.no_answers == 1 and result.refused == 1
    scored = frame.set_index(frame["resp_id"].astype(str))
    ids = pd.read_csv(answers, dtype={"resp_id": str})["resp_id"]
    assert scored.loc[ids[2], "no_segment"] == "no_answers"
    assert scored.loc[ids[5], "no_segment"] == "refused"
    assert pd.isna(scored.loc[ids[2], "segment"]) and pd.isna(scored.loc[ids[2], "p_seg1"])
    ok = scored.drop(index=[ids[2], ids[5]])
    assert ok["segment"].between(1, k).all()
    expected = np.array(NAMES, dtype=object)[ok["segment"].astype(int) - 1]
    assert (ok["segment_label"].to_numpy() == expected).all()
    if fmt in ("sav", "dta"):
        assert value_labels["segment"] == {s + 1: name for s, name in enumerate(NAMES)}
        assert labels["p_seg2"].startswith("Probability of segment 2: Value critical media")
        assert labels["segment"] == "Most likely segment"


def test_labels_file_maps_every_column_and_segment_number(model, answers, tmp_path):
    labels = tmp_path / "labels.csv"
    score_file(model, answers, tmp_path / "scored.csv", labels=labels)
    table = pd.read_csv(labels, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["column", "value", "label"]
    assert set(table["column"]) == set(pd.read_csv(tmp_path / "scored.csv", nrows=0).columns)
    segment = table[(table["column"] == "segment") & (table["value"] != "")]
    assert dict(zip(segment["value"], segment["label"], strict=True)) == {
        str(s + 1): name for s, name in enumerate(NAMES)
    }
    p3 = table[(table["column"] == "p_seg3") & (table["value"] == "")]["label"].item()
    assert p3 == f"Probability of segment 3: {NAMES[2]}"


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [(".sav", "sav"), (".DTA", "dta"), (".jsonl", "json"), (".json", "json"), (".csv", "csv")],
)
def test_cli_score_picks_the_format_from_the_suffix(
    model_path, answers, tmp_path, capsys, suffix, fmt
):
    assert format_of(tmp_path / f"x{suffix}") == fmt
    out = tmp_path / f"scored{suffix}"
    code, _, err = run(["score", model_path, answers, "-o", out, "--quiet"], capsys)
    assert code == 0, err
    assert "1 with no answer to any segmentation item" in err
    assert f"segment = 1 {NAMES[0]}; 2 {NAMES[1]}" in err
    frame, _, _ = _read(out, fmt)
    assert "p_seg1" in frame.columns and len(frame) == 40


def test_cli_score_writes_a_labels_file_and_refuses_to_replace_one(
    model_path, answers, tmp_path, capsys
):
    labels = tmp_path / "labels.csv"
    args = ["score", model_path, answers, "-o", tmp_path / "s.csv", "--labels", labels, "--quiet"]
    code, _, err = run(args, capsys)
    assert code == 0 and f"labels in {labels}" in err
    (tmp_path / "s.csv").unlink()
    code, _, err = run(args, capsys)
    assert code == 2 and "--force" in err


def test_cli_score_one_person_without_a_usable_answer_gets_no_segment(model_path, capsys):
    code, out, err = run(["score", model_path, "--answer", "trust_army=9"], capsys)
    assert code == 2 and "no segment: no answer to any segmentation item" in err
    code, out, _ = run(
        ["score", model_path, "--answer", "trust_army=9", "--format", "json"], capsys
    )
    record = json.loads(out)
    assert code == 2 and record["segment"] is None and record["no_segment"] == "no_answers"


def test_scored_table_renames_an_unsafe_id_column(model):
    frame = pd.DataFrame({"resp_id": ["a", "b"], "trust_army": [1, 2]})
    scored = model.score_frame(frame).rename(columns={"resp_id": "resp id"})
    # the model of a file whose id column is called "resp id"
    other = dataclasses.replace(model, codebook=dataclasses.replace(model.codebook, id="resp id"))
    table = scored_table(other, scored)
    assert table.frame.columns[0] == "resp_id"
    assert table.labels["resp_id"] == "Respondent id (resp id)"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["segment", "p_seg1"], ["segment", "p_seg1"]),  # already safe: unchanged
        (["resp id", "Don't know"], ["resp_id", "Don_t_know"]),
        (["1st wave", "_x", "!!!"], ["v1st_wave", "x", "v3"]),
        (["by", "IF", "all"], ["by_", "IF_", "all_"]),  # reserved words in SPSS or Stata
        (["Qué tal", "Доверие"], ["Que_tal", "v2"]),
        (["a b", "a_b", "A B"], ["a_b", "a_b_2", "A_B_3"]),  # unique, ignoring case
        (["x" * 40, "x" * 40], ["x" * 32, "x" * 30 + "_2"]),
    ],
)
def test_safe_variable_names(names, expected):
    got = safe_variable_names(names)
    assert got == expected
    assert all(SAFE.match(n) for n in got)
    assert len({n.lower() for n in got}) == len(got)
