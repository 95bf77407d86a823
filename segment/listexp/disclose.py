"""Disclosure control of list-experiment tables: which rows are withheld, and at what precision
the others are published (the rules of :mod:`segment.disclosure`, applied to arms).

A list-experiment estimate is the difference between two means, each over the respondents of
one arm, so every reported row (the whole sample, a group of a ``--by`` variable, a latent
segment) describes two cells: its control respondents and its treatment respondents.

1. **Threshold rule.** A row is published only when *each* of its arms has at least
   ``min_cell`` respondents (:data:`segment.disclosure.MIN_CELL_SIZE` = 30, counted unweighted
   among respondents with positive weight; posterior counts for latent segments). Otherwise
   every statistic of the row is withheld, with the reason ("fewer than 30 respondents in
   control").
2. **Complementary suppression.** The groups of one variable partition the sample and the
   whole sample is published, so in each arm the groups form a line whose total is published:
   the overall mean times the arm's size, minus the published groups' totals, is the sum of the
   withheld groups. Respondents with a missing label form a group that is never published; it
   is a withheld cell from the start. :func:`segment.disclosure.protect_cells` hides cells until
   the withheld cells of every arm-line describe no one or at least ``min_cell`` respondents
   and none under the threshold is determined; a row is withheld when either of its cells is,
   and the two steps repeat until neither hides more. So a missing group under the threshold
   is protected by one more withheld group, and a missing group of at least ``min_cell``
   respondents is itself a sufficient complement (what can be recovered is the sum over it and
   the withheld groups, at least ``min_cell`` respondents).
3. **Linked variables.** Several ``--by`` variables partition the same respondents. The audit
   of :func:`protect_groups` solves, arm by arm, every published sum (the whole sample and each
   published group) for the *atoms* (respondents sharing every label) and for each withheld
   cell; when a set of fewer than ``min_cell`` respondents follows exactly
   (:func:`segment.disclosure.recoverable`), the smallest published group overlapping it is
   withheld too, and everything is checked again.
4. **Precision** (:func:`publish_row`): shares and their intervals to what their standard error
   supports (at most 0.1 percentage point), mean counts to 0.01 (coarser with a large standard
   error), standard errors and p-values to two significant digits
   (:func:`segment.disclosure.published`). Differences between groups are reported only
   between published groups.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from segment.disclosure import protect_cells, published, recoverable, table_lines

__all__ = [
    "COMPLEMENT",
    "MISSING",
    "arm_reason",
    "protect_groups",
    "protect_partition",
    "publish_difference",
    "publish_row",
]

#: The label of respondents without a label for a ``--by`` variable (never published).
MISSING = "(missing)"

#: Why a row above the threshold is withheld.
COMPLEMENT = "withheld: protects another withheld group (complementary suppression)"

#: Fields of a reported row that are shares (rounded with the row's standard error).
SHARE_FIELDS = (
    "estimate",
    "ci_low",
    "ci_high",
    "bounded",
    "bounded_ci_low",
    "bounded_ci_high",
    "headline",
    "headline_ci_low",
    "headline_ci_high",
)


def threshold(min_cell: int) -> int:
    """The threshold in force: ``min_cell``, and at least two per arm (a standard error)."""
    return max(int(min_cell), 2)


def arm_reason(n_control: float, n_treatment: float, min_cell: int) -> str | None:
    """Why a row with these arm sizes is withheld under the threshold rule, or None."""
    m = threshold(min_cell)
    small = [arm for arm, n in (("control", n_control), ("treatment", n_treatment)) if n < m]
    if not small:
        return None
    return f"withheld: fewer than {m} respondents in {' and in '.join(small)}"


def _arm_masks(treat: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Control and treatment respondents who count (positive weight)."""
    t = np.asarray(treat, dtype=float)
    pos = np.ones(t.shape, dtype=bool) if weights is None else np.asarray(weights) > 0
    return (t == 0) & pos, (t == 1) & pos


def _coupled(counts: np.ndarray, start: np.ndarray, min_cell: int) -> np.ndarray:
    """Rows (of an ``(n_rows, 2)`` table of arm counts) to withhold: rules 1 and 2 with a row
    withheld when either of its cells is, until stable.

    An arm-line whose withheld cells describe between 1 and ``min_cell - 1`` respondents gets
    the published row with the fewest respondents (both arms; lowest index on ties) that has
    someone in that arm, so that one complement serves both arms; :func:`protect_cells` (the
    greedy rule and its linear-system audit) then checks the result and hides any more cells
    it needs.
    """
    rows = np.asarray(start, dtype=bool) | (counts < min_cell).any(axis=1)
    lines = table_lines(counts.shape[0], 2, row_totals=False, column_totals=True)
    flat = counts.astype(float).ravel()
    size = counts.sum(axis=1)
    for _ in range(2 * counts.shape[0] + 2):
        for arm in (0, 1):
            inside = counts[rows, arm].sum()
            if 0 < inside < min_cell:
                shown = np.flatnonzero(~rows & (counts[:, arm] > 0))
                if shown.size:
                    rows[shown[np.argmin(size[shown])]] = True
        hide = protect_cells(flat, lines, min_cell=min_cell, hidden=np.repeat(rows, 2))
        new = hide.reshape(-1, 2).any(axis=1) | rows
        if (new == rows).all():
            break
        rows = new
    return rows


