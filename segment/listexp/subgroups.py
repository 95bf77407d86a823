"""Estimates by subgroup, with small-cell suppression and the flag rule.

The layout of Table 1 of Jones & Smyth (2022), PONARS Eurasia Policy Memo 806. Every row has
the difference in means (design-based, unbiased, not bounded), the constrained ML estimate of
:mod:`.bounded` (in [0, 1] by construction, profile-likelihood interval), and the headline of
:func:`.flags.headline`: the difference in means when it is inside [0, 1] (its interval
intersected with [0, 1]), else the bounded estimate, with the reason of :func:`.flags.dim_flag`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .bounded import bounded_prevalence
from .dim import difference_in_means
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
) -> dict:
    """The whole sample as a reported row (:data:`ROW_FIELDS`, plus ``deff`` and ``design``
    with a design)."""
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
    return row


def _rows(result, bounded, variable: str, min_cell: int, J: int) -> list[dict]:
    rows = []
    b = bounded.groups
    for group, g in result.groups.iterrows():
        n = int(g["n_treat"] + g["n_control"])
        small = n < min_cell
        row: dict = {"variable": variable, "group": str(group)}
        if small:
            row.update(dict.fromkeys(ROW_FIELDS))
        else:
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
        row["suppressed"] = small
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
    min_cell: int = 30,
    strata: np.ndarray | None = None,
    psu: np.ndarray | None = None,
    variance: str = "linearization",
    random_state=None,
) -> tuple[list[dict], list[dict]]:
    """Difference in means within the groups of each variable of ``by``, and between them.

    Groups with fewer than ``min_cell`` respondents (or fewer than two in an arm) are named but
    not described; missing labels are left out. Differences involving a suppressed group are
    not reported.

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
        ``"bounded"``). All None when suppressed.
    differences : list of dict
        ``variable, group_a, group_b, difference, se, z, p_value`` (see
        :func:`segment.listexp.difference_in_means`).
    """
    groups: list[dict] = []
    differences: list[dict] = []
    for name, raw in by.items():
        labels = np.array(
            ["(missing)" if v is None or v != v else str(v) for v in raw], dtype=object
        )
        names, counts = np.unique(labels, return_counts=True)
        keep = [
            g
            for g, c in zip(names, counts, strict=True)
            if g != "(missing)"
            and c >= min_cell
            and min(((labels == g) & (treat == 1)).sum(), ((labels == g) & (treat == 0)).sum()) >= 2
        ]
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
            rows = _rows(res, bounded, name, min_cell, J)
        rows += [
            {"variable": name, "group": str(g), **dict.fromkeys(ROW_FIELDS), "suppressed": True}
            for g in names
            if g not in keep and g != "(missing)"
        ]
        groups += rows
        if res is not None and res.differences is not None:
            small = {r["group"] for r in rows if r["suppressed"]}
            for d in res.differences.to_dict(orient="records"):
                if str(d["group_a"]) in small or str(d["group_b"]) in small:
                    continue
                differences.append(
                    {
                        "variable": name,
                        **{k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()},
                    }
                )
    return groups, differences
