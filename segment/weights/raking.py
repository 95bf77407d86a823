"""Raking: calibrate survey weights to population margins by iterative proportional fitting.

Raking (Deming & Stephan 1940; "iterative proportional fitting", "rim weighting", "sample
balancing") adjusts each respondent's base (design) weight so that the weighted sample
reproduces known population distributions of a few variables -- one variable at a time (gender,
region) or a crossing of variables (age x gender) -- without needing the full joint
distribution of all of them.

A margins file (``segment.margins/1``, read by :func:`segment.weights.margins.load_margins`)
gives the target shares (or counts) per category; :func:`rake` returns a :class:`RakingResult`
with the new weights, the convergence diagnostics and a table of achieved against target
margins. The command line is ``segment weights rake`` (``docs/raking.md``).

References
----------
Deming, W. E. and Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
table when the expected marginal totals are known. *Annals of Mathematical Statistics* 11,
427-444.
Kalton, G. and Flores-Cervantes, I. (2003). Weighting methods. *Journal of Official Statistics*
19(2), 81-97.
Battaglia, M. P., Izrael, D., Hoaglin, D. C. and Frankel, M. R. (2009). Practical considerations
in raking survey data. *Survey Practice* 2(5).
Izrael, D., Battaglia, M. P. and Frankel, M. R. (2009). Extreme survey weight adjustment as a
component of sample balancing (a.k.a. raking). *SAS Global Forum 2009*, paper 247-2009.
Ireland, C. T. and Kullback, S. (1968). Contingency tables with given marginals. *Biometrika*
55, 179-188.
Kish, L. (1965). *Survey Sampling*. Wiley, section 11.7.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from segment._util import plain_number
from segment.disclosure import MIN_CELL_SIZE, protect_cells
from segment.exceptions import DataError, Problem, SegmentError
from segment.survey.cells import as_float
from segment.survey.summary import kish_design_effect

if TYPE_CHECKING:
    from segment.survey.codebook import Codebook, Item

from .margins import (
    JOINT,
    MARGINS_SCHEMA,
    SUM_TOLERANCE,
    Margin,
    Margins,
    MarginsError,
    load_margins,
    resolve_margins_path,
)

__all__ = [
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOL",
    "MARGINS_SCHEMA",
    "SUM_TOLERANCE",
    "ConvergenceError",
    "Margin",
    "Margins",
    "MarginsError",
    "RakingResult",
    "load_margins",
    "rake",
    "resolve_margins_path",
]

#: Default maximum number of raking iterations (one iteration adjusts every margin once).
DEFAULT_MAX_ITER = 200
#: Default convergence tolerance: the largest absolute difference between an achieved and a
#: target share, over every category of every margin (1e-6 is 0.0001 percentage points).
DEFAULT_TOL = 1e-6
_ROWS_SHOWN = 10


class ConvergenceError(SegmentError, ValueError):
    """Raking did not reach the margins within ``max_iter`` iterations.

    Attributes
    ----------
    result : RakingResult
        The weights after the last iteration (``converged`` is False), for inspection.
    """

    def __init__(self, message: str, result: RakingResult):
        super().__init__(message)
        self.result = result


# ---------------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class RakingResult:
    """What :func:`rake` found.

    Attributes
    ----------
    weights : Series
        The raked weight of every row of the input frame (same index).
    iterations : int
        Raking iterations run (one iteration adjusts every margin once, then trims).
    converged : bool
        Whether every achieved share is within ``tol`` of its target.
    max_error : float
        Largest absolute difference between an achieved and a target share at the end.
    margins : DataFrame
        One row per category of every margin, with columns ``margin``, ``category``, ``n``
        (respondents, unweighted), ``sample`` (share under the base weights), ``target``,
        ``achieved`` (share under the raked weights) and ``difference`` (achieved - target).
    design_effect : float
        Kish's design effect due to unequal weighting, ``1 + CV^2`` of the raked weights.
    effective_n : float
        Effective sample size, ``n / design_effect``.
    base_design_effect : float
        The same for the base weights, for comparison.
    n_raked : int
        Respondents whose weights were raked.
    n_kept : int
        Respondents left with their base weight because a raking variable was missing
        (``missing="keep"``).
    trim : tuple of float or None
        The trimming bounds, relative to the mean raked weight.
    n_trimmed : int
        Raked weights lying on a trimming bound.
    tol : float
        The convergence tolerance used.
    """

    weights: pd.Series
    iterations: int
    converged: bool
    max_error: float
    margins: pd.DataFrame
    design_effect: float
    effective_n: float
    base_design_effect: float
    n_raked: int
    n_kept: int = 0
    trim: tuple[float, float] | None = None
    n_trimmed: int = 0
    tol: float = DEFAULT_TOL

    @property
    def n(self) -> int:
        """Respondents in the frame."""
        return len(self.weights)

    def summary(self) -> str:
        """The raking report as plain text: convergence, weights, achieved vs target margins."""
        w = self.weights.to_numpy(dtype=float)
        status = (
            f"converged in {self.iterations} iteration{'s' if self.iterations != 1 else ''}"
            if self.converged
            else f"did NOT converge in {self.iterations} iterations"
        )
        lines = [
            f"Raking {status} (largest margin error {self.max_error:.2g}, "
            f"tolerance {self.tol:.2g})",
            f"Respondents: {self.n:,}"
            + (
                f" ({self.n_kept:,} with a missing raking variable kept their base weight)"
                if self.n_kept
                else ""
            ),
            f"Weights: min {w.min():.4g}, max {w.max():.4g}, mean {w.mean():.4g}, "
            f"max/min {w.max() / w.min():.3g}",
        ]
        if self.trim is not None:
            lo, hi = self.trim
            lines.append(
                f"Trimming: bounds {plain_number(lo)} and {plain_number(hi)} x the mean raked "
                f"weight, re-raked after trimming in every iteration; "
                f"{self.n_trimmed:,} weight{'s' if self.n_trimmed != 1 else ''} on a bound"
            )
        lines.append(
            f"Kish design effect (1 + CV^2): {self.design_effect:.3f} "
            f"(base weights {self.base_design_effect:.3f}); effective sample size "
            f"{self.effective_n:,.0f} of {self.n:,}"
        )
        lines.append("")
        lines.append(_format_margins(self.margins))
        return "\n".join(lines)


def _hidden_counts(table: pd.DataFrame) -> np.ndarray:
    """Rows whose respondents (``n``) and sample share are not printed: under
    :data:`~segment.disclosure.MIN_CELL_SIZE`, and the complements that keep one from being
    the respondents raked minus the others (:func:`segment.disclosure.protect_cells`)."""
    hidden = np.zeros(len(table), dtype=bool)
    counts = table["n"].to_numpy()
    for rows in table.groupby("margin", sort=False).indices.values():
        hidden[rows] = protect_cells(counts[rows], [np.arange(rows.size)])
    return hidden


def _format_margins(table: pd.DataFrame) -> str:
    head = ("margin", "category", "n", "sample %", "target %", "achieved %", "diff (pts)")
    hidden = _hidden_counts(table)
    rows = [
        (
            str(r.margin),
            str(r.category),
            (f"<{MIN_CELL_SIZE}" if r.n < MIN_CELL_SIZE else "–") if hide else f"{r.n:,}",
            "–" if hide else f"{100 * r.sample:.2f}",
            f"{100 * r.target:.2f}",
            f"{100 * r.achieved:.2f}",
            f"{100 * r.difference:+.4f}".replace("-0.0000", "+0.0000"),
        )
        for r, hide in zip(table.itertuples(index=False), hidden, strict=True)
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    out = []
    for row in (head, *rows):
        cells = [c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(row)]
        out.append("  ".join(cells).rstrip())
    if hidden.any():
        out.append(
            f"n and sample %: <{MIN_CELL_SIZE} for a cell of fewer than {MIN_CELL_SIZE} "
            "respondents (consider merging it), – where a number would reveal one."
        )
    return "\n".join(out)


# ---------------------------------------------------------------------------------- raking
def rake(
    frame: pd.DataFrame,
    margins: Margins | Mapping[str, Any] | str | os.PathLike,
    *,
    base_weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    trim: tuple[float, float] | None = None,
    codebook: Codebook | None = None,
    missing: str = "error",
    strict: bool = True,
    file: str = "<data>",
) -> RakingResult:
    """Calibrate weights to population margins by raking (iterative proportional fitting).

    Algorithm (Deming & Stephan 1940). Start from the base weights ``w``, rescaled to the
    target total ``N`` (the number of respondents raked when the margins are shares, so the
    mean weight is 1; the population total when they are counts). One iteration visits every
    margin ``m`` in turn: for each of its cells ``c`` (a category, or a combination of
    categories for a joint margin) it multiplies the weights of the respondents in ``c`` by
    ``N * t_mc / sum_{i in c} w_i``, so that margin then holds exactly, and it moves on to the
    next margin, which may disturb the previous ones. With trimming, the weights are then
    clipped to ``[lo, hi] * N / n`` (``lo`` and ``hi`` times the mean weight), and the next
    iteration re-rakes the trimmed weights: trimming inside the raking loop as in Izrael,
    Battaglia & Frankel (2009), rather than once after it, so the final weights satisfy both
    the bounds (exactly) and the margins (within ``tol``), or the call fails; see also the
    trim-then-re-rake cycle of Battaglia et al. (2009) and Kalton & Flores-Cervantes (2003) on
    restricting the range of weighting adjustments. The loop stops when the largest absolute
    difference between an achieved and a target share, over every cell of every margin, is at
    most ``tol``. Each adjustment is one vectorised pass over the respondents
    (``numpy.bincount``); only iterations and margins are Python loops.

    Without trimming, raking converges whenever some positive weights meet the margins; its
    limit is the weighting closest to the base weights in Kullback-Leibler divergence among all
    that meet them (Ireland & Kullback 1968), so it keeps the interactions of the sample that
    the margins do not fix (every cross-product ratio within a two-way table). It fails on
    margins that contradict each other (two margins over the same variable that disagree), on
    a combination of categories the sample does not contain but the margins require, and on
    trimming bounds too tight for the margins.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent, with a column for every variable of the margins.
    margins : Margins, mapping or path-like
        Targets: a :class:`Margins`, a margins file, or a mapping such as
        ``{"gender": {"male": 0.47, "female": 0.53}, "age x settlement": {...}}`` (shares).
    base_weights : str, array-like or None
        Design weights: a column of ``frame``, or one positive number per row. ``None``: all 1.
        Multiplying every base weight by a constant does not change the result.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Convergence tolerance on shares (1e-6 = 0.0001 percentage points).
    trim : (float, float) or None
        Bounds ``(lo, hi)`` for the raked weights relative to their mean, with
        ``0 <= lo < 1 < hi`` (``hi`` may be ``inf``), e.g. ``(0.3, 3)``.
    codebook : Codebook, optional
        When given, coded answers are matched to the margins by the codebook's level names
        (``1`` -> ``male``) or codes, and numeric items by their bands (age 23 -> ``18-34``);
        don't-know, refused and missing codes count as missing. Without a codebook,
        categories are the values as they are written.
    missing : {"error", "keep"}
        A respondent with no category for a raking variable (blank, or a don't-know, refused
        or missing code) is an error naming the column and rows (``"error"``), or keeps their
        base weight unchanged and is left out of the raking (``"keep"``); the margins then
        hold among the other respondents.
    strict : bool
        Raise :class:`ConvergenceError` when raking does not converge (default). With
        ``False`` the result is returned with ``converged=False``.
    file : str
        Name of the data for messages.

    Returns
    -------
    RakingResult

    Raises
    ------
    DataError
        Listing every mismatch between the data and the margins: a missing column, a data
        category the margins do not have, a margin category with a positive target that no
        respondent falls in, a respondent with no category, a base weight that is not a
        positive finite number.
    ConvergenceError
        When ``strict`` and the margins are not reached in ``max_iter`` iterations; the
        message names the margin and category furthest from its target.
    ValueError
        For an invalid ``max_iter``, ``tol``, ``trim`` or ``missing``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(
    ...     {"gender": ["m", "m", "f", "f", "f"], "city": ["a", "b", "a", "a", "b"]}
    ... )
    >>> result = rake(frame, {"gender": {"m": 0.5, "f": 0.5}, "city": {"a": 0.6, "b": 0.4}})
    >>> result.weights.round(3).tolist()
    [1.294, 1.206, 0.853, 0.853, 0.794]
    """
    trim = _check_parameters(max_iter, tol, trim, missing)
    margins = _as_margins(margins)
    mfile = margins.path or "<margins>"
    n = len(frame)
    problems: list[Problem] = []
    base, found = _base_weights(frame, base_weights, file)
    problems.extend(found)
    labels, invalid = _raking_labels(frame, margins, codebook, file, mfile, problems)
    keep = _kept_rows(labels, invalid, n, missing, file, problems)
    cells = _margin_cells(margins, labels, keep, codebook, file, mfile, problems)
    if problems:
        raise DataError(f"raking {file} to {mfile}", problems)
    n_raked = int(keep.sum())
    if n_raked == 0:
        raise DataError(
            f"raking {file} to {mfile}",
            [Problem(file, "", "no respondent has a category of every raking variable")],
        )

    # Margins.from_dict sets the population total whenever the scale is "counts".
    total = float(cast(float, margins.total)) if margins.scale == "counts" else float(n_raked)
    w0 = base[keep]
    bounds = None if trim is None else (trim[0] * total / n_raked, trim[1] * total / n_raked)
    w, iterations, converged, err, worst = _ipf(w0, cells, total, max_iter, tol, bounds)

    weights = base.copy()
    weights[keep] = w
    table = _margins_table(margins, cells, w0, w, codebook)
    deff = kish_design_effect(weights)
    n_trimmed = _n_trimmed(w, bounds)
    result = RakingResult(
        weights=pd.Series(weights, index=frame.index, name="weight_raked"),
        iterations=iterations,
        converged=converged,
        max_error=err,
        margins=table,
        design_effect=deff,
        effective_n=n / deff,
        base_design_effect=kish_design_effect(base),
        n_raked=n_raked,
        n_kept=n - n_raked,
        trim=None if trim is None else (float(trim[0]), float(trim[1])),
        n_trimmed=n_trimmed,
        tol=tol,
    )
    if not converged and strict:
        raise _convergence_error(result, margins, worst, file, mfile)
    return result


def _as_margins(margins: Margins | Mapping[str, Any] | str | os.PathLike) -> Margins:
    """The margins given to :func:`rake`: as they are, from a mapping, or read from a file."""
    if not isinstance(margins, Margins):
        if isinstance(margins, Mapping):
            doc = margins if "margins" in margins else {"margins": margins}
            margins = Margins.from_dict(doc, file="<margins>")
        else:
            margins = load_margins(margins)
    return margins


def _raking_labels(
    frame: pd.DataFrame,
    margins: Margins,
    codebook: Codebook | None,
    file: str,
    mfile: str,
    problems: list[Problem],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Category of every respondent on every raking variable (None: missing), invalid rows."""
    labels: dict[str, np.ndarray] = {}
    invalid: dict[str, np.ndarray] = {}
    for var in margins.variables:
        if var not in frame.columns:
            problems.append(
                Problem(
                    file,
                    var,
                    f"column named in the margins ({mfile}) is not in the data",
                )
            )
            continue
        values, bad, found = _labels(frame[var], var, codebook, file)
        labels[var], invalid[var] = values, bad
        problems.extend(found)
    return labels, invalid


