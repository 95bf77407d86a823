"""Reading cells of a respondent file: numbers, blanks, and one problem per bad row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segment._util import plain_number
from segment.exceptions import Problem

from .items import Item

__all__ = ["as_float", "blank_cells", "item_codes", "row_problems", "shown"]


def blank_cells(series: pd.Series) -> np.ndarray:
    """Missing or whitespace-only cells."""
    s = series
    blank = s.isna().to_numpy().copy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        stripped = s.astype("string").str.strip()
        blank |= (stripped == "").fillna(True).to_numpy(dtype=bool)
    return blank


def as_float(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values (NaN for blanks) and a mask of non-blank cells that are not numbers."""
    blank = blank_cells(series)
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


def item_codes(series: pd.Series, item: Item | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column (NaN for blanks) and a mask of cells that are neither codes nor texts.

    Numbers are read as codes; a text cell that is an answer's text (:meth:`Item.text_codes`:
    its ``value:`` or English label, any case, spaces trimmed) becomes that answer's code, so
    that files exported with factor labels ("Female", "Strongly agree") read like coded ones.
    """
    values, bad = as_float(series)
    if item is None or not bad.any():
        return values, bad
    texts = item.text_codes()
    if not texts:
        return values, bad
    keys = series[bad].astype("string").str.strip().str.casefold()
    mapped = keys.map(texts).to_numpy(dtype=float, na_value=np.nan)
    values = values.copy()
    rows = np.flatnonzero(bad)
    values[rows] = mapped
    bad = bad.copy()
    bad[rows] = np.isnan(mapped)
    return values, bad


def row_problems(file: str, col: str, mask: np.ndarray, message: str, values=None) -> list[Problem]:
    """One :class:`Problem` per row where ``mask`` holds (1-based rows), with that row's value."""
    return [
        Problem(
            file, col, message, row=int(r) + 1, value=None if values is None else shown(values[r])
        )
        for r in np.flatnonzero(mask)
    ]


def shown(value):
    """A cell value as a message shows it: plain numbers, text as it was written."""
    if isinstance(value, (float, np.floating)):
        return plain_number(float(value)) if np.isfinite(value) else float(value)
    return value
