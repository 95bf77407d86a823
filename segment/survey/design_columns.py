"""Checking the sampling-design columns of a respondent file: strata, PSUs, fpc.

Used by the frame checker (:func:`segment.survey.check.check_frame`) and by
:class:`segment.weights.survey_design.SurveyDesign`, which both refuse a design whose labels are
incomplete or inconsistent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segment.exceptions import Problem

from .cells import as_float, row_problems, shown

__all__ = ["LONELY_PSU", "check_design", "label_codes"]

#: What to do with a stratum holding a single PSU (see :func:`check_design`).
LONELY_PSU = ("fail", "adjust", "remove", "average")


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
        What the variance does with a single-PSU stratum (see
        :class:`segment.weights.survey_design.SurveyDesign`).
    nest : bool
        PSU labels are only unique within a stratum.
    """
    columns = dict(columns or {})
    name = {role: columns.get(role, role) for role in ("strata", "psu", "fpc")}
    labels, problems = _label_problems(strata, psu, file, name)
    f = None
    if fpc is not None:
        f, found = _fpc_cell_problems(fpc, file, name["fpc"])
        problems += found
    if problems:
        return problems  # the structural checks below need complete labels and numbers
    n = next(
        (len(v) for v in (*labels.values(), f) if v is not None),
        0,
    )
    if n == 0:
        return problems
    s_codes, s_labels = label_codes(labels.get("strata"), n)
    if "psu" in labels:
        p_raw, p_labels = label_codes(labels["psu"], n)
    else:
        p_raw, p_labels = np.arange(n), np.arange(1, n + 1)
    if "psu" in labels and "strata" in labels and not nest:
        problems = _psus_crossing_strata(s_codes, s_labels, p_raw, p_labels, file, name["psu"])
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
        problems, fraction = _fpc_structure_problems(
            f, s_codes, s_labels, n_psu, stratum_first, file, name["fpc"]
        )
        if problems:
            return problems
    if lonely_psu == "fail":
        lonely = (n_psu == 1) & (fraction < 1)
        for h in np.flatnonzero(lonely):
            r = int(stratum_first[h])
            where = name["strata"] if "strata" in labels else name["psu"]
            what = (
                f"stratum {shown(s_labels[h])!r} has a single PSU"
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
                    value=shown(s_labels[h]) if "strata" in labels else None,
                )
            )
    return problems


def _label_problems(
    strata, psu, file: str, name: dict[str, str]
) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """The strata and PSU labels as arrays, and a problem per blank label."""
    problems: list[Problem] = []
    labels: dict[str, np.ndarray] = {}
    for role, values in (("strata", strata), ("psu", psu)):
        if values is None:
            continue
        arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
        blank = _blank_labels(arr)
        problems += row_problems(
            file, name[role], blank, f"{role} label is blank; every respondent needs one"
        )
        labels[role] = arr
    return labels, problems


def _fpc_cell_problems(fpc, file: str, column: str) -> tuple[np.ndarray, list[Problem]]:
    """The fpc as numbers, and a problem per cell that is not a positive number."""
    series = fpc if isinstance(fpc, pd.Series) else pd.Series(np.asarray(fpc))
    series = series.reset_index(drop=True)
    f, bad = as_float(series)
    raw = series.to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        nonpos = ~np.isnan(f) & ((f <= 0) | ~np.isfinite(f))
    problems = (
        row_problems(file, column, bad, "fpc is not a number; expected a positive number", raw)
        + row_problems(file, column, np.isnan(f) & ~bad, "fpc is blank; expected a number")
        + row_problems(
            file,
            column,
            nonpos,
            "expected a positive fpc (population size or sampling fraction)",
            f,
        )
    )
    return f, problems


def _psus_crossing_strata(
    s_codes: np.ndarray,
    s_labels: np.ndarray,
    p_raw: np.ndarray,
    p_labels: np.ndarray,
    file: str,
    column: str,
) -> list[Problem]:
    """One problem per PSU label found in a second stratum, at the row where it moves."""
    problems: list[Problem] = []
    rows = np.arange(len(s_codes))
    first_row = _first_row(p_raw, p_labels.size)
    home = s_codes[first_row[p_raw]]
    moved = rows[s_codes != home]
    _, first_moved = np.unique(p_raw[moved], return_index=True)
    for r in np.sort(moved[first_moved]):  # one problem per PSU, at its first move
        k = p_raw[r]
        problems.append(
            Problem(
                file,
                column,
                f"PSU is in stratum {shown(s_labels[s_codes[r]])!r} here but in stratum "
                f"{shown(s_labels[home[r]])!r} in row {first_row[k] + 1}; a PSU must lie "
                "in one stratum (set design nest: true if PSU labels restart in each stratum)",
                row=int(r) + 1,
                value=shown(p_labels[k]),
            )
        )
    return problems


def _fpc_structure_problems(
    f: np.ndarray,
    s_codes: np.ndarray,
    s_labels: np.ndarray,
    n_psu: np.ndarray,
    stratum_first: np.ndarray,
    file: str,
    column: str,
) -> tuple[list[Problem], np.ndarray]:
    """Problems with the fpc across strata, and each stratum's first-stage sampling fraction."""
    problems: list[Problem] = []
    rows = np.arange(len(f))
    ref = f[stratum_first[s_codes]]
    differs = rows[f != ref]
    _, first_differs = np.unique(s_codes[differs], return_index=True)
    for r in np.sort(differs[first_differs]):  # one problem per stratum
        h = s_codes[r]
        problems.append(
            Problem(
                file,
                column,
                f"fpc differs within stratum {shown(s_labels[h])!r} (value "
                f"{shown(ref[r])} in row {stratum_first[h] + 1}); it must be the same "
                "in every row of a stratum",
                row=int(r) + 1,
                value=shown(f[r]),
            )
        )
    if problems:
        return problems, np.zeros(s_labels.size)
    f_h = f[stratum_first]
    sizes = f_h > 1
    if sizes.any():
        for h in np.flatnonzero(f_h < 1):
            problems.append(
                Problem(
                    file,
                    column,
                    "fpc mixes sampling fractions (at most 1) with population sizes "
                    "(above 1); give all strata one or the other",
                    row=int(stratum_first[h]) + 1,
                    value=shown(f_h[h]),
                )
            )
        for h in np.flatnonzero(f_h < n_psu):
            problems.append(
                Problem(
                    file,
                    column,
                    f"population size {shown(f_h[h])} is smaller than the "
                    f"{n_psu[h]} PSUs sampled in stratum {shown(s_labels[h])!r}",
                    row=int(stratum_first[h]) + 1,
                    value=shown(f_h[h]),
                )
            )
        fraction = np.where(f_h > 0, n_psu / f_h, 0.0)
    else:
        fraction = f_h
    return problems, fraction


def label_codes(values, n: int) -> tuple[np.ndarray, np.ndarray]:
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
        return f"PSU {shown(p_labels[p_raw[row]])!r}"
    return "one respondent"
