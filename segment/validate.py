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


def _at_rows(file: str, col: str, mask: np.ndarray, message: str, values=None) -> list[Problem]:
    """One :class:`Problem` per row where ``mask`` holds (1-based rows), with that row's value."""
    return [
        Problem(
            file, col, message, row=int(r) + 1, value=None if values is None else _shown(values[r])
        )
        for r in np.flatnonzero(mask)
    ]


def _shown(value):
    """A cell value as a message shows it: plain numbers, text as it was written."""
    if isinstance(value, (float, np.floating)):
        return plain_number(value) if np.isfinite(value) else float(value)
    return value


def _check_ids(series: pd.Series, file: str, col: str) -> list[Problem]:
    blank = _blank(series)
    problems = _at_rows(file, col, blank, "respondent id is blank; every row needs a unique id")
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
    raw = series.to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        nonpos = ~np.isnan(values) & ((values <= 0) | ~np.isfinite(values))
    return (
        _at_rows(file, col, bad, "weight is not a number; expected a positive number", raw)
        + _at_rows(
            file, col, np.isnan(values) & ~bad, "weight is blank; expected a positive number"
        )
        + _at_rows(file, col, nonpos, "expected a positive, finite weight", values)
    )


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
    raw = series.to_numpy(dtype=object)
    if it.is_categorical:
        expected = describe_codes(it)
        invalid = ~np.isnan(values) & ~np.isin(values, it.valid_codes)
        return _at_rows(file, it.column, bad, f"not a number; expected {expected}", raw) + _at_rows(
            file, it.column, invalid, f"code not in the codebook; expected {expected}", values
        )
    if it.type == "numeric":
        lo = -np.inf if it.min is None else it.min
        hi = np.inf if it.max is None else it.max
        bounds = f"[{plain_number(lo) if np.isfinite(lo) else '-inf'}, {plain_number(hi) if np.isfinite(hi) else 'inf'}]"
        expected = f"a number in {bounds}"
        if it.missing:
            expected += f", a missing code {[plain_number(c) for c in it.missing]},"
        expected += " or blank"
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(values) & ((values < lo) | (values > hi)) & ~np.isin(values, it.missing)
        return _at_rows(file, it.column, bad, f"not a number; expected {expected}", raw) + _at_rows(
            file, it.column, out, f"out of range; expected {expected}", values
        )
    return []
