"""Difference-in-means estimates by subgroup, with small-cell suppression.

The layout of Table 1 of Jones & Smyth (2022), PONARS Eurasia Policy Memo 806.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .dim import difference_in_means

__all__ = ["subgroup_table"]


def _rows(result, variable: str, min_cell: int) -> list[dict]:
    rows = []
    for group, g in result.groups.iterrows():
        n = int(g["n_treat"] + g["n_control"])
        small = n < min_cell
        rows.append(
            {
                "variable": variable,
                "group": str(group),
                "n": None if small else n,
                "control": None if small else float(g["mean_control"]),
                "treatment": None if small else float(g["mean_treat"]),
                "estimate": None if small else float(g["estimate"]),
                "se": None if small else float(g["se"]),
                "ci_low": None if small else float(g["ci_low"]),
                "ci_high": None if small else float(g["ci_high"]),
                "suppressed": small,
            }
        )
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
        ``variable, group, n, control, treatment, estimate, se, ci_low, ci_high, suppressed``.
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
            res = difference_in_means(
                y[inside],
                treat[inside],
                J=J,
                weights=None if weights is None else weights[inside],
                by=labels[inside],
                **_design_args(strata, psu, inside, variance, random_state),
            )
            rows = _rows(res, name, min_cell)
        rows += [
            {"variable": name, "group": str(g), "n": None, "suppressed": True}
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
