"""Statistical disclosure control: which cells of a published table are hidden.

Every statistic the package prints describes a set of respondents: a group, an arm of a list
experiment, a segment, a category within a segment, the whole sample. One mechanism decides what
may be published, for every output (terminal, JSON, CSV, HTML, Markdown, model files in report
folders, quiz pages):

1. **Threshold rule (primary suppression).** A cell describing fewer than ``min_cell``
   respondents (default :data:`MIN_CELL_SIZE` = 30, counted unweighted; a posterior count
   :math:`\\sum_i r_{ik}` for a latent segment) is not described: no share, mean, count or
   interval. This is the minimum-frequency rule of frequency tables (Hundepool et al. 2012,
   *Statistical Disclosure Control*, Wiley, section 5.2; Eurostat 2019, *Handbook on
   Statistical Disclosure Control for Outputs*, section 4.2). The dominance ((n, k)) and p%
   rules of magnitude tables are not needed: every respondent contributes a bounded answer
   (a code, a 0-J count), so no single respondent dominates a cell of 30.
2. **Complementary (secondary) suppression.** A hidden cell must not follow from what is
   published: a total minus the published cells of its line gives the hidden cells' sum. So in
   every *line* (a set of cells whose total is published or implied, as the categories of one
   variable within a segment, or one category across segments and the whole sample) the hidden
   cells together describe either no one or at least ``min_cell`` respondents; otherwise the
   smallest published cell of the line is hidden too (the greedy rule of Cox 1980, "Properties
   of multi-dimensional statistical tables", *J. Stat. Planning and Inference* 4, and of the
   hypercube method of tau-ARGUS, Repsilber 1994). Then an audit solves the published totals for
   the hidden cells (the attacker's linear system); any cell under the threshold that the system
   determines exactly gets one more complement, until none does.
3. **Precision.** A published estimate carries no more digits than it supports
   (:func:`published`): shares to 0.1 percentage point, list counts to 0.01, standard errors
   to two significant digits (Cole 2015, "Too many digits", *BMJ* 351:h5447), so that totals
   cannot be multiplied back to respondents' exact answers.

The cells not reported at all (the respondents with a missing label, say) are hidden from the
start: they are recoverable as the total minus the labelled groups, so they take part in rule 2.

The rules cannot protect against differencing *between runs* on overlapping samples (a user
who runs the same command with and without one respondent); they protect every output of one
run against every other output of the same run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "MIN_CELL_SIZE",
    "determined_by",
    "determined_cells",
    "margin_equations",
    "protect_cells",
    "protect_system",
    "published",
    "recoverable",
    "table_lines",
]

#: The minimum number of respondents (unweighted) a published statistic may describe.
MIN_CELL_SIZE = 30

#: Decimal places of published values, by kind (see :func:`published`).
DECIMALS = {"share": 3, "percent": 1, "mean": 2, "count": 0}


def table_lines(
    n_rows: int, n_cols: int, *, row_totals: bool = True, column_totals: bool = True
) -> list[np.ndarray]:
    """The lines of a two-way table stored row by row (cell ``(r, c)`` is index ``r * n_cols + c``).

    A row is a line when its total is published (a segment's size beside its categories); a
    column is a line when its total is (the whole sample's share of a category).
    """
    index = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    lines: list[np.ndarray] = []
    if row_totals:
        lines += [index[r] for r in range(n_rows)]
    if column_totals:
        lines += [index[:, c] for c in range(n_cols)]
    return lines


def determined_cells(hidden: np.ndarray, lines: Sequence[np.ndarray]) -> np.ndarray:
    """Which hidden cells the published line totals determine exactly.

    The attacker knows, for every line, the sum of its hidden cells (the total minus the
    published cells). With ``M`` the lines-by-hidden-cells incidence matrix, hidden cell ``j``
    is determined when the unit vector ``e_j`` lies in the row space of ``M``, that is when
    every vector of the null space of ``M`` has a zero ``j``-th component.
    """
    hidden = np.asarray(hidden, dtype=bool)
    cells = np.flatnonzero(hidden)
    out = np.zeros(hidden.shape, dtype=bool)
    if cells.size == 0:
        return out
    position = {int(c): i for i, c in enumerate(cells)}
    rows = []
    for line in lines:
        members = [position[int(c)] for c in line if hidden[int(c)]]
        if members:
            row = np.zeros(cells.size)
            row[members] = 1.0
            rows.append(row)
    if not rows:
        return out
    M = np.array(rows)
    _, s, vt = np.linalg.svd(M)
    rank = int((s > 1e-9 * max(s[0], 1.0)).sum())
    null = vt[rank:]
    free = np.abs(null).max(axis=0) > 1e-9 if null.size else np.zeros(cells.size, dtype=bool)
    out[cells[~free]] = True
    return out


def recoverable(sets: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which target sums follow exactly from published sums (the attacker's linear system).

    Parameters
    ----------
    sets : array of shape (n_published, n_cells)
        Row ``s`` gives the coefficients of published sum ``s`` over the unknown cells (0/1
        incidence: the cells, or atoms of respondents, that the published statistic covers).
    targets : array of shape (n_targets, n_cells)
        The sums to protect (a hidden cell's indicator, a set of respondents).

    Returns
    -------
    bool array of shape (n_targets,)
        True where the target lies in the row space of ``sets``: some linear combination of
        the published sums equals it exactly. :func:`determined_cells` is the case of unit
        targets; this form takes any target and needs only a thin SVD (cheap for many cells).
    """
    targets = np.atleast_2d(np.asarray(targets, dtype=float))
    sets = np.atleast_2d(np.asarray(sets, dtype=float))
    if sets.size == 0 or targets.size == 0:
        return np.zeros(targets.shape[0], dtype=bool)
    _, s, vt = np.linalg.svd(sets, full_matrices=False)
    basis = vt[s > 1e-9 * max(float(s[0]), 1.0)]
    residual = targets - (targets @ basis.T) @ basis
    scale = np.maximum(np.linalg.norm(targets, axis=1), 1.0)
    return np.linalg.norm(residual, axis=1) <= 1e-8 * scale


def protect_cells(
    counts: np.ndarray,
    lines: Sequence[np.ndarray],
    *,
    min_cell: int = MIN_CELL_SIZE,
    hidden: np.ndarray | None = None,
) -> np.ndarray:
    """The cells of a table to hide: primary suppression, then complements until no hidden
    cell under the threshold can be recovered (rules 1 and 2 of the module docstring).

    Parameters
    ----------
    counts : array of shape (n_cells,)
        Respondents each cell describes (unweighted; posterior counts for latent segments).
    lines : sequence of index arrays
        Sets of cells whose total is published or implied (:func:`table_lines` for two-way
        tables). List a line only when its total is published: a total under ``min_cell`` is
        itself a hidden cell (of the margin), and a line of one cell publishes that cell.
    min_cell : int
        The threshold (rule 1).
    hidden : bool array, optional
        Cells never published (the missing label); hidden from the start.

    Returns
    -------
    bool array of shape (n_cells,)
        True for every cell to hide. Cells with no respondents are never a reason to hide
        another (there is nothing to recover), but are hidden themselves when they are below
        the threshold of a non-empty table.
    """
    counts = np.asarray(counts, dtype=float)
    hide = counts < min_cell
    if hidden is not None:
        hide |= np.asarray(hidden, dtype=bool)
    small = (counts > 0) & (counts < min_cell)
    lines = [np.asarray(line, dtype=int) for line in lines]
    for _ in range(counts.size + 1):
        changed = False
        for line in lines:
            inside = line[hide[line]]
            total = counts[inside].sum()
            if 0 < total < min_cell:
                changed |= _hide_smallest(line, hide, counts)
        determined = determined_cells(hide, lines)
        for j in np.flatnonzero(determined & small):
            # Complement within the cell's own lines first, then within the lines of the other
            # cells the system pins down (the equations that isolate it), then anywhere hidden.
            order = sorted(
                range(len(lines)),
                key=lambda i: (
                    j not in lines[i],
                    not determined[lines[i]].any(),
                    not hide[lines[i]].any(),
                ),
            )
            if any(_hide_smallest(lines[i], hide, counts) for i in order):
                changed = True
        if not changed:
            break
    return hide


def _hide_smallest(line: np.ndarray, hide: np.ndarray, counts: np.ndarray) -> bool:
    """Hide the published cell of ``line`` with the fewest respondents (lowest index on ties)."""
    shown = line[~hide[line]]
    shown = shown[counts[shown] > 0]
    if shown.size == 0:
        return False
    hide[shown[np.argmin(counts[shown])]] = True
    return True


def published(value: float | None, kind: str = "share", *, se: float | None = None):
    """``value`` rounded to the precision it is published at (rule 3); None stays None.

    ``kind`` is ``"share"`` (a proportion, 3 decimals: 0.1 percentage point), ``"percent"``
    (1 decimal), ``"mean"`` (2 decimals), ``"count"`` (an integer), ``"se"`` or ``"p"`` (a
    standard error or p-value: two significant digits). With ``se``, an estimate is also
    rounded to the decimal place of the second significant digit of its standard error when
    that is coarser.
    """
    if value is None:
        return None
    x = float(value)
    if not math.isfinite(x):
        return None
    if kind in ("se", "p"):
        return _significant(x, 2)
    if kind not in DECIMALS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(DECIMALS)}, 'se' or 'p'")
    decimals = DECIMALS[kind]
    if se is not None and math.isfinite(se) and se > 0:
        decimals = min(decimals, 1 - math.floor(math.log10(se)))
    rounded = round(x, decimals)
    return int(rounded) if decimals <= 0 else rounded + 0.0


def _significant(x: float, digits: int) -> float:
    if x == 0:
        return 0.0
    return round(x, digits - 1 - math.floor(math.log10(abs(x)))) + 0.0


def margin_equations(n_rows: int, n_cols: int) -> np.ndarray:
    """The additivity of a two-way table published with its margins, as equations ``A @ x = 0``.

    The table is stored as an ``(n_rows + 1) x (n_cols + 1)`` grid row by row: cell ``(r, c)``
    is index ``r * (n_cols + 1) + c``, column ``n_cols`` holds the row totals (a segment's
    size), row ``n_rows`` the column totals (the whole sample's count of a category) and the
    corner the grand total. A margin is a cell like any other (hidden or published), as in the
    hypercube method of tau-ARGUS: a hidden total still equals the sum of its published cells.
    """
    width = n_cols + 1
    cells = (n_rows + 1) * width
    rows = []
    for r in range(n_rows + 1):
        eq = np.zeros(cells)
        eq[r * width : r * width + n_cols] = 1.0
        eq[r * width + n_cols] = -1.0
        rows.append(eq)
    for c in range(n_cols + 1):
        eq = np.zeros(cells)
        eq[c : n_rows * width : width] = 1.0
        eq[n_rows * width + c] = -1.0
        rows.append(eq)
    return np.array(rows)


def determined_by(hidden: np.ndarray, equations: np.ndarray) -> np.ndarray:
    """Which hidden cells the published cells and the linear ``equations`` (``A @ x = 0``, any
    coefficients: sums, margins, means) determine exactly.

    Moving the published cells to the right-hand side leaves ``A[:, hidden] @ x_hidden =
    known``; hidden cell ``j`` is determined when every vector of the null space of
    ``A[:, hidden]`` has a zero ``j``-th component (the generalisation of
    :func:`determined_cells` to signed and weighted equations).
    """
    hidden = np.asarray(hidden, dtype=bool)
    A = np.asarray(equations, dtype=float).reshape(-1, hidden.size)
    cells = np.flatnonzero(hidden)
    out = np.zeros(hidden.shape, dtype=bool)
    if cells.size == 0 or A.size == 0:
        return out
    M = A[:, cells]
    M = M[np.abs(M).max(axis=1) > 0]
    if M.size == 0:
        return out
    M = M / np.abs(M).max(axis=1, keepdims=True)
    _, s, vt = np.linalg.svd(M)
    rank = int((s > 1e-9 * max(s[0], 1.0)).sum())
    null = vt[rank:]
    free = np.abs(null).max(axis=0) > 1e-9 if null.size else np.zeros(cells.size, dtype=bool)
    out[cells[~free]] = True
    return out


def protect_system(
    counts: np.ndarray,
    equations: np.ndarray,
    *,
    min_cell: int = MIN_CELL_SIZE,
    hidden: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """Rules 1 and 2 of the module docstring for cells tied by any linear ``equations``.

    :func:`protect_cells` for a table with its margins (:func:`margin_equations`) and with
    further equations, such as a published mean: ``sum_c (x_c - m) n_c = 0`` over the answer
    categories of a segment whose mean ``m`` is printed gives one more equation on its cells.

    1. Cells under ``min_cell`` respondents are hidden (and ``hidden``, never published).
    2. An equation whose hidden cells all carry the same sign publishes their sum: it must
       describe no one or at least ``min_cell`` respondents, else the smallest published
       cell of the equation is hidden too.
    3. The audit: while :func:`determined_by` finds a hidden cell under the threshold, the
       smallest published cell of an equation holding it is hidden.

    ``fixed`` cells are published whatever happens (a segment's size, decided once for every
    table of a report) and are never chosen as complements.
    """
    counts = np.asarray(counts, dtype=float)
    A = np.asarray(equations, dtype=float)
    hide = counts < min_cell
    if hidden is not None:
        hide |= np.asarray(hidden, dtype=bool)
    movable = np.ones(counts.size, dtype=bool) if fixed is None else ~np.asarray(fixed, bool)
    hide &= movable | (counts < min_cell)
    small = (counts > 0) & (counts < min_cell)
    members = [np.flatnonzero(eq) for eq in A]
    for _ in range(counts.size + 1):
        changed = False
        for eq, cells in zip(A, members, strict=True):
            inside = cells[hide[cells]]
            signs = np.sign(eq[inside])
            total = counts[inside].sum()
            if inside.size and (signs == signs[0]).all() and 0 < total < min_cell:
                changed |= _hide_smallest(cells[movable[cells]], hide, counts)
        determined = determined_by(hide, A)
        for j in np.flatnonzero(determined & small):
            order = sorted(
                range(len(A)),
                key=lambda i: (A[i, j] == 0, not determined[members[i]].any()),
            )
            if any(_hide_smallest(members[i][movable[members[i]]], hide, counts) for i in order):
                changed = True
        if not changed:
            break
    return hide
