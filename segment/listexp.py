"""List-experiment (item count technique) estimators.

In a list experiment respondents are randomised to a control list of ``J`` non-sensitive items
or a treatment list of the same ``J`` items plus one sensitive item, and report only *how many*
items apply to them. This module implements the standard-design estimators, written from the
papers (no code was taken from the GPL R package ``list``):

* :func:`difference_in_means` -- the difference-in-means prevalence estimator with Neyman
  standard errors, survey weights and subgroup contrasts.
* :func:`ict_ml` -- the maximum likelihood multivariate regression of Imai (2011), constrained
  and unconstrained, fitted by EM with Newton acceleration; standard errors from the analytic
  observed information.
* :func:`predict_prevalence` -- the average predicted prevalence of the sensitive item from an
  :class:`ICTMLResult`, with a delta-method or simulation confidence interval.
* :func:`design_effect_test` -- the test for design effects of Blair & Imai (2012).

References
----------
Imai, K. (2011). Multivariate regression analysis for the item count technique. *Journal of the
American Statistical Association* 106(494): 407-416. doi:10.1198/jasa.2011.ap10415

Blair, G. & Imai, K. (2012). Statistical analysis of list experiments. *Political Analysis*
20(1): 47-77. doi:10.1093/pan/mpr048

Andrews, D. W. K. & Soares, G. (2010). Inference for parameters defined by moment inequalities
using generalized moment selection. *Econometrica* 78(1): 119-157.

Kudo, A. (1963). A multivariate analogue of the one-sided test. *Biometrika* 50: 403-418.

Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm.
*JRSS B* 44(2): 226-233.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .exceptions import InputError, Problem

__all__ = [
    "DesignEffectResult",
    "DiMResult",
    "ICTMLResult",
    "PrevalenceResult",
    "design_effect_test",
    "difference_in_means",
    "ict_ml",
    "predict_prevalence",
]

#: At most this many bad rows are listed per column and kind of problem; the rest are counted.
_MAX_ROWS_LISTED = 20
_SOURCE = "data"


# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------


def _rows_problems(where: str, bad: np.ndarray, values: np.ndarray, message: str) -> list[Problem]:
    """One Problem per bad row (1-based), the first ``_MAX_ROWS_LISTED`` of them, then a count."""
    idx = np.flatnonzero(bad)
    out = []
    for i in idx[:_MAX_ROWS_LISTED]:
        v = values[i]
        v = v.item() if hasattr(v, "item") else v
        out.append(Problem(_SOURCE, where, message, row=int(i) + 1, value=v))
    if idx.size > _MAX_ROWS_LISTED:
        out.append(
            Problem(_SOURCE, where, f"... and {idx.size - _MAX_ROWS_LISTED} more rows: {message}")
        )
    return out


def _as_1d(x, name: str, problems: list[Problem]) -> np.ndarray | None:
    if isinstance(x, (pd.Series, pd.Index)):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.ndim != 1:
        problems.append(
            Problem(_SOURCE, name, f"expected a one-dimensional array, got shape {arr.shape}")
        )
        return None
    return arr


def _numeric(arr: np.ndarray, name: str, problems: list[Problem]) -> np.ndarray | None:
    """Float copy of ``arr``; every non-numeric entry is reported."""
    if arr.dtype == bool:
        return arr.astype(float)
    if np.issubdtype(arr.dtype, np.number):
        return arr.astype(float)
    out = np.empty(arr.shape, dtype=float)
    bad = np.zeros(arr.shape, dtype=bool)
    for i, v in enumerate(arr):  # only reached for object/string input, not on the fast path
        if v is None:
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            bad[i] = True
            out[i] = np.nan
    if bad.any():
        problems.extend(_rows_problems(name, bad, arr, "not a number"))
        return None
    return out


def _check_list_data(y, treat, J, weights, *, what: str):
    """Validate a standard-design list experiment; raise InputError listing every problem.

    Returns ``(y, t, J, w)`` as float arrays (``t`` boolean, ``w`` None when no weights).
    """
    problems: list[Problem] = []
    y_arr = _as_1d(y, "y", problems)
    t_arr = _as_1d(treat, "treat", problems)
    w_arr = None if weights is None else _as_1d(weights, "weights", problems)
    if problems:
        raise InputError(what, problems)
    n = y_arr.size
    for name, arr in (("treat", t_arr), ("weights", w_arr)):
        if arr is not None and arr.size != n:
            problems.append(
                Problem(
                    _SOURCE,
                    name,
                    f"has {arr.size} values but y has {n}; expected one per respondent",
                )
            )
    if problems:
        raise InputError(what, problems)

    yf = _numeric(y_arr, "y", problems)
    # treat: booleans, 0/1 numbers or the strings TRUE/FALSE
    if t_arr.dtype == bool:
        tf = t_arr.astype(float)
    elif np.issubdtype(t_arr.dtype, np.number):
        tf = t_arr.astype(float)
    else:
        mapping = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}
        tf = np.array([mapping.get(str(v).strip().lower(), np.nan) for v in t_arr])
    bad_t = ~np.isin(tf, (0.0, 1.0))
    if bad_t.any():
        problems.extend(
            _rows_problems(
                "treat", bad_t, t_arr, "expected a binary treatment indicator: 0/1 or False/True"
            )
        )
    wf = None
    if w_arr is not None:
        wf = _numeric(w_arr, "weights", problems)
        if wf is not None:
            miss = ~np.isfinite(wf)
            if miss.any():
                problems.extend(
                    _rows_problems(
                        "weights",
                        miss,
                        w_arr,
                        "missing or infinite weight; expected a finite number >= 0",
                    )
                )
            neg = np.isfinite(wf) & (wf < 0)
            if neg.any():
                problems.extend(
                    _rows_problems("weights", neg, w_arr, "negative weight; expected a number >= 0")
                )
    if J is not None:
        if isinstance(J, bool) or not isinstance(J, (int, np.integer)) or J < 1:
            problems.append(
                Problem(
                    _SOURCE, "J", "expected a positive integer number of control items", value=J
                )
            )
            J = None
    if yf is not None:
        miss = ~np.isfinite(yf)
        if miss.any():
            problems.extend(
                _rows_problems(
                    "y",
                    miss,
                    y_arr,
                    "missing item count; expected an integer count (drop incomplete rows first)",
                )
            )
        fin = np.isfinite(yf)
        nonint = fin & (yf != np.round(yf))
        if nonint.any():
            problems.extend(
                _rows_problems("y", nonint, y_arr, "expected a whole-number item count")
            )
        neg = fin & (yf < 0)
        if neg.any():
            problems.extend(
                _rows_problems("y", neg, y_arr, "negative item count; expected 0 or more")
            )
        if J is not None:  # rows with a bad treat value are reported under treat only
            over_c = fin & (tf == 0) & (yf > J)
            if over_c.any():
                problems.extend(
                    _rows_problems(
                        "y",
                        over_c,
                        y_arr,
                        f"control respondent's count exceeds J = {J}; expected 0..{J}",
                    )
                )
            over_t = fin & (tf == 1) & (yf > J + 1)
            if over_t.any():
                problems.extend(
                    _rows_problems(
                        "y",
                        over_t,
                        y_arr,
                        f"treated respondent's count exceeds J + 1 = {J + 1}; expected 0..{J + 1}",
                    )
                )
    if not bad_t.any():
        pos = np.ones(n, bool) if wf is None else np.nan_to_num(wf) > 0
        for arm, label in ((1.0, "treated (treat = 1)"), (0.0, "control (treat = 0)")):
            if not np.any((tf == arm) & pos):
                problems.append(
                    Problem(
                        _SOURCE,
                        "treat",
                        f"no {label} respondents{'' if wf is None else ' with positive weight'}; both arms need respondents",
                    )
                )
    if problems:
        raise InputError(what, problems)
    t = tf == 1.0
    if J is None:
        J = int(max(yf[~t].max(), yf[t].max() - 1, 1))
    return yf, t, int(J), wf


def _design(X, n: int | None, intercept: bool, what: str, names: list[str] | None = None):
    """Design matrix (float64, C-order) and column names; missing or constant columns are errors."""
    problems: list[Problem] = []
    if X is None:
        cols: list[str] = []
        M = np.empty((n or 0, 0))
    elif isinstance(X, pd.DataFrame):
        cols = [str(c) for c in X.columns]
        M = X.to_numpy(dtype=float)
    else:
        M = np.asarray(X, dtype=float)
        if M.ndim == 1:
            M = M[:, None]
        if M.ndim != 2:
            raise InputError(
                what,
                [Problem(_SOURCE, "X", f"expected a 2-D covariate matrix, got shape {M.shape}")],
            )
        cols = [f"x{j + 1}" for j in range(M.shape[1])]
    if n is not None and M.shape[0] != n:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "X",
                    f"has {M.shape[0]} rows but y has {n}; expected one per respondent",
                )
            ],
        )
    for j, c in enumerate(cols):
        bad = ~np.isfinite(M[:, j])
        if bad.any():
            problems.extend(
                _rows_problems(
                    f"X[{c}]",
                    bad,
                    M[:, j],
                    "missing or infinite covariate; expected a finite number",
                )
            )
    if intercept:
        if M.shape[0] > 0:
            with np.errstate(invalid="ignore"):
                lo = (
                    np.nanmin(np.where(np.isfinite(M), M, np.nan), axis=0)
                    if M.shape[1]
                    else np.array([])
                )
                hi = (
                    np.nanmax(np.where(np.isfinite(M), M, np.nan), axis=0)
                    if M.shape[1]
                    else np.array([])
                )
            for j in np.flatnonzero(lo == hi):
                problems.append(
                    Problem(
                        _SOURCE,
                        f"X[{cols[j]}]",
                        "constant column; an intercept is already added (pass intercept=False to supply your own)",
                    )
                )
        M = np.column_stack([np.ones(M.shape[0]), M])
        cols = ["(Intercept)", *cols]
    if problems:
        raise InputError(what, problems)
    return np.ascontiguousarray(M), cols


def _zcrit(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(
            "level",
            [
                Problem(
                    _SOURCE,
                    "level",
                    "expected a confidence level strictly between 0 and 1",
                    value=level,
                )
            ],
        )
    return float(stats.norm.ppf(0.5 + level / 2))


# --------------------------------------------------------------------------------------------
# difference in means
# --------------------------------------------------------------------------------------------

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
    }


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
        minus b)``, se, z, p_value`` (two-sided z-test; groups are independent samples).
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

    def to_frame(self) -> pd.DataFrame:
        """Estimates as a DataFrame: the row ``"overall"`` then one row per group (if ``by=``)."""
        overall = pd.DataFrame(
            [{c: getattr(self, c) for c in _DIM_COLUMNS}], index=pd.Index(["overall"], name="group")
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
            f"J = {self.J} control items; {'weighted (linearised SE)' if self.weighted else 'Neyman SE'}; {pct} normal CI",
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

    def __str__(self) -> str:
        return self.summary()


def difference_in_means(
    y, treat, *, J: int | None = None, weights=None, by=None, level: float = 0.95
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
    z = _zcrit(level)
    row = _dim_row(yf, t, w)
    groups = diffs = None
    if by is not None:
        problems: list[Problem] = []
        b = _as_1d(by, "by", problems)
        if b is not None and b.size != yf.size:
            problems.append(
                Problem(
                    _SOURCE,
                    "by",
                    f"has {b.size} values but y has {yf.size}; expected one per respondent",
                )
            )
        if b is not None and not problems:
            miss = pd.isna(b)
            if miss.any():
                problems.extend(_rows_problems("by", miss, b, "missing group label"))
        if problems:
            raise InputError(what, problems)
        labels, codes = np.unique(b, return_inverse=True)
        pos = np.ones(yf.size, bool) if w is None else w > 0
        counts_t = np.bincount(codes[t & pos], minlength=labels.size)
        counts_c = np.bincount(codes[~t & pos], minlength=labels.size)
        for k, lab in enumerate(labels):
            for cnt, arm in ((counts_t[k], "treated"), (counts_c[k], "control")):
                if cnt < 2:
                    problems.append(
                        Problem(
                            _SOURCE,
                            "by",
                            f"group {lab!r} has {cnt} {arm} respondents; expected at least 2 in each arm",
                            value=lab,
                        )
                    )
        if problems:
            raise InputError(what, problems)
        rows = []
        for k in range(labels.size):
            m = codes == k
            rows.append(_dim_row(yf[m], t[m], None if w is None else w[m]))
        groups = pd.DataFrame(rows, index=pd.Index(labels, name="group"))
        groups["ci_low"] = groups["estimate"] - z * groups["se"]
        groups["ci_high"] = groups["estimate"] + z * groups["se"]
        groups = groups[_DIM_COLUMNS]
        ia, ib = np.triu_indices(labels.size, k=1)
        est = groups["estimate"].to_numpy()
        se = groups["se"].to_numpy()
        d = est[ia] - est[ib]
        dse = np.sqrt(se[ia] ** 2 + se[ib] ** 2)
        zz = d / dse
        diffs = pd.DataFrame(
            {
                "group_a": labels[ia],
                "group_b": labels[ib],
                "difference": d,
                "se": dse,
                "z": zz,
                "p_value": 2 * stats.norm.sf(np.abs(zz)),
            }
        )
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
    )


# --------------------------------------------------------------------------------------------
# Imai (2011) maximum likelihood
# --------------------------------------------------------------------------------------------


def _log_expit(eta):
    """(log p, log(1 - p)) for p = logit^-1(eta), stable for large |eta|."""
    return -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)


class _ICTModel:
    """Observed-data log-likelihood, score and Hessian of the Imai (2011) model.

    Parameters are stacked as ``[delta, psi]`` (constrained) or ``[delta, psi0, psi1]``.
    """

    def __init__(self, X, y, t, J, s, constrained):
        self.X, self.y, self.t, self.J, self.s = X, y, t, J, s
        self.constrained = constrained
        self.p = X.shape[1]
        self.k1 = y - t  # control count if Z = 1
        self.k0 = y  # control count if Z = 0
        self.ok1 = (self.k1 >= 0) & (self.k1 <= J)
        self.ok0 = self.k0 <= J
        self.k1c = np.clip(self.k1, 0, J)
        self.k0c = np.clip(self.k0, 0, J)
        lc = (
            special.gammaln(J + 1)
            - special.gammaln(np.arange(J + 1) + 1)
            - special.gammaln(J - np.arange(J + 1) + 1)
        )
        self.lc1 = np.where(self.ok1, lc[self.k1c.astype(int)], -np.inf)
        self.lc0 = np.where(self.ok0, lc[self.k0c.astype(int)], -np.inf)
        self.nblocks = 2 if constrained else 3

    def split(self, theta):
        p = self.p
        d = theta[:p]
        if self.constrained:
            return d, theta[p:], theta[p:]
        return d, theta[p : 2 * p], theta[2 * p :]

    def estep(self, theta):
        """Per-respondent pieces: log-lik, posterior w = P(Z=1 | y, x), probabilities."""
        d, psi0, psi1 = self.split(theta)
        X = self.X
        eta_d = X @ d
        lpi, l1pi = _log_expit(eta_d)
        eta0 = X @ psi0
        lp0, l1p0 = _log_expit(eta0)
        if self.constrained:
            eta1, lp1, l1p1 = eta0, lp0, l1p0
        else:
            eta1 = X @ psi1
            lp1, l1p1 = _log_expit(eta1)
        J = self.J
        with np.errstate(invalid="ignore"):
            lh1 = self.lc1 + self.k1c * lp1 + (J - self.k1c) * l1p1
            lh0 = self.lc0 + self.k0c * lp0 + (J - self.k0c) * l1p0
        la = lpi + lh1
        lb = l1pi + lh0
        ll = np.logaddexp(la, lb)
        w = np.exp(la - ll)
        return ll, w, np.exp(lpi), np.exp(lp0), np.exp(lp1)

    def loglik(self, theta):
        ll = self.estep(theta)[0]
        return float(ll.sum() if self.s is None else np.dot(self.s, ll))

    def _multipliers(self, w, pi, p0, p1):
        """Per-respondent score multipliers m_b (score_i = x_i m_ib) and the pieces of the Hessian."""
        J, t = self.J, self.t
        if self.constrained:
            score = [w - pi, self.y - t * w - J * p0]
            expct = [pi * (1 - pi), J * p0 * (1 - p0)]
            diffs = [np.ones_like(w), -t]
        else:
            r1 = np.where(self.ok1, self.k1 - J * p1, 0.0)
            r0 = np.where(self.ok0, self.k0 - J * p0, 0.0)
            score = [w - pi, (1 - w) * r0, w * r1]
            expct = [pi * (1 - pi), (1 - w) * J * p0 * (1 - p0), w * J * p1 * (1 - p1)]
            diffs = [np.ones_like(w), -r0, r1]
        return score, expct, diffs

    def _xtdx(self, c):
        X = self.X
        if self.s is not None:
            c = c * self.s
        return X.T @ (X * c[:, None])

    def derivatives(self, theta, *, need_hessian=True, robust=False):
        """(loglik, gradient, Hessian[, outer product of scores]) at ``theta``.

        The Hessian uses Louis's (1982) identity: observed Hessian = posterior mean of the
        complete-data Hessian + posterior variance of the complete-data score. Both are linear
        in Z, so per respondent it is ``-E + w (1 - w) d d'`` with ``d`` the score difference
        between Z = 1 and Z = 0.
        """
        ll_i, w, pi, p0, p1 = self.estep(theta)
        X, s = self.X, self.s
        score, expct, diffs = self._multipliers(w, pi, p0, p1)
        sw = np.ones_like(w) if s is None else s
        ll = float(np.dot(sw, ll_i))
        grad = np.concatenate([X.T @ (sw * m) for m in score])
        if not need_hessian:
            return ll, grad, None, None
        p, B = self.p, self.nblocks
        H = np.zeros((B * p, B * p))
        v = w * (1 - w)
        for a in range(B):
            for b in range(a, B):
                c = v * diffs[a] * diffs[b]
                if a == b:
                    c = c - expct[a]
                blk = self._xtdx(c)
                H[a * p : (a + 1) * p, b * p : (b + 1) * p] = blk
                H[b * p : (b + 1) * p, a * p : (a + 1) * p] = blk.T
        meat = None
        if robust:
            s2 = sw * sw
            meat = np.zeros_like(H)
            for a in range(B):
                for b in range(a, B):
                    blk = X.T @ (X * (s2 * score[a] * score[b])[:, None])
                    meat[a * p : (a + 1) * p, b * p : (b + 1) * p] = blk
                    meat[b * p : (b + 1) * p, a * p : (a + 1) * p] = blk.T
        return ll, grad, H, meat

    def mstep(self, theta, n_newton=2):
        """One EM iteration: E-step, then Newton steps of the weighted logistic/binomial fits."""
        _, w, *_ = self.estep(theta)
        d, psi0, psi1 = self.split(theta)
        s = self.s
        # delta: logistic regression of the fractional response w (all respondents)
        d = _binom_newton(self.X, d, w, 1.0, s, n_newton)
        if self.constrained:
            # psi: binomial(J) regression of E[Y*] = y - t w
            psi = _binom_newton(self.X, psi0, self.y - self.t * w, float(self.J), s, n_newton)
            return np.concatenate([d, psi])
        a0 = 1 - w if s is None else (1 - w) * s
        a1 = w if s is None else w * s
        psi0 = _binom_newton(
            self.X, psi0, np.where(self.ok0, self.k0, 0.0), float(self.J), a0, n_newton
        )
        psi1 = _binom_newton(
            self.X, psi1, np.where(self.ok1, self.k1, 0.0), float(self.J), a1, n_newton
        )
        return np.concatenate([d, psi0, psi1])


def _binom_newton(X, beta, resp, trials, obs_w, n_steps):
    """Newton (IRLS) steps for the weighted binomial-logit log-likelihood
    ``sum a_i [resp_i eta_i - trials log(1 + exp(eta_i))]`` (concave; step-halving keeps ascent)."""
    a = np.ones(X.shape[0]) if obs_w is None else obs_w

    def f(b):
        eta = X @ b
        return float(np.dot(a, resp * eta - trials * np.logaddexp(0.0, eta)))

    cur = f(beta)
    for _ in range(n_steps):
        eta = X @ beta
        mu = special.expit(eta)
        g = X.T @ (a * (resp - trials * mu))
        Hn = X.T @ (X * (a * trials * mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(Hn + 1e-10 * np.eye(len(beta)), g)
        except np.linalg.LinAlgError:
            break
        lam = 1.0
        for _ in range(30):
            new = beta + lam * step
            val = f(new)
            if val >= cur - 1e-12 * abs(cur):
                break
            lam /= 2
        else:
            break
        beta, cur = new, val
        if np.max(np.abs(lam * step)) < 1e-10:
            break
    return beta


@dataclass(frozen=True, eq=False)
class ICTMLResult:
    """Fitted Imai (2011) maximum likelihood model of a list experiment.

    Attributes
    ----------
    params : ndarray
        Stacked coefficients: ``[delta, psi]`` (constrained) or ``[delta, psi0, psi1]``.
    cov : ndarray
        Their estimated covariance (inverse observed information, or the sandwich).
    names : list of str
        Covariate names (``"(Intercept)"`` first when an intercept was added).
    loglik : float
        Maximised (weighted) observed-data log-likelihood.
    constrained : bool
    J : int
    n : int
        Respondents used.
    intercept : bool
        Whether an intercept column was prepended to ``X``.
    cov_type : str
        ``"oim"`` (inverse observed information) or ``"robust"`` (sandwich).
    n_iter : int
    converged : bool
    weighted : bool
    """

    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    loglik: float
    constrained: bool
    J: int
    n: int
    intercept: bool
    cov_type: str
    n_iter: int
    converged: bool
    weighted: bool = False

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of ``params``."""
        return np.sqrt(np.diag(self.cov))

    def _block(self, k: int) -> pd.Series:
        p = len(self.names)
        return pd.Series(self.params[k * p : (k + 1) * p], index=self.names)

    @property
    def coef_sensitive(self) -> pd.Series:
        """delta: logit coefficients of holding the sensitive trait."""
        return self._block(0)

    @property
    def coef_control(self) -> pd.Series:
        """psi: logit coefficients of the control items (constrained model; ``psi0`` if unconstrained)."""
        return self._block(1)

    @property
    def coef_control_z1(self) -> pd.Series:
        """psi1: control-item coefficients among holders of the trait (unconstrained model only)."""
        if self.constrained:
            raise AttributeError(
                "the constrained model has one set of control coefficients; see coef_control"
            )
        return self._block(2)

    @property
    def n_params(self) -> int:
        return int(self.params.size)

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_params

    @property
    def bic(self) -> float:
        return -2 * self.loglik + math.log(self.n) * self.n_params

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table: index (part, term); columns ``coef, se, z, p_value, ci_low, ci_high``.

        ``part`` is ``"sensitive"``, ``"control"`` (constrained) or ``"control (Z=0)"`` and
        ``"control (Z=1)"`` (unconstrained).
        """
        z = _zcrit(level)
        parts = (
            ["sensitive", "control"]
            if self.constrained
            else ["sensitive", "control (Z=0)", "control (Z=1)"]
        )
        idx = pd.MultiIndex.from_product([parts, self.names], names=["part", "term"])
        se = self.bse
        zz = self.params / se
        return pd.DataFrame(
            {
                "coef": self.params,
                "se": se,
                "z": zz,
                "p_value": 2 * stats.norm.sf(np.abs(zz)),
                "ci_low": self.params - z * se,
                "ci_high": self.params + z * se,
            },
            index=idx,
        )

    def summary(self) -> str:
        """Readable text table of the coefficients."""
        f = self.to_frame()
        lines = [
            f"Item count technique: ML ({'constrained' if self.constrained else 'unconstrained'}), Imai (2011)",
            f"N = {self.n}, J = {self.J}, log-likelihood = {self.loglik:.3f}, AIC = {self.aic:.2f}, "
            f"SE: {self.cov_type}{', weighted' if self.weighted else ''}, "
            f"{'converged' if self.converged else 'NOT converged'} in {self.n_iter} iterations",
        ]
        for part in f.index.get_level_values(0).unique():
            lines += ["", f"{part} item", f"{'':<16}{'coef':>10}{'SE':>9}{'z':>8}{'p':>9}"]
            for term, r in f.loc[part].iterrows():
                lines.append(
                    f"{str(term)[:15]:<16}{r.coef:>10.4f}{r.se:>9.4f}{r.z:>8.2f}{r.p_value:>9.4f}"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def ict_ml(
    y,
    treat,
    X,
    J: int,
    *,
    constrained: bool = True,
    weights=None,
    intercept: bool = True,
    cov_type: str | None = None,
    algorithm: str = "em-newton",
    max_iter: int = 5000,
    tol: float = 1e-8,
) -> ICTMLResult:
    r"""Maximum likelihood regression for the standard list experiment (Imai 2011).

    Model (Imai 2011, Section 2.2): the latent sensitive trait
    :math:`Z_i \sim \mathrm{Bernoulli}(g(X_i^\top\delta))` and the latent control count
    :math:`Y_i^* \mid Z_i = z \sim \mathrm{Binomial}(J, g(X_i^\top\psi_z))`, with :math:`g` the
    inverse logit; the observed count is :math:`Y_i = Y_i^* + T_i Z_i`. The constrained model
    sets :math:`\psi_0 = \psi_1 = \psi`. Writing :math:`h(k; \psi)` for the binomial pmf
    (zero outside :math:`0..J`) the observed-data likelihood is

    .. math::

        L = \prod_i \big[ g(X_i^\top\delta)\, h(Y_i - T_i; \psi_1)
            + (1 - g(X_i^\top\delta))\, h(Y_i; \psi_0) \big],

    so treated respondents with :math:`Y = 0` have :math:`Z = 0`, those with :math:`Y = J + 1`
    have :math:`Z = 1`, and the rest (and, in the unconstrained model, control respondents) are
    mixtures. In the constrained model control respondents carry no information on
    :math:`\delta` beyond its prior.

    EM (Imai 2011, Section 2.3): the E-step gives
    :math:`w_i = P(Z_i = 1 \mid Y_i, T_i, X_i) = g\,h(Y_i - T_i;\psi_1) / [g\,h(Y_i - T_i;\psi_1)
    + (1 - g)\,h(Y_i;\psi_0)]`; the M-step is a logistic regression of the fractional response
    :math:`w_i` on :math:`X_i` (for :math:`\delta`) and a binomial-logit regression of
    :math:`E[Y_i^*] = Y_i - T_i w_i` on :math:`X_i` with :math:`J` trials (for :math:`\psi`;
    unconstrained: :math:`Y_i - T_i` with weights :math:`w_i` for :math:`\psi_1` and
    :math:`Y_i` with weights :math:`1 - w_i` for :math:`\psi_0`). With
    ``algorithm="em-newton"`` (default) a few EM iterations are followed by Newton-Raphson on the
    observed-data log-likelihood with step halving (an EM step replaces any Newton step that
    fails to increase it), which reaches the same maximum in far fewer iterations.

    Standard errors: the Hessian of the observed log-likelihood is analytic, by Louis's (1982)
    identity (posterior mean of the complete-data Hessian plus posterior variance of the
    complete-data score); ``cov_type="oim"`` inverts it. ``cov_type="robust"`` is the sandwich
    :math:`H^{-1} (\sum_i s_i^2 g_i g_i^\top) H^{-1}`, the default with survey weights (weights
    then enter the pseudo-log-likelihood :math:`\sum_i s_i \log L_i`); ``"oim"`` with weights
    treats them as frequency weights.

    Parameters
    ----------
    y, treat : array-like
        Item counts and treatment indicator (see :func:`difference_in_means`).
    X : array-like or DataFrame or None
        Covariates (one row per respondent); ``None`` fits intercepts only.
    J : int
        Number of control items.
    constrained : bool
        Constrained (:math:`\psi_0 = \psi_1`) or unconstrained model.
    weights : array-like, optional
        Non-negative survey weights.
    intercept : bool
        Prepend an intercept column to ``X``.
    cov_type : {"oim", "robust"}, optional
        Default ``"oim"`` without weights and ``"robust"`` with weights.
    algorithm : {"em-newton", "em"}
        ``"em"`` runs plain EM to convergence (slow; kept to check the default).
    max_iter : int
    tol : float
        Convergence when the log-likelihood increases by less than ``tol * (1 + |loglik|)``
        and, for Newton, the Newton decrement is below ``tol``.

    Returns
    -------
    ICTMLResult
    """
    what = "ict_ml: invalid input"
    if J is None:
        raise InputError(
            what,
            [Problem(_SOURCE, "J", "expected the number of control items (a positive integer)")],
        )
    yf, t, J, w = _check_list_data(y, treat, J, weights, what=what)
    Xm, names = _design(X, yf.size, intercept, what)
    if Xm.shape[1] == 0:
        raise InputError(what, [Problem(_SOURCE, "X", "no covariates and no intercept")])
    if cov_type is None:
        cov_type = "oim" if w is None else "robust"
    if cov_type not in ("oim", "robust"):
        raise InputError(
            what, [Problem(_SOURCE, "cov_type", "expected 'oim' or 'robust'", value=cov_type)]
        )
    if algorithm not in ("em-newton", "em"):
        raise InputError(
            what, [Problem(_SOURCE, "algorithm", "expected 'em-newton' or 'em'", value=algorithm)]
        )
    # zero weights: drop those rows (they contribute nothing and must not poison the fit)
    if w is not None and np.any(w == 0):
        keep = w > 0
        yf, t, w, Xm = yf[keep], t[keep], w[keep], Xm[keep]
    tf = t.astype(float)
    model = _ICTModel(Xm, yf, tf, J, w, constrained)
    p = Xm.shape[1]

    # starting values: psi from the control group's binomial regression, delta from the
    # difference in means (intercept only)
    ctrl = ~t
    psi = _binom_newton(
        Xm[ctrl], np.zeros(p), yf[ctrl], float(J), None if w is None else w[ctrl], 25
    )
    dim = _dim_row(yf, t, w)["estimate"]
    d0 = np.zeros(p)
    prev = min(max(dim, 0.02), 0.98)
    if intercept:
        d0[0] = math.log(prev / (1 - prev))
    theta = np.concatenate([d0, psi] if constrained else [d0, psi, psi])

    ll = model.loglik(theta)
    converged = False
    n_iter = 0
    n_em_first = 5 if algorithm == "em-newton" else max_iter
    for n_iter in range(1, max_iter + 1):
        use_newton = algorithm == "em-newton" and n_iter > n_em_first
        stepped = False
        if use_newton:
            ll0, g, H, _ = model.derivatives(theta)
            try:
                L = np.linalg.cholesky(-H)
                step = -np.linalg.solve(H, g)
                decrement = float(g @ step)
            except np.linalg.LinAlgError:
                L = None
            if L is not None:
                lam = 1.0
                for _ in range(30):
                    new = theta + lam * step
                    ll_new = model.loglik(new)
                    if ll_new >= ll0 - 1e-12 * abs(ll0):
                        stepped = True
                        break
                    lam /= 2
                if stepped:
                    dll = ll_new - ll
                    theta, ll = new, ll_new
                    if decrement < tol and dll < tol * (1 + abs(ll)):
                        converged = True
                        break
                    continue
        new = model.mstep(theta)
        ll_new = model.loglik(new)
        dll = ll_new - ll
        theta, ll = new, ll_new
        if abs(dll) < tol * (1 + abs(ll)) and algorithm == "em":
            converged = True
            break
    if not converged:
        warnings.warn(
            f"ict_ml did not converge in {max_iter} iterations", RuntimeWarning, stacklevel=2
        )

    ll, g, H, meat = model.derivatives(theta, robust=cov_type == "robust")
    try:
        Hinv = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        Hinv = np.full_like(H, np.nan)
    cov = Hinv if cov_type == "oim" else Hinv @ meat @ Hinv
    return ICTMLResult(
        params=theta,
        cov=cov,
        names=names,
        loglik=ll,
        constrained=constrained,
        J=J,
        n=int(yf.size),
        intercept=intercept,
        cov_type=cov_type,
        n_iter=n_iter,
        converged=converged,
        weighted=w is not None,
    )


# --------------------------------------------------------------------------------------------
# predicted prevalence
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrevalenceResult:
    """Average predicted prevalence of the sensitive item.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : float
    level : float
    method : str
        ``"delta"`` or ``"simulation"``.
    n : int
        Rows of ``X`` averaged over.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with columns ``estimate, se, ci_low, ci_high, level, method, n``."""
        return pd.DataFrame([self.__dict__], index=pd.Index(["prevalence"]))

    def summary(self) -> str:
        """One-line text summary."""
        return (
            f"Average predicted prevalence {self.estimate:.4f} (SE {self.se:.4f}); "
            f"{self.level:.0%} CI {self.ci_low:.4f} to {self.ci_high:.4f} [{self.method}, n = {self.n}]"
        )

    def __str__(self) -> str:
        return self.summary()


def predict_prevalence(
    result: ICTMLResult,
    X,
    *,
    weights=None,
    level: float = 0.95,
    method: str = "delta",
    n_draws: int = 10_000,
    seed: int = 0,
) -> PrevalenceResult:
    r"""Average predicted probability of the sensitive trait (Imai 2011, Section 2.4).

    .. math::

        \hat\tau = \frac{1}{n} \sum_i g(X_i^\top \hat\delta)

    (weighted mean with ``weights``). ``method="delta"``: SE from the delta method,
    :math:`\nabla = \frac1n \sum_i g_i (1 - g_i) X_i`, :math:`\mathrm{Var} = \nabla^\top
    \hat V_\delta \nabla`, normal interval. ``method="simulation"``: ``n_draws`` draws of
    :math:`\delta` from :math:`N(\hat\delta, \hat V_\delta)` (seeded); SE is the standard deviation
    and the interval the percentiles of the simulated averages; the estimate stays the plug-in.

    Parameters
    ----------
    result : ICTMLResult
    X : array-like or DataFrame or None
        Covariates with the same columns as in the fit (no intercept column when the fit added
        one).
    weights : array-like, optional
    level : float
    method : {"delta", "simulation"}
    n_draws, seed : int
        Simulation settings.

    Returns
    -------
    PrevalenceResult
    """
    what = "predict_prevalence: invalid input"
    Xm, names = _design(X, None, False, what)
    if result.intercept:
        Xm = np.column_stack([np.ones(Xm.shape[0]), Xm])
        if isinstance(X, pd.DataFrame):
            names = ["(Intercept)", *names]
    p = len(result.names)
    if Xm.shape[1] != p:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "X",
                    f"has {Xm.shape[1]} columns (with intercept); the model has {p}: {result.names}",
                )
            ],
        )
    if isinstance(X, pd.DataFrame) and names != result.names:
        raise InputError(
            what, [Problem(_SOURCE, "X", f"columns {names} differ from the model's {result.names}")]
        )
    if weights is None:
        wn = np.full(Xm.shape[0], 1.0 / Xm.shape[0])
    else:
        problems: list[Problem] = []
        wa = _as_1d(weights, "weights", problems)
        if wa is not None:
            wf = _numeric(wa, "weights", problems)
            if wf is not None:
                if wf.size != Xm.shape[0]:
                    problems.append(
                        Problem(
                            _SOURCE, "weights", f"has {wf.size} values but X has {Xm.shape[0]} rows"
                        )
                    )
                else:
                    bad = ~np.isfinite(wf) | (wf < 0)
                    problems.extend(
                        _rows_problems("weights", bad, wa, "expected a finite weight >= 0")
                    )
        if problems:
            raise InputError(what, problems)
        wn = wf / wf.sum()
    z = _zcrit(level)
    d = result.params[:p]
    V = result.cov[:p, :p]
    g = special.expit(Xm @ d)
    est = float(np.dot(wn, g))
    if method == "delta":
        grad = Xm.T @ (wn * g * (1 - g))
        se = float(math.sqrt(grad @ V @ grad))
        lo, hi = est - z * se, est + z * se
    elif method == "simulation":
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(d, V, size=n_draws)
        sims = (
            special.expit(Xm @ draws.T).T @ wn
            if Xm.shape[0] * n_draws <= 5e7
            else np.array([np.dot(wn, special.expit(Xm @ dd)) for dd in draws])
        )
        se = float(np.std(sims, ddof=1))
        lo, hi = (float(q) for q in np.quantile(sims, [0.5 - level / 2, 0.5 + level / 2]))
    else:
        raise InputError(
            what, [Problem(_SOURCE, "method", "expected 'delta' or 'simulation'", value=method)]
        )
    return PrevalenceResult(
        estimate=est, se=se, ci_low=lo, ci_high=hi, level=level, method=method, n=int(Xm.shape[0])
    )


# --------------------------------------------------------------------------------------------
# design effect test
# --------------------------------------------------------------------------------------------


def _orthant(S: np.ndarray) -> float:
    """P(N(0, S) >= 0): closed forms up to dimension 3, scipy's Genz integration above."""
    k = S.shape[0]
    if k == 0:
        return 1.0
    sd = np.sqrt(np.diag(S))
    R = S / np.outer(sd, sd)
    if k == 1:
        return 0.5
    if k == 2:
        return 0.25 + math.asin(np.clip(R[0, 1], -1, 1)) / (2 * math.pi)
    if k == 3:
        a = np.arcsin(np.clip([R[0, 1], R[0, 2], R[1, 2]], -1, 1))
        return 0.125 + float(a.sum()) / (4 * math.pi)
    mvn = stats.multivariate_normal(mean=np.zeros(k), cov=R, allow_singular=True, seed=12345)
    return float(mvn.cdf(np.zeros(k)))


