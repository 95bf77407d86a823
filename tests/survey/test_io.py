"""Readers: CSV (comma, semicolon, tab), Parquet, SPSS .sav and Stata .dta, value labels and
SPSS user-missing codes, and refusal of unreadable files (exit 2 naming the file)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from helpers import run_cli

from segment import Codebook, DataError, read_survey
from segment.survey.tables import read_table

Q1_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
    8: "Don't know",
    9: "Refused",
}
N = 40


def survey_frame() -> pd.DataFrame:
    """A small poll: id, weight, a 1-5 agree item with DK 8 / refused 9 / a blank, gender, age."""
    q1 = [1, 2, 3, 4, 5, 8, 9, 5, 4, 3] * (N // 10)
    q1 = pd.array(q1, dtype="Int64")
    q1[6] = pd.NA
    return pd.DataFrame(
        {
            "resp_id": np.arange(1001, 1001 + N),
            "weight": np.round(np.linspace(0.5, 2.0, N), 3),
            "q1": q1,
            "gender": np.tile([1, 2], N // 2),
            "age": np.arange(18, 18 + 2 * N, 2),
        }
    )


def _statistical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["q1"] = out["q1"].astype("float64")
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False)
    return path


def write_sav(frame: pd.DataFrame, path: Path) -> Path:
    pyreadstat.write_sav(
        _statistical(frame),
        str(path),
        column_labels={"q1": "Do you agree that the government listens?", "gender": "Sex"},
        variable_value_labels={"q1": Q1_LABELS, "gender": {1: "Male", 2: "Female"}},
        missing_ranges={"q1": [8, 9]},
    )
    return path


def write_dta(frame: pd.DataFrame, path: Path) -> Path:
    pyreadstat.write_dta(
        _statistical(frame),
        str(path),
        column_labels={"q1": "Do you agree that the government listens?", "gender": "Sex"},
        variable_value_labels={"q1": Q1_LABELS, "gender": {1: "Male", 2: "Female"}},
    )
    return path


WRITERS = {
    ".csv": write_csv,
    ".parquet": write_parquet,
    ".sav": write_sav,
    ".dta": write_dta,
}


@pytest.fixture(params=sorted(WRITERS))
def survey_file(request, tmp_path) -> Path:
    return WRITERS[request.param](survey_frame(), tmp_path / f"poll{request.param}")


# ----------------------------------------------------------------------------- every format
def test_read_survey_returns_frame_and_inferred_codebook(survey_file):
    frame, cb = read_survey(survey_file)
    assert isinstance(frame, pd.DataFrame)
    assert isinstance(cb, Codebook)
    assert len(frame) == N
    assert cb.id == "resp_id"
    assert cb.weight == "weight"
    assert cb.columns == ["q1", "gender", "age"]
    q1 = frame["q1"].to_numpy()
    assert q1.dtype == np.float64
    assert np.isnan(q1[6])  # the blank answer
    np.testing.assert_array_equal(q1[:6], [1, 2, 3, 4, 5, 8])
    np.testing.assert_allclose(frame["weight"], survey_frame()["weight"])


def test_read_survey_with_codebook_path_validates_and_returns_it(survey_file, tmp_path):
    _, inferred = read_survey(survey_file)
    path = tmp_path / "cb.yaml"
    inferred.save(path)
    frame, cb = read_survey(survey_file, path)
    assert cb == inferred
    assert frame["age"].dtype == np.float64
    assert frame["age"].min() == 18


def test_read_survey_with_codebook_refuses_data_that_violates_it(survey_file):
    doc = {
        "schema": "segment.codebook/1",
        "id": "resp_id",
        "weight": "weight",
        "items": [
            {"column": "q1", "domain": "governance", "levels": {1: "a", 2: "b", 3: "c"}},
            {"column": "age", "domain": "demographics", "type": "numeric", "min": 18, "max": 60},
        ],
    }
    with pytest.raises(DataError) as exc:
        read_survey(survey_file, Codebook.from_dict(doc))
    q1_bad = int(
        np.isin(survey_frame()["q1"].to_numpy(dtype=float, na_value=np.nan), [4, 5, 8, 9]).sum()
    )
    age_bad = int((survey_frame()["age"] > 60).sum())
    assert len(exc.value.problems) == q1_bad + age_bad
    assert all(p.file == str(survey_file) for p in exc.value.problems)
    assert {p.where for p in exc.value.problems} == {"q1", "age"}


# ----------------------------------------------------------------------------- labels
@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_value_and_variable_labels_are_read(tmp_path, suffix):
    path = WRITERS[suffix](survey_frame(), tmp_path / f"poll{suffix}")
    _, meta = read_table(path)
    assert meta.file_format == suffix[1:]
    assert meta.value_labels["q1"] == {float(k): v for k, v in Q1_LABELS.items()}
    assert meta.value_labels["gender"] == {1.0: "Male", 2.0: "Female"}
    assert meta.variable_labels["q1"] == "Do you agree that the government listens?"


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_inferred_codebook_carries_value_labels_as_level_labels(tmp_path, suffix):
    path = WRITERS[suffix](survey_frame(), tmp_path / f"poll{suffix}")
    _, cb = read_survey(path)
    q1 = cb["q1"]
    assert {lv.code: lv.label() for lv in q1.levels} == {
        c: lab for c, lab in Q1_LABELS.items() if c <= 5
    }
    assert q1.label_of(5) == "Strongly agree"
    assert [(lv.code, lv.label()) for lv in q1.dont_know] == [(8, "Don't know")]
    assert [(lv.code, lv.label()) for lv in q1.refused] == [(9, "Refused")]
    assert cb["gender"].label_of(2) == "Female"
    assert q1.text() == "Do you agree that the government listens?"


def test_spss_user_missing_codes_are_kept_as_codes_with_missing_ranges(tmp_path):
    path = write_sav(survey_frame(), tmp_path / "poll.sav")
    frame, meta = read_table(path)
    assert meta.user_missing == {"q1": [8.0, 9.0]}
    expected = survey_frame()["q1"].to_numpy(dtype=float, na_value=np.nan)
    # user_missing=True: 8 and 9 are read as codes, not turned into NaN
    np.testing.assert_array_equal(frame["q1"].to_numpy(dtype=float), expected)
    assert (frame["q1"] == 9).sum() == N // 10 - 1  # one 9 was blanked in survey_frame
    assert (frame["q1"] == 8).sum() == N // 10


def test_csv_and_parquet_carry_no_labels(tmp_path):
    for writer, suffix in ((write_csv, ".csv"), (write_parquet, ".parquet")):
        _, meta = read_table(writer(survey_frame(), tmp_path / f"poll{suffix}"))
        assert meta.value_labels == {}
        assert meta.user_missing == {}


# ----------------------------------------------------------------------------- delimiters
def _rewrite(src: Path, dst: Path, delimiter: str, encoding: str = "utf-8") -> Path:
    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    with dst.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return dst


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(";", "semicolon.csv"), ("\t", "tab.csv"), ("\t", "tab.tsv"), (";", "semicolon.txt")],
)
def test_semicolon_and_tab_delimited_csv_read_like_comma(tmp_path, bundled_survey, delimiter, name):
    data, codebook_path, _ = bundled_survey
    expected, _ = read_survey(data, codebook_path)
    path = _rewrite(data, tmp_path / name, delimiter)
    frame, _ = read_survey(path, codebook_path)
    pd.testing.assert_frame_equal(frame, expected)


def test_semicolon_csv_with_commas_inside_quoted_text(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text('resp_id;q1;comment\n1;2;"yes, but no"\n2;3;"a, b, c"\n', encoding="utf-8")
    frame, _ = read_table(path)
    assert list(frame.columns) == ["resp_id", "q1", "comment"]
    assert frame["comment"].tolist() == ["yes, but no", "a, b, c"]


def test_csv_with_utf8_bom_has_clean_first_column_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffresp_id,q1\n1,2\n2,3\n".encode())
    frame, cb = read_survey(path)
    assert list(frame.columns) == ["resp_id", "q1"]
    assert cb.id == "resp_id"


def test_csv_cells_are_read_as_text_with_blanks_missing(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("resp_id,q1\n007,abc\n008,\n", encoding="utf-8")
    frame, _ = read_table(path)
    assert frame["resp_id"].tolist() == ["007", "008"]
    assert frame["q1"].iloc[0] == "abc"
    assert pd.isna(frame["q1"].iloc[1])


def test_cp1251_csv_reads_with_explicit_encoding(tmp_path, capsys):
    path = tmp_path / "ru.csv"
    path.write_bytes("resp_id,возраст,доверие\n1,34,2\n2,51,4\n3,29,1\n".encode("cp1251"))
    frame, _ = read_survey(path, encoding="cp1251")
    assert list(frame.columns) == ["resp_id", "возраст", "доверие"]
    out = tmp_path / "ru.yaml"
    code, _, _ = run_cli(["codebook", "infer", path, "-o", out, "--encoding", "cp1251"], capsys)
    assert code == 0
    code, _, _ = run_cli(["codebook", "check", out, path, "--encoding", "cp1251"], capsys)
    assert code == 0


# ----------------------------------------------------------------------------- bad input files
BAD_FILES = {
    "empty": (b"", "file is empty"),
    "blank_lines": (b"\n\n  \n", "file is empty"),
    "header_only": (b"resp_id,weight,q1\n", "file has a header but no data rows"),
    "cp1251": (
        "resp_id,город\n1,Алматы\n2,Астана\n".encode("cp1251"),
        "cannot be decoded as utf-8",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_unreadable_csv_refused_by_infer_exit_2_naming_file_and_no_output(tmp_path, capsys, kind):
    content, message = BAD_FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    out = tmp_path / "cb.yaml"
    code, _, stderr = run_cli(["codebook", "infer", path, "-o", out], capsys)
    assert code == 2
    assert str(path) in stderr
    assert message in stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_unreadable_csv_refused_by_check_exit_2_naming_file(tmp_path, capsys, bundled_survey, kind):
    content, message = BAD_FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    code, stdout, stderr = run_cli(["codebook", "check", bundled_survey[1], path], capsys)
    assert code == 2
    assert str(path) in stderr
    assert message in stderr
    assert "OK" not in stdout


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_unreadable_csv_raises_data_error_naming_file(tmp_path, kind):
    content, message = BAD_FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_survey(path)
    assert [p.file for p in exc.value.problems] == [str(path)]
    assert message in str(exc.value)


def test_cp1251_error_suggests_the_encoding_option(tmp_path):
    path = tmp_path / "ru.csv"
    path.write_bytes(BAD_FILES["cp1251"][0])
    with pytest.raises(DataError, match="cp1251"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.csv", None, "file not found"),
        ("poll.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
        ("broken.sav", b"not an spss file", "cannot be read as .sav"),
        ("broken.dta", b"not a stata file", "cannot be read as .dta"),
        ("broken.parquet", b"not parquet", "cannot be read as Parquet"),
    ],
)
def test_missing_unsupported_or_corrupt_file_exit_2_naming_file(
    tmp_path, capsys, name, content, message
):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "cb.yaml"
    code, _, stderr = run_cli(["codebook", "infer", path, "-o", out], capsys)
    assert code == 2
    assert str(path) in stderr
    assert message in stderr
    assert not out.exists()


def test_trailing_delimiters_do_not_shift_columns(tmp_path):
    from segment.survey.tables import read_table

    path = tmp_path / "trailing.csv"
    path.write_text("id,q1,q2\n1,2,3,\n2,1,1,\n", encoding="utf-8")
    frame, _ = read_table(path)
    assert list(frame.columns) == ["id", "q1", "q2"]
    assert frame.loc[0, "id"] == "1" and frame.loc[0, "q2"] == "3"
