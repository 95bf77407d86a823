"""Estimates by subgroup, with disclosure control and the flag rule.

The layout of Table 1 of Jones & Smyth (2022), PONARS Eurasia Policy Memo 806. Every row has
the difference in means (design-based, unbiased, not bounded), the constrained ML estimate of
:mod:`.bounded` (in [0, 1] by construction, profile-likelihood interval), and the headline of
:func:`.flags.headline`: the difference in means when it is inside [0, 1] (its interval
intersected with [0, 1]), else the bounded estimate, with the reason of :func:`.flags.dim_flag`.

Every row goes through :mod:`.disclose`: a row (the whole sample or a group) is published only
when each of its arms has at least ``min_cell`` respondents and no withheld group can be
recovered from the published ones by subtraction; published values are rounded to the
precision their standard errors support.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from segment.disclosure import MIN_CELL_SIZE

from .bounded import bounded_prevalence
from .dim import difference_in_means
from .disclose import MISSING, arm_reason, protect_groups, publish_difference, publish_row
from .flags import clip_share, dim_flag, headline

__all__ = ["ROW_FIELDS", "overall_row", "subgroup_table"]

#: The fields of a reported row (overall or group), beside ``variable, group, suppressed``.
ROW_FIELDS = (
    "n",
    "control",
    "treatment",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "bounded",
    "bounded_ci_low",
    "bounded_ci_high",
    "flag",
    "headline",
    "headline_ci_low",
    "headline_ci_high",
    "headline_method",
)


def _fields(n, control, treatment, est, se, lo, hi, J, b_est, b_lo, b_hi) -> dict:
    """One reported row: the difference in means (its interval intersected with [0, 1]), the
    bounded estimate, the flag and the headline."""
    h, h_lo, h_hi, how = headline(est, lo, hi, b_est, b_lo, b_hi)
    return {
        "n": n,
        "control": control,
        "treatment": treatment,
        "estimate": est,
        "se": se,
        "ci_low": clip_share(lo),
        "ci_high": clip_share(hi),
        "bounded": b_est,
        "bounded_ci_low": b_lo,
        "bounded_ci_high": b_hi,
        "flag": dim_flag(est, n=n, mean_control=control, mean_treat=treatment, J=J, se=se),
        "headline": h,
        "headline_ci_low": h_lo,
        "headline_ci_high": h_hi,
        "headline_method": how,
    }


def overall_row(
    y: np.ndarray,
    treat: np.ndarray,
    *,
    J: int,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    psu: np.ndarray | None = None,
    variance: str = "linearization",
    random_state=None,
    min_cell: int = MIN_CELL_SIZE,
) -> dict:
    """The whole sample as a reported row (:data:`ROW_FIELDS`, plus ``deff`` and ``design``
    with a design, ``suppressed`` and ``withheld``).

    When an arm has fewer than ``min_cell`` respondents (with positive weight), every field is
    None, ``suppressed`` is True and ``withheld`` says why; otherwise the fields are rounded
    to published precision (:func:`.disclose.publish_row`) and ``withheld`` is None.
    """
    t = np.asarray(treat, dtype=float)
    pos = np.ones(t.shape, dtype=bool) if weights is None else np.asarray(weights) > 0
    reason = arm_reason(int(((t == 0) & pos).sum()), int(((t == 1) & pos).sum()), min_cell)
    if reason is not None:
        return {**dict.fromkeys(ROW_FIELDS), "suppressed": True, "withheld": reason}
    design = {}
    if strata is not None or psu is not None:
        design = {"strata": strata, "psu": psu, "variance": variance, "random_state": random_state}
    r = difference_in_means(y, treat, J=J, weights=weights, **design)
    deff = r.deff if design and np.isfinite(r.deff) and r.deff > 0 else 1.0
    b = bounded_prevalence(y, treat, J=J, weights=weights, scale=1.0 / deff)
    row = _fields(
        r.n_treat + r.n_control,
        r.mean_control,
        r.mean_treat,
        r.estimate,
        r.se,
        r.ci_low,
        r.ci_high,
        J,
        b.estimate,
        b.ci_low,
        b.ci_high,
    )
    if r.design is not None:
        row["deff"], row["design"] = r.deff, r.design
    row = publish_row(row, se_control=r.se_control, se_treatment=r.se_treat)
    return {**row, "suppressed": False, "withheld": None}


def _arm_se(y: np.ndarray, weights: np.ndarray | None, inside: np.ndarray) -> float:
    """Linearised standard error of the (weighted) mean of ``y`` over ``inside`` (for the
    precision of a published mean count only)."""
    w = np.ones(int(inside.sum())) if weights is None else np.asarray(weights, float)[inside]
    v = np.asarray(y, dtype=float)[inside]
    total = w.sum()
    if total <= 0:
        return float("nan")
    mean = w @ v / total
    return float(np.sqrt(np.sum(w**2 * (v - mean) ** 2)) / total)


def _rows(result, bounded, variable: str, J: int, arm_se: dict) -> list[dict]:
    """The published rows of ``variable`` (every group of ``result``), at published
    precision."""
    rows = []
    b = bounded.groups
    for group, g in result.groups.iterrows():
        n = int(g["n_treat"] + g["n_control"])
        row: dict = {"variable": variable, "group": str(group)}
        row.update(
            _fields(
                n,
                float(g["mean_control"]),
                float(g["mean_treat"]),
                float(g["estimate"]),
                float(g["se"]),
                float(g["ci_low"]),
                float(g["ci_high"]),
                J,
                float(b.loc[group, "estimate"]),
                float(b.loc[group, "ci_low"]),
                float(b.loc[group, "ci_high"]),
            )
        )
        se_c, se_t = arm_se[str(group)]
        row = publish_row(row, se_control=se_c, se_treatment=se_t)
        row["suppressed"], row["withheld"] = False, None
        rows.append(row)
    return rows


def _design_args(strata, psu, inside, variance, random_state) -> dict:
    if strata is None and psu is None:
        return {}
    return {
        "strata": None if strata is None else strata[inside],
        "psu": None if psu is None else psu[inside],
        "variance": variance,
        "random_state": random_state,
    }


def subgroup_table(
    y: np.ndarray,
    treat: np.ndarray,
    by: Mapping[str, np.ndarray],
    *,
    J: int,
    weights: np.ndarray | None = None,
    min_cell: int = MIN_CELL_SIZE,
    strata: np.ndarray | None = None,
    psu: np.ndarray | None = None,
    variance: str = "linearization",
    random_state=None,
) -> tuple[list[dict], list[dict]]:
    """Difference in means within the groups of each variable of ``by``, and between them.

    Disclosure control (:mod:`.disclose`): a group is described only when each of its arms
    has at least ``min_cell`` respondents (and two) and it is not needed as a complement to
    protect a withheld group, or the respondents with a missing label, from subtraction; the
    others are named with the reason. Published values are rounded to the precision their
    standard errors support. Differences are reported only between published groups.

    Parameters
    ----------
    y, treat : arrays
        Item counts and 0/1 treatment indicator.
    by : mapping of variable name -> labels (array of str, None/NaN = missing)
    J : int
        Number of control items.
    weights : array, optional
    min_cell : int
    strata, psu : arrays, optional
        Sampling design: design-based standard errors (see
        :func:`segment.listexp.difference_in_means`); groups are domains of the design.
    variance : {"linearization", "bootstrap"}
    random_state : int, optional
        Seed of the PSU bootstrap.

    Returns
    -------
    groups : list of dict
        ``variable, group, suppressed`` and :data:`ROW_FIELDS`: ``n, control, treatment``, the
        difference in means ``estimate, se`` with ``ci_low, ci_high`` (its normal interval
        intersected with [0, 1]), the constrained ML ``bounded, bounded_ci_low,
        bounded_ci_high`` (profile likelihood; scaled by one over the design effect with a
        design), ``flag`` (why the difference in means is outside [0, 1], else None) and the
        ``headline, headline_ci_low, headline_ci_high, headline_method`` (``"dim"`` or
        ``"bounded"``). All None when suppressed; ``withheld`` then says why (else None).
    differences : list of dict
        ``variable, group_a, group_b, difference, se, z, p_value`` (see
        :func:`segment.listexp.difference_in_means`).
    """
    groups: list[dict] = []
    differences: list[dict] = []
    labelled = {
        name: np.array([MISSING if v is None or v != v else str(v) for v in raw], dtype=object)
        for name, raw in by.items()
    }
    reasons = protect_groups(treat, labelled, min_cell=min_cell, weights=weights)
    t = np.asarray(treat, dtype=float)
    for name, labels in labelled.items():
        keep = [g for g, why in reasons[name].items() if why is None]
        res, rows = None, []
        if keep:
            inside = np.isin(labels, keep)
            w_in = None if weights is None else weights[inside]
            res = difference_in_means(
                y[inside],
                treat[inside],
                J=J,
                weights=w_in,
                by=labels[inside],
                **_design_args(strata, psu, inside, variance, random_state),
            )
            assert res.groups is not None
            scale: float | np.ndarray = 1.0
            if "deff" in res.groups:
                deff = res.groups["deff"].to_numpy(dtype=float)
                scale = np.where(np.isfinite(deff) & (deff > 0), 1.0 / deff, 1.0)
            bounded = bounded_prevalence(
                y[inside], treat[inside], J=J, weights=w_in, by=labels[inside], scale=scale
            )
            arm_se = {
                g: tuple(_arm_se(y, weights, (labels == g) & (t == a)) for a in (0, 1))
                for g in keep
            }
            rows = _rows(res, bounded, name, J, arm_se)
        rows += [
            {
                "variable": name,
                "group": g,
                **dict.fromkeys(ROW_FIELDS),
                "suppressed": True,
                "withheld": why,
            }
            for g, why in reasons[name].items()
            if why is not None
        ]
        groups += rows
        if res is not None and res.differences is not None:
            for d in res.differences.to_dict(orient="records"):
                differences.append(
                    {
                        "variable": name,
                        **publish_difference(
                            {k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()}
                        ),
                    }
                )
    return groups, differences
