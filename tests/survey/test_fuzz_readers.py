"""Fuzz tests of the readers and the codebook checker: bad input raises only ``SegmentError``.

Random bytes, random CSV-like text and random mutations of the bundled files go through
``segment.survey.tables.read_table``, ``read_survey`` (against the bundled codebook) and the
codebook checker (``Codebook.from_dict``, ``check_data``). Whatever comes in, the only exceptions
allowed are the package's own (:class:`segment.exceptions.SegmentError` subclasses, which carry
problems naming the file); a crash would be a traceback and exit code 1 for the user.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segment.exceptions import InputError, Problem, SegmentError
from segment.resources import bundled_path
from segment.survey.codebook import Codebook
from segment.survey.read import read_survey
from segment.survey.tables import read_table

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: a failure here is reproducible
)

DATA = bundled_path("data", "kz2020_synthetic.csv")
CODEBOOK_PATH = bundled_path("data", "kz2020_synthetic_codebook.yaml")
CODEBOOK = Codebook.load(CODEBOOK_PATH)
CODEBOOK_DOC = yaml.safe_load(CODEBOOK_PATH.read_text(encoding="utf-8"))
#: The header and the first 12 respondents of the bundled survey.
DATA_HEAD = b"".join(DATA.read_bytes().splitlines(keepends=True)[:13])

# characters that matter to a CSV reader, and some that matter to people who write CSV files
CSV_ALPHABET = st.sampled_from(
    list(",;\t|\"'\n\r \\") + list("0123456789.-+eE") + list("abcxyzNnAaIf")
    + list("ДоверяюАлматы") + ["\ufeff", "\x00", "\u2028", "é", "😀"]
)  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _assert_problems(exc: SegmentError, path=None) -> None:
    """A package error lists problems that render, naming the file when there is one."""
    if isinstance(exc, InputError):
        assert exc.problems
        for p in exc.problems:
            assert isinstance(p, Problem)
            str(p)
            if path is not None:
                assert p.file == str(path)


def _read(path, codebook=None) -> None:
    try:
        if codebook is None:
            read_table(path)
        else:
            read_survey(path, codebook)
    except SegmentError as exc:
        _assert_problems(exc, path)


# ----------------------------------------------------------------------------- random input
@FUZZ
@given(raw=st.binary(max_size=400))
def test_read_table_on_random_bytes_raises_only_segment_errors(folder, raw):
    path = folder / "random.csv"
    path.write_bytes(raw)
    _read(path)


@FUZZ
@given(text=st.text(CSV_ALPHABET, max_size=300), encoding=st.sampled_from(["utf-8", "cp1251"]))
def test_read_table_on_csv_like_text_raises_only_segment_errors(folder, text, encoding):
    path = folder / "csvish.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _read(path)


@FUZZ
@given(
    rows=st.lists(st.lists(st.text(CSV_ALPHABET, max_size=6), min_size=0, max_size=8), max_size=6),
    sep=st.sampled_from([",", ";", "\t", "|"]),
)
def test_read_survey_on_random_rows_under_the_bundled_header(folder, rows, sep):
    header = DATA_HEAD.splitlines()[0].decode()
    text = header.replace(",", sep) + "\n" + "\n".join(sep.join(r) for r in rows)
    path = folder / "rows.csv"
    path.write_text(text, encoding="utf-8")
    _read(path, CODEBOOK)


# ----------------------------------------------------------------------------- mutated files
@st.composite
def mutated_bytes(draw, original: bytes):
    """The original with a few random edits: deletions, insertions, swaps, truncation."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "insert":
            data[at:at] = draw(
                st.one_of(
                    st.binary(min_size=1, max_size=8),
                    st.sampled_from([b",", b";", b"\t", b'"', b"\n", b"\r\n", b",,", b"\xff"]),
                    st.text(CSV_ALPHABET, min_size=1, max_size=6).map(str.encode),
                )
            )
        elif kind == "replace" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            lines = bytes(data).splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
                data = bytearray(b"".join(lines))
    return bytes(data)