def _kept_rows(
    labels: dict[str, np.ndarray],
    invalid: dict[str, np.ndarray],
    n: int,
    missing: str,
    file: str,
    problems: list[Problem],
) -> np.ndarray:
    """Respondents with a category of every raking variable (the others are a problem, or kept)."""
    absent = np.zeros(n, dtype=bool)
    for var, values in labels.items():
        gone = pd.isna(values)
        blank = gone & ~invalid[var]  # invalid values are reported as such, not as missing
        if blank.any() and missing == "error":
            rows = np.flatnonzero(blank) + 1
            problems.append(
                Problem(
                    file,
                    var,
                    f"{len(rows):,} respondent{'s have' if len(rows) != 1 else ' has'} no "
                    f"category (blank, or a don't-know, refused or missing code) in "
                    f"row{'s' if len(rows) != 1 else ''} {_rows(rows)}; every respondent "
                    f"needs a category of every raking variable: recode them, or keep their "
                    f"weights unchanged (missing='keep', --missing keep)",
                    row=int(rows[0]),
                )
            )
        absent |= gone
    return ~absent


def _margin_cells(
    margins: Margins,
    labels: dict[str, np.ndarray],
    keep: np.ndarray,
    codebook: Codebook | None,
    file: str,
    mfile: str,
    problems: list[Problem],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cell index of every raked respondent and the target shares, for every usable margin."""
    cells: list[tuple[np.ndarray, np.ndarray]] = []
    for margin in margins:
        if any(v not in labels for v in margin.variables):
            continue
        codes = _margin_codes(margin, labels, keep, codebook, file, mfile, problems)
        if codes is None:
            continue
        if any((c < 0).any() for c in codes):
            continue
        cells.append(_margin_cell(margin, codes, keep, file, mfile, problems))
    return cells


def _margin_codes(
    margin: Margin,
    labels: dict[str, np.ndarray],
    keep: np.ndarray,
    codebook: Codebook | None,
    file: str,
    mfile: str,
    problems: list[Problem],
) -> list[np.ndarray] | None:
    """Category code of every raked respondent on each variable of a margin (-1: not in it).

    None when two categories of a variable name the same codebook level.
    """
    codes = []
    for i, var in enumerate(margin.variables):
        cats = _aliased_categories(margin.categories[i], var, codebook)
        if len(set(cats)) != len(cats):
            problems.append(
                Problem(
                    mfile,
                    margin.where,
                    f"categories of {var!r} name the same codebook level twice",
                    value=list(margin.categories[i]),
                )
            )
            return None
        values = labels[var][keep]
        code = pd.Index(cats, dtype=object).get_indexer(values).astype(np.intp)
        unknown = code < 0
        if unknown.any():
            rows_all = np.flatnonzero(keep) + 1
            bad = pd.Series(values[unknown]).value_counts(sort=False)
            expected = ", ".join(margin.categories[i])
            for label, count in bad.items():
                first = rows_all[unknown][values[unknown] == label]
                problems.append(
                    Problem(
                        file,
                        var,
                        f"category not in the margins ({mfile}, {margin.where}): "
                        f"{count:,} respondent{'s' if count != 1 else ''} "
                        f"(row{'s' if count != 1 else ''} {_rows(first)}); expected one of "
                        f"{expected}",
                        row=int(first[0]),
                        value=label,
                    )
                )
        codes.append(code)
    return codes


def _margin_cell(
    margin: Margin,
    codes: list[np.ndarray],
    keep: np.ndarray,
    file: str,
    mfile: str,
    problems: list[Problem],
) -> tuple[np.ndarray, np.ndarray]:
    """Cell index of every raked respondent in a margin and its targets; check empty cells."""
    idx = (
        np.ravel_multi_index(codes, margin.shape) if codes else np.zeros(0, dtype=np.intp)
    ).astype(np.intp)
    target = np.asarray(margin.shares, dtype=float)
    counts = np.bincount(idx, minlength=target.size)
    for j, (combo, share) in enumerate(margin.cells()):
        label = JOINT.join(combo)
        if share > 0 and counts[j] == 0:
            problems.append(
                Problem(
                    mfile,
                    f"{margin.where}.{'.'.join(combo)}",
                    f"target {share:.4g} but no respondent of {file} is in {label}; "
                    f"merge it with a neighbouring category or drop it from the margins",
                )
            )
        elif share == 0 and counts[j] > 0:
            rows = np.flatnonzero(keep)[idx == j] + 1
            problems.append(
                Problem(
                    file,
                    margin.name,
                    f"{counts[j]:,} respondent{'s are' if counts[j] != 1 else ' is'} in "
                    f"{label} (row{'s' if counts[j] != 1 else ''} {_rows(rows)}), whose "
                    f"target in {mfile} is 0; a weight cannot make them vanish",
                    row=int(rows[0]),
                    value=label,
                )
            )
    return idx, target


def _n_trimmed(w: np.ndarray, bounds: tuple[float, float] | None) -> int:
    """Raked weights lying on a trimming bound (0 without trimming)."""
    n_trimmed = 0
    if bounds is not None:
        scale = max(bounds[1] if math.isfinite(bounds[1]) else 0.0, 1.0)
        at = np.isclose(w, bounds[0], rtol=1e-9, atol=1e-12 * scale)
        if math.isfinite(bounds[1]):
            at |= np.isclose(w, bounds[1], rtol=1e-9, atol=0.0)
        n_trimmed = int(at.sum())
    return n_trimmed


def _convergence_error(
    result: RakingResult, margins: Margins, worst: tuple[int, int], file: str, mfile: str
) -> ConvergenceError:
    """The error naming the margin and category furthest from its target."""
    table = result.margins
    m_i, cell = worst
    margin = margins.margins[m_i]
    combo = list(itertools.product(*margin.categories))[cell]
    row = table[(table["margin"] == margin.name) & (table["category"] == JOINT.join(combo))]
    achieved = float(row["achieved"].iloc[0])
    hint = (
        "; the trimming bounds may be too tight for these margins (widen --trim)"
        if result.trim is not None
        else "; check that margins over the same variables agree, and that no category "
        "the margins need is nearly empty in the sample"
    )
    return ConvergenceError(
        f"raking {file} to {mfile} did not converge in {result.iterations} iterations: "
        f"{margin.name} = {JOINT.join(combo)} is at {achieved:.4%} against a target of "
        f"{margin.shares[cell]:.4%} (error {result.max_error:.2g}, tolerance {result.tol:.2g})"
        f"{hint}",
        result,
    )


def _check_parameters(
    max_iter: Any, tol: Any, trim: Any, missing: Any
) -> tuple[float, float] | None:
    """Check the parameters of :func:`rake` (each message names it and repeats the value)."""
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 < tol < 1:
        raise ValueError(f"tol must be a number between 0 and 1, got {tol!r}")
    if missing not in ("error", "keep"):
        raise ValueError(f"missing must be 'error' or 'keep', got {missing!r}")
    if trim is None:
        return None
    try:
        items = list(trim)
        bounds = tuple(float(b) for b in items if not isinstance(b, bool | str))
    except (TypeError, ValueError):
        items, bounds = [], ()
    if len(bounds) != 2 or len(items) != 2 or not (0 <= bounds[0] < 1 < bounds[1]):
        raise ValueError(
            f"trim must be (lo, hi) with 0 <= lo < 1 < hi, bounds relative to the mean "
            f"weight, e.g. (0.3, 3); got {trim!r}"
        )
    return bounds[0], bounds[1]


def _rows(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:_ROWS_SHOWN])
    more = len(rows) - _ROWS_SHOWN
    return shown + (f" and {more:,} more" if more > 0 else "")


def _base_weights(frame: pd.DataFrame, spec: Any, file: str) -> tuple[np.ndarray, list[Problem]]:
    n = len(frame)
    if spec is None:
        return np.ones(n), []
    column = None
    if isinstance(spec, str):
        column = spec
        if spec not in frame.columns:
            return np.ones(n), [Problem(file, spec, "base weight column is not in the data")]
        values, non_numeric = as_float(frame[spec])
    else:
        values = np.asarray(spec, dtype=float).ravel()
        non_numeric = np.zeros(values.shape, dtype=bool)
        if values.shape != (n,):
            return np.ones(n), [
                Problem(
                    file,
                    "base_weights",
                    f"expected one weight per row ({n:,}), got {values.size:,}",
                )
            ]
    bad = non_numeric | ~np.isfinite(values) | ~(values > 0)
    if bad.any():
        rows = np.flatnonzero(bad) + 1
        first = rows[0] - 1
        raw = frame[column].iloc[first] if column is not None else values[first]
        return np.ones(n), [
            Problem(
                file,
                column or "base_weights",
                f"{len(rows):,} base weight{'s are' if len(rows) != 1 else ' is'} not a "
                f"positive finite number (row{'s' if len(rows) != 1 else ''} {_rows(rows)}); "
                f"expected a positive weight in every row",
                row=int(rows[0]),
                value=None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else raw,
            )
        ]
    return values.astype(float), []


def _plain_label(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        return str(plain_number(float(value))) if math.isfinite(value) else None
    text = str(value).strip()
    return text or None


def _labels(
    series: pd.Series, column: str, codebook: Codebook | None, file: str
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """The category label of every row (``None``: none), rows with invalid values, problems."""
    item = codebook[column] if codebook is not None and column in codebook else None
    if item is None:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        names = np.array([_plain_label(u) for u in uniques] + [None], dtype=object)
        return names[codes], np.zeros(len(series), dtype=bool), []
    values, non_numeric = as_float(series)
    problems: list[Problem] = []
    if item.is_categorical:
        return _coded_labels(series, values, non_numeric, item, file)
    if item.type == "numeric" and item.bands:
        out = item.band_labels(values)
        special = np.isin(values, [*item.missing, *item.dont_know_codes, *item.refused_codes])
        out[special] = None
        outside = ~np.isnan(values) & ~special & pd.isna(out)
        bad = non_numeric | outside
        if bad.any():
            rows = np.flatnonzero(bad) + 1
            bands = ", ".join(
                f"{lab} ({plain_number(lo)}-{plain_number(hi)})" for lo, hi, lab in item.bands
            )
            problems.append(
                Problem(
                    file,
                    column,
                    f"{len(rows):,} value{'s are' if len(rows) != 1 else ' is'} in no band of the "
                    f"codebook (row{'s' if len(rows) != 1 else ''} {_rows(rows)}); "
                    f"expected a number in one of {bands}",
                    row=int(rows[0]),
                    value=series.iloc[rows[0] - 1],
                )
            )
        return out, bad, problems
    problems.append(
        Problem(
            file,
            column,
            f"{item.type} item without categories; give it bands in the codebook or rake on a "
            f"recoded column",
        )
    )
    return np.full(len(series), None, dtype=object), np.ones(len(series), dtype=bool), problems


def _coded_labels(
    series: pd.Series, values: np.ndarray, non_numeric: np.ndarray, item: Item, file: str
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    names = {float(lv.code): (lv.name or str(lv.code)) for lv in item.levels}
    special = [*item.missing, *item.dont_know_codes, *item.refused_codes]
    out = np.full(len(values), None, dtype=object)
    for code, name in names.items():
        out[values == code] = name
    known = np.isnan(values) | np.isin(values, list(names)) | np.isin(values, special)
    bad = non_numeric | ~known
    problems = []
    if bad.any():
        rows = np.flatnonzero(bad) + 1
        codes = ", ".join(f"{lv.code} ({lv.name or lv.label()})" for lv in item.levels)
        problems.append(
            Problem(
                file,
                item.column,
                f"{len(rows):,} value{'s are' if len(rows) != 1 else ' is'} not a code of the "
                f"codebook (row{'s' if len(rows) != 1 else ''} {_rows(rows)}); "
                f"expected one of {codes}",
                row=int(rows[0]),
                value=series.iloc[rows[0] - 1],
            )
        )
    return out, bad, problems


def _aliased_categories(
    categories: tuple[str, ...], var: str, codebook: Codebook | None
) -> list[str]:
    """Margin categories as data labels: a codebook code (``"1"``) becomes its level name."""
    if codebook is None or var not in codebook or not codebook[var].is_categorical:
        return list(categories)
    alias = {str(lv.code): lv.name for lv in codebook[var].levels if lv.name}
    return [alias.get(c, c) for c in categories]


def _ipf(
    w0: np.ndarray,
    cells: list[tuple[np.ndarray, np.ndarray]],
    total: float,
    max_iter: int,
    tol: float,
    bounds: tuple[float, float] | None,
) -> tuple[np.ndarray, int, bool, float, tuple[int, int]]:
    """Iterative proportional fitting; returns weights, iterations, converged, error, worst."""
    w = w0 * (total / w0.sum())
    targets = [t * total for _, t in cells]
    err, worst = _max_error(w, cells)
    if err <= tol and (bounds is None or _within(w, bounds)):
        return w, 0, True, err, worst
    for iteration in range(1, max_iter + 1):
        for (idx, _), target in zip(cells, targets, strict=True):
            sums = np.bincount(idx, weights=w, minlength=target.size)
            factor = np.divide(target, sums, out=np.ones_like(target), where=sums > 0)
            w *= factor[idx]
        if bounds is not None:
            np.clip(w, bounds[0], bounds[1], out=w)
        err, worst = _max_error(w, cells)
        if err <= tol:
            return w, iteration, True, err, worst
    return w, max_iter, False, err, worst


def _within(w: np.ndarray, bounds: tuple[float, float]) -> bool:
    return bool((w >= bounds[0]).all() and (w <= bounds[1]).all())


def _max_error(
    w: np.ndarray, cells: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[float, tuple[int, int]]:
    total = w.sum()
    err, worst = 0.0, (0, 0)
    for m, (idx, target) in enumerate(cells):
        achieved = np.bincount(idx, weights=w, minlength=target.size) / total
        diff = np.abs(achieved - target)
        j = int(np.argmax(diff))
        if diff[j] > err:
            err, worst = float(diff[j]), (m, j)
    return err, worst


def _margins_table(
    margins: Margins,
    cells: list[tuple[np.ndarray, np.ndarray]],
    w0: np.ndarray,
    w: np.ndarray,
    codebook: Codebook | None,
) -> pd.DataFrame:
    rows = []
    for margin, (idx, target) in zip(margins, cells, strict=True):
        n = np.bincount(idx, minlength=target.size)
        sample = np.bincount(idx, weights=w0, minlength=target.size) / w0.sum()
        achieved = np.bincount(idx, weights=w, minlength=target.size) / w.sum()
        for j, (combo, share) in enumerate(margin.cells()):
            rows.append(
                {
                    "margin": margin.name,
                    "category": JOINT.join(combo),
                    "n": int(n[j]),
                    "sample": float(sample[j]),
                    "target": float(share),
                    "achieved": float(achieved[j]),
                    "difference": float(achieved[j] - share),
                }
            )
    columns = ["margin", "category", "n", "sample", "target", "achieved", "difference"]
    return pd.DataFrame(rows, columns=columns)
