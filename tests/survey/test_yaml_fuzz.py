"""Untrusted YAML and model files: the size limit, and random mutations that give either a
result or the project's error class, never another exception (issue 17)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segment._files as files
from segment.exceptions import CodebookError, SegmentError
from segment.segments.model_file import model_from_json
from segment.survey.codebook import Codebook

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"
CODEBOOK = (BAD / "codebook.yaml").read_text(encoding="utf-8")
MODEL = (BAD / "model.json").read_text(encoding="utf-8")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_INPUT_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text(CODEBOOK, encoding="utf-8")
    try:
        Codebook.load(path)
    except CodebookError as exc:
        assert "input files are limited to" in str(exc)
    else:
        raise AssertionError("not refused")


_mutation = st.tuples(st.integers(0, 10**6), st.integers(0, 40), st.text(max_size=20))


def _mutate(text: str, cuts: list[tuple[int, int, str]]) -> str:
    for at, length, insert in cuts:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + length :]
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_codebooks_load_or_raise_the_project_error(cuts):
    try:
        files.parse_yaml(_mutate(CODEBOOK, cuts), "cb.yaml", "codebook", CodebookError)
    except SegmentError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_model_files_load_or_raise_the_project_error(cuts):
    try:
        model_from_json(_mutate(MODEL, cuts), "model.json")
    except SegmentError:
        pass
