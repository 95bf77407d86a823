r"""Maximum likelihood regression for list experiments with ceiling and floor liars.

Blair, G. & Imai, K. (2012). Statistical analysis of list experiments. *Political Analysis*
20(1): 47-77, Section 3.2 ("Adjusting for ceiling and floor effects"), equations (21)-(29), and
the application of Section 3.4 (Table 7). Written from the paper; no code of the GPL R package
``list`` was read or ported.

In the standard design (``J`` control items, one sensitive item added for the treated) the
*no liars* assumption fails in two places where the list gives no privacy:

* **ceiling effect** -- a treated respondent whose truthful answers are affirmative for all
  ``J`` control items and for the sensitive item answers ``J`` instead of ``J + 1``;
* **floor effect** -- a treated respondent whose truthful answer is affirmative for the sensitive
  item only answers ``0`` instead of ``1``.

The model (constrained: the control count is independent of the sensitive trait given the
covariates, the paper's equation (23), which is what identifies the liar probabilities) is
:func:`ict_ml_liars`; :class:`ICTLiarResult` holds the fit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special

from segment.exceptions import InputError, Problem

from ._ml_model import _log_expit
from ._results import LikelihoodFit
from ._validate import _SOURCE, MAX_CONTROL_ITEMS, _check_list_data, _covariate_matrix, coef_table
from .ml import ict_ml

__all__ = ["ICTLiarResult", "ict_ml_liars"]

#: Gelman et al. (2008) default scales of the weakly informative Cauchy prior: intercept, slopes.
_PRIOR_SCALE_INTERCEPT = 10.0
_PRIOR_SCALE_SLOPE = 2.5
#: A liar coefficient (in standardised units) beyond this is reported as diverging.
_DIVERGED = 12.0


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


def _logit_newton(X, beta, resp, trials, obs_w, lam, n_steps):
    """Newton steps for ``sum a_i [resp_i eta_i - trials log(1 + exp(eta_i))] - lam . beta^2 / 2``
    (a weighted binomial-logit log-likelihood with an optional ridge term; concave, so step
    halving keeps every step an ascent step)."""
    a = obs_w

    def f(b):
        eta = X @ b
        return float(np.dot(a, resp * eta - trials * np.logaddexp(0.0, eta)) - 0.5 * lam @ (b * b))

    cur = f(beta)
    eye = np.eye(beta.size)
    for _ in range(n_steps):
        mu = special.expit(X @ beta)
        g = X.T @ (a * (resp - trials * mu)) - lam * beta
        Hn = X.T @ (X * (a * trials * mu * (1 - mu))[:, None]) + np.diag(lam)
        try:
            step = np.linalg.solve(Hn + 1e-10 * eye, g)
        except np.linalg.LinAlgError:
            break
        lam_step = 1.0
        for _ in range(30):
            new = beta + lam_step * step
            val = f(new)
            if val >= cur - 1e-12 * abs(cur):
                break
            lam_step /= 2
        else:
            break
        beta, cur = new, val
        if np.max(np.abs(lam_step * step)) < 1e-10:
            break
    return beta


class _LiarModel:
    """Observed-data log-likelihood, score (Fisher's identity) and EM step of the liar model.

    Parameters are stacked as ``[delta, psi, phi_ceiling?, phi_floor?]``; the liar blocks are in
    the coordinates of the (standardised) liar covariate matrices ``Xc`` and ``Xf``.
    """

    def __init__(self, X, Xc, Xf, y, t, J, s, ceiling, floor, prior_scales):
        self.X, self.Xc, self.Xf = X, Xc, Xf
        self.y, self.t, self.J = y, t, J
        self.s = np.ones(y.size) if s is None else s
        self.ceiling, self.floor = ceiling, floor
        p = X.shape[1]
        sizes = [p, p, Xc.shape[1] if ceiling else 0, Xf.shape[1] if floor else 0]
        self.edges = np.concatenate([[0], np.cumsum(sizes)])
        self.n_params = int(self.edges[-1])
        # prior scales of the liar blocks (None: maximum likelihood)
        self.prior_scales = prior_scales
        ks = np.arange(J + 1)
        self.lc = special.gammaln(J + 1) - special.gammaln(ks + 1) - special.gammaln(J - ks + 1)
        tb = t.astype(bool)
        self.tb = tb
        yi = y.astype(int)
        self.yi = yi
        # which latent components are possible for each treated respondent
        self.okA = tb & (yi >= 1)  # Z = 1, Y(0) = y - 1, truthful
        self.okB = (~tb) | (yi <= J)  # Z = 0, Y(0) = y (and every control respondent)
        self.okC = tb & (yi == J) if ceiling else np.zeros(y.size, bool)  # ceiling liar
        self.okD = tb & (yi == 0) if floor else np.zeros(y.size, bool)  # floor liar
        self.kA = np.clip(yi - 1, 0, J)
        self.kB = np.clip(yi, 0, J)
        # truthful Z = 1 respondents at the boundaries (they could have lied but did not)
        self.topA = tb & (yi == J + 1)
        self.botA = tb & (yi == 1)

    def block(self, theta, k):
        return theta[self.edges[k] : self.edges[k + 1]]

    def _lh(self, k, lp, l1p):
        return self.lc[k] + k * lp + (self.J - k) * l1p

    def estep(self, theta):
        """Per respondent: log-likelihood, posterior component weights and probabilities."""
        J = self.J
        lg, l1g = _log_expit(self.X @ self.block(theta, 0))
        lp, l1p = _log_expit(self.X @ self.block(theta, 1))
        neg = np.full(self.y.size, -np.inf)
        lA = np.where(self.okA, lg + self._lh(self.kA, lp, l1p), neg)
        lB_t = l1g + self._lh(self.kB, lp, l1p)
        lB = np.where(self.okB, np.where(self.tb, lB_t, self._lh(self.kB, lp, l1p)), neg)
        lC = neg
        lD = neg
        qc = qf = None
        if self.ceiling:
            lq, l1q = _log_expit(self.Xc @ self.block(theta, 2))
            lA = lA + np.where(self.topA, l1q, 0.0)
            lC = np.where(self.okC, lg + self._lh(J, lp, l1p) + lq, neg)
            qc = np.exp(lq)
        if self.floor:
            lq, l1q = _log_expit(self.Xf @ self.block(theta, 3))
            lA = lA + np.where(self.botA, l1q, 0.0)
            lD = np.where(self.okD, lg + self._lh(0, lp, l1p) + lq, neg)
            qf = np.exp(lq)
        ll = np.logaddexp(np.logaddexp(lA, lB), np.logaddexp(lC, lD))
        with np.errstate(invalid="ignore"):
            w = [np.nan_to_num(np.exp(c - ll)) for c in (lA, lB, lC, lD)]
        return ll, w, np.exp(lg), np.exp(lp), qc, qf

    def _multipliers(self, theta):
        """Per-respondent score multipliers m_b (score_i = x_ib m_ib), by Fisher's identity:
        the posterior mean of the complete-data score."""
        ll, (wA, wB, wC, wD), g, p, qc, qf = self.estep(theta)
        t = self.t
        ez = np.where(self.tb, wA + wC + wD, g)
        ey0 = np.where(self.tb, wA * (self.yi - 1) + wB * self.yi + wC * self.J, self.y)
        m = [t * (ez - g), ey0 - self.J * p]
        if self.ceiling:
            m.append(wC - qc * (wC + wA * self.topA))
        if self.floor:
            m.append(wD - qf * (wD + wA * self.botA))
        return ll, m, (wA, wB, wC, wD), ez, ey0

    def _covariate_matrices(self):
        """The covariate matrix of each parameter block, in the order of ``theta``."""
        out = [self.X, self.X]
        if self.ceiling:
            out.append(self.Xc)
        if self.floor:
            out.append(self.Xf)
        return out

    def log_prior(self, theta):
        if self.prior_scales is None:
            return 0.0
        lp = 0.0
        for k, sc in self.prior_scales.items():
            b = self.block(theta, k)
            lp += float(np.sum(-np.log(math.pi * sc) - np.log1p((b / sc) ** 2)))
        return lp

    def objective(self, theta):
        """Weighted observed-data log-likelihood plus the log prior (0 without a prior)."""
        ll = self.estep(theta)[0]
        return float(np.dot(self.s, ll)) + self.log_prior(theta)

    def grad(self, theta):
        """(objective, gradient, per-respondent score rows) at ``theta``."""
        ll, m, *_ = self._multipliers(theta)
        obj = float(np.dot(self.s, ll)) + self.log_prior(theta)
        rows = np.hstack(
            [Xb * mb[:, None] for Xb, mb in zip(self._covariate_matrices(), m, strict=True)]
        )
        g = rows.T @ self.s
        if self.prior_scales is not None:
            for k, sc in self.prior_scales.items():
                b = self.block(theta, k)
                g[self.edges[k] : self.edges[k + 1]] += -2 * b / (sc**2 + b**2)
        return obj, g, rows

    def em_step(self, theta, n_newton=2):
        """One EM iteration. The M-step is a set of weighted logistic / binomial regressions:
        delta on E[Z], psi on E[Y(0)] with J trials, and each liar model on the liar indicator
        among its risk set (treated respondents with Y(0) = J and Z = 1, or Y(0) = 0 and Z = 1).
        With a prior the Cauchy density is treated as a scale mixture of normals, which adds a
        ridge term ``(nu + 1) / (nu sigma^2 + beta^2)`` (nu = 1) to the M-step (an ECM step)."""
        _, _, (wA, _, wC, wD), ez, ey0 = self._multipliers(theta)
        s = self.s
        new = [
            _logit_newton(
                self.X, self.block(theta, 0), ez, 1.0, s, np.zeros(self.X.shape[1]), n_newton
            ),
            _logit_newton(
                self.X,
                self.block(theta, 1),
                ey0,
                float(self.J),
                s,
                np.zeros(self.X.shape[1]),
                n_newton,
            ),
        ]
        for k, on, Xl, resp_mask, other in (
            (2, self.ceiling, self.Xc, self.okC, self.topA),
            (3, self.floor, self.Xf, self.okD, self.botA),
        ):
            if not on:
                continue
            b = self.block(theta, k)
            liar_w = wC if k == 2 else wD
            a = s * (liar_w * resp_mask + wA * other)
            lam = np.zeros(b.size)
            if self.prior_scales is not None:
                sc = self.prior_scales[k]
                lam = 2.0 / (sc**2 + b**2)
            new.append(_logit_newton(Xl, b, resp_mask.astype(float), 1.0, a, lam, n_newton))
        return np.concatenate(new)


def _std_transform(M: np.ndarray, has_intercept: bool):
    """(standardised covariate matrix, A, prior scales) with ``M @ A == M_std`` and
    ``beta = A beta_std``.

    Gelman et al. (2008): binary inputs are centred and divided by their range, other inputs
    centred and divided by two standard deviations; the intercept column is kept. Centring only
    when the covariate matrix has an intercept (otherwise it would change the model)."""
    k = M.shape[1]
    A = np.eye(k)
    scales = np.full(k, _PRIOR_SCALE_SLOPE)
    icol = _intercept_column(M) if has_intercept else None
    for j in range(k):
        if j == icol:
            scales[j] = _PRIOR_SCALE_INTERCEPT
            continue
        x = M[:, j]
        vals = np.unique(x)
        spread = (vals[-1] - vals[0]) if vals.size == 2 else 2 * float(np.std(x, ddof=1))
        if not np.isfinite(spread) or spread <= 0:
            spread = 1.0
        A[j, j] = 1.0 / spread
        if icol is not None:
            A[icol, j] = -float(np.mean(x)) / spread
    return M @ A, A, scales


def _derived(model: _LiarModel, theta: np.ndarray) -> np.ndarray:
    """Quantities of interest (Blair & Imai 2012, eqs. 26-29), averaged over the sample (weighted):
    ``[prevalence, ceiling conditional, ceiling population, floor conditional, floor population]``
    (NaN for a liar model that is not fitted).

    prevalence = mean g(X_i delta); the conditional probability of lying among those who would
    answer every item (ceiling) or only the sensitive item (floor) affirmatively,
    ``sum q_i h_i g_i / sum h_i g_i`` with ``h_i = h(J; X_i)`` or ``h(0; X_i)``; the population
    proportion of such liars, ``mean q_i h_i g_i``."""
    wn = model.s / model.s.sum()
    g = special.expit(model.X @ model.block(theta, 0))
    p = special.expit(model.X @ model.block(theta, 1))
    J = model.J
    out = [float(wn @ g), np.nan, np.nan, np.nan, np.nan]
    for k, on, Xl, hk in (
        (2, model.ceiling, model.Xc, p**J),
        (3, model.floor, model.Xf, (1 - p) ** J),
    ):
        if not on:
            continue
        q = special.expit(Xl @ model.block(theta, k))
        hg = hk * g
        i = 1 if k == 2 else 3
        out[i] = float(wn @ (q * hg) / (wn @ hg))
        out[i + 1] = float(wn @ (q * hg))
    return np.array(out)


def _num_jacobian(f, x: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of a vector function."""
    cols = []
    for j in range(x.size):
        h = 1e-5 * (1.0 + abs(x[j]))
        e = np.zeros_like(x)
        e[j] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.column_stack(cols)


def _maximise(model: _LiarModel, theta: np.ndarray, max_iter: int, tol: float):
    """EM to (near) convergence, then a BFGS polish of the objective with its analytic gradient.

    Returns ``(theta, n_iter, converged)``."""
    obj = model.objective(theta)
    n_em = 0
    for it in range(1, max_iter + 1):
        n_em = it
        new = model.em_step(theta)
        obj_new = model.objective(new)
        if obj_new < obj:  # (cannot happen for exact M-steps; guards against round-off)
            break
        theta, done = new, obj_new - obj < tol * (1 + abs(obj_new))
        obj = obj_new
        if done:
            break

    def neg(z):
        o, g, _ = model.grad(z)
        return -o, -g

    res = optimize.minimize(
        neg, theta, jac=True, method="BFGS", options={"gtol": 1e-7, "maxiter": 2000}
    )
    if -res.fun >= obj:
        theta = res.x
    grad = model.grad(theta)[1]
    converged = bool(np.max(np.abs(grad)) < 1e-3)
    if not converged:
        warnings.warn(
            f"ict_ml_liars did not converge (max |gradient| = {np.max(np.abs(grad)):.2g})",
            RuntimeWarning,
            stacklevel=3,
        )
    return theta, n_em + int(res.nit), converged


def _covariance(model: _LiarModel, theta: np.ndarray, cov_type: str) -> np.ndarray:
    """Inverse of the numerical Hessian of the objective (central differences of the analytic
    gradient), or the sandwich built on it; rows/columns with a non-positive variance are NaN."""
    H = _num_jacobian(lambda z: model.grad(z)[1], theta)
    H = (H + H.T) / 2
    try:
        Hinv = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        Hinv = np.full_like(H, np.nan)
    if cov_type == "robust":
        rows = model.grad(theta)[2]
        meat = rows.T @ (rows * (model.s**2)[:, None])
        cov = Hinv @ meat @ Hinv
    else:
        cov = Hinv
    bad = ~(np.diag(cov) > 0)
    if bad.any():
        cov = cov.copy()
        cov[bad, :] = np.nan
        cov[:, bad] = np.nan
    return cov


@dataclass(frozen=True, eq=False)
class ICTLiarResult(LikelihoodFit):
    """Fitted list-experiment regression with ceiling and/or floor liars (Blair & Imai 2012).

    Attributes
    ----------
    params : ndarray
        Stacked coefficients ``[delta, psi, ceiling?, floor?]``: sensitive item, control items
        (binomial logit, constrained), ceiling-liar logit, floor-liar logit (the last two only
        when fitted).
    cov : ndarray
        Their covariance: inverse of the *numerical* Hessian (central differences of the analytic
        score) of the observed-data log-likelihood (plus log prior with ``liar_prior``), or the
        sandwich built on it (``cov_type="robust"``).
    names, ceiling_names, floor_names : list of str
        Covariate names of the sensitive / control models and of the two liar models.
    loglik : float
        Maximised (weighted) observed-data log-likelihood (the prior is not included).
    J, n : int
        Control items; respondents used.
    ceiling, floor : bool
        Which liar models are in the model.
    intercept : bool
    liar_prior : str or None
        ``None`` (maximum likelihood) or ``"cauchy"`` (posterior mode, Gelman et al. 2008 prior
        on the liar coefficients).
    cov_type : str
        ``"oim"`` or ``"robust"``.
    n_iter : int
        EM iterations plus quasi-Newton iterations.
    converged : bool
    weighted : bool
    prevalence, prevalence_se : float
        Average predicted prevalence of the sensitive trait, mean of ``g(X_i delta)`` over the
        sample, and its delta-method SE.
    liars : DataFrame
        Index ``ceiling`` / ``floor`` (fitted models only); columns ``conditional``,
        ``conditional_se`` (probability of lying among respondents at risk, eqs. 26 and 28),
        ``population``, ``population_se`` (population proportion of liars, eqs. 27 and 29).
    """

    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    ceiling_names: list[str]
    floor_names: list[str]
    loglik: float
    J: int
    n: int
    ceiling: bool
    floor: bool
    intercept: bool
    liar_prior: str | None
    cov_type: str
    n_iter: int
    converged: bool
    weighted: bool
    prevalence: float
    prevalence_se: float
    liars: pd.DataFrame

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of ``params``."""
        return np.sqrt(np.diag(self.cov))

    def _parts(self) -> list[tuple[str, list[str]]]:
        parts = [("sensitive", self.names), ("control", self.names)]
        if self.ceiling:
            parts.append(("ceiling", self.ceiling_names))
        if self.floor:
            parts.append(("floor", self.floor_names))
        return parts

    def _block(self, part: str) -> pd.Series:
        start = 0
        for name, cols in self._parts():
            if name == part:
                return pd.Series(self.params[start : start + len(cols)], index=cols)
            start += len(cols)
        raise AttributeError(f"no {part} liar model in this fit (pass {part}=True)")

    @property
    def coef_sensitive(self) -> pd.Series:
        """delta: logit coefficients of holding the sensitive trait, g(x) = expit(x'delta)."""
        return self._block("sensitive")

    @property
    def coef_control(self) -> pd.Series:
        """psi: binomial-logit coefficients of the control-item count
        Y(0) ~ Bin(J, expit(x'psi))."""
        return self._block("control")

    @property
    def coef_ceiling(self) -> pd.Series:
        """Logit coefficients of the ceiling-liar probability (paper: q-bar(x; phi), eq. 24)."""
        return self._block("ceiling")

    @property
    def coef_floor(self) -> pd.Series:
        """Logit coefficients of the floor-liar probability (paper: q(x; kappa), eq. 25)."""
        return self._block("floor")

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table: index (part, term) with part in ``sensitive``, ``control``,
        ``ceiling``, ``floor``; columns ``coef, se, z, p_value, ci_low, ci_high``."""
        tuples = [(part, term) for part, cols in self._parts() for term in cols]
        idx = pd.MultiIndex.from_tuples(tuples, names=["part", "term"])
        return coef_table(self.params, self.bse, idx, level)

    def summary(self) -> str:
        """Readable text table of the coefficients, the liar proportions and the prevalence."""
        f = self.to_frame()
        kind = " + ".join(k for k, on in (("ceiling", self.ceiling), ("floor", self.floor)) if on)
        est = "ML" if self.liar_prior is None else "posterior mode, Cauchy prior on liar models"
        lines = [
            f"Item count technique with {kind or 'no'} liars ({est}), Blair & Imai (2012)",
            f"N = {self.n}, J = {self.J}, log-likelihood = {self.loglik:.3f}, "
            f"AIC = {self.aic:.2f}, BIC = {self.bic:.2f}, "
            f"SE: {self.cov_type}{', weighted' if self.weighted else ''}, "
            f"{'converged' if self.converged else 'NOT converged'} in {self.n_iter} iterations",
        ]
        titles = {
            "sensitive": "sensitive item",
            "control": "control items",
            "ceiling": "ceiling liars",
            "floor": "floor liars",
        }
        for part in f.index.get_level_values(0).unique():
            lines += ["", titles[part], f"{'':<16}{'coef':>10}{'SE':>9}{'z':>8}{'p':>9}"]
            for term, r in f.loc[part].iterrows():
                lines.append(
                    f"{str(term)[:15]:<16}{r.coef:>10.4f}{r.se:>9.4f}{r.z:>8.2f}{r.p_value:>9.4f}"
                )
        if len(self.liars):
            lines += ["", f"{'liars':<16}{'cond. prob':>11}{'SE':>9}{'population':>12}{'SE':>9}"]
            for kind_, r in self.liars.iterrows():
                lines.append(
                    f"{kind_:<16}{r.conditional:>11.4f}{r.conditional_se:>9.4f}"
                    f"{r.population:>12.4f}{r.population_se:>9.4f}"
                )
        lines += ["", f"Average prevalence {self.prevalence:.4f} (SE {self.prevalence_se:.4f})"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def ict_ml_liars(
    y,
    treat,
    X=None,
    *,
    J: int | None = None,
    ceiling: bool = True,
    floor: bool = False,
    liar_X=None,
    liar_prior: str | None = None,
    weights=None,
    intercept: bool = True,
    cov_type: str | None = None,
    start=None,
    max_iter: int = 2000,
    tol: float = 1e-10,
) -> ICTLiarResult:
    r"""ML regression for the standard list experiment with ceiling and/or floor liars.

    Blair & Imai (2012), Section 3.2. Respondent types are :math:`(Y_i(0), Z_i)`: the control
    count and the truthful answer to the sensitive item, with (the paper's "constrained" model
    and its identifying assumption, eq. 23)

    .. math::

        Z_i \sim \mathrm{Bernoulli}(g_i),\ g_i = \mathrm{expit}(X_i^\top\delta), \qquad
        Y_i(0) \sim \mathrm{Binomial}(J, \mathrm{expit}(X_i^\top\psi)),\ \text{independent},

    :math:`h_i(y)` the binomial pmf. Treated respondents of type :math:`(J, 1)` answer :math:`J`
    instead of :math:`J + 1` with probability :math:`\bar q_i = \mathrm{expit}(W_i^\top\phi)`
    (ceiling liars, eq. 24) and treated respondents of type :math:`(0, 1)` answer 0 instead of 1
    with probability :math:`\underline q_i = \mathrm{expit}(W_i^\top\kappa)` (floor liars,
    eq. 25); control respondents answer :math:`Y_i(0)`. The likelihood of a treated answer
    :math:`Y_i = y` is

    .. math::

        P(y) = g_i h_i(y - 1)\,[1 - \bar q_i]^{1\{y = J+1\}}[1 - \underline q_i]^{1\{y = 1\}}
             + (1 - g_i) h_i(y)
             + 1\{y = J\}\, g_i h_i(J) \bar q_i + 1\{y = 0\}\, g_i h_i(0) \underline q_i

    (terms outside :math:`0..J` are zero; a liar model that is switched off has
    :math:`q \equiv 0`), and of a control answer :math:`h_i(y)`. With both switched off this is
    exactly the constrained model of :func:`ict_ml` (Imai 2011).

    Fitting: EM over the latent type and liar indicator (E-step: posterior probabilities of the
    four possible components of each treated answer -- truthful :math:`Z = 1`, :math:`Z = 0`,
    ceiling liar, floor liar; M-step: weighted logistic regressions of :math:`E[Z_i]` on
    :math:`X` and of each liar indicator on :math:`W` over its risk set, and a binomial(J) logit
    regression of :math:`E[Y_i(0)]` on :math:`X`), all vectorised, then a quasi-Newton (BFGS)
    polish of the observed-data log-likelihood with its analytic gradient (Fisher's identity:
    the posterior mean of the complete-data score). Standard errors: inverse of the **numerical**
    Hessian (central differences of that analytic gradient) -- the observed information;
    ``cov_type="robust"`` gives the sandwich :math:`H^{-1}(\sum_i s_i^2 u_i u_i^\top)H^{-1}`
    (the default with weights, which enter as :math:`\sum_i s_i \log P_i`).

    The liar coefficients are often not identified from the data: the ML estimate then lies at
    the boundary (:math:`q \to 0`) or does not exist (complete separation; the paper notes this
    for its own example, Section 3.2.2). Blair & Imai then put the weakly informative prior of
    Gelman et al. (2008) on the liar models and report the posterior mode with uncertainty from
    the pseudo-posterior: ``liar_prior="cauchy"`` does this -- independent Cauchy priors with
    scale 10 on the intercept and 2.5 on every slope after binary inputs are centred and divided
    by their range and other inputs centred and divided by two standard deviations (computed on
    the whole sample). The prior enters the EM as a scale mixture of normals (ECM). A warning is
    raised when a liar coefficient diverges.

    Also reported (:attr:`ICTLiarResult.liars`): the conditional probability of lying and the
    population proportion of liars (eqs. 26-29), and the average prevalence
    :math:`\frac1n \sum_i g_i`, with delta-method SEs.

    Parameters
    ----------
    y, treat : array-like
        Item counts (0..J for controls, 0..J+1 for treated) and the treatment indicator
        (0/1, bool or "TRUE"/"FALSE").
    X : array-like or DataFrame or None
        Covariates of the sensitive-item and control-item models (``None``: intercepts only).
    J : int, optional
        Number of control items (inferred from the data when omitted).
    ceiling, floor : bool
        Which liar models to include (both ``False`` gives :func:`ict_ml`'s constrained model).
    liar_X : None, "same", array-like or DataFrame
        Covariates of the liar models: ``None`` (default) intercept only, as the paper
        recommends to start with (Section 4); ``"same"`` the covariates of ``X`` (what Table 7
        uses); or a covariate matrix (an intercept is added when ``intercept``).
    liar_prior : {None, "cauchy"}
        ``None``: maximum likelihood. ``"cauchy"``: posterior mode under the Gelman et al.
        (2008) prior on the liar coefficients (the paper's Table 7).
    weights : array-like, optional
        Non-negative survey weights (rows with weight 0 are dropped).
    intercept : bool
        Prepend an intercept column to ``X`` (and to a ``liar_X`` matrix).
    cov_type : {"oim", "robust"}, optional
        Default ``"oim"`` without weights and ``"robust"`` with weights.
    start : array-like, optional
        Starting values for ``params`` (same layout); default: the :func:`ict_ml` fit for
        ``delta`` and ``psi`` and a liar probability of 0.1.
    max_iter : int
        Maximum number of EM iterations before the quasi-Newton polish.
    tol : float
        EM stops when the objective increases by less than ``tol * (1 + |objective|)``.

    Returns
    -------
    ICTLiarResult

    Notes
    -----
    Symbols follow the paper's eqs. (24)-(25): :math:`\phi` for the ceiling and :math:`\kappa`
    for the floor model (eq. 26 of the paper swaps the letters of :math:`\psi` and
    :math:`\phi`). On the affirmative-action data (Table 7, p. 70) the standard model is
    reproduced to the printed precision and the ceiling model (``liar_X="same"``,
    ``liar_prior="cauchy"``) within 0.004. The published floor and both-effects columns are not
    the maximum of this model: they match (within about 0.01) the corner where the floor-liar
    probability is 1 for everyone, a point EM cannot leave once there, whose log-likelihood is
    about 6 below the maximum found here (see ``tests/listexp/test_listexp_liars.py``).

    References
    ----------
    Blair, G. & Imai, K. (2012). Statistical analysis of list experiments. *Political Analysis*
    20(1): 47-77, Section 3.2, eqs. (21)-(29); Table 7.

    Imai, K. (2011). Multivariate regression analysis for the item count technique. *JASA*
    106(494): 407-416.

    Gelman, A., Jakulin, A., Pittau, M. G. & Su, Y.-S. (2008). A weakly informative default prior
    distribution for logistic and other regression models. *Annals of Applied Statistics* 2(4):
    1360-1383.
    """
    what = "ict_ml_liars: invalid input"
    _check_options(ceiling, floor, intercept, liar_prior, cov_type, liar_X, what)
    yf, t, J, w = _check_list_data(y, treat, J, weights, what=what, max_J=MAX_CONTROL_ITEMS)
    n_all = yf.size
    Xm, names = _covariate_matrix(X, n_all, intercept, what)
    if Xm.shape[1] == 0:
        raise InputError(what, [Problem(_SOURCE, "X", "no covariates and no intercept")])
    Wm, wnames, w_intercept = _liar_covariates(liar_X, Xm, names, n_all, intercept, what)
    if cov_type is None:
        cov_type = "oim" if w is None else "robust"
    if w is not None and np.any(w == 0):
        keep = w > 0
        yf, t, w, Xm, Wm = yf[keep], t[keep], w[keep], Xm[keep], Wm[keep]
    ceiling, floor = bool(ceiling), bool(floor)

    # liar blocks are fitted in standardised coordinates (the prior's scale), beta = A beta_std
    Ws, A, scales = _std_transform(Wm, w_intercept)
    p, pw = Xm.shape[1], Wm.shape[1]
    blocks = [np.eye(p), np.eye(p)] + [A] * (int(ceiling) + int(floor))
    T = linalg.block_diag(*blocks)
    prior = None
    if liar_prior == "cauchy":
        prior = {k: scales for k, on in ((2, ceiling), (3, floor)) if on} or None
    tf = t.astype(float)
    model = _LiarModel(Xm, Ws, Ws, yf, tf, J, w, ceiling, floor, prior)

    if start is not None:
        theta = _given_start(start, model.n_params, T, what)
    else:
        theta = _default_start(yf, t, Xm, J, w, Ws, pw, int(ceiling) + int(floor))

    theta, n_iter, converged = _maximise(model, theta, max_iter, tol)
    cov_std = _covariance(model, theta, cov_type)
    liar_std = theta[2 * p :]
    if liar_std.size and np.max(np.abs(liar_std)) > _DIVERGED:
        warnings.warn(
            "ict_ml_liars: a liar-model coefficient diverges (the liar probability goes to 0 or 1 "
            "for some covariate values: boundary or separation), so its ML estimate and SE are not "
            "meaningful; use fewer liar covariates (liar_X=None) or liar_prior='cauchy' "
            "(Blair & Imai 2012, Section 3.2.2)",
            RuntimeWarning,
            stacklevel=2,
        )

    d, se_d, liars = _quantities_of_interest(model, theta, cov_std, ceiling, floor)
    ll = float(np.dot(model.s, model.estep(theta)[0]))
    return ICTLiarResult(
        params=T @ theta,
        cov=T @ cov_std @ T.T,
        names=list(names),
        ceiling_names=list(wnames) if ceiling else [],
        floor_names=list(wnames) if floor else [],
        loglik=ll,
        J=int(J),
        n=int(yf.size),
        ceiling=ceiling,
        floor=floor,
        intercept=bool(intercept),
        liar_prior=liar_prior,
        cov_type=cov_type,
        n_iter=n_iter,
        converged=converged,
        weighted=w is not None,
        prevalence=float(d[0]),
        prevalence_se=float(se_d[0]),
        liars=liars,
    )


def _check_options(ceiling, floor, intercept, liar_prior, cov_type, liar_X, what: str) -> None:
    """InputError listing every bad option of :func:`ict_ml_liars`."""
    problems: list[Problem] = []
    for name, val in (("ceiling", ceiling), ("floor", floor), ("intercept", intercept)):
        if not isinstance(val, (bool, np.bool_)):
            problems.append(Problem(_SOURCE, name, "expected True or False", value=val))
    if liar_prior not in (None, "cauchy"):
        problems.append(
            Problem(_SOURCE, "liar_prior", "expected None or 'cauchy'", value=liar_prior)
        )
    if cov_type not in (None, "oim", "robust"):
        problems.append(Problem(_SOURCE, "cov_type", "expected 'oim' or 'robust'", value=cov_type))
    if isinstance(liar_X, str) and liar_X != "same":
        problems.append(
            Problem(
                _SOURCE,
                "liar_X",
                "expected None (intercept only), 'same' (the covariates of X) "
                "or a covariate matrix",
                value=liar_X,
            )
        )
    if problems:
        raise InputError(what, problems)


def _liar_covariates(liar_X, Xm, names, n_all: int, intercept: bool, what: str):
    """The liar models' covariate matrix, its column names and whether it has an intercept."""
    if liar_X is None:
        Wm, wnames = np.ones((n_all, 1)), ["(Intercept)"]
        w_intercept = True
    elif isinstance(liar_X, str):
        Wm, wnames, w_intercept = Xm, list(names), intercept
    else:
        try:
            Wm, wnames = _covariate_matrix(liar_X, n_all, intercept, what)
        except InputError as exc:  # name the argument: the shared check says "X"
            raise InputError(
                what,
                [
                    Problem(pr.file, "liar_" + pr.where, pr.message, row=pr.row, value=pr.value)
                    for pr in exc.problems
                ],
            ) from None
        w_intercept = intercept
        if Wm.shape[1] == 0:
            raise InputError(what, [Problem(_SOURCE, "liar_X", "no covariates and no intercept")])
    return Wm, wnames, w_intercept


def _given_start(start, n_params: int, T: np.ndarray, what: str) -> np.ndarray:
    """User starting values (the layout of ``params``) in the standardised coordinates."""
    s0 = np.asarray(start, dtype=float).ravel()
    if s0.size != n_params or not np.all(np.isfinite(s0)):
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "start",
                    f"expected {n_params} finite starting values (the layout of params)",
                )
            ],
        )
    return np.linalg.solve(T, s0)


def _default_start(yf, t, Xm, J: int, w, Ws, pw: int, n_liar_models: int) -> np.ndarray:
    """Default starting values: :func:`ict_ml`'s delta and psi, liar probabilities 0.1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        base = ict_ml(yf, t, Xm, J, constrained=True, weights=w, intercept=False)
    liar0 = np.zeros(pw)
    icol = _intercept_column(Ws)
    liar0[icol if icol is not None else 0] = math.log(0.1 / 0.9)
    return np.concatenate([base.params] + [liar0] * n_liar_models)


def _quantities_of_interest(model: _LiarModel, theta, cov_std, ceiling: bool, floor: bool):
    """:func:`_derived` at ``theta``, its delta-method SEs and the table of liar proportions."""
    d = _derived(model, theta)
    with np.errstate(invalid="ignore"):
        G = _num_jacobian(lambda z: _derived(model, z), theta)
        se_d = np.sqrt(np.einsum("ij,jk,ik->i", G, cov_std, G))
    rows_l = []
    index = []
    for kind, on, i in (("ceiling", ceiling, 1), ("floor", floor, 3)):
        if on:
            index.append(kind)
            rows_l.append([d[i], se_d[i], d[i + 1], se_d[i + 1]])
    liars = pd.DataFrame(
        rows_l,
        index=pd.Index(index, name="liars"),
        columns=["conditional", "conditional_se", "population", "population_se"],
    )
    return d, se_d, liars


def _intercept_column(M: np.ndarray) -> int | None:
    const = np.flatnonzero(np.all(M == 1.0, axis=0))
    return int(const[0]) if const.size else None
