"""Weighted profile statistics of fitted segments.

Membership is fractional: respondent i belongs to segment k with its posterior probability
``r_ik`` (proportional assignment), so profiles are not attenuated by assigning everyone to their
most likely segment. With survey weights ``w_i``, segment k's weighted count of an event is
``sum_i w_i r_ik [event]``.

- **Shares** ``p_k = sum_i w_i r_ik / sum_i w_i`` with a linearisation standard error
  ``sqrt(sum_i w_i^2 (r_ik - p_k)^2) / sum_i w_i`` (with-replacement approximation) and a 95%
  interval on the logit scale. When the sample is stratified and clustered (the codebook's
  ``design:`` block, or a ``design=`` :class:`~segment.weights.survey_design.SurveyDesign`), the
  standard error is design-based instead: linearisation over PSUs within strata (or the Rao-Wu
  bootstrap, ``variance="bootstrap"``), with a ``deff`` column (design variance over the
  variance under simple random sampling of as many respondents, R ``survey``'s ``deff =
  "replace"``). Treating every respondent as its own PSU in one stratum gives the simple
  standard error times ``sqrt(n / (n - 1))``.
- **Items**: answer distribution, mean code and mean position on the item's 0..1 "more" scale
  (substantive answers), don't-know share (of answers), and the contrast with the whole sample:
  difference in mean position, standardised effect size (difference / sample SD of positions,
  Cohen's d), and a Welch z-test of the segment against the rest of the sample with Kish
  effective sizes; p-values are adjusted for the number of tests with Benjamini & Hochberg's
  (1995) false discovery rate.
- **Design-based item tests.** When a design is in force, the item tests use design-based
  variances instead, and ``items`` gets ``se`` and ``deff`` columns. For an item, let
  ``s_i`` = 1 when respondent i gave a substantive answer (0 otherwise) and ``x_i`` its position.
  Segment k's posterior-weighted mean position and the sample's are ratio estimators

      m_k = sum_i w_i r_ik s_i x_i / X_k,   X_k = sum_i w_i r_ik s_i,
      m   = sum_i w_i s_i x_i / X,          X   = sum_i w_i s_i,

  and the reported ``difference`` ``d_k = m_k - m`` is linearised jointly (Binder 1983; Wolter
  2007, sec. 6.11, the linearisation of a ratio) with the linearised variable

      z_ik = w_i r_ik s_i (x_i - m_k) / X_k  -  w_i s_i (x_i - m) / X,

  whose PSU totals ``z_hik`` (PSU i of stratum h) give the ultimate-cluster variance

      Var(d_k) = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hik - zbar_hk)^2

  (:mod:`segment.weights.survey_design`: lonely PSUs as the design says; or the Rao-Wu-Yue
  bootstrap of PSUs, ``variance="bootstrap"``, recomputing both ratios from replicate PSU totals).
  ``se`` is ``sqrt(Var(d_k))``, ``deff`` is ``Var(d_k)`` over its variance under simple random
  sampling of as many respondents (R ``survey``'s ``deff = "replace"``; it includes the effect of
  unequal weights), and ``p_value = 2 (1 - Phi(|d_k| / se))`` (normal reference, as for the
  shares). Because ``d_k = (1 - pi_k)(m_k - m_rest)``, with ``pi_k = X_k / X`` the segment's
  weighted share of the substantive answers, this tests the same null hypothesis as the
  segment-against-the-rest test without a design. All items and segments are estimated in one
  pass, so the covariances between a segment's and the sample's mean are used. Memberships
  ``r_ik`` are treated as known, as elsewhere. With every respondent its own PSU in one stratum
  and equal weights, ``deff`` is 1. Demographic shares get a design-based ``se`` and ``deff``
  the same way (a segment's share of a category is the ratio
  ``sum w r_k [category] / sum w r_k [known]``).
- **Demographics**: composition of each segment and an index against the sample
  (100 = as in the sample; "More women" = the index of women above 100).
- **Demographic tests** (``demographic_tests``): every comparison a demographic bullet can make,
  each a contrast of a segment with the whole sample, ``d_k = m_k - m``, where ``m_k`` and
  ``m`` are ratio estimators as for the items: a category's share (``y_i`` = 1 in the category,
  ``x_i`` = 1 when the variable is known), or the mean of an ordered or numeric variable
  (``y_i`` = its position on the 0..1 scale for ordinal variables, its value for numbers, times
  ``x_i``). The variance of ``d_k`` is the linearised (Binder 1983; Wolter 2007, sec. 6.11)
  ultimate-cluster variance over the codebook's strata and PSUs when it declares a design, and
  otherwise the same estimator with every respondent its own PSU in one stratum (the
  with-replacement, unequal-weight variance), so weights always count. ``p_value =
  2 (1 - Phi(|d_k| / se))``. ``p_adjusted`` is Holm's (1979) step-down adjustment over all the
  comparisons of the card set (every variable, category and segment), which controls the
  probability of printing even one false demographic bullet (the familywise error rate) under
  any dependence between the tests: a card set is read claim by claim, and a single spurious
  "More Black respondents" is the error a pollster cannot publish, so the false-discovery rate
  (which tolerates a share of false claims) is not enough here.

The tests are descriptive: segments were formed from these same items, so they differ on them
by construction and small p-values there are no evidence of anything beyond the segmentation
(they also treat memberships as known). Items the model did not use are the honest test case.

Cells describing fewer than ``min_cell`` respondents are suppressed (statistics and counts NaN,
``suppressed`` True). The count is of respondents (``sum_i r_ik`` over those in the cell,
unweighted), not of weighted respondents, so heavy weights cannot reveal a small cell.

References
----------
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the
Royal Statistical Society B* 57(1): 289-300.

Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
of Statistics* 6(2): 65-70.

Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
surveys. *International Statistical Review* 51(3): 279-292.

Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. New York: Springer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, norm

from segment._util import normalised_weights
from segment.disclosure import determined_by, margin_equations, protect_cells, protect_system
from segment.survey.codebook import Codebook, Item
from segment.survey.summary import MIN_CELL_SIZE
from segment.weights.survey_design import SurveyDesign

__all__ = ["DEMOGRAPHIC_TEST_COLUMNS", "SegmentProfiles", "holm_adjust", "profile_segments"]

#: Columns of :attr:`SegmentProfiles.demographic_tests`.
DEMOGRAPHIC_TEST_COLUMNS = [
    "segment",
    "variable",
    "kind",
    "category",
    "estimate",
    "sample",
    "sample_sd",
    "difference",
    "se",
    "p_value",
    "p_adjusted",
]

Z95 = norm.ppf(0.975)


@dataclass(frozen=True)
class SegmentProfiles:
    """Profile statistics of k segments (all DataFrames in long format).

    Attributes
    ----------
    shares : DataFrame
        ``segment, share, se, ci_low, ci_high, weighted_n, suppressed``, and ``deff`` when the
        standard errors are design-based.
    items : DataFrame
        ``segment, item, domain, weighted_n, mean_code, position, dont_know, sample_position,
        sample_dont_know, difference, effect_size, p_value, p_adjusted, suppressed``; with a
        design also ``se`` and ``deff`` of ``difference`` (after it), and ``p_value`` is then
        the design-based test of ``difference``.
    distributions : DataFrame
        ``segment, item, code, label, kind (answer / dont_know), share, sample_share``.
    demographics : DataFrame
        ``segment, variable, category, share, sample_share, index, weighted_n, suppressed``;
        with a design also ``se`` and ``deff`` of ``share`` (after it).
    ordered : DataFrame
        ``segment, variable, position, sample_position`` for ordered demographics (age bands,
        education, income, settlement size): mean position on the 0..1 scale.
    """

    shares: pd.DataFrame
    items: pd.DataFrame
    distributions: pd.DataFrame
    demographics: pd.DataFrame
    ordered: pd.DataFrame
    n_segments: int
    min_cell: int
    demographic_tests: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DEMOGRAPHIC_TEST_COLUMNS)
    )
    """``segment, variable, kind (category / mean), category, estimate, sample, sample_sd,
    difference, se, p_value, p_adjusted``: each segment against the whole sample on every
    reportable demographic category (its share) and ordered or numeric demographic (its mean:
    position 0..1 of an ordinal variable, value of a number); design-based standard errors and
    Holm-adjusted p-values over the whole table (module docstring)."""
    design: str | None = None
    """The design behind the standard errors of the shares, item tests and demographic shares
    (e.g. ``"linearization: 3 strata, 45 PSUs, ..."``), or None for the simple formulas."""


def _weighted_stats(values, weights):
    total = weights.sum()
    if total <= 0:
        return np.nan, np.nan, 0.0
    mean = float(weights @ values / total)
    var = float(weights @ (values - mean) ** 2 / total)
    n_eff = total**2 / float(weights @ weights) if total > 0 else 0.0
    return mean, var, n_eff


def profile_segments(
    resp: np.ndarray,
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    items: list[str] | None = None,
    sample_weight=None,
    min_cell: int = MIN_CELL_SIZE,
    design: SurveyDesign | None = None,
    variance: str = "linearization",
    n_boot: int = 500,
    random_state=None,
    protect: bool = False,
) -> SegmentProfiles:
    """Profile statistics of segments.

    Parameters
    ----------
    resp : (n, k) array
        Posterior segment probabilities of each respondent (``model.predict_proba``).
    frame : DataFrame
        The validated survey (as returned by :func:`segment.read_survey`).
    codebook : Codebook
    items : list of str, optional
        Attitude items to profile (default: every attitude item of the codebook).
    sample_weight : array, optional
        Survey weights (default: the codebook's weight column, else equal weights).
    min_cell : int
        Smallest number of respondents a reported cell may describe.
    design : SurveyDesign, optional
        Sampling design for design-based standard errors of the shares, of the item
        differences (their p-values) and of the demographic shares. Default: the
        codebook's ``design:`` (strata, PSU, fpc columns) when it declares one, else none. Its
        weights are replaced by the weights used here (``sample_weight`` or the codebook's).
    variance : {"linearization", "bootstrap"}
        How a design-based variance is estimated (see :mod:`segment.weights.survey_design`).
    n_boot, random_state
        Bootstrap replicates and seed (``variance="bootstrap"``).
    protect : bool
        False (default): only the threshold rule (cells under ``min_cell`` respondents are
        NaN); these are the statistics segments are named, matched, confirmed and described
        by. True: the statistics as published (:mod:`segment.disclosure`, rules 1 and 2):
        complementary suppression in the segment sizes, in every segments-by-categories table
        with its whole-sample row and in the published means, so that no hidden cell follows
        from what is shown (:func:`protect_profile_table`). Every printed number comes from the
        protected statistics (:func:`segment.cards.publish.published_profiles`).

    Raises
    ------
    DataError
        When the design columns have problems (a PSU in two strata, a single-PSU stratum ...).
    """
    resp = np.asarray(resp, dtype=float)
    n, k = resp.shape
    if len(frame) != n:
        raise ValueError(f"resp has {n} rows but the data have {len(frame)}")
    w = _weights(frame, codebook, sample_weight, n)
    wr = w[:, None] * resp
    design = _design(design, codebook, frame, w, n)
    shares = _shares(resp, w, min_cell, protect)
    hidden = shares["suppressed"].to_numpy(dtype=bool)
    described = None
    if design is not None:
        est = design.mean(resp, method=variance, n_boot=n_boot, random_state=random_state)
        shares = _design_shares(shares, est)
        described = f"{variance}: {design.describe()}"
    names = items if items is not None else [it.column for it in codebook.attitude_items]
    item_rows, dist_rows, positions = _item_profiles(
        names, codebook, frame, wr, w, min_cell, hidden, protect
    )
    items_df = pd.DataFrame(item_rows)
    options = {"method": variance, "n_boot": n_boot, "random_state": random_state}
    if design is not None and len(items_df):
        items_df = _design_items(items_df, positions, resp, design, options)
    if len(items_df):
        _adjust_p_values(items_df)
    demo_rows, ordered_rows = _demographic_profiles(
        codebook, frame, wr, w, min_cell, hidden, protect
    )
    demo_df = pd.DataFrame(demo_rows)
    if design is not None and len(demo_df):
        demo_df = _design_demographics(demo_df, codebook, frame, resp, design, options)
    ordered_df = pd.DataFrame(
        ordered_rows, columns=["segment", "variable", "position", "sample_position"]
    )
    tests = demographic_tests(
        demo_df,
        codebook,
        frame,
        resp,
        design or SurveyDesign(weights=w),
        options,
        hidden if protect else None,
        ordered_df if protect else None,
    )
    return SegmentProfiles(
        shares=shares,
        items=items_df,
        distributions=pd.DataFrame(dist_rows),
        demographics=demo_df,
        ordered=ordered_df,
        n_segments=k,
        min_cell=min_cell,
        demographic_tests=tests,
        design=described,
    )


def _weights(frame: pd.DataFrame, codebook: Codebook, sample_weight, n: int) -> np.ndarray:
    """The survey weights used, normalised: ``sample_weight``, the codebook's, or equal."""
    if sample_weight is None:
        w = frame[codebook.weight].to_numpy(dtype=float) if codebook.weight else np.ones(n)
    else:
        w = np.asarray(sample_weight, dtype=float)
    return normalised_weights(w)


def _design(
    design: SurveyDesign | None, codebook: Codebook, frame: pd.DataFrame, w: np.ndarray, n: int
) -> SurveyDesign | None:
    """The sampling design in force (``design`` or the codebook's), carrying the weights ``w``."""
    if design is None:
        design = SurveyDesign.from_codebook(codebook, frame, weights=w)
    elif design.n != n:
        raise ValueError(f"design has {design.n} respondents but the data have {n}")
    elif not np.array_equal(design.weights / design.weights.mean(), w):
        design = design.with_weights(w)
    return design


def _item_profiles(
    names: list[str],
    codebook: Codebook,
    frame: pd.DataFrame,
    wr: np.ndarray,
    w: np.ndarray,
    min_cell: int,
    hidden: np.ndarray,
    protect: bool,
) -> tuple[list[dict], list[dict], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Item and distribution rows of every item, and the substantive positions of ordinal ones."""
    item_rows, dist_rows = [], []
    positions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for col in names:
        it = codebook[col]
        codes = codebook.model_codes(frame, [col])[col].to_numpy()
        rows, dists = _item_stats(it, codes, wr, w, min_cell, hidden, protect)
        item_rows += rows
        dist_rows += dists
        if it.type == "ordinal":
            _, _, substantive, subst_pos = _substantive(it, codes)
            positions[col] = (substantive, subst_pos)
    return item_rows, dist_rows, positions


def _adjust_p_values(items_df: pd.DataFrame) -> None:
    """Add ``p_adjusted``: Benjamini-Hochberg over the items with a p-value (in place)."""
    tested = items_df["p_value"].notna()
    items_df["p_adjusted"] = np.nan
    if tested.any():
        items_df.loc[tested, "p_adjusted"] = false_discovery_control(
            items_df.loc[tested, "p_value"].to_numpy()
        )


def _demographic_profiles(
    codebook: Codebook,
    frame: pd.DataFrame,
    wr: np.ndarray,
    w: np.ndarray,
    min_cell: int,
    hidden: np.ndarray,
    protect: bool,
) -> tuple[list[dict], list[dict]]:
    """Demographic rows and ordered-position rows of every demographic in the data."""
    demo_rows, ordered_rows = [], []
    for it in codebook.demographic_items:
        if it.column in frame.columns:
            values = frame[it.column].to_numpy(dtype=float)
            ordered = ordered_positions(it, values, wr, w, min_cell, hidden, protect)
            demo_rows += _demographic_stats(it, values, wr, w, min_cell, hidden, ordered, protect)
            ordered_rows += ordered
    return demo_rows, ordered_rows


def protect_profile_table(
    counts: np.ndarray,
    hidden_rows: np.ndarray,
    *,
    min_cell: int,
    means: list[tuple[int, np.ndarray]] = (),  # type: ignore[assignment]
    keep: np.ndarray | None = None,
    protect: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The cells of one profile table to hide (:mod:`segment.disclosure`, rules 1 and 2).

    The table has a row per segment and a column per category (answer code, demographic
    category), each cell counting respondents (posterior sums, unweighted); its margins are
    published too: a segment's size beside its categories, and the whole sample's row (the
    whole sample's count of each category, the "Whole sample" bar). ``hidden_rows`` are the
    segments withheld whole (:func:`_shares`): their cells and size are never published, and
    every published segment's size is kept. ``means`` are the published means on the table:
    ``(row, coefficients)`` for the equation ``sum_c coefficients[c] x[row, c] = 0`` of a mean
    ``m`` over categories at positions ``p_c`` (coefficients ``p_c - m``), row ``k`` being the
    whole sample; they let an attacker solve for one more hidden cell, so the audit counts
    them. ``keep`` (bool, ``(C,)``) marks categories never chosen as a complement when they
    are large enough (the don't-know answers, whose share is printed on its own).

    Returns
    -------
    hide : bool array (k, C)
        Segment cells to hide.
    hide_sample : bool array (C,)
        Whole-sample cells to hide.
    """
    k, C = counts.shape
    if not protect:  # the threshold rule alone (the statistics behind names and words)
        rows = np.asarray(hidden_rows, dtype=bool)[:, None]
        return (counts < min_cell) | rows, np.zeros(C, dtype=bool)
    grid = np.zeros((k + 1, C + 1))
    grid[:k, :C] = counts
    grid[:k, C] = counts.sum(axis=1)
    grid[k, :C] = counts.sum(axis=0)
    grid[k, C] = counts.sum()
    start = np.zeros_like(grid, dtype=bool)
    start[:k][np.asarray(hidden_rows, dtype=bool)] = True
    fixed = np.zeros_like(grid, dtype=bool)
    fixed[:k, C] = ~start[:k, C] & (grid[:k, C] >= min_cell)
    fixed[k, C] = grid[k, C] >= min_cell
    if keep is not None:
        fixed[:, :C] |= np.asarray(keep, dtype=bool)[None, :] & (grid[:, :C] >= min_cell)
        fixed[:, :C] &= ~start[:, :C]
    equations = [margin_equations(k, C)]
    for row, coefficients in means:
        eq = np.zeros_like(grid)
        eq[row, :C] = coefficients
        equations.append(eq.reshape(1, -1))
    hide = protect_system(
        grid.ravel(),
        np.vstack(equations),
        min_cell=min_cell,
        hidden=start.ravel(),
        fixed=fixed.ravel(),
    ).reshape(grid.shape)
    return hide[:k, :C], hide[k, :C]


def publishable_means(
    counts: np.ndarray,
    hide: np.ndarray,
    hide_sample: np.ndarray,
    hidden_rows: np.ndarray,
    means: list[tuple[int, np.ndarray]],
    *,
    min_cell: int,
) -> list[bool]:
    """Which of ``means`` (as in :func:`protect_profile_table`) may be published beside a table
    already protected without them: each in turn, kept unless it, with the table's margins and
    the means kept before it, determines a hidden cell under ``min_cell``. A mean withheld
    keeps the table's categories (a demographic's composition says more than its mean)."""
    k, C = counts.shape
    grid = np.zeros((k + 1, C + 1))
    grid[:k, :C] = counts
    grid[:k, C] = counts.sum(axis=1)
    grid[k, :C] = counts.sum(axis=0)
    grid[k, C] = counts.sum()
    hidden = np.zeros_like(grid, dtype=bool)
    hidden[:k, :C] = hide
    hidden[k, :C] = hide_sample
    hidden[:k, C] = np.asarray(hidden_rows, dtype=bool) | (grid[:k, C] < min_cell)
    hidden[k, C] = grid[k, C] < min_cell
    small = ((grid > 0) & (grid < min_cell)).ravel()
    equations = [margin_equations(k, C)]
    kept = []
    for row, coefficients in means:
        eq = np.zeros_like(grid)
        eq[row, :C] = coefficients
        trial = np.vstack([*equations, eq.reshape(1, -1)])
        ok = not (determined_by(hidden.ravel(), trial) & small).any()
        if ok:
            equations.append(eq.reshape(1, -1))
        kept.append(ok)
    return kept


def _shares(resp: np.ndarray, w: np.ndarray, min_cell: int, protect: bool) -> pd.DataFrame:
    total = w.sum()
    wr = w[:, None] * resp
    p = wr.sum(axis=0) / total
    se = np.sqrt(((wr - w[:, None] * p) ** 2).sum(axis=0)) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(p / (1 - p))
        half = Z95 * se / (p * (1 - p))
    low = 1 / (1 + np.exp(-(logit - half)))
    high = 1 / (1 + np.exp(-(logit + half)))
    respondents = resp.sum(axis=0)
    # the sizes of the segments add up to the segmented sample, which is published: one
    # hidden segment alone would be 100% minus the others (rule 2)
    lines = [np.arange(len(p))] if protect and len(p) > 1 and respondents.sum() >= min_cell else []
    suppressed = protect_cells(respondents, lines, min_cell=min_cell)
    return pd.DataFrame(
        {
            "segment": np.arange(len(p)),
            "share": np.where(suppressed, np.nan, p),
            "se": np.where(suppressed, np.nan, se),
            "ci_low": np.where(suppressed, np.nan, low),
            "ci_high": np.where(suppressed, np.nan, high),
            "weighted_n": np.where(suppressed, np.nan, wr.sum(axis=0)),
            "suppressed": suppressed,
            "withheld": suppressed & (respondents >= min_cell),
        }
    )


def _design_shares(shares: pd.DataFrame, est) -> pd.DataFrame:
    """Shares with design-based SE, logit interval and design effect (suppression kept)."""
    out = shares.copy()
    p = est.estimate
    se = est.se
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(p / (1 - p))
        half = Z95 * se / (p * (1 - p))
    suppressed = out["suppressed"].to_numpy()
    out["se"] = np.where(suppressed, np.nan, se)
    out["ci_low"] = np.where(suppressed, np.nan, 1 / (1 + np.exp(-(logit - half))))
    out["ci_high"] = np.where(suppressed, np.nan, 1 / (1 + np.exp(-(logit + half))))
    out.insert(out.columns.get_loc("weighted_n"), "deff", np.where(suppressed, np.nan, est.deff))
    return out


def _substantive(it: Item, codes: np.ndarray):
    """Answered, don't-know and substantive masks, and positions (0 where not substantive)."""
    answered = ~np.isnan(codes)
    dk = np.isin(codes, it.dont_know_codes) & answered
    position = it.position(codes) if it.type == "ordinal" else np.full(len(codes), np.nan)
    substantive = answered & ~dk & ~np.isnan(position)
    return answered, dk, substantive, np.where(substantive, position, 0.0)


def _contrasts(design: SurveyDesign, Y: list, X: list, pairs: list, options: dict):
    """Design-based estimate, SE and deff of ``ratio[a] - ratio[b]`` for each pair (a, b).

    The ratios ``sum w Y[:, j] / sum w X[:, j]`` are estimated jointly in one pass (one
    linearisation, or one set of bootstrap replicates), so each contrast uses the covariance of
    its two ratios; ``b`` is None for a ratio on its own.
    """
    est = design.ratio(np.column_stack(Y), np.column_stack(X), **options)
    a = np.array([p[0] for p in pairs])
    b = np.array([-1 if p[1] is None else p[1] for p in pairs])
    has_b = b >= 0
    b = np.where(has_b, b, a)
    sign = np.where(has_b, 1.0, 0.0)

    def var(C):
        return C[a, a] + sign * (C[b, b] - 2 * C[a, b])

    value = est.estimate[a] - sign * est.estimate[b]
    v, v_srs = var(est.cov), var(est.srs_cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(v_srs > 0, v / v_srs, np.nan)
    return value, np.sqrt(np.clip(v, 0.0, None)), deff


def _design_items(
    items_df: pd.DataFrame, positions: dict, resp: np.ndarray, design: SurveyDesign, options
) -> pd.DataFrame:
    """Items with the design-based ``se``, ``deff`` and ``p_value`` of ``difference``."""
    Y: list[np.ndarray] = []
    X: list[np.ndarray] = []
    pairs: list[tuple[int, int]] = []
    rows: list[int] = []
    segment = items_df["segment"].to_numpy()
    item = items_df["item"].to_numpy()
    testable = (
        ~items_df["suppressed"].to_numpy(dtype=bool) & items_df["position"].notna().to_numpy()
    )
    for col, (s, x) in positions.items():
        where = np.flatnonzero(testable & (item == col))
        if where.size == 0:
            continue
        sample = len(Y)
        Y.append(s * x)
        X.append(s.astype(float))
        for row in where:
            pairs.append((len(Y), sample))
            Y.append(resp[:, segment[row]] * s * x)
            X.append(resp[:, segment[row]] * s)
            rows.append(int(row))
    se = np.full(len(items_df), np.nan)
    deff = np.full(len(items_df), np.nan)
    p = np.full(len(items_df), np.nan)
    if pairs:
        diff, se_r, deff_r = _contrasts(design, Y, X, pairs, options)
        at = np.array(rows)
        se[at], deff[at] = se_r, deff_r
        with np.errstate(divide="ignore", invalid="ignore"):
            p[at] = np.where(se_r > 0, 2 * norm.sf(np.abs(diff) / se_r), np.nan)
    out = items_df.copy()
    out["p_value"] = p
    at = out.columns.get_loc("difference") + 1
    out.insert(at, "se", se)
    out.insert(at + 1, "deff", deff)
    return out


def _design_demographics(
    demo_df: pd.DataFrame,
    codebook: Codebook,
    frame: pd.DataFrame,
    resp: np.ndarray,
    design: SurveyDesign,
    options: dict,
) -> pd.DataFrame:
    """Demographics with the design-based ``se`` and ``deff`` of each segment's ``share``."""
    Y: list[np.ndarray] = []
    X: list[np.ndarray] = []
    pairs: list[tuple[int, int | None]] = []
    rows: list[int] = []
    reported = demo_df["share"].notna().to_numpy()
    row = 0  # demo_df's rows come in this order: variable, segment, category
    for it in codebook.demographic_items:
        if it.column not in frame.columns:
            continue
        cats = _categories(it, frame[it.column].to_numpy(dtype=float))
        if cats is None:
            continue
        known = np.zeros(len(frame), dtype=bool)
        for _, mask in cats:
            known |= mask
        for s in range(resp.shape[1]):
            for _, mask in cats:
                if reported[row]:
                    pairs.append((len(Y), None))
                    Y.append(resp[:, s] * mask)
                    X.append(resp[:, s] * known)
                    rows.append(row)
                row += 1
    assert row == len(demo_df)
    se = np.full(len(demo_df), np.nan)
    deff = np.full(len(demo_df), np.nan)
    if pairs:
        _, se_r, deff_r = _contrasts(design, Y, X, pairs, options)
        se[rows], deff[rows] = se_r, deff_r
    out = demo_df.copy()
    at = out.columns.get_loc("share") + 1
    out.insert(at, "se", se)
    out.insert(at + 1, "deff", deff)
    return out


def holm_adjust(p: np.ndarray) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values (NaN stays NaN).

    With the m finite p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted value of the
    j-th is ``max_{i <= j} min(1, (m - i + 1) p_(i))``; rejecting where it is at most alpha
    keeps the familywise error rate at alpha under any dependence (R ``p.adjust(p, "holm")``).
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(stepped)
    return out


def _test_values(it: Item, values: np.ndarray) -> np.ndarray | None:
    """What the mean test of an ordered or numeric demographic averages (NaN when unknown):
    the 0..1 position of an ordinal variable, the value of a number; None for the others."""
    if it.type == "ordinal":
        return it.position(values)
    if it.type == "numeric":
        return np.where(np.isfinite(values), values, np.nan)
    return None


def demographic_tests(
    demo_df: pd.DataFrame,
    codebook: Codebook,
    frame: pd.DataFrame,
    resp: np.ndarray,
    design: SurveyDesign,
    options: dict,
    hidden: np.ndarray | None = None,
    ordered: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each segment against the sample on every reported demographic cell and mean.

    Categories are those of ``demo_df`` that are reported (not suppressed; quartile groups of
    an unbanded number are described by the mean instead and not tested). All contrasts are
    estimated in one pass of ``design.ratio`` (:func:`_contrasts`) so each uses the covariance
    of the segment's and the sample's estimate; p-values are Holm-adjusted over the table.
    """
    contrasts: tuple[list[np.ndarray], list[np.ndarray], list[tuple[int, int | None]], list] = (
        [],
        [],
        [],
        [],
    )
    reported = (
        demo_df.assign(shown=demo_df["share"].notna() & demo_df["sample_share"].notna())
        .set_index(["segment", "variable", "category"])["shown"]
        .to_dict()
        if len(demo_df)
        else {}
    )
    w = design.weights
    k = resp.shape[1]
    small = resp.sum(axis=0) < 1  # no respondent at all: nothing to test
    if hidden is not None:
        small = small | np.asarray(hidden, dtype=bool)
    for it in codebook.demographic_items:
        if it.column not in frame.columns:
            continue
        values = frame[it.column].to_numpy(dtype=float)
        cats = _categories(it, values) if (it.is_categorical or it.bands) else None
        known = np.zeros(len(values), dtype=bool)
        for _, m in cats or []:
            known |= m
        for name, mask in cats or []:
            p_all = float(w @ mask / (w @ known)) if (w @ known) > 0 else np.nan
            segments = [
                s for s in range(k) if not small[s] and reported.get((s, it.column, name), False)
            ]
            row = {
                "variable": it.column,
                "kind": "category",
                "category": name,
                "sample": p_all,
                "sample_sd": np.sqrt(p_all * (1 - p_all)),
            }
            _add_contrasts(contrasts, mask.astype(float), known.astype(float), resp, segments, row)
        x = _test_values(it, values)
        if x is None or it.type == "nominal":
            continue
        known = np.isfinite(x)
        if (w @ known) <= 0:
            continue
        xv = np.where(known, x, 0.0)
        mean = float(w @ xv / (w @ known))
        sd = float(np.sqrt((w * known) @ (xv - mean) ** 2 / (w @ known)))
        respondents = resp.T @ known
        segments = [s for s in range(k) if respondents[s] >= 1 and not small[s]]
        if it.type == "ordinal" and ordered is not None and len(ordered):
            # a mean withheld beside its composition (publishable_means) is not tested
            mine = ordered[ordered["variable"] == it.column].set_index("segment")
            if mine.empty or not np.isfinite(mine["sample_position"].iloc[0]):
                continue
            segments = [s for s in segments if np.isfinite(mine["position"].get(s, np.nan))]
        row = {
            "variable": it.column,
            "kind": "mean",
            "category": None,
            "sample": mean,
            "sample_sd": sd,
        }
        _add_contrasts(contrasts, xv, known.astype(float), resp, segments, row)
    Y, X, pairs, rows = contrasts
    out = pd.DataFrame(rows, columns=DEMOGRAPHIC_TEST_COLUMNS)
    if not pairs:
        return out
    diff, se, _ = _contrasts(design, Y, X, pairs, options)
    out["difference"] = diff
    out["estimate"] = out["sample"].to_numpy(dtype=float) + diff
    out["se"] = se
    with np.errstate(divide="ignore", invalid="ignore"):
        out["p_value"] = np.where(se > 0, 2 * norm.sf(np.abs(diff) / se), np.nan)
    out["p_adjusted"] = holm_adjust(out["p_value"].to_numpy(dtype=float))
    return out


def _add_contrasts(contrasts, y, x, resp, segments, row: dict) -> None:
    """Append to ``contrasts`` (numerators, denominators, pairs, table rows) the sample ratio
    ``sum w y / sum w x`` and, for each of ``segments``, the segment's membership-weighted
    ratio paired with it, with one table row (``row`` and the segment) per pair."""
    Y, X, pairs, rows = contrasts
    sample = len(Y)
    Y.append(y)
    X.append(x)
    for s in segments:
        pairs.append((len(Y), sample))
        Y.append(resp[:, s] * y)
        X.append(resp[:, s] * x)
        rows.append({"segment": s, **row})


def _categories(it: Item, values: np.ndarray):
    """``[(name, mask), ...]`` of a banded or categorical demographic, else None."""
    if it.bands:
        labels = it.band_labels(values)
        return [(b[2], labels == b[2]) for b in it.bands]
    if it.is_categorical:
        return [(lv.name or lv.label(), values == lv.code) for lv in it.levels]
    if it.type == "numeric":
        return _quartile_categories(values)
    return None


def _quartile_categories(values: np.ndarray):
    """Quartile groups of a numeric variable without ``bands:`` ("under 35", "35-49", ...,
    "65 and over"); only interior cut points (rounded to 3 significant digits unless the values
    are whole numbers) are printed, never the sample's extremes."""
    known = values[np.isfinite(values)]
    if known.size == 0:
        return None
    cuts = np.quantile(known, [0.25, 0.5, 0.75], method="lower")
    whole = bool(np.all(known == np.round(known)))
    if not whole:
        cuts = np.array([float(f"{c:.3g}") for c in cuts])
    cuts = np.unique(cuts)
    cuts = cuts[cuts > known.min()]
    if cuts.size == 0:
        return None

    def num(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"

    out = [(f"under {num(cuts[0])}", values < cuts[0])]
    for lo, hi in itertools.pairwise(cuts):
        if whole:
            label = num(lo) if hi - 1 == lo else f"{num(lo)}-{num(hi - 1)}"
        else:
            label = f"{num(lo)} to under {num(hi)}"
        out.append((label, (values >= lo) & (values < hi)))
    out.append((f"{num(cuts[-1])} and over", values >= cuts[-1]))
    return out


def _item_stats(
    it: Item,
    codes: np.ndarray,
    wr: np.ndarray,
    w: np.ndarray,
    min_cell: int,
    hidden: np.ndarray,
    protect: bool = True,
):
    """Item rows and answer-distribution rows of one item.

    The distribution is a profile table (:func:`protect_profile_table`): segments by answer
    codes, with the whole sample's distribution; a segment's published mean position is one
    more equation on its row. A hidden code gets no row; a hidden whole-sample cell has a NaN
    ``sample_share``; a don't-know share is published only when none of its cells is hidden.
    """
    k = wr.shape[1]
    resp = wr / np.where(w > 0, w, 1.0)[:, None]
    answered, dk, substantive, subst_pos = _substantive(it, codes)
    subst_codes = np.where(substantive, codes, 0.0)
    w_ans = w * answered
    sample_dk = float((w * dk).sum() / w_ans.sum()) if w_ans.sum() > 0 else np.nan
    sample_pos, sample_var, _ = _weighted_stats(subst_pos[substantive], w[substantive])
    sample_sd = np.sqrt(sample_var) if sample_var == sample_var else np.nan
    rows = []
    observed = np.unique(codes[answered])
    onehot = (codes[:, None] == observed[None, :]).astype(float)
    counts = resp.T @ onehot
    position = (
        it.position(observed.astype(float)) if it.type == "ordinal" else np.full(len(observed), 0)
    )
    is_substantive = (~np.isin(observed, it.dont_know_codes)) & np.isfinite(position)
    is_dk = np.isin(observed, it.dont_know_codes)
    sample_dist = {c: float((w * (codes == c)).sum() / w_ans.sum()) for c in observed}
    for s in range(k):
        ws = wr[:, s]
        n_ans = float((ws * answered).sum())
        suppressed = bool(hidden[s]) or float((resp[:, s] * answered).sum()) < min_cell
        row = {
            "segment": s,
            "item": it.column,
            "domain": it.domain,
            "weighted_n": np.nan if suppressed else n_ans,
            "mean_code": np.nan,
            "position": np.nan,
            "dont_know": np.nan,
            "sample_position": sample_pos,
            "sample_dont_know": sample_dk,
            "difference": np.nan,
            "effect_size": np.nan,
            "p_value": np.nan,
            "suppressed": suppressed,
        }
        if not suppressed:
            row["dont_know"] = float((ws * dk).sum() / n_ans)
            w_sub = ws * substantive
            if w_sub.sum() > 0 and it.type == "ordinal":
                row["mean_code"] = float(w_sub @ subst_codes / w_sub.sum())
                m_in, v_in, n_in = _weighted_stats(subst_pos[substantive], ws[substantive])
                rest = (w - ws)[substantive]
                m_out, v_out, n_out = _weighted_stats(subst_pos[substantive], rest)
                row["position"] = m_in
                row["difference"] = m_in - sample_pos
                row["effect_size"] = (m_in - sample_pos) / sample_sd if sample_sd > 0 else np.nan
                se = np.sqrt(v_in / max(n_in, 1e-12) + v_out / max(n_out, 1e-12))
                if se > 0 and n_in > 1 and n_out > 1:
                    row["p_value"] = float(2 * norm.sf(abs(m_in - m_out) / se))
        rows.append(row)
    means = [
        (r["segment"], np.where(is_substantive, np.nan_to_num(position) - r["position"], 0.0))
        for r in rows
        if np.isfinite(r["position"])
    ]
    if it.type == "ordinal" and np.isfinite(sample_pos):
        means.append((k, np.where(is_substantive, np.nan_to_num(position) - sample_pos, 0.0)))
    hide, hide_sample = protect_profile_table(
        counts, hidden, min_cell=min_cell, means=means, keep=is_dk, protect=protect
    )
    if hide_sample[is_dk].any():
        for r in rows:
            r["sample_dont_know"] = np.nan
    dists = []
    for s, row in enumerate(rows):
        if row["suppressed"]:
            continue
        if protect and hide[s, is_dk].any():
            row["dont_know"] = np.nan
        for j, c in enumerate(observed):
            if hide[s, j]:
                continue  # a small cell of the distribution, or its complement
            dists.append(
                {
                    "segment": s,
                    "item": it.column,
                    "code": c,
                    "label": it.label_of(c),
                    "kind": "dont_know" if c in it.dont_know_codes else "answer",
                    "share": float((wr[:, s] * (codes == c)).sum() / row["weighted_n"]),
                    "sample_share": np.nan if hide_sample[j] else sample_dist[c],
                }
            )
    return rows, dists


def _demographic_stats(
    it: Item,
    values: np.ndarray,
    wr: np.ndarray,
    w: np.ndarray,
    min_cell: int,
    hidden: np.ndarray,
    ordered: list[dict],
    protect: bool = True,
):
    """Composition rows of one demographic: a profile table (:func:`protect_profile_table`)
    of segments by categories with the whole sample's row, the published mean positions of an
    ordered variable (``ordered``, from :func:`ordered_positions`) counted as equations. A
    hidden segment cell has a NaN ``share``; a hidden whole-sample cell a NaN
    ``sample_share``."""
    cats = _categories(it, values)
    if cats is None:
        return []
    resp = wr / np.where(w > 0, w, 1.0)[:, None]
    known = np.zeros(len(values), dtype=bool)
    for _, mask in cats:
        known |= mask
    w_known = w * known
    masks = np.column_stack([mask for _, mask in cats]).astype(float)
    counts = resp.T @ masks
    k = wr.shape[1]
    segment_small = (resp.T @ known < min_cell) | np.asarray(hidden, dtype=bool)
    hide, hide_sample = protect_profile_table(
        counts, segment_small, min_cell=min_cell, protect=protect
    )
    positions = _category_positions(it, cats)
    if protect and positions is not None and ordered:
        coef = [
            (r["segment"], np.where(np.isfinite(positions), positions - r["position"], 0.0))
            for r in ordered
            if np.isfinite(r["position"])
        ]
        sample_m = ordered[0]["sample_position"]
        if np.isfinite(sample_m):
            coef.insert(0, (k, np.where(np.isfinite(positions), positions - sample_m, 0.0)))
        kept = publishable_means(counts, hide, hide_sample, segment_small, coef, min_cell=min_cell)
        for (row, _), ok in zip(coef, kept, strict=True):
            if ok:
                continue
            for r in ordered:  # the mean is withheld: its test is not printed either
                if row == k:
                    r["sample_position"] = np.nan
                elif r["segment"] == row:
                    r["position"] = np.nan
    rows = []
    for s in range(k):
        ws = wr[:, s] * known
        total = ws.sum()
        for j, (name, mask) in enumerate(cats):
            count = float(ws @ mask)
            sample = float(w_known @ mask / w_known.sum()) if w_known.sum() > 0 else np.nan
            sample = np.nan if hide_sample[j] else sample
            suppressed = bool(segment_small[s] or hide[s, j])
            share = np.nan if suppressed else count / total
            rows.append(
                {
                    "segment": s,
                    "variable": it.column,
                    "category": name,
                    "share": share,
                    "sample_share": sample,
                    "index": np.nan
                    if suppressed or not np.isfinite(sample) or not sample
                    else 100 * share / sample,
                    "weighted_n": np.nan if suppressed else count,
                    "suppressed": suppressed,
                }
            )
    return rows


def _category_positions(it: Item, cats) -> np.ndarray | None:
    """The 0..1 position of each category of an ordinal demographic (NaN for one without a
    place on the scale), as its printed mean averages them; None otherwise (a banded number's
    printed mean is of its values, not of its bands)."""
    if it.type == "ordinal" and not it.bands and it.is_categorical and len(cats) == len(it.levels):
        return np.array([float(it.position(np.array([float(lv.code)]))[0]) for lv in it.levels])
    return None


def ordered_positions(
    it: Item,
    values: np.ndarray,
    wr: np.ndarray,
    w: np.ndarray,
    min_cell: int,
    hidden: np.ndarray | None = None,
    protect: bool = True,
) -> list[dict]:
    """Mean position (0..1) of an ordered demographic in each segment and in the sample.

    A segment-level mean over all its respondents reveals no small cell by itself (the
    composition table counts it as an equation); segments under ``min_cell`` respondents, or
    withheld (``hidden``), get NaN.
    """
    if it.bands:
        labels = it.band_labels(values)
        pos = np.full(len(values), np.nan)
        for b, (_, _, label) in enumerate(it.bands):
            pos[labels == label] = b / max(len(it.bands) - 1, 1)
    elif it.type == "ordinal":
        pos = it.position(values)
    else:
        return []
    known = ~np.isnan(pos)
    p = np.where(known, pos, 0.0)
    resp = wr / np.where(w > 0, w, 1.0)[:, None]
    sample = float((w * known) @ p / (w * known).sum()) if (w * known).sum() > 0 else np.nan
    if protect and (w * known).sum() > 0 and known.sum() < min_cell:
        sample = np.nan
    rows = []
    for s in range(wr.shape[1]):
        ws = wr[:, s] * known
        small = float(resp[:, s] @ known) < min_cell or ws.sum() <= 0
        small = small or (hidden is not None and bool(hidden[s]))
        rows.append(
            {
                "segment": s,
                "variable": it.column,
                "position": np.nan if small else float(ws @ p / ws.sum()),
                "sample_position": sample,
            }
        )
    return rows
