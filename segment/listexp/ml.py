"""Maximum likelihood regression for the standard list experiment (Imai 2011)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segment.exceptions import InputError, Problem

from ._ml_model import _binom_newton, _ICTModel
from ._results import LikelihoodFit, covariance_from_hessian
from ._validate import (
    _SOURCE,
    MAX_CONTROL_ITEMS,
    _check_list_data,
    _covariate_matrix,
    coef_table,
    count_variation_problems,
)
from .dim import _dim_row

__all__ = ["ICTMLResult", "ict_ml"]


@dataclass(frozen=True, eq=False)
class ICTMLResult(LikelihoodFit):
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
        """psi: logit coefficients of the control items (constrained model; ``psi0`` if
        unconstrained)."""
        return self._block(1)

    @property
    def coef_control_z1(self) -> pd.Series:
        """psi1: control-item coefficients among holders of the trait (unconstrained model only)."""
        if self.constrained:
            raise AttributeError(
                "the constrained model has one set of control coefficients; see coef_control"
            )
        return self._block(2)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table: index (part, term); columns ``coef, se, z, p_value, ci_low, ci_high``.

        ``part`` is ``"sensitive"``, ``"control"`` (constrained) or ``"control (Z=0)"`` and
        ``"control (Z=1)"`` (unconstrained).
        """
        parts = (
            ["sensitive", "control"]
            if self.constrained
            else ["sensitive", "control (Z=0)", "control (Z=1)"]
        )
        idx = pd.MultiIndex.from_product([parts, self.names], names=["part", "term"])
        return coef_table(self.params, self.bse, idx, level)

    def summary(self) -> str:
        """Readable text table of the coefficients."""
        f = self.to_frame()
        lines = [
            "Item count technique: ML "
            f"({'constrained' if self.constrained else 'unconstrained'}), Imai (2011)",
            f"N = {self.n}, J = {self.J}, log-likelihood = {self.loglik:.3f}, "
            f"AIC = {self.aic:.2f}, SE: {self.cov_type}{', weighted' if self.weighted else ''}, "
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
    design=None,
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
    treats them as frequency weights. With a sampling ``design`` (``cov_type="design"``, its
    default then) the meat is the design covariance of the total score over PSUs within strata,
    :math:`H^{-1} \hat V_{design}(\sum_i s_i g_i) H^{-1}` (Binder 1983), so clustering and
    stratification enter the standard errors; the design's weights are used when ``weights``
    is not given.

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
    cov_type : {"oim", "robust", "design"}, optional
        Default ``"design"`` with a design, else ``"oim"`` without weights and ``"robust"``
        with weights.
    algorithm : {"em-newton", "em"}
        ``"em"`` runs plain EM to convergence (slow; kept to check the default).
    max_iter : int
    tol : float
        Convergence when the log-likelihood increases by less than ``tol * (1 + |loglik|)``
        and, for Newton, the Newton decrement is below ``tol``.
    design : SurveyDesign, optional
        Sampling design (:class:`segment.weights.survey_design.SurveyDesign`) of the same
        respondents.

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
    if design is not None and design.n != len(np.asarray(y)):
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "design",
                    "expected a design of the same respondents as y",
                    value=f"{design.n} respondents vs {len(np.asarray(y))}",
                )
            ],
        )
    if design is not None and weights is None:
        weights = design.weights
    yf, t, J, w = _check_list_data(y, treat, J, weights, what=what, max_J=MAX_CONTROL_ITEMS)
    Xm, names = _covariate_matrix(X, yf.size, intercept, what)
    if Xm.shape[1] == 0:
        raise InputError(what, [Problem(_SOURCE, "X", "no covariates and no intercept")])
    cov_type = _checked_cov_type(cov_type, design, w, what)
    n_all = yf.size
    if algorithm not in ("em-newton", "em"):
        raise InputError(
            what, [Problem(_SOURCE, "algorithm", "expected 'em-newton' or 'em'", value=algorithm)]
        )
    # zero weights: drop those rows (they contribute nothing and must not poison the fit)
    keep = np.ones(n_all, bool)
    if w is not None and np.any(w == 0):
        keep = w > 0
        yf, t, w, Xm = yf[keep], t[keep], w[keep], Xm[keep]
    problems = count_variation_problems(yf, t, within_arms=False)
    if problems:
        raise InputError(what, problems)
    tf = t.astype(float)
    model = _ICTModel(Xm, yf, tf, J, w, constrained)
    theta = _start_values(Xm, yf, t, J, w, intercept, constrained)
    theta, n_iter, converged = _maximise(model, theta, algorithm, max_iter, tol)
    if not converged:
        warnings.warn(
            f"ict_ml did not converge in {max_iter} iterations", RuntimeWarning, stacklevel=2
        )

    ll, _, H, meat = model.derivatives(theta, robust=cov_type == "robust")
    if cov_type == "design":
        U = np.zeros((n_all, theta.size))
        U[keep] = model.scores(theta)  # zero-weight respondents stay in their PSU, score 0
        meat = design.total_cov(U)
    cov = covariance_from_hessian(H, meat, "oim" if cov_type == "oim" else "robust")
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


def _checked_cov_type(cov_type: str | None, design, w: np.ndarray | None, what: str) -> str:
    """``cov_type``, defaulted (``"design"`` with a design, else ``"oim"`` / ``"robust"``
    without / with weights) and checked against the design."""
    if cov_type is None:
        cov_type = "design" if design is not None else "oim" if w is None else "robust"
    if cov_type not in ("oim", "robust", "design"):
        raise InputError(
            what,
            [Problem(_SOURCE, "cov_type", "expected 'oim', 'robust' or 'design'", value=cov_type)],
        )
    if (cov_type == "design") != (design is not None):
        raise InputError(
            what,
            [Problem(_SOURCE, "design", "cov_type='design' goes with a design= and only with it")],
        )
    return cov_type


def _start_values(Xm, yf, t, J: int, w, intercept: bool, constrained: bool) -> np.ndarray:
    """Starting values: psi from the control group's binomial regression, delta from the
    difference in means (intercept only)."""
    p = Xm.shape[1]
    ctrl = ~t
    psi = _binom_newton(
        Xm[ctrl], np.zeros(p), yf[ctrl], float(J), None if w is None else w[ctrl], 25
    )
    dim = _dim_row(yf, t, w)["estimate"]
    d0 = np.zeros(p)
    prev = min(max(dim, 0.02), 0.98)
    if intercept:
        d0[0] = math.log(prev / (1 - prev))
    return np.concatenate([d0, psi] if constrained else [d0, psi, psi])


def _maximise(
    model: _ICTModel, theta: np.ndarray, algorithm: str, max_iter: int, tol: float
) -> tuple[np.ndarray, int, bool]:
    """EM, then (``"em-newton"``) Newton-Raphson with step halving; ``(theta, n_iter,
    converged)``."""
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
    return theta, n_iter, converged
