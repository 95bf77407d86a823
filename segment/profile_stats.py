"""Weighted profile statistics of fitted segments.

Membership is fractional: respondent i belongs to segment k with its posterior probability
``r_ik`` (proportional assignment), so profiles are not attenuated by assigning everyone to their
most likely segment. With survey weights ``w_i``, segment k's weighted count of an event is
``sum_i w_i r_ik [event]``.

- **Shares** ``p_k = sum_i w_i r_ik / sum_i w_i`` with a linearisation standard error
  ``sqrt(sum_i w_i^2 (r_ik - p_k)^2) / sum_i w_i`` (with-replacement approximation) and a 95%
  interval on the logit scale. When the sample is stratified and clustered (the codebook's
  ``design:`` block, or a ``design=`` :class:`~segment.design.SurveyDesign`), the standard error
  is design-based instead: linearisation over PSUs within strata (or the Rao-Wu bootstrap,
  ``variance="bootstrap"``), with a ``deff`` column (design variance over the variance under
  simple random sampling of as many respondents, R ``survey``'s ``deff = "replace"``).
  Treating every respondent as its own PSU in one stratum gives the simple standard error
  times ``sqrt(n / (n - 1))``.
- **Items**: answer distribution, mean code and mean position on the item's 0..1 "more" scale
  (substantive answers), don't-know share (of answers), and the contrast with the whole sample:
  difference in mean position, standardised effect size (difference / sample SD of positions,
  Cohen's d), and a Welch z-test of the segment against the rest of the sample with Kish
  effective sizes; p-values are adjusted for the number of tests with Benjamini & Hochberg's
  (1995) false discovery rate.
- **Demographics**: composition of each segment and an index against the sample
  (100 = as in the sample; "More women" = the index of women above 100).

The tests are descriptive: segments were formed from these same items, so they differ on them
by construction and small p-values there are no evidence of anything beyond the segmentation
(they also treat memberships as known). Items the model did not use are the honest test case.

Cells describing fewer than ``min_cell`` respondents are suppressed (statistics and counts NaN,
``suppressed`` True). The count is of respondents (``sum_i r_ik`` over those in the cell,
unweighted), not of weighted respondents, so heavy weights cannot reveal a small cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, norm

from .codebook import Codebook, Item
from .design import SurveyDesign
from .summary import MIN_CELL_SIZE

__all__ = ["SegmentProfiles", "profile_segments"]

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
        sample_dont_know, difference, effect_size, p_value, p_adjusted, suppressed``.
    distributions : DataFrame
        ``segment, item, code, label, kind (answer / dont_know), share, sample_share``.
    demographics : DataFrame
        ``segment, variable, category, share, sample_share, index, weighted_n, suppressed``.
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
    design: str | None = None
    """The design behind the shares' standard errors (e.g. ``"linearization: 3 strata, 45
    PSUs, ..."``), or None for the simple with-replacement formula."""


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
        Sampling design for design-based standard errors of the shares. Default: the
        codebook's ``design:`` (strata, PSU, fpc columns) when it declares one, else none. Its
        weights are replaced by the weights used here (``sample_weight`` or the codebook's).
    variance : {"linearization", "bootstrap"}
        How a design-based variance is estimated (see :mod:`segment.design`).
    n_boot, random_state
        Bootstrap replicates and seed (``variance="bootstrap"``).

    Raises
    ------
    DataError
        When the design columns have problems (a PSU in two strata, a single-PSU stratum ...).
    """
    resp = np.asarray(resp, dtype=float)
    n, k = resp.shape
    if len(frame) != n:
        raise ValueError(f"resp has {n} rows but the data have {len(frame)}")
    if sample_weight is None:
        w = frame[codebook.weight].to_numpy(dtype=float) if codebook.weight else np.ones(n)
    else:
        w = np.asarray(sample_weight, dtype=float)
    w = w / w.mean()
    wr = w[:, None] * resp
    if design is None:
        design = codebook.survey_design(frame, weights=w)
    elif design.n != n:
        raise ValueError(f"design has {design.n} respondents but the data have {n}")
    elif not np.array_equal(design.weights / design.weights.mean(), w):
        design = design.with_weights(w)
    shares = _shares(resp, w, min_cell)
    described = None
    if design is not None:
        est = design.mean(resp, method=variance, n_boot=n_boot, random_state=random_state)
        shares = _design_shares(shares, est)
        described = f"{variance}: {design.describe()}"
    names = items if items is not None else [it.column for it in codebook.attitude_items]
    item_rows, dist_rows = [], []
    for col in names:
        it = codebook[col]
        codes = codebook.model_codes(frame, [col])[col].to_numpy()
        rows, dists = _item_stats(it, codes, wr, w, min_cell)
        item_rows += rows
        dist_rows += dists
    items_df = pd.DataFrame(item_rows)
    if len(items_df):
        tested = items_df["p_value"].notna()
        items_df["p_adjusted"] = np.nan
        if tested.any():
            items_df.loc[tested, "p_adjusted"] = false_discovery_control(
                items_df.loc[tested, "p_value"].to_numpy()
            )
    demo_rows, ordered_rows = [], []
    for it in codebook.demographic_items:
        if it.column in frame.columns:
            values = frame[it.column].to_numpy(dtype=float)
            demo_rows += _demographic_stats(it, values, wr, w, min_cell)
            ordered_rows += ordered_positions(it, values, wr, w, min_cell)
    return SegmentProfiles(
        shares=shares,
        items=items_df,
        distributions=pd.DataFrame(dist_rows),
        demographics=pd.DataFrame(demo_rows),
        ordered=pd.DataFrame(
            ordered_rows, columns=["segment", "variable", "position", "sample_position"]
        ),
        n_segments=k,
        min_cell=min_cell,
        design=described,
    )


def _shares(resp: np.ndarray, w: np.ndarray, min_cell: int) -> pd.DataFrame:
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
    suppressed = respondents < min_cell
    return pd.DataFrame(
        {
            "segment": np.arange(len(p)),
            "share": np.where(suppressed, np.nan, p),
            "se": np.where(suppressed, np.nan, se),
            "ci_low": np.where(suppressed, np.nan, low),
            "ci_high": np.where(suppressed, np.nan, high),
            "weighted_n": np.where(suppressed, np.nan, wr.sum(axis=0)),
            "suppressed": suppressed,
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


def _item_stats(it: Item, codes: np.ndarray, wr: np.ndarray, w: np.ndarray, min_cell: int):
    k = wr.shape[1]
    resp = wr / np.where(w > 0, w, 1.0)[:, None]
    answered = ~np.isnan(codes)
    dk = np.isin(codes, it.dont_know_codes) & answered
    position = it.position(codes) if it.type == "ordinal" else np.full(len(codes), np.nan)
    substantive = answered & ~dk & ~np.isnan(position)
    subst_codes = np.where(substantive, codes, 0.0)
    subst_pos = np.where(substantive, position, 0.0)
    w_ans = w * answered
    sample_dk = float((w * dk).sum() / w_ans.sum()) if w_ans.sum() > 0 else np.nan
    sample_pos, sample_var, _ = _weighted_stats(subst_pos[substantive], w[substantive])
    sample_sd = np.sqrt(sample_var) if sample_var == sample_var else np.nan
    rows, dists = [], []
    observed = np.unique(codes[answered])
    sample_dist = {c: float((w * (codes == c)).sum() / w_ans.sum()) for c in observed}
    for s in range(k):
        ws = wr[:, s]
        n_ans = float((ws * answered).sum())
        suppressed = float((resp[:, s] * answered).sum()) < min_cell
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
            for c in observed:
                if float((resp[:, s] * (codes == c)).sum()) < min_cell:
                    continue  # a small cell of the distribution is not reported
                share = float((ws * (codes == c)).sum() / n_ans)
                dists.append(
                    {
                        "segment": s,
                        "item": it.column,
                        "code": c,
                        "label": it.label_of(c),
                        "kind": "dont_know" if c in it.dont_know_codes else "answer",
                        "share": share,
                        "sample_share": sample_dist[c],
                    }
                )
        rows.append(row)
    return rows, dists


def _demographic_stats(it: Item, values: np.ndarray, wr: np.ndarray, w: np.ndarray, min_cell: int):
    if it.bands:
        labels = it.band_labels(values)
        cats = [(b[2], labels == b[2]) for b in it.bands]
    elif it.is_categorical:
        cats = [(lv.name or lv.label(), values == lv.code) for lv in it.levels]
    else:
        return []
    resp = wr / np.where(w > 0, w, 1.0)[:, None]
    known = np.zeros(len(values), dtype=bool)
    for _, mask in cats:
        known |= mask
    w_known = w * known
    rows = []
    for s in range(wr.shape[1]):
        ws = wr[:, s] * known
        total = ws.sum()
        segment_small = float((resp[:, s] * known).sum()) < min_cell
        for name, mask in cats:
            count = float(ws @ mask)
            sample = float(w_known @ mask / w_known.sum()) if w_known.sum() > 0 else np.nan
            suppressed = segment_small or float(resp[:, s] @ mask) < min_cell
            share = np.nan if suppressed else count / total
            rows.append(
                {
                    "segment": s,
                    "variable": it.column,
                    "category": name,
                    "share": share,
                    "sample_share": sample,
                    "index": np.nan if suppressed or not sample else 100 * share / sample,
                    "weighted_n": np.nan if suppressed else count,
                    "suppressed": suppressed,
                }
            )
    return rows


def ordered_positions(
    it: Item, values: np.ndarray, wr: np.ndarray, w: np.ndarray, min_cell: int
) -> list[dict]:
    """Mean position (0..1) of an ordered demographic in each segment and in the sample.

    A segment-level mean over all its respondents reveals no small cell; segments under
    ``min_cell`` respondents get NaN.
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
    rows = []
    for s in range(wr.shape[1]):
        ws = wr[:, s] * known
        small = float(resp[:, s] @ known) < min_cell or ws.sum() <= 0
        rows.append(
            {
                "segment": s,
                "variable": it.column,
                "position": np.nan if small else float(ws @ p / ws.sum()),
                "sample_position": sample,
            }
        )
    return rows