def _chibar_weights(V: np.ndarray) -> np.ndarray:
    """Chi-bar-square weights w_k = P(k positive components of the projection of N(0, V) onto
    the non-negative orthant), exactly (Kudo 1963; Shapiro 1985):
    ``w_k = sum_{|F| = k} P(N(0, V_FF.A) > 0) P(N(0, V_AA^-1) > 0)`` with ``A`` the complement
    of ``F`` and ``V_FF.A`` the conditional covariance."""
    m = V.shape[0]
    w = np.zeros(m + 1)
    for mask in itertools.product((False, True), repeat=m):
        F = np.flatnonzero(mask)
        A = np.flatnonzero(~np.array(mask, bool))
        if A.size == 0:
            w[m] += _orthant(V)
            continue
        VAAi = np.linalg.inv(V[np.ix_(A, A)])
        cond = V[np.ix_(F, F)] - V[np.ix_(F, A)] @ VAAi @ V[np.ix_(A, F)]
        w[F.size] += _orthant(cond) * _orthant(VAAi)
    return w / w.sum()


def _lr_orthant(z: np.ndarray, V: np.ndarray) -> float:
    """min_{pi >= 0} (z - pi)' V^-1 (z - pi), by non-negative least squares."""
    L = np.linalg.cholesky(V)
    Li = np.linalg.inv(L)
    _, rnorm = optimize.nnls(Li, Li @ z)
    return float(rnorm**2)


