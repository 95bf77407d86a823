"""Determinism: the same data, codebook and seed give byte-identical model files and reports,
within one process and across processes (each with its own random hash seed)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import run_cli as run

from segment.resources import bundled_path

REPORT_FILES = ("index.html", "profiles.md", "model.json")


def test_fit_writes_byte_identical_model_files_in_one_process(tmp_path, capsys):
    """Two fits in one process with the same data and seed write the same bytes."""
    data = bundled_path("data", "kz2020_synthetic.csv")
    codebook = bundled_path("data", "kz2020_synthetic_codebook.yaml")
    paths = []
    for name in ("a.json", "b.json"):
        out = tmp_path / name
        code, _, _ = run(
            [
                "fit",
                data,
                "--codebook",
                codebook,
                "--k",
                "4",
                "--n-init",
                "2",
                "--seed",
                "5",
                "-o",
                out,
            ],
            capsys,
        )
        assert code == 0
        paths.append(out)
    assert paths[0].read_bytes() == paths[1].read_bytes()


@pytest.mark.slow
def test_run_in_another_process_gives_the_same_report_bytes(bundled_report, tmp_path):
    """`segment run` in a fresh interpreter (another hash seed, cold caches) writes exactly the
    report this process wrote (the `bundled_report` fixture ran it in-process)."""
    out = tmp_path / "again"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-m", "segment.cli", "run", "-o", str(out), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for name in REPORT_FILES:
        assert (out / name).read_bytes() == (bundled_report / name).read_bytes(), name
