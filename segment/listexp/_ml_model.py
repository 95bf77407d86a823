"""Likelihood, derivatives and EM step of the Imai (2011) item count model (used by :mod:`.ml`)."""

from __future__ import annotations

import numpy as np
from scipy import special


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
        """Per-respondent score multipliers m_b (score_i = x_i m_ib) and the Hessian's pieces."""
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

    def scores(self, theta) -> np.ndarray:
        """Per-respondent weighted scores of the observed log-likelihood (n, blocks * p); their
        column sums are the gradient."""
        _, w, pi, p0, p1 = self.estep(theta)
        score, _, _ = self._multipliers(w, pi, p0, p1)
        sw = np.ones_like(w) if self.s is None else self.s
        return np.hstack([self.X * (sw * m)[:, None] for m in score])

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
