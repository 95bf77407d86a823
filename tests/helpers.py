"""Helpers shared by the test modules."""

from __future__ import annotations

import pytest

from segment.cli import main

#: The 12 candidate-trait ratings of poLCA's election data (../shared/data/lca/election.csv).
ELECTION_ITEMS = [
    "MORALG", "CARESG", "KNOWG", "LEADG", "DISHONG", "INTELG",
    "MORALB", "CARESB", "KNOWB", "LEADB", "DISHONB", "INTELB",
]  # fmt: skip


def run_cli(args: list, capsys) -> tuple[int, str, str]:
    """Run ``segment ARGS``; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err