@FUZZ
@given(raw=mutated_bytes(DATA_HEAD), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_read_survey_on_mutations_of_the_bundled_survey(folder, raw, suffix):
    path = folder / f"mutated{suffix}"
    path.write_bytes(raw)
    _read(path, CODEBOOK)


@FUZZ
@given(raw=mutated_bytes(DATA_HEAD))
def test_read_survey_with_a_path_to_the_bundled_codebook(folder, raw):
    path = folder / "mutated_path.csv"
    path.write_bytes(raw)
    _read(path, CODEBOOK_PATH)


# ----------------------------------------------------------------------------- codebook
def _paths(node, prefix=()):
    """Every (path, value) of a nested YAML document."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p, _ in _paths(CODEBOOK_DOC) if p]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-2, 10), max_size=3),
    st.dictionaries(
        st.one_of(st.integers(-2, 10), st.text(max_size=4)), st.text(max_size=4), max_size=3
    ),
)  # fmt: skip


@st.composite
def mutated_codebook(draw):
    doc = copy.deepcopy(CODEBOOK_DOC)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            kind = draw(st.sampled_from(["delete", "replace", "duplicate"]))
            if kind == "delete":
                del parent[path[-1]]
            elif kind == "replace":
                parent[path[-1]] = draw(JUNK)
            elif isinstance(parent, list):
                parent.append(copy.deepcopy(parent[path[-1]]))
            else:
                parent[path[-1]] = copy.deepcopy(parent[path[-1]])
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the path
    return doc


@settings(FUZZ, max_examples=40)
@given(doc=mutated_codebook())
def test_codebook_from_dict_on_mutated_documents_raises_only_codebook_errors(doc):
    try:
        cb = Codebook.from_dict(doc, file="mutated.yaml")
    except SegmentError as exc:
        _assert_problems(exc, "mutated.yaml")
        return
    assert isinstance(cb, Codebook)


@settings(FUZZ, max_examples=25)
@given(raw=mutated_bytes(CODEBOOK_PATH.read_bytes()[:6000]))
def test_codebook_load_on_mutated_yaml_text_raises_only_codebook_errors(folder, raw):
    path = folder / "mutated.yaml"
    path.write_bytes(raw)
    try:
        Codebook.load(path)
    except SegmentError as exc:
        _assert_problems(exc, path)


CELLS = st.one_of(
    st.none(),
    st.just(""),
    st.just("  "),
    st.integers(-5, 100).map(str),
    st.sampled_from(
        ["8", "9", "1.0", "2.5", "1e400", "-inf", "NaN", "nan", "0x1", "٣", "１", "Да"]
    ),
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 10),
    st.booleans(),
)


@st.composite
def survey_frames(draw):
    """A few rows under some of the codebook's columns (some dropped, some repeated, extras)."""
    columns = [c for c in (CODEBOOK.id, CODEBOOK.weight, *CODEBOOK.columns[:12], "age") if c]
    columns = draw(st.lists(st.sampled_from(columns), max_size=10)) + draw(
        st.lists(st.sampled_from(["extra", "", " "]), max_size=2)
    )
    n = draw(st.integers(0, 6))
    data = {}
    for j in range(len(columns)):
        kind = draw(st.sampled_from(["object", "float", "int", "bool", "string"]))
        if kind == "float":
            values = draw(
                st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
            )
        elif kind == "int":
            values = draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n))
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        else:
            values = draw(st.lists(CELLS, min_size=n, max_size=n))
        series = pd.Series(
            values,
            dtype="string"
            if kind == "string" and all(v is None or isinstance(v, str) for v in values)
            else None,
        )
        data[j] = series
    frame = pd.DataFrame(data)
    frame.columns = columns
    return frame


@settings(FUZZ, max_examples=80)
@given(frame=survey_frames())
def test_check_data_lists_problems_and_never_raises(frame):
    problems = CODEBOOK.check_data(frame, file="fuzz.csv")
    for p in problems:
        assert isinstance(p, Problem) and p.file == "fuzz.csv"
        str(p)
        p.to_dict()
    if problems:
        with pytest.raises(SegmentError):
            CODEBOOK.validate(frame, file="fuzz.csv")
    else:
        out = CODEBOOK.validate(frame, file="fuzz.csv")
        codes = CODEBOOK.model_codes(out, [c for c in CODEBOOK.columns if c in out.columns][:3])
        assert np.all(np.isnan(codes.to_numpy()) | np.isfinite(codes.to_numpy()))
        assert not any(isinstance(v, float) and math.isinf(v) for v in codes.to_numpy().ravel())
