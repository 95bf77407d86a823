"""Checking a respondent file against its codebook, cell by cell, vectorised.

Every violation becomes a :class:`~segment.exceptions.Problem` naming the file, column, 1-based
row, value and what was expected, so that one report lists everything wrong with a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segment._util import duplicates, plain_number
from segment.exceptions import Problem

from .cells import as_float, blank_cells, item_codes, row_problems
from .design_columns import check_design
from .items import Item

__all__ = ["check_frame", "describe_codes", "duplicate_columns"]


def check_frame(
    frame: pd.DataFrame,
    items: Sequence[Item],
    *,
    file: str,
    id_column: str | Sequence[str] | None = None,
    weight_column: str | None = None,
    design_columns: Mapping[str, str] | None = None,
    lonely_psu: str = "fail",
    nest: bool = False,
) -> list[Problem]:
    """Every violation of a codebook in ``frame`` (see :meth:`Codebook.check_data`).

    Parameters
    ----------
    frame : DataFrame
        The respondent file as read (cells as text or numbers).
    items : sequence of Item
        The codebook's items.
    file : str
        The file named in the problems.
    id_column : str or sequence of str, optional
        The codebook's respondent id column, or the columns of a composite id (unique together).
    weight_column : str, optional
        The codebook's weight column.
    design_columns : mapping, optional
        Column of each sampling-design role present (``"strata"``, ``"psu"``, ``"fpc"``).
    lonely_psu, nest
        The design's single-PSU rule and PSU nesting (see :func:`check_design`).
    """
    design_cols = dict(design_columns or {})
    id_cols = [id_column] if isinstance(id_column, str) else list(id_column or [])
    problems = duplicate_columns(list(frame.columns), file)
    duplicated = duplicates(list(frame.columns))
    columns = set(frame.columns)
    expected = {*id_cols, weight_column, *(it.column for it in items)} - {None}
    if len(columns) == 1 and not expected & columns and len(expected) > 1:
        problems.append(
            Problem(
                file,
                "header",
                "the header was read as a single column; expected the codebook's columns "
                "separated by a comma, semicolon or tab (is the file delimited by another "
                "character?)",
                value=str(frame.columns[0])[:60],
            )
        )
    present = columns - set(duplicated)
    problems.extend(_near_duplicate_columns(list(frame.columns), expected, file))
    for role, col in (*(("id", c) for c in id_cols), ("weight", weight_column)):
        if col is not None and col not in columns:
            problems.append(Problem(file, col, f"{role} column named in the codebook is missing"))
    for it in items:
        if it.column not in columns:
            problems.append(
                Problem(file, it.column, "item column named in the codebook is missing")
            )
    for role, col in design_cols.items():
        if col not in columns:
            problems.append(Problem(file, col, f"{role} column named in the codebook is missing"))
    if id_cols and all(c in present for c in id_cols):
        problems.extend(_check_ids(frame, id_cols, file))
    if weight_column is not None and weight_column in present:
        problems.extend(_check_weights(frame[weight_column], file, weight_column))
    for it in items:
        if it.column in present and it.type != "text":
            problems.extend(_check_item(frame[it.column], it, file))
    if design_cols and all(col in present for col in design_cols.values()):
        problems.extend(
            check_design(
                strata=frame[design_cols["strata"]] if "strata" in design_cols else None,
                psu=frame[design_cols["psu"]] if "psu" in design_cols else None,
                fpc=frame[design_cols["fpc"]] if "fpc" in design_cols else None,
                file=file,
                columns=design_cols,
                lonely_psu=lonely_psu,
                nest=nest,
            )
        )
    return problems


def _near_duplicate_columns(columns: list, expected: set, file: str) -> list[Problem]:
    """Header names that differ from a codebook column only by surrounding spaces (always an
    error: ``trust_army `` beside ``trust_army`` would be ignored), or only by case when the
    codebook's column itself is missing (a hint where "missing" alone would puzzle)."""
    problems = []
    by_stripped = {str(c).strip(): c for c in expected}
    by_folded = {str(c).strip().casefold(): c for c in expected}
    for position, col in enumerate(columns, start=1):
        if not isinstance(col, str) or col in expected:
            continue
        if col.strip() in by_stripped:
            target, how = by_stripped[col.strip()], "only by spaces"
        elif (
            col.strip().casefold() in by_folded and by_folded[col.strip().casefold()] not in columns
        ):
            target, how = by_folded[col.strip().casefold()], "only by case or spaces"
        else:
            continue
        problems.append(
            Problem(
                file,
                repr(col),
                f"column {position} differs from the codebook's column {target!r} {how}; "
                "expected the exact name (rename the column, or the codebook's)",
            )
        )
    return problems


def duplicate_columns(columns: list, file: str) -> list[Problem]:
    """One problem per column name that appears more than once, with its 1-based positions."""
    problems = []
    for col in duplicates(columns):
        where = [str(i + 1) for i, c in enumerate(columns) if c == col]
        problems.append(
            Problem(
                file,
                str(col),
                "column name appears more than once in the header "
                f"(columns {', '.join(where[:-1])} and {where[-1]})",
            )
        )
    return problems


