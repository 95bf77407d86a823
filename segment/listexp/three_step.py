r"""Prevalence of the sensitive item within latent classes known only up to classification
error: the ML three-step estimator for a distal item-count outcome.

Respondents are assigned to one of ``K`` classes (step 2: modal assignment from a fitted latent
class model, step 1); ``D[j, k] = P(assigned k | latent j)`` is the classification-error matrix
computed from the model's posteriors. Step 3 (Vermunt 2010, "Latent class modeling with
covariates: two improved three-step approaches", *Political Analysis* 18: 450-469; Bakk, Tekle &
Vermunt 2013, *Sociological Methodology* 43: 272-311, for distal outcomes) maximises

.. math::

    \ell = \sum_i w_i \log \sum_j \pi_j\, D_{j, a_i}\, f_j(Y_i \mid T_i),

with the constrained item-count model of Imai (2011) within each latent class:
:math:`f_j(y \mid 0) = b_y(p_j)` and :math:`f_j(y \mid 1) = \delta_j b_{y-1}(p_j) + (1 -
\delta_j) b_y(p_j)`, :math:`b` the Binomial(J, p) pmf. :math:`\delta_j \in [0, 1]` is class
``j``'s prevalence, so estimates are shares by construction; the difference in means with BCH
weights (Bolck, Croon & Hagenaars 2004) estimates the same quantity without the binomial model
but is not bounded, and with a short typing battery its weights amplify noise (124% for a
segment of the bundled survey). The likelihood depends on the data only through the weighted
counts of (assigned class, arm, count), so EM runs on a table of ``K (2J + 3)`` cells whatever
the sample size: the E-step gives the posterior of (class, Z) in each cell, the M-step
:math:`\pi_j`, :math:`\delta_j` (treated cells only; controls carry no information on it) and
:math:`p_j` in closed form.

Intervals: profile likelihood for each :math:`\delta_j` (the other parameters re-maximised by EM
at each trial value), with ``D`` treated as known, as in Vermunt's (2010) standard errors; the
coverage simulation (``benchmarks/listexp_coverage.py``) measures what that costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .bounded import _pmfs

__all__ = ["ThreeStepResult", "classification_error", "three_step_prevalence"]


def classification_error(resp: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``D[j, k] = sum_i w_i r_ij a_ik / sum_i w_i r_ij`` from posteriors ``r`` (n x K) and
    their modal assignments ``a`` (Vermunt 2010, eq. 6)."""
    K = resp.shape[1]
    w = np.ones(resp.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    assign = np.eye(K)[np.argmax(resp, axis=1)]
    rw = resp * w[:, None]
    return rw.T @ assign / np.maximum(rw.sum(axis=0), 1e-300)[:, None]


@dataclass(frozen=True, eq=False)
class ThreeStepResult:
    """ML three-step estimates: per latent class ``estimate, ci_low, ci_high`` (shares in [0,
    1]), ``p_control`` (control-item probability), ``shares`` (class shares re-estimated in step
    3); ``loglik``, ``n_iter``, ``level``."""

    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_control: np.ndarray
    shares: np.ndarray
    loglik: float
    n_iter: int
    level: float


def _cells(y, t, assigned, K: int, J: int, w) -> tuple[np.ndarray, np.ndarray]:
    """Weighted counts ``(K, J + 1)`` of control and ``(K, J + 2)`` of treated respondents by
    assigned class."""
    y = np.asarray(y, np.int64)
    t = np.asarray(t, bool)
    a = np.asarray(assigned, np.int64)
    w = np.ones(y.size) if w is None else np.asarray(w, dtype=float)
    nc = np.bincount(a[~t] * (J + 1) + y[~t], weights=w[~t], minlength=K * (J + 1))
    nt = np.bincount(a[t] * (J + 2) + y[t], weights=w[t], minlength=K * (J + 2))
    return nc.reshape(K, J + 1), nt.reshape(K, J + 2)


class _CellModel:
    """EM of the three-step likelihood on the cell table, batched over parameter sets (the
    leading axis ``B``), with some ``delta`` held fixed (profile likelihood)."""

    def __init__(self, nc, nt, D, J: int):
        self.nc, self.nt, self.D, self.J = nc, nt, D, J  # nc (K_a, J+1), nt (K_a, J+2), D (K, K_a)
        self.kc = np.arange(J + 1)
        self.kt = np.arange(J + 2)
        self.total = nc.sum() + nt.sum()

    def joint(self, pi, delta, p):
        """Joint probabilities: control ``(B, K_a, J+1, K)``, treated with Z = 1 and Z = 0
        ``(B, K_a, J+2, K)``."""
        B, b0, b1 = _pmfs(p, self.J)  # (B, K, J+1), (B, K, J+2) x2
        prior = pi[:, None, :] * self.D.T[None, :, :]  # (B, K_a, K)
        c = prior[:, :, None, :] * np.swapaxes(B, 1, 2)[:, None, :, :]
        t1 = prior[:, :, None, :] * (delta[:, None, :] * np.swapaxes(b1, 1, 2))[:, None, :, :]
        t0 = prior[:, :, None, :] * ((1 - delta[:, None, :]) * np.swapaxes(b0, 1, 2))[:, None, :, :]
        return c, t1, t0

    def loglik(self, pi, delta, p):
        c, t1, t0 = self.joint(pi, delta, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            lc = special.xlogy(self.nc[None], c.sum(-1)).sum((1, 2))
            lt = special.xlogy(self.nt[None], (t1 + t0).sum(-1)).sum((1, 2))
        ll = lc + lt
        return np.where(np.isnan(ll), -np.inf, ll)

    def step(self, pi, delta, p, fixed, fixed_value):
        c, t1, t0 = self.joint(pi, delta, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            mc = np.where(c.sum(-1, keepdims=True) > 0, c / c.sum(-1, keepdims=True), 0.0)
            st = (t1 + t0).sum(-1, keepdims=True)
            m1 = np.where(st > 0, t1 / st, 0.0)
            m0 = np.where(st > 0, t0 / st, 0.0)
        rc = self.nc[None, :, :, None] * mc  # (B, K_a, J+1, K)
        r1 = self.nt[None, :, :, None] * m1
        r0 = self.nt[None, :, :, None] * m0
        n_c = rc.sum((1, 2))
        n_1, n_0 = r1.sum((1, 2)), r0.sum((1, 2))
        n_j = n_c + n_1 + n_0
        new_pi = n_j / self.total
        with np.errstate(divide="ignore", invalid="ignore"):
            new_delta = np.where(n_1 + n_0 > 0, n_1 / (n_1 + n_0), delta)
            ystar = (
                (rc * self.kc[None, None, :, None]).sum((1, 2))
                + (r0 * self.kt[None, None, :, None]).sum((1, 2))
                + (r1 * (self.kt - 1)[None, None, :, None]).sum((1, 2))
            )
            new_p = np.where(n_j > 0, ystar / (self.J * n_j), p)
        new_delta = np.where(fixed, fixed_value, new_delta)
        return new_pi, new_delta, np.clip(new_p, 0.0, 1.0)

    def maximise(self, pi, delta, p, fixed, fixed_value, max_iter=5000, tol=1e-9):
        ll = self.loglik(pi, delta, p)
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            pi, delta, p = self.step(pi, delta, p, fixed, fixed_value)
            new = self.loglik(pi, delta, p)
            with np.errstate(invalid="ignore"):
                done = np.all(np.abs(new - ll) < tol * (1 + np.abs(new)))
            ll = new
            if done:
                break
        return pi, delta, p, ll, n_iter


def three_step_prevalence(
    y,
    treat,
    assigned,
    D: np.ndarray,
    *,
    J: int,
    weights=None,
    shares=None,
    level: float = 0.95,
    intervals: bool = True,
    tol: float = 1e-8,
) -> ThreeStepResult:
    """ML three-step prevalence of the sensitive item in each latent class (module docstring).

    Parameters
    ----------
    y, treat : array-like
        Item counts and 0/1 treatment of the typed respondents.
    assigned : array-like of int
        Each respondent's assigned (modal) class, ``0..K-1``.
    D : (K, K) array
        Classification-error matrix ``P(assigned k | latent j)``
        (:func:`classification_error`).
    J : int
    weights : array-like, optional
        Survey weights (a pseudo-likelihood normalised to Kish's effective n).
    shares : array-like, optional
        Starting class shares (default: the assigned shares).
    level : float
    intervals : bool
        Compute the profile-likelihood intervals (the slow part).
    tol : float
        EM stops when the log-likelihood changes by less than ``tol * (1 + |loglik|)`` (a
        hundred times that for the trial values of the profile, far below its chi-square cut).

    Returns
    -------
    ThreeStepResult
    """
    D = np.asarray(D, dtype=float)
    K = D.shape[0]
    w = None if weights is None else np.asarray(weights, dtype=float)
    nc, nt = _cells(y, treat, assigned, K, J, w)
    if w is not None:
        kish = w.sum() / np.dot(w, w)
        nc, nt = nc * kish, nt * kish
    model = _CellModel(nc, nt, D, J)
    n_assigned = nc.sum(1) + nt.sum(1)
    pi0 = (
        np.asarray(shares, float)
        if shares is not None
        else np.maximum(n_assigned, 1e-3) / np.maximum(n_assigned, 1e-3).sum()
    )
    mean_c = (nc * model.kc).sum() / max(nc.sum(), 1e-300)
    p0 = np.full(K, min(max(mean_c / J, 0.05), 0.95))
    d0 = np.full(K, 0.5)
    no_fix = np.zeros((1, K), bool)
    pi, delta, p, ll, n_iter = model.maximise(
        pi0[None], d0[None], p0[None], no_fix, np.zeros((1, K)), tol=tol
    )
    est = delta[0]
    lo = hi = np.full(K, np.nan)
    if intervals:
        lo, hi = _profile_intervals(model, pi[0], delta[0], p[0], float(ll[0]), level, 100 * tol)
    return ThreeStepResult(
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        p_control=p[0],
        shares=pi[0],
        loglik=float(ll[0]),
        n_iter=n_iter,
        level=level,
    )


def _profile_intervals(model: _CellModel, pi, delta, p, ll_max, level, tol, n_bisect=14):
    """Profile-likelihood interval of every class's delta: 2K bisections in lockstep (the
    lower and upper end of each class, 14 halvings: ends within 1e-4), each trial re-maximised
    by EM from the MLE."""
    K = delta.size
    cut = ll_max - stats.chi2.ppf(level, 1) / 2
    fixed = np.zeros((2 * K, K), bool)
    fixed[np.arange(2 * K), np.tile(np.arange(K), 2)] = True
    bound = np.repeat([0.0, 1.0], K)
    est = np.tile(delta, 2)
    start = (np.tile(pi, (2 * K, 1)), np.tile(delta, (2 * K, 1)), np.tile(p, (2 * K, 1)))

    def profile(values):
        fv = np.where(fixed, values[:, None], 0.0)
        d = np.where(fixed, values[:, None], start[1])
        *_, ll, _ = model.maximise(start[0], d, start[2], fixed, fv, tol=tol)
        return ll

    inside_bound = profile(bound) >= cut
    a, b = bound.copy(), est.copy()
    for _ in range(n_bisect):
        m = (a + b) / 2
        ok = profile(m) >= cut
        b = np.where(ok, m, b)
        a = np.where(ok, a, m)
    ends = np.where(inside_bound, bound, (a + b) / 2)
    return ends[:K], ends[K:]
