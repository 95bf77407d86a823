"""The package's floors (docs/architecture.md): scripts/check_imports.py and the public names."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

import segment

REPO = Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location(
        "check_imports", REPO / "scripts" / "check_imports.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_imports"] = module
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_circle_and_no_upward_import():
    problems, n_modules, _ = _checker().check(REPO / "segment")
    assert problems == []
    assert n_modules > 50


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        # a lazy import from a higher floor
        (
            "survey/items.py",
            "def _f():\n    from segment.pipeline import run_analysis\n",
            "upward import",
        ),
        # a type-only import counts too
        ("models/align.py", "if False:\n    from segment.cli import main\n", "upward import"),
        # two wings of one floor
        ("report/figures.py", "from segment.quiz import build_quiz\n", "sideways import"),
        # another wing's private name
        ("segments/fit.py", "from segment.cards.wording import _join\n", "private import"),
        # a circle inside one wing
        ("survey/cells.py", "from segment.survey.check import check_frame\n", "import circle"),
        # a new root module that no floor lists
        ("helpers.py", "X = 1\n", "is on no floor"),
    ],
)
def test_the_checker_refuses(tmp_path, module, line, expected):
    copy = tmp_path / "segment"
    shutil.copytree(REPO / "segment", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text((target.read_text() if target.exists() else "") + "\n" + line)
    problems, _, _ = _checker().check(copy)
    assert any(expected in p for p in problems), problems


def test_top_level_names_are_importable_and_listed():
    assert set(segment.__all__) == {*segment._EXPORTS, "__version__"}
    for name in segment.__all__:
        assert getattr(segment, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        segment.nothing_here  # noqa: B018
