r"""Linear and nonlinear least squares regressions for the list experiment (Imai 2011, Section 2.1).

Both estimators model the conditional mean of the item count,

.. math::

    E[Y_i \mid X_i, T_i] = f(X_i; \psi) + T_i\, g(X_i; \delta),

where :math:`g` is the probability of holding the sensitive trait and :math:`f` the expected
number of control items. They need only the mean model and no-design-effect / no-liars
assumptions, and are less efficient than the ML estimator of :mod:`.ml`.

* :func:`ict_lm` -- :math:`f = X^\top\psi`, :math:`g = X^\top\delta` (a linear probability
  model for the sensitive item): OLS of :math:`Y` on :math:`X` and :math:`T X`, with
  heteroskedasticity-consistent (default HC3) standard errors, as R ``list``'s ``method = "lm"``.
* :func:`ict_nls` -- :math:`f = J\,\mathrm{logit}^{-1}(X^\top\psi)`,
  :math:`g = \mathrm{logit}^{-1}(X^\top\delta)`: nonlinear least squares (Imai 2011, Section 2.1),
  started from the consistent two-step estimator (Section 2.1), with sandwich standard errors.

Reference: Imai, K. (2011). Multivariate regression analysis for the item count technique.
*JASA* 106(494): 407-416. doi:10.1198/jasa.2011.ap10415
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from segment.exceptions import InputError, Problem

from ._ml_model import _binom_newton
from ._validate import (
    _SOURCE,
    _check_list_data,
    _covariate_matrix,
    coef_table,
    count_variation_problems,
)

__all__ = ["ICTLSResult", "ict_lm", "ict_nls"]

_HC = ("HC0", "HC1", "HC2", "HC3")


@dataclass(frozen=True, eq=False)
class ICTLSResult:
    """Fitted least squares (linear or NLS) regression of a list experiment (Imai 2011).

    Attributes
    ----------
    params : ndarray
        Stacked coefficients ``[delta, psi]``: the sensitive-item model, then the control-item
        model (``lm``: coefficients of the expected control count; ``nls``: logit coefficients
        of each control item).
    cov : ndarray
        Sandwich covariance of ``params``.
    names : list of str
        Covariate names (``"(Intercept)"`` first when an intercept was added).
    method : str
        ``"lm"``, ``"nls"`` (joint NLS) or ``"nls-two-step"``.
    link : str
        ``"identity"`` (lm) or ``"logit"`` (NLS): how ``delta`` maps to a probability; used by
        :func:`~segment.listexp.predict_prevalence`.
    J, n : int
    intercept : bool
    cov_type : str
    rss : float
        (Weighted) residual sum of squares.
    converged : bool
    weighted : bool
    """

    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    method: str
    link: str
    J: int
    n: int
    intercept: bool
    cov_type: str
    rss: float
    converged: bool = True
    weighted: bool = False

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of ``params``."""
        return np.sqrt(np.diag(self.cov))

    @property
    def coef_sensitive(self) -> pd.Series:
        """delta: the sensitive-item coefficients."""
        return pd.Series(self.params[: len(self.names)], index=self.names)

    @property
    def coef_control(self) -> pd.Series:
        """psi: the control-item coefficients."""
        return pd.Series(self.params[len(self.names) :], index=self.names)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table: index (part, term); columns ``coef, se, z, p_value, ci_low,
        ci_high``."""
        idx = pd.MultiIndex.from_product(
            [["sensitive", "control"], self.names], names=["part", "term"]
        )
        return coef_table(self.params, self.bse, idx, level)

    def summary(self) -> str:
        """Readable text table of the coefficients."""
        f = self.to_frame()
        title = {
            "lm": "linear least squares (linear probability model)",
            "nls": "nonlinear least squares",
            "nls-two-step": "two-step nonlinear least squares",
        }[self.method]
        lines = [
            f"Item count technique: {title}, Imai (2011)",
            f"N = {self.n}, J = {self.J}, RSS = {self.rss:.3f}, SE: {self.cov_type} sandwich"
            f"{', weighted' if self.weighted else ''}"
            f"{'' if self.converged else ', NOT converged'}",
        ]
        for part in ("sensitive", "control"):
            lines += ["", f"{part} item", f"{'':<16}{'coef':>10}{'SE':>9}{'z':>8}{'p':>9}"]
            for term, r in f.loc[part].iterrows():
                lines.append(
                    f"{str(term)[:15]:<16}{r.coef:>10.4f}{r.se:>9.4f}{r.z:>8.2f}{r.p_value:>9.4f}"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _prepare(y, treat, X, J, weights, intercept, what):
    """Validated arrays with zero-weight rows dropped: (y, t (float), X, names, J, w)."""
    yf, t, J, w = _check_list_data(y, treat, J, weights, what=what)
    Xm, names = _covariate_matrix(X, yf.size, intercept, what)
    if Xm.shape[1] == 0:
        raise InputError(what, [Problem(_SOURCE, "X", "no covariates and no intercept")])
    if w is not None and np.any(w == 0):
        keep = w > 0
        yf, t, w, Xm = yf[keep], t[keep], w[keep], Xm[keep]
    problems = count_variation_problems(yf, t, within_arms=True)
    if problems:
        raise InputError(what, problems)
    return yf, t.astype(float), Xm, names, J, w


def _check_rank(M, names, what, arm: str):
    if np.linalg.matrix_rank(M) < M.shape[1]:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "X",
                    f"the covariates {names} are collinear among {arm} respondents; "
                    "the model is not identified (drop or merge columns)",
                )
            ],
        )


def ict_lm(
    y,
    treat,
    X,
    J: int | None = None,
    *,
    weights=None,
    intercept: bool = True,
    cov_type: str = "HC3",
) -> ICTLSResult:
    r"""Linear least squares regression for the standard list experiment (Imai 2011, Section 2.1).

    .. math::

        Y_i = X_i^\top\psi + T_i X_i^\top\delta + \varepsilon_i

    fitted by (weighted) OLS of :math:`Y` on :math:`[X, T X]`. :math:`X^\top\delta` is a linear
    probability model for the sensitive trait and :math:`X^\top\psi` the expected number of
    control items. With ``X=None`` (intercept only) :math:`\hat\delta` is exactly the difference
    in means. Standard errors are heteroskedasticity-consistent (the errors are heteroskedastic
    by construction): with :math:`Z` the regressor matrix, :math:`W` the weights,
    :math:`B = (Z^\top W Z)^{-1}`, leverages :math:`h_i = w_i z_i^\top B z_i` and residuals
    :math:`e_i`,

    .. math::

        \widehat{V} = B \Big(\sum_i w_i^2 u_i z_i z_i^\top\Big) B, \qquad
        u_i = e_i^2 \ (\mathrm{HC0}),\ \tfrac{n}{n-k} e_i^2 \ (\mathrm{HC1}),\
        \tfrac{e_i^2}{1-h_i} \ (\mathrm{HC2}),\ \tfrac{e_i^2}{(1-h_i)^2} \ (\mathrm{HC3}).

    HC3 (default) is what R ``list``'s ``ictreg(method = "lm")`` reports (0.04962 for the
    difference in means on ``race``).

    Parameters
    ----------
    y, treat : array-like
        Item counts and treatment indicator (see :func:`~segment.listexp.difference_in_means`).
    X : array-like or DataFrame or None
        Covariates; ``None`` fits intercepts only.
    J : int, optional
        Number of control items (only used to check ``y``; inferred when omitted).
    weights : array-like, optional
        Non-negative survey weights (WLS with the weighted sandwich).
    intercept : bool
        Prepend an intercept column to ``X``.
    cov_type : {"HC3", "HC2", "HC1", "HC0"}

    Returns
    -------
    ICTLSResult
        ``method="lm"``, ``link="identity"``.
    """
    what = "ict_lm: invalid input"
    if cov_type not in _HC:
        raise InputError(
            what, [Problem(_SOURCE, "cov_type", f"expected one of {_HC}", value=cov_type)]
        )
    yf, t, Xm, names, J, w = _prepare(y, treat, X, J, weights, intercept, what)
    for arm, label in ((t == 1, "treated"), (t == 0, "control")):
        _check_rank(Xm[arm], names, what, label)
    Z = np.column_stack([t[:, None] * Xm, Xm])  # [delta | psi]
    n, k = Z.shape
    wi = np.ones(n) if w is None else w
    ZtWZ = Z.T @ (Z * wi[:, None])
    bread = np.linalg.inv(ZtWZ)
    beta = bread @ (Z.T @ (wi * yf))
    e = yf - Z @ beta
    h = wi * np.einsum("ij,jk,ik->i", Z, bread, Z)
    u = e * e
    if cov_type == "HC1":
        u = u * n / (n - k)
    elif cov_type == "HC2":
        u = u / (1 - h)
    elif cov_type == "HC3":
        u = u / (1 - h) ** 2
    meat = Z.T @ (Z * (wi * wi * u)[:, None])
    cov = bread @ meat @ bread
    return ICTLSResult(
        params=beta,
        cov=cov,
        names=names,
        method="lm",
        link="identity",
        J=J,
        n=n,
        intercept=intercept,
        cov_type=cov_type,
        rss=float(np.dot(wi, e * e)),
        weighted=w is not None,
    )


def _nls(Xm, target, scale, offset_w, beta0):
    """min_b sum_i a_i (target_i - scale expit(X_i b))^2 by scipy's trust-region least squares."""
    sa = np.sqrt(offset_w)

    def fun(b):
        return sa * (target - scale * special.expit(Xm @ b))

    def jac(b):
        mu = special.expit(Xm @ b)
        return -(sa * scale * mu * (1 - mu))[:, None] * Xm

    res = optimize.least_squares(fun, beta0, jac=jac, method="trf", x_scale="jac", xtol=1e-12)
    return res.x, res.status > 0