def protect_partition(
    counts: np.ndarray, unpublished: np.ndarray | None = None, *, min_cell: int
) -> tuple[np.ndarray, list[str | None]]:
    """Which rows of one partition of the sample to withhold, and why (rules 1 and 2).

    Parameters
    ----------
    counts : array of shape (n_rows, 2)
        Respondents of each row in control and in treatment (posterior counts for segments).
    unpublished : array of shape (2,), optional
        Respondents of each arm in no published row (a missing label, untyped respondents):
        a withheld cell from the start.
    min_cell : int

    Returns
    -------
    withheld : bool array of shape (n_rows,)
    reasons : list of str or None
        :func:`arm_reason`, or :data:`COMPLEMENT` for a row withheld as a complement.
    """
    counts = np.asarray(counts, dtype=float).reshape(-1, 2)
    m = threshold(min_cell)
    start = np.zeros(counts.shape[0] + 1, dtype=bool)
    start[-1] = True
    extra = np.zeros((1, 2)) if unpublished is None else np.asarray(unpublished, float)[None]
    rows = _coupled(np.vstack([counts, extra]), start, m)[:-1]
    reasons = [
        None if not w else arm_reason(c, t, m) or COMPLEMENT
        for w, (c, t) in zip(rows, counts, strict=True)
    ]
    return rows, reasons


def protect_groups(
    treat: np.ndarray,
    by: Mapping[str, np.ndarray],
    *,
    min_cell: int,
    weights: np.ndarray | None = None,
) -> dict[str, dict[str, str | None]]:
    """For each variable of ``by`` and each of its groups, why it is withheld (None when it is
    published): rules 1 to 3 of the module docstring.

    Parameters
    ----------
    treat : array
        The 0/1 treatment indicator.
    by : mapping of variable name -> labels
        Labels as strings, :data:`MISSING` for a missing label (never published).
    min_cell : int
    weights : array, optional
        Respondents with weight zero describe nothing and are not counted.
    """
    m = threshold(min_cell)
    arms = _arm_masks(treat, weights)
    names, codes, counts = {}, {}, {}
    for var, labels in by.items():
        names[var], codes[var] = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
        counts[var] = np.stack(
            [np.bincount(codes[var][a], minlength=names[var].size) for a in arms], axis=1
        )
    forced = {var: names[var] == MISSING for var in by}
    while True:
        withheld = {
            var: _coupled(counts[var], forced[var] | (names[var] == MISSING), m) for var in by
        }
        leak = _linked_leak(arms, codes, counts, withheld, m)
        if leak is None:
            break
        var, g = leak
        forced[var] = withheld[var].copy()
        forced[var][g] = True
    return {
        var: {
            str(name): None
            if not withheld[var][g]
            else arm_reason(counts[var][g, 0], counts[var][g, 1], m) or COMPLEMENT
            for g, name in enumerate(names[var])
            if name != MISSING
        }
        for var in by
    }


def _linked_leak(
    arms: tuple[np.ndarray, ...],
    codes: dict[str, np.ndarray],
    counts: dict[str, np.ndarray],
    withheld: dict[str, np.ndarray],
    m: int,
) -> tuple[str, int] | None:
    """The published group to withhold next because, in some arm, the published sums
    determine a set of fewer than ``m`` respondents (an atom or a withheld cell), or None.

    The candidate is the smallest published group overlapping the recovered set (in any
    variable), else the smallest published group."""
    variables = list(codes)
    if len(variables) < 2:
        return None  # one variable: rule 2 alone (protect_cells' audit) covers it
    for arm in arms:
        if not arm.any():
            continue
        stacked = np.stack([codes[v][arm] for v in variables], axis=1)
        atoms, atom_of = np.unique(stacked, axis=0, return_inverse=True)
        atom_of = atom_of.ravel()
        size = np.bincount(atom_of, minlength=len(atoms))
        sets: list[np.ndarray] = [np.ones(len(atoms))]
        owners: list[tuple[str, int]] = []
        targets = [np.eye(len(atoms))[(size > 0) & (size < m)]]
        for j, v in enumerate(variables):
            member = atoms[:, j][None, :] == np.arange(counts[v].shape[0])[:, None]
            for g in range(member.shape[0]):
                if not withheld[v][g]:
                    sets.append(member[g].astype(float))
                    owners.append((v, g))
                elif 0 < size[member[g]].sum() < m:
                    targets.append(member[g][None].astype(float))
        target = np.vstack(targets)
        if target.size == 0:
            continue
        found = recoverable(np.array(sets), target)
        if not found.any() or not owners:
            continue
        hit = target[np.argmax(found)] > 0
        overlapping = [o for o, s in zip(owners, sets[1:], strict=True) if s[hit].any()] or owners
        return min(
            overlapping,
            key=lambda o: (int(counts[o[0]][o[1]].min()), variables.index(o[0]), o[1]),
        )
    return None


def publish_row(row: dict, *, se_control: float | None, se_treatment: float | None) -> dict:
    """A reported row (:data:`segment.listexp.subgroups.ROW_FIELDS`) at published precision:
    shares with the row's standard error, mean counts with their arms', the standard error
    and design effect to two significant digits and two decimals."""
    out = dict(row)
    se = row.get("se")
    for key in SHARE_FIELDS:
        if key in out:
            out[key] = published(out[key], "share", se=se)
    if "control" in out:
        out["control"] = published(out["control"], "mean", se=se_control)
    if "treatment" in out:
        out["treatment"] = published(out["treatment"], "mean", se=se_treatment)
    if "se" in out:
        out["se"] = published(se, "se")
    if "deff" in out:
        out["deff"] = published(out["deff"], "mean")
    return out


def publish_difference(d: dict) -> dict:
    """A difference between two published groups at published precision."""
    out = dict(d)
    out["difference"] = published(d.get("difference"), "share", se=d.get("se"))
    out["se"] = published(d.get("se"), "se")
    out["z"] = published(d.get("z"), "mean")
    out["p_value"] = published(d.get("p_value"), "p")
    return out