#: Duplicate ids listed one by one before the rest are counted in one problem: a pooled file
#: whose ids restart every year would otherwise print a line per respondent.
MAX_DUPLICATE_IDS = 20


def _check_ids(frame: pd.DataFrame, columns: list[str], file: str) -> list[Problem]:
    """Blank and duplicate ids (of the columns together, for a composite id)."""
    where = " + ".join(columns)
    problems = []
    blank = np.zeros(len(frame), dtype=bool)
    for col in columns:
        b = blank_cells(frame[col])
        blank |= b
        problems += row_problems(
            file, col, b, "respondent id is blank; every row needs a unique id"
        )
    parts = [frame[c].astype("string").str.strip() for c in columns]
    key = parts[0] if len(parts) == 1 else pd.Series(list(zip(*parts, strict=True)))
    key = key.reset_index(drop=True)
    dup = key.duplicated(keep="first").to_numpy() & ~blank
    if not dup.any():
        return problems
    first = key[~key.duplicated(keep="first")]
    first_row: dict[Any, int] = dict(zip(first.to_numpy(), first.index + 1, strict=True))
    rows = np.flatnonzero(dup)
    for r in rows[:MAX_DUPLICATE_IDS]:
        value = key.iloc[r]
        shown_value = value if isinstance(value, str) else " + ".join(map(str, value))
        problems.append(
            Problem(
                file,
                where,
                f"duplicate respondent id (first seen in row {first_row[value]})",
                row=int(r) + 1,
                value=shown_value,
            )
        )
    if len(rows) > MAX_DUPLICATE_IDS:
        hint = (
            "; if ids restart in each wave or year, declare a composite id in the codebook, "
            "e.g. `id: [year, id]`"
            if len(columns) == 1
            else ""
        )
        problems.append(
            Problem(
                file,
                where,
                f"{len(rows) - MAX_DUPLICATE_IDS} more duplicate respondent ids "
                f"({len(rows)} rows in all){hint}",
            )
        )
    return problems


#: Largest weight allowed, as a multiple of the median weight (docs/formats.md, "Limits: data
#: files"). Real survey weights stay within a few hundred; beyond this one respondent would stand
#: for the whole sample, and printed shares would be that person's answers.
MAX_WEIGHT_RATIO = 1e6


def _check_weights(series: pd.Series, file: str, col: str) -> list[Problem]:
    values, bad = as_float(series)
    raw = series.to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        nonpos = ~np.isnan(values) & ((values <= 0) | ~np.isfinite(values))
    good = values[~np.isnan(values) & ~nonpos]
    huge = np.zeros(len(values), dtype=bool)
    if good.size:
        median = np.median(good / good.max())
        with np.errstate(invalid="ignore", over="ignore"):
            huge = ~np.isnan(values) & ~nonpos & (values / good.max() > MAX_WEIGHT_RATIO * median)
    return (
        row_problems(file, col, bad, "weight is not a number; expected a positive number", raw)
        + row_problems(
            file, col, np.isnan(values) & ~bad, "weight is blank; expected a positive number"
        )
        + row_problems(file, col, nonpos, "expected a positive, finite weight", values)
        + row_problems(
            file,
            col,
            huge,
            f"weight more than {MAX_WEIGHT_RATIO:,.0f} times the median weight; expected "
            "weights of one survey (check the column's scale)",
            raw,
        )
    )


def describe_codes(it: Item) -> str:
    def span(codes: list[int]) -> str:
        codes = sorted(set(codes))
        if len(codes) > 2 and codes[-1] - codes[0] == len(codes) - 1:
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
    values, bad = item_codes(series, it)
    raw = series.to_numpy(dtype=object)
    if it.is_categorical:
        expected = describe_codes(it)
        invalid = ~np.isnan(values) & ~np.isin(values, it.valid_codes)
        return row_problems(
            file, it.column, bad, f"not a number; expected {expected}", raw
        ) + row_problems(
            file, it.column, invalid, f"code not in the codebook; expected {expected}", values
        )
    if it.type == "numeric":
        lo = -np.inf if it.min is None else it.min
        hi = np.inf if it.max is None else it.max
        bounds = (
            f"[{plain_number(lo) if np.isfinite(lo) else '-inf'}, "
            f"{plain_number(hi) if np.isfinite(hi) else 'inf'}]"
        )
        expected = f"a number in {bounds}"
        if it.missing:
            expected += f", a missing code {[plain_number(c) for c in it.missing]},"
        expected += " or blank"
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(values) & ((values < lo) | (values > hi)) & ~np.isin(values, it.missing)
        return row_problems(
            file, it.column, bad, f"not a number; expected {expected}", raw
        ) + row_problems(file, it.column, out, f"out of range; expected {expected}", values)
    return []
