"""The bad-input corpus (tests/bad_inputs/): every malformed file is refused cleanly.

Each case of ``tests/bad_inputs/cases*.yaml`` runs one ``segment`` command on one malformed file and
expects exit code 2, one message naming the file, column, row, value and what was expected (the
case's fragments), no file written (outputs point into an empty folder, and the command runs in
an empty working folder), and the input files unchanged (SHA-256 before and after).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"
DATA = Path(__file__).resolve().parents[2] / "data"
#: Cases are split by theme (``cases.yaml``, ``cases_<theme>.yaml``) so themes grow independently.
CASE_FILES = sorted(BAD.glob("cases*.yaml"))
CASES = [c for f in CASE_FILES for c in yaml.safe_load(f.read_text(encoding="utf-8"))]
#: The valid files the corrupted ones are made from, and the corpus's own files.
VALID = {"codebook.yaml", "survey.csv", "typology.yaml", "model.json", "listexp.csv"}
INFRA = {"README.md", "make_corpus.py", *(f.name for f in CASE_FILES)}


def _case_id(case: dict, seen: Counter) -> str:
    base = f"{case['file']}-{case['args'][0]}"
    seen[base] += 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


_seen: Counter = Counter()
IDS = [_case_id(c, _seen) for c in CASES]


def _fingerprints() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in BAD.iterdir() if p.is_file()
    }


def _args(case: dict, out: Path) -> list[str]:
    values = {"file": BAD / case["file"], "dir": BAD, "out": out, "data": DATA}
    return [arg.format(**values) for arg in case["args"]]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_input_is_refused_with_exit_2_a_precise_message_and_no_output(
    case, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = _fingerprints()

    code, stdout, stderr = run_cli(_args(case, out), capsys)

    text = stdout + stderr
    assert code == 2, f"exit code {code}; output:\n{text}"
    assert "Traceback" not in text
    assert case["file"] in text, f"the message does not name {case['file']}:\n{text}"
    for fragment in case["expect"]:
        assert fragment in text, f"expected {fragment!r} in:\n{text}"
    assert list(out.iterdir()) == [], "an output file was left behind"
    assert list(cwd.iterdir()) == [], "a file was written into the working folder"
    assert _fingerprints() == before, "an input file was changed"


def test_every_case_has_a_fragment_naming_its_file():
    for case in CASES:
        assert case["expect"], f"{case['file']}: no expected message fragment"
        assert any(case["file"] in f for f in case["expect"]), case["file"]
        assert case["kind"] in {
            "data",
            "codebook",
            "typology",
            "model",
            "listexp",
            "margins",
            "output",
        }
        assert case["wrong"]


def test_corpus_has_at_least_40_malformed_files_of_every_kind():
    files = {c["file"] for c in CASES} - VALID
    assert len(files) >= 40
    kinds = Counter(c["kind"] for c in CASES)
    assert {"data", "codebook", "typology", "model", "listexp"} <= set(kinds)


def test_every_corpus_file_is_used_and_documented():
    on_disk = {p.name for p in BAD.iterdir() if p.is_file()} - INFRA
    used = {c["file"] for c in CASES}
    assert on_disk - VALID <= used, f"files without a case: {sorted(on_disk - VALID - used)}"
    assert used <= on_disk, f"cases without a file: {sorted(used - on_disk)}"
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    assert used <= rows, f"files missing from README.md: {sorted(used - rows)}"


@pytest.mark.parametrize(
    "args",
    [
        ["codebook", "check", "{dir}/codebook.yaml", "{dir}/survey.csv"],
        ["describe", "{dir}/survey.csv", "--codebook", "{dir}/codebook.yaml"],
        ["typology", "check", "{dir}/typology.yaml"],
        ["score", "{dir}/model.json", "{dir}/survey.csv", "-o", "{out}/scored.csv", "--quiet"],
        ["profile", "{dir}/model.json", "{dir}/survey.csv"],
        ["listexp", "{dir}/listexp.csv", "--J", "4", "--weights", "w"],
    ],
    ids=["codebook-check", "describe", "typology-check", "score", "profile", "listexp"],
)
def test_the_valid_files_the_corpus_is_made_from_are_accepted(args, tmp_path, capsys):
    # so that each refusal above is caused by the one thing broken in its file
    code, stdout, stderr = run_cli(_args({"file": "", "args": args}, tmp_path), capsys)
    assert code == 0, stdout + stderr


# Regression (found building the corpus): the streamed reader of `segment score` let a trailing
# delimiter on the data rows shift every column into the index, so ids were lost and answers
# were read from the next column.
def test_score_reads_rows_with_a_trailing_delimiter_without_shifting_columns(tmp_path, capsys):
    lines = (BAD / "survey.csv").read_text(encoding="utf-8").splitlines()
    data = tmp_path / "trailing.csv"
    data.write_text("\n".join([lines[0]] + [line + "," for line in lines[1:]]) + "\n")
    out = tmp_path / "scored.csv"
    code, _, stderr = run_cli(
        ["score", BAD / "model.json", data, "-o", out, "--quiet", "--chunk-size", "2"], capsys
    )
    assert code == 0, stderr
    expected = tmp_path / "expected.csv"
    code, _, stderr = run_cli(
        ["score", BAD / "model.json", BAD / "survey.csv", "-o", expected, "--quiet"], capsys
    )
    assert code == 0, stderr
    assert out.read_text() == expected.read_text()
    assert out.read_text().splitlines()[1].startswith("100001,")
