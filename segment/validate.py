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

__all__ = [
    "LONELY_PSU",
    "as_float",
    "check_design",
    "check_frame",
    "describe_codes",
    "duplicate_columns",
]

#: What to do with a stratum holding a single PSU (see :func:`check_design`).
LONELY_PSU = ("fail", "adjust", "remove", "average")


def check_frame(codebook: Codebook, frame: pd.DataFrame, file: str) -> list[Problem]:
    """Every violation of ``codebook`` in ``frame`` (see :meth:`Codebook.check_data`)."""
    problems = duplicate_columns(list(frame.columns), file)
    duplicated = duplicates(list(frame.columns))
    columns = set(frame.columns)
    expected = {codebook.id, codebook.weight, *(it.column for it in codebook.items)} - {None}
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
    for role, col in (("id", codebook.id), ("weight", codebook.weight)):
        if col is not None and col not in columns:
            problems.append(Problem(file, col, f"{role} column named in the codebook is missing"))
    for it in codebook.items:
        if it.column not in columns:
            problems.append(
                Problem(file, it.column, "item column named in the codebook is missing")
            )
    design_cols = {
        role: col
        for role, col in (
            ("strata", codebook.strata),
            ("psu", codebook.psu),
            ("fpc", codebook.fpc),
        )
        if col is not None
    }
    for role, col in design_cols.items():
        if col not in columns:
            problems.append(Problem(file, col, f"{role} column named in the codebook is missing"))
    if codebook.id is not None and codebook.id in present:
        problems.extend(_check_ids(frame[codebook.id], file, codebook.id))
    if codebook.weight is not None and codebook.weight in present:
        problems.extend(_check_weights(frame[codebook.weight], file, codebook.weight))
    for it in codebook.items:
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
                lonely_psu=codebook.lonely_psu,
                nest=codebook.nest,
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


# ---------------------------------------------------------------------- sampling design
def check_design(
    *,
    strata=None,
    psu=None,
    fpc=None,
    file: str = "data",
    columns: dict[str, str] | None = None,
    lonely_psu: str = "fail",
    nest: bool = False,
) -> list[Problem]:
    """Every problem with the sampling-design columns of a respondent file.

    Checks, naming the file, column, 1-based row and value of each problem:

    - strata and PSU labels are present in every row;
    - unless ``nest`` is true, a PSU label belongs to one stratum only (reported at the first
      row where it appears in a second stratum; with ``nest`` PSU labels restart in each
      stratum, as R ``survey``'s ``nest = TRUE``);
    - ``fpc`` is a positive number, the same in every row of a stratum, and either every value
      is a sampling fraction (at most 1) or every value is a population count of PSUs at
      least the number of PSUs sampled in that stratum;
    - with ``lonely_psu="fail"``, every stratum not sampled completely has at least two PSUs
      (reported at the stratum's first row).

    The checks run in that order, each once the previous ones pass (a PSU's stratum means
    nothing while labels are blank, a stratum's PSU count nothing while PSUs cross strata).

    Parameters
    ----------
    strata, psu, fpc : array-like or None
        One value per respondent (``None``: not part of the design).
    file : str
        The file named in the problems.
    columns : dict, optional
        Column name of each role (``"strata"``, ``"psu"``, ``"fpc"``) for the problems
        (default: the role names).
    lonely_psu : {"fail", "adjust", "remove", "average"}
        What the variance does with a single-PSU stratum (see :class:`segment.design.SurveyDesign`).
    nest : bool
        PSU labels are only unique within a stratum.
    """
    columns = dict(columns or {})
    name = {role: columns.get(role, role) for role in ("strata", "psu", "fpc")}
    problems: list[Problem] = []
    labels: dict[str, np.ndarray] = {}
    for role, values in (("strata", strata), ("psu", psu)):
        if values is None:
            continue
        arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
        blank = _blank_labels(arr)
        problems += _at_rows(
            file, name[role], blank, f"{role} label is blank; every respondent needs one"
        )
        labels[role] = arr
    f = None
    if fpc is not None:
        series = fpc if isinstance(fpc, pd.Series) else pd.Series(np.asarray(fpc))
        series = series.reset_index(drop=True)
        f, bad = as_float(series)
        raw = series.to_numpy(dtype=object)
        with np.errstate(invalid="ignore"):
            nonpos = ~np.isnan(f) & ((f <= 0) | ~np.isfinite(f))
        problems += (
            _at_rows(file, name["fpc"], bad, "fpc is not a number; expected a positive number", raw)
            + _at_rows(file, name["fpc"], np.isnan(f) & ~bad, "fpc is blank; expected a number")
            + _at_rows(
                file,
                name["fpc"],
                nonpos,
                "expected a positive fpc (population size or sampling fraction)",
                f,
            )
        )
    if problems:
        return problems  # the structural checks below need complete labels and numbers
    n = next(
        (len(v) for v in (*labels.values(), f) if v is not None),
        0,
    )
    if n == 0:
        return problems
    s_codes, s_labels = _codes(labels.get("strata"), n)
    if "psu" in labels:
        p_raw, p_labels = _codes(labels["psu"], n)
    else:
        p_raw, p_labels = np.arange(n), np.arange(1, n + 1)
    rows = np.arange(n)
    if "psu" in labels and "strata" in labels and not nest:
        first_row = _first_row(p_raw, p_labels.size)
        home = s_codes[first_row[p_raw]]
        moved = rows[s_codes != home]
        _, first_moved = np.unique(p_raw[moved], return_index=True)
        for r in np.sort(moved[first_moved]):  # one problem per PSU, at its first move
            k = p_raw[r]
            problems.append(
                Problem(
                    file,
                    name["psu"],
                    f"PSU is in stratum {_shown(s_labels[s_codes[r]])!r} here but in stratum "
                    f"{_shown(s_labels[home[r]])!r} in row {first_row[k] + 1}; a PSU must lie "
                    "in one stratum (set design nest: true if PSU labels restart in each stratum)",
                    row=int(r) + 1,
                    value=_shown(p_labels[k]),
                )
            )
        if problems:
            return problems
    # PSUs as (stratum, psu) pairs
    pair = s_codes.astype(np.int64) * max(p_labels.size, 1) + p_raw
    _, psu_codes = np.unique(pair, return_inverse=True)
    psu_stratum = np.zeros(psu_codes.max() + 1, dtype=np.int64)
    psu_stratum[psu_codes] = s_codes
    n_psu = np.bincount(psu_stratum, minlength=s_labels.size)
    stratum_first = _first_row(s_codes, s_labels.size)
    fraction = np.zeros(s_labels.size)
    if f is not None:
        ref = f[stratum_first[s_codes]]
        differs = rows[f != ref]
        _, first_differs = np.unique(s_codes[differs], return_index=True)
        for r in np.sort(differs[first_differs]):  # one problem per stratum
            h = s_codes[r]
            problems.append(
                Problem(
                    file,
                    name["fpc"],
                    f"fpc differs within stratum {_shown(s_labels[h])!r} (value "
                    f"{_shown(ref[r])} in row {stratum_first[h] + 1}); it must be the same "
                    "in every row of a stratum",
                    row=int(r) + 1,
                    value=_shown(f[r]),
                )
            )
        if problems:
            return problems
        f_h = f[stratum_first]
        sizes = f_h > 1
        if sizes.any():
            for h in np.flatnonzero(f_h < 1):
                problems.append(
                    Problem(
                        file,
                        name["fpc"],
                        "fpc mixes sampling fractions (at most 1) with population sizes "
                        "(above 1); give all strata one or the other",
                        row=int(stratum_first[h]) + 1,
                        value=_shown(f_h[h]),
                    )
                )
            for h in np.flatnonzero(f_h < n_psu):
                problems.append(
                    Problem(
                        file,
                        name["fpc"],
                        f"population size {_shown(f_h[h])} is smaller than the "
                        f"{n_psu[h]} PSUs sampled in stratum {_shown(s_labels[h])!r}",
                        row=int(stratum_first[h]) + 1,
                        value=_shown(f_h[h]),
                    )
                )
            fraction = np.where(f_h > 0, n_psu / f_h, 0.0)
        else:
            fraction = f_h
        if problems:
            return problems
    if lonely_psu == "fail":
        lonely = (n_psu == 1) & (fraction < 1)
        for h in np.flatnonzero(lonely):
            r = int(stratum_first[h])
            where = name["strata"] if "strata" in labels else name["psu"]
            what = (
                f"stratum {_shown(s_labels[h])!r} has a single PSU"
                if "strata" in labels
                else "the sample has a single PSU"
            )
            problems.append(
                Problem(
                    file,
                    where,
                    f"{what} ({_psu_name(labels, p_labels, p_raw, r)}); a design-based variance "
                    "needs at least two PSUs per stratum: merge it with a similar stratum, or "
                    "set design lonely_psu: adjust, remove or average",
                    row=r + 1,
                    value=_shown(s_labels[h]) if "strata" in labels else None,
                )
            )
    return problems