def ict_nls(
    y,
    treat,
    X,
    J: int,
    *,
    weights=None,
    intercept: bool = True,
    estimator: str = "two-step",
    cov_type: str = "HC0",
) -> ICTLSResult:
    r"""Nonlinear least squares regression for the standard list experiment (Imai 2011).

    Model (Imai 2011, Section 2.1): with :math:`g` the inverse logit,

    .. math::

        E[Y_i \mid X_i, T_i] = m_i(\theta) = T_i\, g(X_i^\top\delta) + J\, g(X_i^\top\psi),

    where :math:`g(X^\top\delta)` is the probability of the sensitive trait and
    :math:`g(X^\top\psi)` that of each control item. The (joint) NLS estimator minimises
    :math:`\sum_i w_i \{Y_i - m_i(\theta)\}^2` (Imai 2011, Section 2.1). It is started from the
    **two-step** estimator (Imai 2011, Section 2.1): :math:`\hat\psi` by NLS of :math:`Y` on
    :math:`J g(X^\top\psi)` in the control group, then :math:`\hat\delta` by NLS of
    :math:`Y - J g(X^\top\hat\psi)` on :math:`g(X^\top\delta)` in the treatment group. Both are
    solved by ``scipy.optimize.least_squares`` (trust-region Gauss-Newton with the analytic
    Jacobian).

    Standard errors are M-estimation sandwiches with Gauss-Newton bread. Joint NLS: with
    :math:`G_i = \partial m_i / \partial\theta = [T_i g_\delta' X_i,\ J g_\psi' X_i]` and
    residuals :math:`e_i`,

    .. math::

        \widehat V = A^{-1} \Big(\sum_i w_i^2 e_i^2 G_i G_i^\top\Big) A^{-1},
        \qquad A = \sum_i w_i G_i G_i^\top

    (``HC1`` multiplies by :math:`n / (n - k)`). Two-step: the stacked estimating equations
    :math:`\sum_i w_i (1 - T_i) e^{(1)}_i J g_\psi' X_i = 0` and
    :math:`\sum_i w_i T_i e^{(2)}_i g_\delta' X_i = 0` give the block-triangular
    :math:`A = \begin{pmatrix} \sum w T g_\delta'^2 XX^\top & \sum w T J g_\psi' g_\delta' XX^\top
    \\ 0 & \sum w (1-T) J^2 g_\psi'^2 XX^\top \end{pmatrix}` and
    :math:`\widehat V = A^{-1} (\sum_i s_i s_i^\top) A^{-\top}` with :math:`s_i` the stacked
    score, which propagates the first step's uncertainty into :math:`\hat\delta`.

    Parameters
    ----------
    y, treat : array-like
        Item counts and treatment indicator.
    X : array-like or DataFrame or None
        Covariates; ``None`` fits intercepts only.
    J : int
        Number of control items.
    weights : array-like, optional
        Non-negative survey weights.
    intercept : bool
        Prepend an intercept column to ``X``.
    estimator : {"two-step", "joint"}
        ``"two-step"`` (default) is the estimator of Imai (2011) Table 1 (columns 3-4) and of
        R ``list``'s ``ictreg(method = "nls")``. ``"joint"`` minimises the full NLS criterion
        from the two-step start; it can drift to the boundary when a subgroup's fitted
        prevalence is near 0 or 1 (on ``race`` the ``male`` coefficient diverges), in which
        case a ``RuntimeWarning`` is issued and the standard errors are not finite.
    cov_type : {"HC0", "HC1"}

    Returns
    -------
    ICTLSResult
        ``method="nls"`` or ``"nls-two-step"``, ``link="logit"``.
    """
    what = "ict_nls: invalid input"
    if J is None:
        raise InputError(
            what,
            [Problem(_SOURCE, "J", "expected the number of control items (a positive integer)")],
        )
    if estimator not in ("two-step", "joint"):
        raise InputError(
            what,
            [Problem(_SOURCE, "estimator", "expected 'two-step' or 'joint'", value=estimator)],
        )
    two_step = estimator == "two-step"
    if cov_type not in ("HC0", "HC1"):
        raise InputError(
            what, [Problem(_SOURCE, "cov_type", "expected 'HC0' or 'HC1'", value=cov_type)]
        )
    yf, t, Xm, names, J, w = _prepare(y, treat, X, J, weights, intercept, what)
    for arm, label in ((t == 1, "treated"), (t == 0, "control")):
        _check_rank(Xm[arm], names, what, label)
    n, p = Xm.shape
    wi = np.ones(n) if w is None else w
    theta, converged = _nls_two_step(yf, t, Xm, J, wi, intercept)
    if not two_step:
        theta, converged = _nls_joint(yf, t, Xm, J, wi, theta)
    mean, gd, gp = _nls_mean(theta, Xm, t, J)
    e = yf - mean
    cov = _nls_sandwich(e, gd, gp, t, Xm, J, wi, two_step)
    if cov_type == "HC1":
        cov = cov * n / (n - 2 * p)
    if not converged or not np.all(np.isfinite(np.diag(cov))) or np.any(np.diag(cov) < 0):
        warnings.warn(
            f"ict_nls ({estimator}) did not reach an interior minimum: the criterion is flat "
            "towards a boundary (a fitted probability near 0 or 1); standard errors are "
            "unreliable. Use the two-step estimator or ict_ml.",
            RuntimeWarning,
            stacklevel=2,
        )
    return ICTLSResult(
        params=theta,
        cov=cov,
        names=names,
        method="nls-two-step" if two_step else "nls",
        link="logit",
        J=J,
        n=n,
        intercept=intercept,
        cov_type=cov_type,
        rss=float(np.dot(wi, e * e)),
        converged=bool(converged),
        weighted=w is not None,
    )


