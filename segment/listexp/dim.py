"""Difference-in-means estimator of the sensitive item's prevalence (Blair & Imai 2012,
Section 2.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from segment._util import z_critical
from segment.exceptions import InputError, Problem
from segment.weights.survey_design import SurveyDesign

from ._validate import _SOURCE, _as_1d, _check_list_data, _rows_problems

__all__ = ["DiMResult", "difference_in_means"]

_DIM_COLUMNS = [
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n_treat",
    "n_control",
    "mean_treat",
    "mean_control",
]
#: Extra columns of design-based results: SE of each arm mean and the design effect.
_DESIGN_COLUMNS = ["se_treat", "se_control", "deff"]


def _arm_mean_var(y: np.ndarray, w: np.ndarray | None) -> tuple[float, float, int]:
    """Mean and variance of the mean of one arm.

    Unweighted: ``mean(y)`` and ``s^2 / n`` (``ddof = 1``). Weighted: the Hajek mean
    ``sum(w y) / sum(w)`` and its Taylor-linearisation variance
    ``n / (n - 1) * sum(w^2 (y - ybar_w)^2) / sum(w)^2`` (with ``n`` the number of positive
    weights), which reduces to ``s^2 / n`` when every weight is equal.
    """
    if w is None:
        n = y.size
        m = float(y.mean())
        v = float(y.var(ddof=1)) / n if n > 1 else np.nan
        return m, v, n
    pos = w > 0
    n = int(pos.sum())
    sw = w.sum()
    m = float(np.dot(w, y) / sw)
    r = y - m
    v = float(n / (n - 1) * np.dot(w * w, r * r) / sw**2) if n > 1 else np.nan
    return m, v, n


def _dim_row(y, t, w) -> dict:
    wt = None if w is None else w[t]
    wc = None if w is None else w[~t]
    mt, vt, nt = _arm_mean_var(y[t], wt)
    mc, vc, nc = _arm_mean_var(y[~t], wc)
    return {
        "estimate": mt - mc,
        "se": math.sqrt(vt + vc),
        "n_treat": nt,
        "n_control": nc,
        "mean_treat": mt,
        "mean_control": mc,
        "se_treat": math.sqrt(vt) if vt == vt else np.nan,
        "se_control": math.sqrt(vc) if vc == vc else np.nan,
    }


def _design_rows(
    y, t, design: SurveyDesign, groups, n_groups: int, options: dict
) -> tuple[list[dict], np.ndarray]:
    """Arm means of every group as domains of one design, linearised (or bootstrapped) jointly.

    Domain ``2 g + arm`` holds group ``g``'s treated (arm 1) or control (arm 0) respondents;
    the difference of group ``g`` is the contrast ``theta[2g+1] - theta[2g]`` with variance
    ``c' V c`` from the joint covariance ``V``, and its design effect compares ``c' V c`` with
    the same contrast's variance under simple random sampling. Returns one row per group and
    the covariance matrix of the groups' differences.
    """
    arm = t.astype(np.int64)
    est = design.domain_means(y, groups * 2 + arm, **options)
    theta, cov = est.estimate, est.cov
    pos = design.weights > 0
    rows = []
    A = np.zeros((n_groups, 2 * n_groups))
    for g in range(n_groups):
        c = np.zeros(2 * n_groups)
        c[2 * g + 1], c[2 * g] = 1.0, -1.0
        A[g] = c
        diff = est.contrast(c.tolist())
        rows.append(
            {
                "estimate": diff.estimate,
                "se": diff.se,
                "n_treat": int((pos & t & (groups == g)).sum()),
                "n_control": int((pos & ~t & (groups == g)).sum()),
                "mean_treat": float(theta[2 * g + 1]),
                "mean_control": float(theta[2 * g]),
                "se_treat": float(np.sqrt(cov[2 * g + 1, 2 * g + 1])),
                "se_control": float(np.sqrt(cov[2 * g, 2 * g])),
                "deff": diff.deff,
            }
        )
    return rows, A @ cov @ A.T


@dataclass(frozen=True, eq=False)
class DiMResult:
    """Difference-in-means estimate of the sensitive item's prevalence.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : float
        Prevalence estimate, its standard error and the ``level`` normal confidence interval
        (whole sample).
    n_treat, n_control : int
        Respondents in each arm (with positive weight, when weighted).
    mean_treat, mean_control : float
        (Weighted) mean item count in each arm.
    J : int
        Number of control items.
    level : float
        Confidence level of the intervals.
    weighted : bool
        Whether survey weights were used.
    groups : DataFrame or None
        With ``by=``: one row per group, index ``group``, columns ``estimate, se, ci_low,
        ci_high, n_treat, n_control, mean_treat, mean_control``.
    differences : DataFrame or None
        With ``by=``: one row per pair of groups, columns ``group_a, group_b, difference`` (a
        minus b)``, se, z, p_value`` (two-sided z-test; groups are independent samples, or,
        with a design, domains of the same design with their covariance).
    se_treat, se_control : float
        Standard errors of the two arm means (design-based with a design).
    deff : float
        With a design: design effect of the estimate (NaN otherwise).
    design : str or None
        The design behind design-based standard errors (e.g. ``"linearization: 3 strata, 40
        PSUs, 400 respondents"``), or None. With a design, ``groups`` also has the columns
        ``se_treat, se_control, deff``.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n_treat: int
    n_control: int
    mean_treat: float
    mean_control: float
    J: int
    level: float = 0.95
    weighted: bool = False
    groups: pd.DataFrame | None = field(default=None, repr=False)
    differences: pd.DataFrame | None = field(default=None, repr=False)
    se_treat: float = float("nan")
    se_control: float = float("nan")
    deff: float = float("nan")
    design: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """Estimates as a DataFrame: the row ``"overall"`` then one row per group (if ``by=``).

        Columns ``estimate, se, ci_low, ci_high, n_treat, n_control, mean_treat, mean_control``
        and, with a design, ``se_treat, se_control, deff``.
        """
        columns = _DIM_COLUMNS + (_DESIGN_COLUMNS if self.design is not None else [])
        overall = pd.DataFrame(
            [{c: getattr(self, c) for c in columns}], index=pd.Index(["overall"], name="group")
        )
        if self.groups is None:
            return overall
        g = self.groups.copy()
        g.index = g.index.astype(object)
        return pd.concat([overall, g])

    def summary(self) -> str:
        """Readable text table of the estimates and, with ``by=``, the group differences."""
        pct = f"{self.level:.0%}"
        frame = self.to_frame()
        lines = [
            "Difference-in-means estimate of sensitive-item prevalence",
            f"J = {self.J} control items; {self._se_kind()}; {pct} normal CI",
            "",
            f"{'group':<16}{'estimate':>10}{'SE':>9}{'CI low':>9}{'CI high':>9}"
            f"{'n treat':>9}{'n ctrl':>8}{'mean T':>9}{'mean C':>9}",
        ]
        for name, r in frame.iterrows():
            lines.append(
                f"{str(name)[:15]:<16}{r.estimate:>10.4f}{r.se:>9.4f}{r.ci_low:>9.4f}{r.ci_high:>9.4f}"
                f"{int(r.n_treat):>9d}{int(r.n_control):>8d}{r.mean_treat:>9.3f}{r.mean_control:>9.3f}"
            )
        if self.differences is not None and len(self.differences):
            lines += [
                "",
                "Differences between groups (z-test)",
                f"{'group a':<16}{'group b':<16}{'diff':>9}{'SE':>9}{'z':>8}{'p':>9}",
            ]
            for _, r in self.differences.iterrows():
                lines.append(
                    f"{str(r.group_a)[:15]:<16}{str(r.group_b)[:15]:<16}{r.difference:>9.4f}{r.se:>9.4f}{r.z:>8.2f}{r.p_value:>9.4f}"
                )
        return "\n".join(lines)

    def _se_kind(self) -> str:
        if self.design is not None:
            return f"design-based SE ({self.design}; deff {self.deff:.2f})"
        return "weighted (linearised SE)" if self.weighted else "Neyman SE"

    def __str__(self) -> str:
        return self.summary()


def difference_in_means(
    y,
    treat,
    *,
    J: int | None = None,
    weights=None,
    by=None,
    level: float = 0.95,
    design: SurveyDesign | None = None,
    strata=None,
    psu=None,
    variance: str = "linearization",
    n_boot: int = 500,
    random_state=None,
) -> DiMResult:
    r"""Difference-in-means estimator of the sensitive item's prevalence.

    .. math::

        \hat\tau = \bar Y_{T=1} - \bar Y_{T=0}, \qquad
        \widehat{\mathrm{SE}} = \sqrt{s_1^2 / n_1 + s_0^2 / n_0}

    (Neyman standard error with sample variances, ``ddof = 1``). Under no design effect and no
    liars, :math:`\hat\tau` is unbiased for the proportion holding the sensitive trait (Blair &
    Imai 2012, Section 2.2; Imai 2011, eq. 1). The interval is :math:`\hat\tau \pm z\,\mathrm{SE}`.

    With survey ``weights`` each arm mean is the weighted (Hajek) mean
    :math:`\bar Y_w = \sum w_i Y_i / \sum w_i` and its variance is estimated by Taylor
    linearisation, :math:`\frac{n}{n-1} \sum w_i^2 (Y_i - \bar Y_w)^2 / (\sum w_i)^2`, treating
    respondents as independent draws (no strata or clusters). With equal weights this is exactly
    :math:`s^2/n`, so unit weights reproduce the unweighted Neyman SE.

    With a sampling ``design`` (or ``strata`` / ``psu`` arrays) the two arms are domains of the
    same stratified, clustered sample: both arm means are ratio estimators of the whole design,
    linearised jointly over PSUs within strata (:mod:`segment.weights.survey_design`), and the
    difference's variance is :math:`c^\top V c` with :math:`c = (1, -1)` and :math:`V` the arms'
    covariance matrix, which is not zero when the arms share PSUs (randomisation within PSUs
    makes it positive and the difference more precise than the arms). ``deff`` compares that
    variance with the Neyman variance of the same difference under simple random sampling. With
    ``by=`` every group's arms are domains of the same design, so the differences between groups
    also use their covariances.

    Parameters
    ----------
    y : array-like of int
        Item counts, ``0..J`` for control and ``0..J+1`` for treated respondents.
    treat : array-like
        Treatment indicator (0/1 or bool): 1 = the list included the sensitive item.
    J : int, optional
        Number of control items; inferred from the data when omitted.
    weights : array-like, optional
        Non-negative survey weights.
    by : array-like, optional
        Grouping labels: one estimate per group plus all pairwise differences between groups
        (difference, SE :math:`\sqrt{SE_a^2 + SE_b^2}`, z and two-sided p-value).
    level : float
        Confidence level.
    design : SurveyDesign, optional
        Sampling design of the respondents (one row per respondent, in the order of ``y``);
        its weights are the survey weights, so ``weights`` must then be omitted.
    strata, psu : array-like, optional
        Shortcut for ``design=SurveyDesign(weights, strata, psu)`` (single-PSU strata fail).
    variance : {"linearization", "bootstrap"}
        How a design-based variance is estimated.
    n_boot, random_state
        Bootstrap replicates and seed (``variance="bootstrap"``).

    Returns
    -------
    DiMResult

    Raises
    ------
    InputError
        Listing every bad value (column, 1-based row, value, expected).
    """
    what = "difference_in_means: invalid input"
    yf, t, J, w = _check_list_data(y, treat, J, weights, what=what)
    z = z_critical(level)
    design = _resolve_design(design, strata, psu, weights, w, yf.size, what)
    options = {"method": variance, "n_boot": n_boot, "random_state": random_state}
    if design is not None:
        w = np.asarray(design.weights, dtype=float)
        _check_design_arms(t, w, what)
        rows, _ = _design_rows(yf, t, design, np.zeros(yf.size, np.int64), 1, options)
        row = rows[0]
    else:
        row = _dim_row(yf, t, w)
    groups = diffs = None
    if by is not None:
        labels, codes = _group_codes(by, yf.size, t, w, what)
        groups, diffs = _group_tables(yf, t, w, labels, codes, design, options, z)
    return DiMResult(
        estimate=row["estimate"],
        se=row["se"],
        ci_low=row["estimate"] - z * row["se"],
        ci_high=row["estimate"] + z * row["se"],
        n_treat=row["n_treat"],
        n_control=row["n_control"],
        mean_treat=row["mean_treat"],
        mean_control=row["mean_control"],
        J=J,
        level=level,
        weighted=w is not None,
        groups=groups,
        differences=diffs,
        se_treat=row["se_treat"],
        se_control=row["se_control"],
        deff=row.get("deff", float("nan")),
        design=None if design is None else f"{variance}: {design.describe()}",
    )


def _check_design_arms(t: np.ndarray, w: np.ndarray, what: str) -> None:
    """InputError unless both arms have at least 2 respondents with a positive design weight."""
    pos = w > 0
    for arm, name in ((t, "treated"), (~t, "control")):
        if int((arm & pos).sum()) < 2:
            raise InputError(
                what,
                [
                    Problem(
                        _SOURCE,
                        "treat",
                        f"fewer than 2 {name} respondents with a positive weight",
                    )
                ],
            )


def _group_codes(by, n: int, t: np.ndarray, w: np.ndarray | None, what: str):
    """The sorted group labels of ``by`` and each respondent's group code, checked: one label
    per respondent, none missing, and at least 2 respondents in each arm of every group."""
    problems: list[Problem] = []
    b = _as_1d(by, "by", problems)
    if b is not None and b.size != n:
        problems.append(
            Problem(
                _SOURCE,
                "by",
                f"has {b.size} values but y has {n}; expected one per respondent",
            )
        )
    if b is not None and not problems:
        miss = pd.isna(b)
        if miss.any():
            problems.extend(_rows_problems("by", miss, b, "missing group label"))
    if problems or b is None:  # b is None only with a problem reported
        raise InputError(what, problems)
    labels, codes = np.unique(b, return_inverse=True)
    pos = np.ones(n, bool) if w is None else w > 0
    counts_t = np.bincount(codes[t & pos], minlength=labels.size)
    counts_c = np.bincount(codes[~t & pos], minlength=labels.size)
    for k, lab in enumerate(labels):
        for cnt, arm in ((counts_t[k], "treated"), (counts_c[k], "control")):
            if cnt < 2:
                problems.append(
                    Problem(
                        _SOURCE,
                        "by",
                        f"group {lab!r} has {cnt} {arm} respondents; "
                        "expected at least 2 in each arm",
                        value=lab,
                    )
                )
    if problems:
        raise InputError(what, problems)
    return labels, codes


def _group_tables(
    yf, t, w, labels, codes, design: SurveyDesign | None, options: dict, z: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The estimate of every group (``groups``) and the differences between them."""
    cov_groups = None
    if design is not None:
        rows, cov_groups = _design_rows(yf, t, design, codes, labels.size, options)
    else:
        rows = []
        for k in range(labels.size):
            m = codes == k
            rows.append(_dim_row(yf[m], t[m], None if w is None else w[m]))
    groups = pd.DataFrame(rows, index=pd.Index(labels, name="group"))
    groups["ci_low"] = groups["estimate"] - z * groups["se"]
    groups["ci_high"] = groups["estimate"] + z * groups["se"]
    groups = groups[_DIM_COLUMNS + (_DESIGN_COLUMNS if design is not None else [])]
    return groups, _group_differences(groups, labels, cov_groups)


def _group_differences(
    groups: pd.DataFrame, labels: np.ndarray, cov_groups: np.ndarray | None
) -> pd.DataFrame:
    """Every pair of groups: difference (a minus b), SE, z and two-sided p-value; with a design
    (``cov_groups``, the covariance of the groups' estimates) the SE uses their covariance."""
    ia, ib = np.triu_indices(labels.size, k=1)
    est = groups["estimate"].to_numpy()
    se = groups["se"].to_numpy()
    d = est[ia] - est[ib]
    if cov_groups is not None:
        dvar = cov_groups[ia, ia] + cov_groups[ib, ib] - 2 * cov_groups[ia, ib]
        dse = np.sqrt(np.clip(dvar, 0.0, None))
    else:
        dse = np.sqrt(se[ia] ** 2 + se[ib] ** 2)
    zz = d / dse
    return pd.DataFrame(
        {
            "group_a": labels[ia],
            "group_b": labels[ib],
            "difference": d,
            "se": dse,
            "z": zz,
            "p_value": 2 * stats.norm.sf(np.abs(zz)),
        }
    )


def _resolve_design(design, strata, psu, weights, w, n: int, what: str) -> SurveyDesign | None:
    """The design of ``difference_in_means``: given, built from strata/psu arrays, or None."""
    if design is None and strata is None and psu is None:
        return None
    problems = []
    if design is not None and (strata is not None or psu is not None):
        problems.append(Problem(_SOURCE, "design", "give design= or strata=/psu=, not both"))
    if design is not None and weights is not None:
        problems.append(
            Problem(_SOURCE, "weights", "a design carries its own weights; omit weights=")
        )
    if design is not None and not isinstance(design, SurveyDesign):
        problems.append(
            Problem(_SOURCE, "design", f"expected a SurveyDesign, got {type(design).__name__}")
        )
    elif design is not None and design.n != n:
        problems.append(
            Problem(
                _SOURCE,
                "design",
                f"has {design.n} respondents but y has {n}; expected one per respondent",
            )
        )
    if problems:
        raise InputError(what, problems)
    if design is None:
        design = SurveyDesign(weights=w, strata=strata, psu=psu, n=n)
    return design
