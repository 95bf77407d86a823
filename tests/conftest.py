"""Shared fixtures: paths to bundled files and to ../shared/data (real reference data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segment.resources import bundled_path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _map_cache(tmp_path_factory):
    """Cached maps go to a folder of the test session, never to the user's cache; one process
    per test unless a test asks for more."""
    os.environ["SEGMENT_CACHE_DIR"] = str(tmp_path_factory.mktemp("segment-cache"))
    # tests run in parallel already (pytest-xdist): bootstrap refits stay in each test's process
    os.environ.setdefault("SEGMENT_JOBS", "1")


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


@pytest.fixture(scope="session")
def bundled_report(tmp_path_factory) -> Path:
    """The report folder of ``segment run`` on the bundled data (run once per session)."""
    from segment.cli import main

    folder = tmp_path_factory.mktemp("run") / "report"
    with pytest.raises(SystemExit) as exc:
        main(["run", "-o", str(folder), "--quiet"])
    assert exc.value.code == 0
    return folder
