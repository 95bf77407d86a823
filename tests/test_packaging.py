"""profiles/ and data/ ship inside a regular (non-editable) wheel and load from there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CHECK = """
import sys
from pathlib import Path
import segment
from segment import Typology, read_survey
from segment.resources import bundled_path, list_bundled
site = Path(sys.argv[1]).resolve()
assert Path(segment.__file__).resolve().is_relative_to(site), segment.__file__
for kind, name in [("profiles", "kz2020.yaml"), ("data", "kz2020_synthetic.csv")]:
    p = bundled_path(kind, name)
    assert p.resolve().is_relative_to(site), p
t = Typology.load("kz2020")
frame, codebook = read_survey(bundled_path("data", "kz2020_synthetic.csv"),
                              bundled_path("data", "kz2020_synthetic_codebook.yaml"))
print(len(t.segments), len(frame), ",".join(list_bundled("profiles")))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{result.stdout}\n{result.stderr}")
    (whl,) = out.glob("segment-*.whl")
    return whl


def test_wheel_contains_profiles_data_and_schemas(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "segment/_bundled/profiles/kz2020.yaml",
        "segment/_bundled/profiles/kz2020_instrument.yaml",
        "segment/_bundled/profiles/kz2020_population.yaml",
        "segment/_bundled/data/kz2020_synthetic.csv",
        "segment/_bundled/data/kz2020_synthetic_codebook.yaml",
        "segment/schemas/codebook.schema.json",
        "segment/schemas/typology.schema.json",
    ):
        assert needed in names


def test_installed_wheel_loads_bundled_files_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(site)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["6", "1500"]
    assert "kz2020.yaml" in result.stdout
