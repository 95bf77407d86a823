"""Checking a respondent file against its codebook, cell by cell, vectorised.

Every violation becomes a :class:`~segment.exceptions.Problem` naming the file, column, 1-based
row, value and what was expected, so that one report lists everything wrong with a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._util import duplicates, plain_number
from .exceptions import Problem

if TYPE_CHECKING:
    from .codebook import Codebook, Item

__all__ = ["as_float", "check_frame", "describe_codes"]


def check_frame(codebook: Codebook, frame: pd.DataFrame, file: str) -> list[Problem]:
    """Every violation of ``codebook`` in ``frame`` (see :meth:`Codebook.check_data`)."""
    problems: list[Problem] = []
    duplicated = duplicates(list(frame.columns))
    for col in duplicated:
        problems.append(Problem(file, col, "column name appears more than once in the header"))
    columns = set(frame.columns)
    present = columns - set(duplicated)
    for role, col in (("id", codebook.id), ("weight", codebook.weight)):
        if col is not None and col not in columns:
            problems.append(Problem(file, col, f"{role} column named in the codebook is missing"))
    for it in codebook.items:
        if it.column not in columns:
            problems.append(
                Problem(file, it.column, "item column named in the codebook is missing")
            )
    if codebook.id is not None and codebook.id in present:
        problems.extend(_check_ids(frame[codebook.id], file, codebook.id))
    if codebook.weight is not None and codebook.weight in present:
        problems.extend(_check_weights(frame[codebook.weight], file, codebook.weight))
    for it in codebook.items:
        if it.column in present and it.type != "text":
            problems.extend(_check_item(frame[it.column], it, file))
    return problems


def _blank(series: pd.Series) -> np.ndarray:
    s = series
    blank = s.isna().to_numpy().copy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        stripped = s.astype("string").str.strip()
        blank |= (stripped == "").fillna(True).to_numpy(dtype=bool)
    return blank


def as_float(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values (NaN for blanks) and a mask of non-blank cells that are not numbers."""
    blank = _blank(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype(float).to_numpy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(series.astype("string").str.strip(), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    bad = np.isnan(values) & ~blank
    values = values.copy()
    values[blank] = np.nan
    return values, bad


def _check_ids(series: pd.Series, file: str, col: str) -> list[Problem]:
    problems = []
    blank = _blank(series)
    for r in np.flatnonzero(blank):
        problems.append(
            Problem(
                file, col, "respondent id is blank; every row needs a unique id", row=int(r) + 1
            )
        )
    key = series.astype("string").str.strip()
    dup = key.duplicated(keep="first").to_numpy() & ~blank
    first_row = {}
    for r, v in enumerate(key.to_numpy()):
        first_row.setdefault(v, r + 1)
    for r in np.flatnonzero(dup):
        v = key.iloc[r]
        problems.append(
            Problem(
                file,
                col,
                f"duplicate respondent id (first seen in row {first_row[v]})",
                row=int(r) + 1,
                value=v,
            )
        )
    return problems


def _check_weights(series: pd.Series, file: str, col: str) -> list[Problem]:
    values, bad = as_float(series)
    problems = []
    for r in np.flatnonzero(bad):
        problems.append(
            Problem(
                file,
                col,
                "weight is not a number; expected a positive number",
                row=int(r) + 1,
                value=series.iloc[r],
            )
        )
    missing = np.isnan(values) & ~bad
    for r in np.flatnonzero(missing):
        problems.append(
            Problem(file, col, "weight is blank; expected a positive number", row=int(r) + 1)
        )
    with np.errstate(invalid="ignore"):
        nonpos = ~np.isnan(values) & ((values <= 0) | ~np.isfinite(values))
    for r in np.flatnonzero(nonpos):
        problems.append(
            Problem(
                file,
                col,
                "expected a positive, finite weight",
                row=int(r) + 1,
                value=plain_number(values[r]) if np.isfinite(values[r]) else values[r],
            )
        )
    return problems


def describe_codes(it: Item) -> str:
    def span(codes: list[int]) -> str:
        codes = sorted(codes)
        if len(codes) > 2 and codes == list(range(codes[0], codes[-1] + 1)):
            return f"{codes[0]}-{codes[-1]}"
        return ", ".join(str(c) for c in codes)

    parts = [span([lv.code for lv in it.levels])]
    if it.dont_know:
        parts.append(f"{span([lv.code for lv in it.dont_know])} (don't know)")
    if it.refused:
        parts.append(f"{span([lv.code for lv in it.refused])} (refused)")
    if it.missing:
        parts.append(f"{span([int(c) for c in it.missing])} (missing)")
    return "one of " + "; ".join(parts) + " or blank"


def _check_item(series: pd.Series, it: Item, file: str) -> list[Problem]:
    values, bad = as_float(series)
    problems = []
    if it.is_categorical:
        expected = describe_codes(it)
        for r in np.flatnonzero(bad):
            problems.append(
                Problem(
                    file,
                    it.column,
                    f"not a number; expected {expected}",
                    row=int(r) + 1,
                    value=series.iloc[r],
                )
            )
        ok = np.isnan(values) | np.isin(values, it.valid_codes)
        for r in np.flatnonzero(~ok):
            problems.append(
                Problem(
                    file,
                    it.column,
                    f"code not in the codebook; expected {expected}",
                    row=int(r) + 1,
                    value=plain_number(values[r]),
                )
            )
    elif it.type == "numeric":
        lo = -np.inf if it.min is None else it.min
        hi = np.inf if it.max is None else it.max
        expected = f"a number in [{plain_number(lo) if np.isfinite(lo) else '-inf'}, {plain_number(hi) if np.isfinite(hi) else 'inf'}]"
        if it.missing:
            expected += f", a missing code {[plain_number(c) for c in it.missing]},"
        expected += " or blank"
        for r in np.flatnonzero(bad):
            problems.append(
                Problem(
                    file,
                    it.column,
                    f"not a number; expected {expected}",
                    row=int(r) + 1,
                    value=series.iloc[r],
                )
            )
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(values) & ((values < lo) | (values > hi)) & ~np.isin(values, it.missing)
        for r in np.flatnonzero(out):
            problems.append(
                Problem(
                    file,
                    it.column,
                    f"out of range; expected {expected}",
                    row=int(r) + 1,
                    value=plain_number(values[r]),
                )
            )
    return problems
