"""``segment codebook infer``: drafted codebooks keep SPSS/Stata labels and special codes, and the
infer -> check round trip passes on CSV, .sav, .dta, the bundled survey and real LCA data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from helpers import run_cli

from segment import Codebook, read_survey
from segment.survey.draft import MAX_CATEGORIES, infer_codebook
from segment.survey.tables import read_table

AGREE5 = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
N = 60


def poll_frame() -> pd.DataFrame:
    """id, weight, an agree item with DK 8 / refused 9, nominal gender, numeric age, text city."""
    rng = np.random.default_rng(7)
    q1 = rng.choice([1, 2, 3, 4, 5, 8, 9], size=N).astype(float)
    q1[:7] = [1, 2, 3, 4, 5, 8, 9]  # every code observed
    q1[10] = np.nan
    return pd.DataFrame(
        {
            "resp_id": np.arange(5001, 5001 + N),
            "weight": np.round(rng.uniform(0.4, 2.5, size=N), 4),
            "q1": q1,
            "gender": np.tile([1.0, 2.0], N // 2),
            "age": rng.integers(18, 91, size=N).astype(float),
            "city": rng.choice(["Almaty", "Astana", "Shymkent"], size=N),
        }
    )


def write_sav(frame: pd.DataFrame, path: Path) -> Path:
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={"q1": "The government listens to people like me", "gender": "Sex"},
        variable_value_labels={
            "q1": {**AGREE5, 8: "Don't know", 9: "Refused"},
            "gender": {1: "Male", 2: "Female"},
        },
        missing_ranges={"q1": [8, 9]},
    )
    return path


def write_dta(frame: pd.DataFrame, path: Path) -> Path:
    pyreadstat.write_dta(
        frame,
        str(path),
        column_labels={"q1": "The government listens to people like me", "gender": "Sex"},
        variable_value_labels={
            "q1": {**AGREE5, 8: "Don't know", 9: "Refused"},
            "gender": {1: "Male", 2: "Female"},
        },
    )
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    out = frame.copy()
    for col in ("q1", "gender", "age"):
        out[col] = out[col].astype("Int64")
    out.to_csv(path, index=False)
    return path


WRITERS = {".csv": write_csv, ".sav": write_sav, ".dta": write_dta}


# ----------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_infer_then_check_round_trip_exits_0(tmp_path, capsys, suffix):
    data = WRITERS[suffix](poll_frame(), tmp_path / f"poll{suffix}")
    out = tmp_path / "poll_codebook.yaml"
    code, _, err = run_cli(["codebook", "infer", data, "-o", out], capsys)
    assert code == 0
    assert f"Wrote {out}" in err
    cb = Codebook.load(out)
    assert (cb.id, cb.weight) == ("resp_id", "weight")
    assert cb.columns == ["q1", "gender", "age", "city"]
    assert cb["age"].type == "numeric"
    assert cb["city"].type == "nominal"  # text answers coded, each text kept as its label
    assert [lv.label() for lv in cb["city"].levels] == ["Almaty", "Astana", "Shymkent"]
    code, stdout, _ = run_cli(["codebook", "check", out, data], capsys)
    assert code == 0
    assert "OK against" in stdout
    # and the data read through the drafted codebook keep the codes and the blank
    frame, _ = read_survey(data, out)
    expected = poll_frame()["q1"].to_numpy()
    np.testing.assert_array_equal(frame["q1"].to_numpy(), expected)


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_infer_keeps_value_labels_and_dk_refused_codes(tmp_path, capsys, suffix):
    data = WRITERS[suffix](poll_frame(), tmp_path / f"poll{suffix}")
    out = tmp_path / "cb.yaml"
    code, _, _ = run_cli(["codebook", "infer", data, "-o", out], capsys)
    assert code == 0
    q1 = Codebook.load(out)["q1"]
    assert q1.type == "ordinal"
    assert q1.higher_means_more is True
    assert [(lv.code, lv.label()) for lv in q1.levels] == list(AGREE5.items())
    assert q1.label_of(5) == "Strongly agree"
    assert [(lv.code, lv.label()) for lv in q1.dont_know] == [(8, "Don't know")]
    assert [(lv.code, lv.label()) for lv in q1.refused] == [(9, "Refused")]
    assert q1.missing == ()
    assert q1.text() == "The government listens to people like me"
    gender = Codebook.load(out)["gender"]
    assert gender.type == "nominal"
    assert [(lv.code, lv.label()) for lv in gender.levels] == [(1, "Male"), (2, "Female")]


def test_infer_csv_without_labels_uses_codes_as_labels(tmp_path, capsys):
    data = write_csv(poll_frame(), tmp_path / "poll.csv")
    cb = infer_codebook(*read_table(data), title="poll.csv")
    q1 = cb["q1"]
    assert q1.is_categorical
    # unlabelled 8 and 9 after a 1-5 scale: the survey convention for don't know and refused
    assert [lv.code for lv in q1.levels] == [1, 2, 3, 4, 5]
    assert [lv.code for lv in q1.dont_know] == [8]
    assert [lv.code for lv in q1.refused] == [9]
    assert q1.label_of(4) == "4"
    assert cb["age"].min >= 18 and cb["age"].max <= 90


@pytest.mark.parametrize(
    ("label", "user_missing", "role"),
    [
        ("Don't know", True, "dont_know"),
        ("Don't know", False, "dont_know"),
        ("Hard to say", True, "dont_know"),
        ("Затрудняюсь ответить", True, "dont_know"),
        ("Refused", True, "refused"),
        ("No answer", True, "refused"),
        ("Отказ от ответа", False, "refused"),
        ("Not asked", True, "missing"),
        ("Not asked", False, "missing"),
    ],
)
def test_spss_special_code_lands_by_its_label(tmp_path, label, user_missing, role):
    frame = pd.DataFrame({"resp_id": [1.0, 2, 3, 4, 5, 6], "q2": [1.0, 2, 3, 4, 7, 1]})
    kwargs = {"missing_ranges": {"q2": [7]}} if user_missing else {}
    path = tmp_path / "q2.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={
            "q2": {1: "Never", 2: "Sometimes", 3: "Often", 4: "Always", 7: label}
        },
        **kwargs,
    )
    _, cb = read_survey(path)
    item = cb["q2"]
    roles = {
        "levels": [lv.code for lv in item.levels],
        "dont_know": [lv.code for lv in item.dont_know],
        "refused": [lv.code for lv in item.refused],
        "missing": [int(c) for c in item.missing],
    }
    assert {r: 7 in codes for r, codes in roles.items()} == {r: r == role for r in roles}
    assert [lv.code for lv in item.levels][:4] == [1, 2, 3, 4]


def test_spss_labelled_code_not_in_data_is_still_a_level(tmp_path):
    frame = pd.DataFrame({"resp_id": [1.0, 2, 3], "q3": [1.0, 2, 2]})
    path = tmp_path / "q3.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={"q3": {**AGREE5, 8: "Don't know"}},
        missing_ranges={"q3": [8]},
    )
    _, cb = read_survey(path)
    assert [lv.code for lv in cb["q3"].levels] == [1, 2, 3, 4, 5]
    assert cb["q3"].label_of(5) == "Strongly agree"
    assert [lv.code for lv in cb["q3"].dont_know] == [8]


# Regression: a declared SPSS missing range (97 THRU 99) covers every code in it.
def test_spss_user_missing_range_codes_are_not_answer_levels(tmp_path):
    frame = pd.DataFrame({"resp_id": [1.0, 2, 3, 4, 5], "q4": [1.0, 2, 97, 98, 99]})
    path = tmp_path / "q4.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={
            "q4": {1: "Agree", 2: "Disagree", 97: "Not applicable", 98: "Don't know", 99: "Refused"}
        },
        missing_ranges={"q4": [{"lo": 97, "hi": 99}]},
    )
    _, cb = read_survey(path)
    item = cb["q4"]
    assert [lv.code for lv in item.levels] == [1, 2]
    assert item.missing == (97.0,)
    assert [lv.code for lv in item.dont_know] == [98]
    assert [lv.code for lv in item.refused] == [99]


def test_many_integer_values_inferred_numeric_few_inferred_categorical():
    frame = pd.DataFrame(
        {
            "many": [str(v) for v in range(MAX_CATEGORIES + 1)],
            "few": [str(v % MAX_CATEGORIES + 1) for v in range(MAX_CATEGORIES + 1)],
            "decimal": [f"{v}.5" for v in range(MAX_CATEGORIES + 1)],
        }
    )
    cb = infer_codebook(frame)
    assert (cb["many"].type, cb["many"].min, cb["many"].max) == ("numeric", 0, MAX_CATEGORIES)
    assert cb["few"].is_categorical
    assert len(cb["few"].levels) == MAX_CATEGORIES
    assert cb["decimal"].type == "numeric"
    assert cb.check_data(frame) == []


def test_id_and_weight_not_assigned_when_invalid():
    frame = pd.DataFrame(
        {"id": ["1", "1", "2"], "weight": ["1.0", "0", "2.0"], "q": ["1", "2", "1"]}
    )
    cb = infer_codebook(frame)
    assert cb.id is None
    assert cb.weight is None
    assert cb.check_data(frame) == []


# ----------------------------------------------------------------------------- --force
def test_infer_refuses_existing_output_without_force_and_leaves_it_unchanged(tmp_path, capsys):
    data = write_csv(poll_frame(), tmp_path / "poll.csv")
    out = tmp_path / "cb.yaml"
    out.write_text("# my hand-edited codebook\n", encoding="utf-8")
    before = out.read_bytes()
    code, _, err = run_cli(["codebook", "infer", data, "-o", out], capsys)
    assert code == 2
    assert str(out) in err
    assert "--force" in err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cb.yaml", "poll.csv"]


def test_infer_with_force_replaces_existing_output(tmp_path, capsys):
    data = write_csv(poll_frame(), tmp_path / "poll.csv")
    out = tmp_path / "cb.yaml"
    out.write_text("# my hand-edited codebook\n", encoding="utf-8")
    code, _, _ = run_cli(["codebook", "infer", data, "-o", out, "--force"], capsys)
    assert code == 0
    assert Codebook.load(out).columns == ["q1", "gender", "age", "city"]


# ----------------------------------------------------------------------------- bundled / real
def test_infer_bundled_survey_then_check_exits_0(tmp_path, capsys, bundled_survey):
    data, codebook_path, _ = bundled_survey
    out = tmp_path / "kz.yaml"
    code, _, _ = run_cli(["codebook", "infer", data, "-o", out], capsys)
    assert code == 0
    cb = Codebook.load(out)
    assert (cb.id, cb.weight) == ("resp_id", "weight")
    assert cb.columns == Codebook.load(codebook_path).columns
    assert cb["age"].type == "numeric"
    assert cb["cr_free_speech"].is_categorical
    code, _, _ = run_cli(["codebook", "check", out, data], capsys)
    assert code == 0


REAL = {
    # file: (item columns, expected levels of the first item)
    "gss82.csv": (["PURPOSE", "ACCURACY", "UNDERSTA", "COOPERAT"], [1, 2, 3]),
    "election.csv": (
        [
            "MORALG",
            "CARESG",
            "KNOWG",
            "LEADG",
            "DISHONG",
            "INTELG",
            "MORALB",
            "CARESB",
            "KNOWB",
            "LEADB",
            "DISHONB",
            "INTELB",
        ],
        [1, 2, 3, 4],
    ),
}


def _blank_counts(path: Path) -> dict[str, int]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        counts = dict.fromkeys(reader.fieldnames, 0)
        for row in reader:
            for key, value in row.items():
                counts[key] += value.strip() == ""
    return counts


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_lca_data_infer_check_round_trip(tmp_path, capsys, shared_data, name):
    data = shared_data / "lca" / name
    items, first_levels = REAL[name]
    out = tmp_path / "cb.yaml"
    code, _, _ = run_cli(["codebook", "infer", data, "-o", out], capsys)
    assert code == 0
    code, _, _ = run_cli(["codebook", "check", out, data], capsys)
    assert code == 0
    frame, cb = read_survey(data, out)
    for col in items:
        assert cb[col].is_categorical, col
        assert cb[col].type == "ordinal", col
    assert [lv.code for lv in cb[items[0]].levels] == first_levels
    blanks = _blank_counts(data)
    for col in items:
        assert frame[col].dtype == np.float64
        assert int(frame[col].isna().sum()) == blanks[col], col
        assert set(frame[col].dropna().unique()) <= {lv.code for lv in cb[col].levels}
    if name == "election.csv":
        assert sum(blanks[c] for c in items) > 0  # missing answers really are present
        assert cb["AGE"].type == "numeric"
