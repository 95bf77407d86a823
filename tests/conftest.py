"""Shared fixtures: paths to bundled files and to ../shared/data (real reference data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segment.resources import bundled_path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (real LCA and list-experiment data sets)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bundled_survey() -> tuple[Path, Path, Path]:
    """(data, codebook, truth) paths of the bundled synthetic survey."""
    return (
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
        bundled_path("data", "kz2020_synthetic_truth.csv"),
    )
