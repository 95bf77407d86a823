"""Maximum likelihood regression for list experiments with multiple sensitive items
(Blair & Imai 2012, Section 2.2)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from segment.exceptions import InputError, Problem

from ._ml_model import _binom_newton, _log_expit
from ._results import LikelihoodFit, covariance_from_hessian
from ._validate import (
    _SOURCE,
    MAX_CONTROL_ITEMS,
    _as_1d,
    _check_list_data,
    _covariate_matrix,
    _rows_problems,
    coef_table,
)

__all__ = ["ICTMultiMLResult", "ict_ml_multi"]

#: Name of the control-count covariate ``Y_i(0)`` in the sensitive-item blocks ("level").
Y0_TERM = "Y(0)"
_CONDITIONS = ("level", "none")


@dataclass(frozen=True, eq=False)
class ICTMultiMLResult(LikelihoodFit):
    """Fitted multiple-sensitive-item ML model of a list experiment (Blair & Imai 2012).

    Attributes
    ----------
    params : ndarray
        Stacked coefficients ``[psi, delta_1, theta_1, ..., delta_K, theta_K]``: ``psi`` the
        control-item logit coefficients, ``delta_t`` the logit coefficients of sensitive item
        ``t`` and ``theta_t`` the coefficient of the control count ``Y(0)`` in that logit
        (``condition="level"`` only; absent with ``"none"``).
    cov : ndarray
        Estimated covariance of ``params`` (inverse observed information, or the sandwich).
    names : list of str
        Covariate names (``"(Intercept)"`` first when an intercept was added).
    arms : tuple of str
        Treatment-arm labels (one sensitive item each), in the order of the blocks.
    loglik : float
        Maximised (weighted) observed-data log-likelihood.
    J : int
        Number of control items.
    n : int
        Respondents used (zero-weight rows dropped).
    n_arm : dict
        Respondents per arm, control (``control_label``) included.
    condition : str
        ``"level"`` or ``"none"``.
    control_label : str
    intercept : bool
    cov_type : str
        ``"oim"`` (inverse observed information) or ``"robust"`` (sandwich).
    n_iter : int
    converged : bool
    weighted : bool
    """

    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    arms: tuple[str, ...]
    loglik: float
    J: int
    n: int
    n_arm: dict
    condition: str
    control_label: str
    intercept: bool
    cov_type: str
    n_iter: int
    converged: bool
    weighted: bool = False

    # ------------------------------------------------------------------ layout
    @property
    def sensitive_terms(self) -> list[str]:
        """Terms of each sensitive-item block: the covariates, then ``"Y(0)"`` under "level"."""
        return [*self.names, Y0_TERM] if self.condition == "level" else list(self.names)

    def _arm_index(self, arm) -> int:
        key = _label_str(arm)
        if key in self.arms:
            return self.arms.index(key)
        raise KeyError(f"no treatment arm {arm!r}; the arms are {list(self.arms)}")

    def _slice(self, block: int) -> slice:
        p, q = len(self.names), len(self.sensitive_terms)
        if block < 0:
            return slice(0, p)
        return slice(p + block * q, p + (block + 1) * q)

    @property
    def block_names(self) -> list[str]:
        """``"control"`` then one block name per arm (the arm label; ``"sensitive: <arm>"``
        should an arm itself be called ``"control"``)."""
        clash = "control" in self.arms
        return ["control"] + [f"sensitive: {a}" if clash else a for a in self.arms]

    # ------------------------------------------------------------------ accessors
    @property
    def bse(self) -> np.ndarray:
        """Standard errors of ``params``."""
        return np.sqrt(np.diag(self.cov))

    @property
    def coef_control(self) -> pd.Series:
        """psi: logit coefficients of the control items (Y(0) ~ Binomial(J, expit(X psi)))."""
        return pd.Series(self.params[self._slice(-1)], index=self.names)

    @property
    def se_control(self) -> pd.Series:
        return pd.Series(self.bse[self._slice(-1)], index=self.names)

    def coef_sensitive(self, arm) -> pd.Series:
        """delta_t (and theta_t as ``"Y(0)"``): logit coefficients of sensitive item ``arm``."""
        s = self._slice(self._arm_index(arm))
        return pd.Series(self.params[s], index=self.sensitive_terms)

    def se_sensitive(self, arm) -> pd.Series:
        """Standard errors of :meth:`coef_sensitive`."""
        s = self._slice(self._arm_index(arm))
        return pd.Series(self.bse[s], index=self.sensitive_terms)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table: index (block, term); columns ``coef, se, z, p_value, ci_low,
        ci_high``. Blocks: ``"control"``, then one per arm (see :attr:`block_names`)."""
        tuples = [("control", t) for t in self.names]
        for b in self.block_names[1:]:
            tuples += [(b, t) for t in self.sensitive_terms]
        idx = pd.MultiIndex.from_tuples(tuples, names=["block", "term"])
        return coef_table(self.params, self.bse, idx, level)

    def summary(self) -> str:
        """Readable text table of the coefficients."""
        f = self.to_frame()
        arms = ", ".join(f"{a} ({self.n_arm[a]})" for a in self.arms)
        lines = [
            "Item count technique: ML, multiple sensitive items (Blair & Imai 2012)",
            f"N = {self.n} (control {self.n_arm[self.control_label]}; {arms}), J = {self.J}, "
            f"condition = {self.condition!r}",
            f"log-likelihood = {self.loglik:.3f}, AIC = {self.aic:.2f}, "
            f"SE: {self.cov_type}{', weighted' if self.weighted else ''}, "
            f"{'converged' if self.converged else 'NOT converged'} in {self.n_iter} iterations",
        ]
        for block in f.index.get_level_values(0).unique():
            title = "control items" if block == "control" else f"sensitive item: {block}"
            lines += ["", title, f"{'':<16}{'coef':>10}{'SE':>9}{'z':>8}{'p':>9}"]
            for term, r in f.loc[block].iterrows():
                lines.append(
                    f"{str(term)[:15]:<16}{r.coef:>10.4f}{r.se:>9.4f}{r.z:>8.2f}{r.p_value:>9.4f}"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


class _MultiModel:
    """Observed-data log-likelihood, score, Hessian and EM step of the multiple-item model.

    Parameters are stacked as ``[psi, b_1, ..., b_K]`` with ``b_t = [delta_t, theta_t]``
    ("level") or ``b_t = delta_t`` ("none"). ``arm`` is ``-1`` for control respondents and
    ``0..K-1`` for the treatment arms.
    """

    def __init__(self, X, y, arm, K, J, s, level):
        self.X, self.y, self.J, self.s, self.K = X, y, J, s, K
        self.level = level
        n, p = X.shape
        self.p = p
        self.q = p + (1 if level else 0)
        self.P = p + K * self.q
        self.sw = np.ones(n) if s is None else s
        self.ctrl = arm < 0
        self.tr = ~self.ctrl
        self.arm_t = arm[self.tr]
        self.Xt = X[self.tr]
        self.yt = y[self.tr]
        self.st = self.sw[self.tr]
        lc = (
            special.gammaln(J + 1)
            - special.gammaln(np.arange(J + 1) + 1)
            - special.gammaln(J - np.arange(J + 1) + 1)
        )
        # Y(0) if the respondent holds the sensitive trait (z = 1) or not (z = 0)
        self.k = {1: self.yt - 1, 0: self.yt.copy()}
        self.ok = {1: self.yt >= 1, 0: self.yt <= J}
        self.lc = {
            z: np.where(self.ok[z], lc[np.clip(self.k[z], 0, J).astype(int)], -np.inf)
            for z in (0, 1)
        }
        self.lc_ctrl = lc[y[self.ctrl].astype(int)]
        # per treated row: the design u_z of its arm's logit, and its columns in theta
        self.U = {}
        for z in (0, 1):
            cols = [self.Xt, np.clip(self.k[z], 0, J)[:, None]] if level else [self.Xt]
            self.U[z] = np.column_stack(cols)
        self.cols = self.p + self.arm_t[:, None] * self.q + np.arange(self.q)[None, :]
        self.rows = np.arange(self.yt.size)[:, None]

    def split(self, theta):
        psi = theta[: self.p]
        B = theta[self.p :].reshape(self.K, self.q)
        return psi, B

    def pieces(self, theta):
        """Per-respondent log-likelihood, posterior P(Z = 1 | y) and probabilities."""
        psi, B = self.split(theta)
        J = self.J
        lp, l1p = _log_expit(self.X @ psi)
        ll = np.empty(self.y.size)
        yc = self.y[self.ctrl]
        ll[self.ctrl] = self.lc_ctrl + yc * lp[self.ctrl] + (J - yc) * l1p[self.ctrl]
        lpt, l1pt = lp[self.tr], l1p[self.tr]
        Bt = B[self.arm_t]
        eta = {z: np.einsum("ij,ij->i", self.U[z], Bt) for z in (0, 1)}
        lpi1, _ = _log_expit(eta[1])
        _, l1pi0 = _log_expit(eta[0])
        with np.errstate(invalid="ignore"):
            la = self.lc[1] + np.clip(self.k[1], 0, J) * lpt + (J - np.clip(self.k[1], 0, J)) * l1pt
            lb = self.lc[0] + self.k[0] * lpt + (J - self.k[0]) * l1pt
        la = la + lpi1
        lb = lb + l1pi0
        llt = np.logaddexp(la, lb)
        ll[self.tr] = llt
        w = np.exp(la - llt)
        return ll, w, np.exp(lp), {z: special.expit(eta[z]) for z in (0, 1)}

    def loglik(self, theta) -> float:
        ll = self.pieces(theta)[0]
        return float(np.dot(self.sw, ll))

    def _embed(self, M):
        """n_t x P matrix: row i holds M[i] in the columns of respondent i's arm block."""
        out = np.zeros((self.yt.size, self.P))
        out[self.rows, self.cols] = M
        return out

    def derivatives(self, theta, need_hessian=True, robust=False):
        """(loglik, gradient, Hessian, meat) at ``theta``; the Hessian is analytic.

        Louis's (1982) identity: observed Hessian = posterior mean of the complete-data Hessian
        plus posterior variance of the complete-data score. Z is binary, so per treated
        respondent the variance term is ``w (1 - w) d d'`` with ``d = S(z=1) - S(z=0)``.
        """
        ll_i, w, p, pi = self.pieces(theta)
        J, X, sw = self.J, self.X, self.sw
        ll = float(np.dot(sw, ll_i))
        # complete-data scores (psi part for every row; arm part for treated rows)
        y0 = self.y.astype(float).copy()
        y0[self.tr] = self.yt - w  # E[Y(0) | y]
        g_psi = X * (y0 - J * p)[:, None]  # per-row observed score, psi block
        E = {z: self._embed(self.U[z]) for z in (0, 1)}
        g_arm = w[:, None] * E[1] * (1 - pi[1])[:, None] - (1 - w)[:, None] * E[0] * pi[0][:, None]
        grad = g_arm.T @ self.st
        grad[: self.p] += X.T @ (sw * (y0 - J * p))
        if not need_hessian:
            return ll, grad, None, None
        P, pdim = self.P, self.p
        H = np.zeros((P, P))
        H[:pdim, :pdim] -= X.T @ (X * (sw * J * p * (1 - p))[:, None])
        for z, post in ((1, w), (0, 1 - w)):
            c = self.st * post * pi[z] * (1 - pi[z])
            H -= E[z].T @ (E[z] * c[:, None])
        # d = S(1) - S(0): psi part -x, arm part u_1 (1 - pi_1) + u_0 pi_0
        D = E[1] * (1 - pi[1])[:, None] + E[0] * pi[0][:, None]
        D[:, :pdim] = -self.Xt
        H += D.T @ (D * (self.st * w * (1 - w))[:, None])
        meat = None
        if robust:
            G = np.zeros((self.y.size, P))
            G[:, :pdim] = g_psi
            G[self.tr, :] += g_arm
            meat = G.T @ (G * (sw * sw)[:, None])
        return ll, grad, H, meat

    def mstep(self, theta, n_newton=2):
        """One EM iteration: E-step, then Newton steps of the weighted binomial/logistic fits."""
        _, w, _, _ = self.pieces(theta)
        psi, B = self.split(theta)
        # psi: binomial(J) regression of E[Y(0) | y] (y in control, y - w in the treated arms)
        y0 = self.y.astype(float).copy()
        y0[self.tr] = self.yt - w
        psi = _binom_newton(self.X, psi, y0, float(self.J), self.s, n_newton)
        Bn = B.copy()
        for k in range(self.K):
            m = self.arm_t == k
            # each respondent twice: (u_1, Z = 1) with weight w, (u_0, Z = 0) with weight 1 - w
            U = np.vstack([self.U[1][m], self.U[0][m]])
            resp = np.concatenate([np.ones(m.sum()), np.zeros(m.sum())])
            a = np.concatenate([w[m], 1 - w[m]]) * np.concatenate([self.st[m], self.st[m]])
            Bn[k] = _binom_newton(U, B[k], resp, 1.0, a, n_newton)
        return np.concatenate([psi, Bn.ravel()])


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------


def _label_str(v) -> str:
    """Display form of an arm label: integral floats as integers, everything else ``str``."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _is_missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _check_treat(treat, n, control, arms, what):
    """Arm index per row (-1 control, 0..K-1 arms; -2 for bad rows), arm labels, control label,
    and the problems found."""
    problems: list[Problem] = []
    t_arr = _as_1d(treat, "treat", problems)
    if t_arr is None:
        raise InputError(what, problems)
    if t_arr.size != n:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "treat",
                    f"has {t_arr.size} values but y has {n}; expected one per respondent",
                )
            ],
        )
    lab = np.array([_label_str(v) for v in t_arr], dtype=object)
    miss = np.array([_is_missing(v) for v in t_arr], dtype=bool)
    if miss.any():
        problems.extend(
            _rows_problems(
                "treat",
                miss,
                t_arr,
                "missing treatment label; expected the control label or an arm",
            )
        )
    present = pd.unique(lab[~miss])
    ctrl = _label_str(control)
    if ctrl not in present and control == "control" and "0" in present:
        ctrl = "0"  # numeric coding: 0 is the control group
    if ctrl not in present:
        problems.append(
            Problem(
                _SOURCE,
                "treat",
                f"no respondent has the control label {control!r}; labels found: "
                f"{sorted(present.tolist())} (pass control=...)",
            )
        )
    if arms is None:
        others = [v for v in present if v != ctrl]

        def key(v):
            try:
                return (0, float(v), v)
            except ValueError:
                return (1, 0.0, v)

        arm_labels = sorted(others, key=key)
    else:
        arm_labels = [_label_str(a) for a in arms]
        if len(set(arm_labels)) != len(arm_labels) or ctrl in arm_labels:
            problems.append(
                Problem(
                    _SOURCE,
                    "arms",
                    f"expected distinct treatment-arm labels other than the control label {ctrl!r}",
                    value=list(arms),
                )
            )
        unknown = ~miss & ~np.isin(lab, [*arm_labels, ctrl])
        if unknown.any():
            problems.extend(
                _rows_problems(
                    "treat",
                    unknown,
                    t_arr,
                    f"treatment label not among the arms {arm_labels} "
                    f"or the control label {ctrl!r}",
                )
            )
    if not arm_labels and ctrl in present:
        problems.append(
            Problem(_SOURCE, "treat", "no treatment arm: every respondent has the control label")
        )
    code = np.full(n, -2, dtype=int)
    code[lab == ctrl] = -1
    for k, a in enumerate(arm_labels):
        code[(lab == a) & ~miss] = k
    code[miss] = -2
    return code, arm_labels, ctrl, problems


def _named(X, names, what) -> pd.DataFrame:
    """``X`` as a DataFrame with columns ``names`` (so that errors name them too)."""
    names = [str(c) for c in names]
    if X is None:
        M = np.empty((0, 0))
    elif isinstance(X, pd.DataFrame):
        M = X.to_numpy()
    else:
        M = np.asarray(X)
        if M.ndim == 1:
            M = M[:, None]
    if M.ndim != 2 or M.shape[1] != len(names) or len(set(names)) != len(names):
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "names",
                    f"expected {M.shape[1] if M.ndim == 2 else '?'} distinct covariate names, "
                    f"one per column of X; got {len(names)}",
                    value=names,
                )
            ],
        )
    return pd.DataFrame(M, columns=names)


def _empty_arm_problems(code, arm_labels, ctrl, w):
    pos = np.ones(code.size, bool) if w is None else w > 0
    out = []
    for k, lab in [(-1, ctrl), *enumerate(arm_labels)]:
        if not np.any((code == k) & pos):
            out.append(
                Problem(
                    _SOURCE,
                    "treat",
                    f"arm {lab!r} has no respondents{'' if w is None else ' with positive weight'};"
                    " every arm needs respondents",
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------


def ict_ml_multi(
    y,
    treat,
    X=None,
    *,
    J: int | None = None,
    control="control",
    condition: str = "level",
    weights=None,
    intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int = 500,
    names: list[str] | None = None,
    arms=None,
    cov_type: str | None = None,
) -> ICTMultiMLResult:
    r"""Maximum likelihood regression for a list experiment with several sensitive items.

    Design (Blair & Imai 2012, Section 2.2, "multiple sensitive items"): every respondent gets
    the same ``J`` control items; the control group answers those alone, and treatment arm
    :math:`t = 1, \dots, K` adds sensitive item :math:`t`. With :math:`g` the inverse logit,

    .. math::

        Y_i(0) \mid X_i &\sim \mathrm{Binomial}(J,\ g(X_i^\top\psi)), \\
        Z_{i,t} \mid X_i, Y_i(0) &\sim \mathrm{Bernoulli}(g(X_i^\top\delta_t
            + \theta_t Y_i(0))) \quad (\text{condition} = \text{"level"}), \\
        Z_{i,t} \mid X_i &\sim \mathrm{Bernoulli}(g(X_i^\top\delta_t))
            \quad (\text{condition} = \text{"none"}),

    and the observed count is :math:`Y_i = Y_i(0)` in the control group and
    :math:`Y_i = Y_i(0) + Z_{i,t}` in arm :math:`t`. Writing :math:`h(k; \psi)` for the
    binomial pmf (zero outside :math:`0..J`) and :math:`\pi_t(k) = g(X_i^\top\delta_t +
    \theta_t k)`, the observed-data likelihood is

    .. math::

        L = \prod_{i:\,T_i = 0} h(Y_i; \psi)
            \prod_{t=1}^K \prod_{i:\,T_i = t} \big[ h(Y_i - 1; \psi)\, \pi_t(Y_i - 1)
            + h(Y_i; \psi)\, (1 - \pi_t(Y_i)) \big].

    Control respondents inform only :math:`\psi`; each treatment arm informs :math:`\psi` and
    its own :math:`(\delta_t, \theta_t)`.

    Fitting: EM first. The E-step gives :math:`w_i = P(Z_{i,t} = 1 \mid Y_i, X_i)`; the
    M-step is (a) a binomial-logit regression with :math:`J` trials of :math:`E[Y_i(0)] = Y_i -
    w_i` (:math:`Y_i` in the control group) on :math:`X_i` for :math:`\psi`, and (b) per arm a
    logistic regression on the doubled data :math:`([X_i, Y_i - 1], Z = 1)` with weight
    :math:`w_i` and :math:`([X_i, Y_i], Z = 0)` with weight :math:`1 - w_i`, each by two
    Newton steps. After a few EM iterations, Newton-Raphson on the observed-data
    log-likelihood with step halving (an EM step replaces any Newton step that fails) takes it
    to convergence.

    Standard errors: the Hessian of the observed-data log-likelihood is **analytic**, by
    Louis's (1982) identity (posterior mean of the complete-data Hessian plus posterior
    variance of the complete-data score). ``cov_type="oim"`` inverts it;
    ``cov_type="robust"`` is the sandwich :math:`H^{-1} (\sum_i s_i^2 g_i g_i^\top) H^{-1}`,
    the default with survey weights :math:`s_i` (which enter the pseudo-log-likelihood
    :math:`\sum_i s_i \log L_i`; ``"oim"`` with weights treats them as frequency weights).

    Parameters
    ----------
    y : array-like
        Item counts: ``0..J`` in the control group, ``0..J+1`` in the treatment arms.
    treat : array-like
        Arm label per respondent: the control label or one treatment arm per sensitive item
        (strings, integers, a categorical).
    X : array-like or DataFrame or None
        Covariates, one row per respondent; ``None`` fits intercepts only.
    J : int, optional
        Number of control items; inferred as ``max(max control count, max treated count - 1)``
        when omitted (which under-estimates ``J`` if nobody reports every item).
    control : label
        Control-group label. Default ``"control"``; if no respondent has it and the label 0 is
        present, 0 is used (integer coding ``0, 1, ..., K``).
    condition : {"level", "none"}
        ``"level"``: the sensitive-item logits include the control count ``Y(0)`` (named
        ``"Y(0)"``); ``"none"``: they do not.
    weights : array-like, optional
        Non-negative survey weights; zero-weight rows are dropped.
    intercept : bool
        Prepend an intercept column to ``X``.
    tol : float
        Convergence when the Newton decrement is below ``tol`` and the log-likelihood gain
        below ``tol * (1 + |loglik|)``.
    max_iter : int
        Maximum EM + Newton iterations.
    names : list of str, optional
        Covariate names for ``X`` (default: the DataFrame's columns, or ``x1, x2, ...``).
    arms : sequence, optional
        Treatment-arm labels in the order wanted for the blocks; then any other label in
        ``treat`` is an error. Default: every non-control label found, sorted (numerically
        when the labels are numbers).
    cov_type : {"oim", "robust"}, optional
        Default ``"oim"`` without weights, ``"robust"`` with weights.

    Returns
    -------
    ICTMultiMLResult

    Raises
    ------
    InputError
        Naming column, row and value: counts outside ``0..J`` (control) or ``0..J+1``
        (treatment arms), non-integer or missing counts, missing or unknown arm labels, no
        control group, an empty arm, bad weights or covariates.

    References
    ----------
    Blair, G. & Imai, K. (2012). Statistical analysis of list experiments. *Political
    Analysis* 20(1): 47-77, Section 2.2 and Table 3. doi:10.1093/pan/mpr048

    Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm.
    *JRSS B* 44(2): 226-233.
    """
    what = "ict_ml_multi: invalid input"
    if condition not in _CONDITIONS:
        raise InputError(
            what,
            [Problem(_SOURCE, "condition", "expected 'level' or 'none'", value=condition)],
        )
    if cov_type is not None and cov_type not in ("oim", "robust"):
        raise InputError(
            what, [Problem(_SOURCE, "cov_type", "expected 'oim' or 'robust'", value=cov_type)]
        )
    probs: list[Problem] = []
    y_arr = _as_1d(y, "y", probs)
    if probs or y_arr is None:
        raise InputError(what, probs)
    n = y_arr.size
    code, arm_labels, ctrl, problems = _check_treat(treat, n, control, arms, what)
    # counts, J and weights: the standard-design checks with "treated" = any arm; rows with a
    # bad label are passed as NaN and their (duplicate) treat problems dropped
    t01 = np.where(code == -1, 0.0, 1.0)
    t01[code == -2] = np.nan
    try:
        yf, _, J, w = _check_list_data(y_arr, t01, J, weights, what=what, max_J=MAX_CONTROL_ITEMS)
    except InputError as e:
        problems.extend(p for p in e.problems if p.where != "treat")
        if not problems:  # only arm-emptiness problems: report them per arm
            wpos = None if weights is None else np.asarray(_as_1d(weights, "weights", []), float)
            problems = _empty_arm_problems(code, arm_labels, ctrl, wpos)
        raise InputError(what, problems or e.problems) from None
    if problems:
        raise InputError(what, problems)
    empty = _empty_arm_problems(code, arm_labels, ctrl, w)
    if empty:
        raise InputError(what, empty)
    if names is not None:
        X = _named(X, names, what)
    Xm, cols = _covariate_matrix(X, n, intercept, what)
    if Xm.shape[1] == 0:
        raise InputError(what, [Problem(_SOURCE, "X", "no covariates and no intercept")])
    if condition == "level" and Y0_TERM in cols:
        raise InputError(
            what, [Problem(_SOURCE, "X", f"the name {Y0_TERM!r} is reserved for the control count")]
        )
    if cov_type is None:
        cov_type = "oim" if w is None else "robust"

    if w is not None and np.any(w == 0):  # zero weights contribute nothing: drop those rows
        keep = w > 0
        yf, code, w, Xm = yf[keep], code[keep], w[keep], Xm[keep]
    n_arm = {ctrl: int(np.sum(code == -1))}
    n_arm.update({a: int(np.sum(code == k)) for k, a in enumerate(arm_labels)})
    K = len(arm_labels)
    model = _MultiModel(Xm, yf, code, K, J, w, condition == "level")
    theta = _start(model, Xm, yf, code, w, intercept)
    theta, ll, n_iter, converged = _fit(model, theta, tol, max_iter)
    if not converged:
        warnings.warn(
            f"ict_ml_multi did not converge in {max_iter} iterations", RuntimeWarning, stacklevel=2
        )
    ll, _, H, meat = model.derivatives(theta, robust=cov_type == "robust")
    cov = covariance_from_hessian(H, meat, cov_type)
    return ICTMultiMLResult(
        params=theta,
        cov=cov,
        names=cols,
        arms=tuple(arm_labels),
        loglik=ll,
        J=J,
        n=int(yf.size),
        n_arm=n_arm,
        condition=condition,
        control_label=ctrl,
        intercept=intercept,
        cov_type=cov_type,
        n_iter=n_iter,
        converged=converged,
        weighted=w is not None,
    )


def _start(model: _MultiModel, Xm, yf, code, w, intercept):
    """psi from the control group's binomial regression; delta_t intercepts from the
    difference in means of arm t; theta_t = 0."""
    p = Xm.shape[1]
    ctrl = code == -1
    wc = None if w is None else w[ctrl]
    psi = _binom_newton(Xm[ctrl], np.zeros(p), yf[ctrl], float(model.J), wc, 25)
    mean_c = np.average(yf[ctrl], weights=wc)
    B = np.zeros((model.K, model.q))
    if intercept:
        for k in range(model.K):
            m = code == k
            tau = np.average(yf[m], weights=None if w is None else w[m]) - mean_c
            tau = min(max(tau, 0.02), 0.98)
            B[k, 0] = math.log(tau / (1 - tau))
    return np.concatenate([psi, B.ravel()])


def _fit(model: _MultiModel, theta, tol, max_iter, n_em_first=5):
    """EM, then Newton-Raphson with step halving (EM step whenever Newton fails)."""
    ll = model.loglik(theta)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if n_iter > n_em_first:
            ll0, g, H, _ = model.derivatives(theta)
            try:
                np.linalg.cholesky(-H)
                step = -np.linalg.solve(H, g)
                decrement = float(g @ step)
                ok = bool(np.all(np.isfinite(step)))
            except np.linalg.LinAlgError:
                ok = False
            if ok:
                lam = 1.0
                stepped = False
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
                    if decrement < tol and dll < tol * (1 + abs(ll)) + 1e-12:
                        converged = True
                        break
                    continue
        theta = model.mstep(theta)
        ll = model.loglik(theta)
    return theta, ll, n_iter, converged
