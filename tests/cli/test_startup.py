"""`segment --help` starts in a fraction of a second (issue 18): the command line imports none
of the scientific stack until a command runs. Timing is for benchmarks/; this checks the cause."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ["pandas", "scipy", "sklearn", "numba", "pyarrow", "matplotlib", "yaml", "umap", "jinja2"]


@pytest.mark.parametrize(
    "args", [["--help"], ["fit", "--help"], ["select", "--help"], ["--version"]]
)
def test_help_imports_no_scientific_library(args):
    code = (
        "import sys\n"
        "from segment.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_the_help_shows_the_library_defaults():
    from segment._defaults import SELECT_N_BOOT
    from segment.models.selection import N_BOOT

    assert N_BOOT == SELECT_N_BOOT