def _nls_two_step(yf, t, Xm, J, wi, intercept: bool) -> tuple[np.ndarray, bool]:
    """Imai's two-step NLS: the control items on the control arm, then the sensitive item on the
    treated arm's residual count; returns ``[delta, psi]`` and whether both steps converged."""
    p = Xm.shape[1]
    c = t == 0
    # step 1: control items (start from the binomial-logit quasi-likelihood fit, also consistent)
    psi0 = _binom_newton(Xm[c], np.zeros(p), yf[c], float(J), wi[c], 25)
    psi, ok1 = _nls(Xm[c], yf[c], float(J), wi[c], psi0)
    # step 2: sensitive item on the treated residual count
    tr = t == 1
    resid = yf[tr] - J * special.expit(Xm[tr] @ psi)
    d0 = np.zeros(p)
    if intercept:
        prev = min(max(float(np.average(resid, weights=wi[tr])), 0.02), 0.98)
        d0[0] = math.log(prev / (1 - prev))
    delta, ok2 = _nls(Xm[tr], resid, 1.0, wi[tr], d0)
    return np.concatenate([delta, psi]), ok1 and ok2


def _nls_mean(th, Xm, t, J):
    """Mean count ``T g(X delta) + J g(X psi)`` and the logistic derivatives of both parts."""
    p = Xm.shape[1]
    md = special.expit(Xm @ th[:p])
    mp = special.expit(Xm @ th[p:])
    mean = t * md + J * mp
    gd = md * (1 - md)
    gp = mp * (1 - mp)
    return mean, gd, gp