def _chibar_sf(stat: float, w: np.ndarray) -> float:
    p = float(w[0]) if stat <= 0 else 0.0
    for k in range(1, w.size):
        p += w[k] * stats.chi2.sf(stat, k)
    return min(max(p, 0.0), 1.0)


@dataclass(frozen=True, eq=False)
class DesignEffectResult:
    """Result of :func:`design_effect_test`.

    Attributes
    ----------
    p_value : float
        Bonferroni-corrected p-value, ``min(1, 2 min(p_0, p_1))``.
    p_values : tuple of float
        ``(p_0, p_1)``: the tests of :math:`\\pi_{y0} \\ge 0` and :math:`\\pi_{y1} \\ge 0`.
    statistics : tuple of float
        The likelihood ratio statistics of the two sets.
    table : DataFrame
        Estimated joint proportions: index ``y``, columns ``pi_z0, se_z0, pi_z1, se_z1``.
    J : int
    moment_selection : str
    alpha : float
    """

    p_value: float
    p_values: tuple[float, float]
    statistics: tuple[float, float]
    table: pd.DataFrame = field(repr=False)
    J: int
    moment_selection: str
    alpha: float = 0.05

    @property
    def reject(self) -> bool:
        """True when the null of no design effect is rejected at ``alpha``."""
        return self.p_value < self.alpha

    def to_frame(self) -> pd.DataFrame:
        """The table of estimated proportions of respondent types with standard errors."""
        return self.table.copy()

    def summary(self) -> str:
        """Readable text: the proportions table and the test result."""
        lines = [
            "Test for design effects (Blair & Imai 2012)",
            f"J = {self.J}; moment selection: {self.moment_selection}",
            "",
            f"{'y':>3}{'pi(y,Z=0)':>12}{'SE':>9}{'pi(y,Z=1)':>12}{'SE':>9}",
        ]
        for yv, r in self.table.iterrows():
            lines.append(f"{yv:>3}{r.pi_z0:>12.4f}{r.se_z0:>9.4f}{r.pi_z1:>12.4f}{r.se_z1:>9.4f}")
        lines += [
            "",
            f"Z=0 set: LR = {self.statistics[0]:.3f}, p = {self.p_values[0]:.4f}; "
            f"Z=1 set: LR = {self.statistics[1]:.3f}, p = {self.p_values[1]:.4f}",
            f"Bonferroni-corrected p = {self.p_value:.4f} -> "
            f"{'design effect detected' if self.reject else 'no design effect detected'} at alpha = {self.alpha}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def design_effect_test(
    y, treat, J: int | None = None, *, moment_selection: str = "gms", alpha: float = 0.05
) -> DesignEffectResult:
    r"""Test for design effects in a list experiment (Blair & Imai 2012, Section 3.1).

    Under no design effect the proportions of respondent types
    :math:`\pi_{yz} = P(Y_i(0) = y, Z_i = z)` are identified as

    .. math::

        \pi_{y1} = P(Y_i \le y \mid T_i = 0) - P(Y_i \le y \mid T_i = 1), \qquad
        \pi_{y0} = P(Y_i \le y \mid T_i = 1) - P(Y_i \le y - 1 \mid T_i = 0),

    and all must be non-negative. They are estimated by the empirical CDFs of the two arms
    (covariances :math:`F(\min)(1 - F(\max))/n` per arm, arms independent). The null
    :math:`\pi_{yz} \ge 0` is split into the two sets ``z = 0`` (``y = 1..J``) and ``z = 1``
    (``y = 0..J-1``); the remaining two proportions are non-negative by construction. Each set is
    tested with the likelihood ratio statistic for a multivariate one-sided hypothesis,
    :math:`\lambda = \min_{\pi \ge 0} (\hat\pi - \pi)^\top \hat\Sigma^{-1} (\hat\pi - \pi)`
    (Kudo 1963), whose least-favourable null distribution is chi-bar-square with weights computed
    exactly here (not by simulation). The reported p-value is the Bonferroni-corrected minimum,
    :math:`\min(1, 2 \min(p_0, p_1))`.

    ``moment_selection``:

    * ``"gms"`` (default) -- generalized moment selection (Andrews & Soares 2010): inequalities
      with :math:`\hat\pi / \mathrm{SE} > \sqrt{\log n}` are clearly slack and dropped from the
      null distribution (not from the statistic), which raises power without losing size.
    * ``"none"`` -- the least-favourable (all inequalities binding) chi-bar-square.
    * ``"negative"`` -- keep only inequalities whose estimate is negative. This is what R
      ``list`` 9.2.6 ``ict.test`` reproduces on ``race`` (0.0443 vs 0.0439 here; theirs is a
      Monte Carlo figure): it is less conservative than GMS and has no size guarantee, so it is
      offered only for comparison with published numbers.

    Parameters
    ----------
    y, treat : array-like
        Item counts and treatment indicator.
    J : int, optional
        Number of control items (inferred when omitted).
    moment_selection : {"gms", "none", "negative"}
    alpha : float
        Level used for :attr:`DesignEffectResult.reject`.

    Returns
    -------
    DesignEffectResult
    """
    what = "design_effect_test: invalid input"
    yf, t, J, _ = _check_list_data(y, treat, J, None, what=what)
    if moment_selection not in ("gms", "none", "negative"):
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "moment_selection",
                    "expected 'gms', 'none' or 'negative'",
                    value=moment_selection,
                )
            ],
        )
    y0, y1 = yf[~t], yf[t]
    n0, n1 = y0.size, y1.size
    grid = np.arange(-1, J + 2)
    F0 = np.searchsorted(np.sort(y0), grid, side="right") / n0  # F0(k) for k = -1..J+1
    F1 = np.searchsorted(np.sort(y1), grid, side="right") / n1

    def cdf_cov(F, n, ks):
        f = F[np.asarray(ks) + 1]
        return np.minimum.outer(f, f) * (1 - np.maximum.outer(f, f)) / n

    ys = np.arange(J + 1)
    pi1 = F0[ys + 1] - F1[ys + 1]
    pi0 = F1[ys + 1] - F0[ys]
    V1full = cdf_cov(F0, n0, ys) + cdf_cov(F1, n1, ys)
    V0full = cdf_cov(F1, n1, ys) + cdf_cov(F0, n0, ys - 1)
    table = pd.DataFrame(
        {
            "pi_z0": pi0,
            "se_z0": np.sqrt(np.diag(V0full)),
            "pi_z1": pi1,
            "se_z1": np.sqrt(np.diag(V1full)),
        },
        index=pd.Index(ys, name="y"),
    )
    kappa = math.sqrt(math.log(yf.size))
    results = []
    for z, V, sel in ((pi0, V0full, ys >= 1), (pi1, V1full, ys <= J - 1)):
        zs, Vs = z[sel], V[np.ix_(sel, sel)]
        sd = np.sqrt(np.diag(Vs))
        ok = sd > 0  # degenerate (e.g. empty cells) inequalities carry no information
        zs, Vs, sd = zs[ok], Vs[np.ix_(ok, ok)], sd[ok]
        if zs.size == 0:
            results.append((0.0, 1.0))
            continue
        Vs = Vs + 1e-12 * np.diag(np.diag(Vs))
        stat = _lr_orthant(zs, Vs)
        if moment_selection == "gms":
            keep = zs / sd <= kappa
        elif moment_selection == "negative":
            keep = zs < 0
        else:
            keep = np.ones(zs.size, bool)
        if not keep.any() or stat <= 0:
            results.append((stat, 1.0))
            continue
        w = _chibar_weights(Vs[np.ix_(keep, keep)])
        results.append((stat, _chibar_sf(stat, w)))
    (s0, p0), (s1, p1) = results
    return DesignEffectResult(
        p_value=min(1.0, 2 * min(p0, p1)),
        p_values=(p0, p1),
        statistics=(s0, s1),
        table=table,
        J=J,
        moment_selection=moment_selection,
        alpha=alpha,
    )