def _codes(values, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (in order of first appearance) and the labels they stand for.

    Numbers are compared by value (``1`` and ``1.0`` are one label) and text with surrounding
    blanks stripped; ``values=None`` is a single label for every row.
    """
    if values is None:
        return np.zeros(n, dtype=np.int64), np.array(["(all)"], dtype=object)
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "biuf":
        codes, uniques = pd.factorize(arr.astype(float) if arr.dtype.kind == "b" else arr)
    else:
        # hash the raw values, then normalise only the distinct ones
        raw, distinct = pd.factorize(arr.astype(object), sort=False)
        merged, uniques = pd.factorize(
            np.array([_label_key(v) for v in distinct], dtype=object), sort=False
        )
        codes = merged[raw]
    first = _first_row(codes, len(uniques))
    return codes.astype(np.int64), np.asarray(arr[first], dtype=object)


def _blank_labels(arr: np.ndarray) -> np.ndarray:
    """Missing or whitespace-only labels, testing each distinct label once."""
    if arr.dtype.kind in "biu":
        return np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    raw, distinct = pd.factorize(arr.astype(object), sort=False)
    empty = np.array([isinstance(v, str) and not v.strip() for v in distinct], dtype=bool)
    return (raw < 0) | np.append(empty, False)[raw]


def _label_key(v):
    """A label as the design compares it: numbers by value (``1`` == ``1.0``), text stripped."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
        return float(v)
    return v


def _first_row(codes: np.ndarray, size: int) -> np.ndarray:
    """0-based row of the first occurrence of each code ``0..size-1``."""
    first = np.full(size, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def _psu_name(labels: dict, p_labels: np.ndarray, p_raw: np.ndarray, row: int) -> str:
    if "psu" in labels:
        return f"PSU {_shown(p_labels[p_raw[row]])!r}"
    return "one respondent"