def _nls_joint(yf, t, Xm, J, wi, theta) -> tuple[np.ndarray, bool]:
    """The full NLS criterion minimised from ``theta`` (trust-region reflective)."""
    sw = np.sqrt(wi)

    def fun(th):
        return sw * (yf - _nls_mean(th, Xm, t, J)[0])

    def jac(th):
        _, gd, gp = _nls_mean(th, Xm, t, J)
        return -sw[:, None] * np.column_stack([(t * gd)[:, None] * Xm, (J * gp)[:, None] * Xm])

    res = optimize.least_squares(fun, theta, jac=jac, method="trf", x_scale="jac", xtol=1e-12)
    return res.x, res.status > 0


def _nls_sandwich(e, gd, gp, t, Xm, J, wi, two_step: bool) -> np.ndarray:
    """HC0 sandwich covariance of the two-step (stacked scores) or the joint estimator."""
    p = Xm.shape[1]
    if two_step:
        # stacked scores s_i = [w T e2 g_d' X, w (1 - T) e1 J g_p' X]; e1 = e2 = e on each arm
        Sd = (wi * t * e * gd)[:, None] * Xm
        Sp = (wi * (1 - t) * e * J * gp)[:, None] * Xm
        S = np.column_stack([Sd, Sp])
        A = np.zeros((2 * p, 2 * p))
        A[:p, :p] = Xm.T @ (Xm * (wi * t * gd * gd)[:, None])
        A[:p, p:] = Xm.T @ (Xm * (wi * t * J * gp * gd)[:, None])
        A[p:, p:] = Xm.T @ (Xm * (wi * (1 - t) * J * J * gp * gp)[:, None])
        Ai = np.linalg.inv(A)
        return Ai @ (S.T @ S) @ Ai.T
    G = np.column_stack([(t * gd)[:, None] * Xm, (J * gp)[:, None] * Xm])
    Ai = np.linalg.inv(G.T @ (G * wi[:, None]))
    meat = G.T @ (G * (wi * wi * e * e)[:, None])
    return Ai @ meat @ Ai
