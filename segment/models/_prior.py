"""Class-membership models: fixed shares, or a multinomial logit on covariates.

With covariates ``z_i`` (an intercept is added), ``P(class k | z_i) = softmax_k(z_i' beta_k)``
with ``beta_0 = 0`` (the first class is the reference), as in poLCA's ``cbind(...) ~ PARTY``
(Linzer & Lewis 2011, "poLCA: An R package for polytomous variable latent class analysis",
*Journal of Statistical Software* 42(10), section 2.2). The M-step maximises
``sum_i w_i sum_k r_ik log P(k | z_i)`` over ``beta`` by Newton-Raphson with step halving, so
each EM iteration cannot decrease the likelihood.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

__all__ = ["fit_logit_prior", "logit_log_prior"]


def logit_log_prior(design: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``log P(k | z_i)`` for a (n x p) design with intercept and (p x K) coefficients."""
    return log_softmax(design @ coef, axis=1)


def _objective(design, resp_w, coef):
    return float(np.sum(resp_w * logit_log_prior(design, coef)))


def fit_logit_prior(
    design: np.ndarray,
    resp: np.ndarray,
    weights: np.ndarray,
    coef: np.ndarray,
    max_newton: int = 50,
    tol: float = 1e-10,
) -> np.ndarray:
    """Newton-Raphson for the soft-label weighted multinomial logit (reference class 0).

    Parameters
    ----------
    design : (n, p) array with a leading column of ones.
    resp : (n, K) posterior class probabilities.
    weights : (n,) respondent weights.
    coef : (p, K) starting coefficients; column 0 is kept at zero.
    """
    _n, p = design.shape
    n_classes = resp.shape[1]
    m = n_classes - 1
    if m == 0:
        return np.zeros_like(coef)
    resp_w = resp * weights[:, None]
    total_w = resp_w.sum(axis=1)
    coef = coef.copy()
    coef[:, 0] = 0.0
    current = _objective(design, resp_w, coef)
    for _ in range(max_newton):
        prob = np.exp(logit_log_prior(design, coef))[:, 1:]
        grad = (design.T @ (resp_w[:, 1:] - total_w[:, None] * prob)).T.reshape(-1)
        hess = np.empty((m * p, m * p))
        for a in range(m):
            for b in range(a, m):
                dw = total_w * prob[:, a] * ((a == b) - prob[:, b])
                block = (design * dw[:, None]).T @ design
                hess[a * p : (a + 1) * p, b * p : (b + 1) * p] = block
                hess[b * p : (b + 1) * p, a * p : (a + 1) * p] = block.T
        hess[np.diag_indices_from(hess)] += 1e-10 * max(1.0, np.abs(hess).max())
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        delta = np.zeros_like(coef)
        delta[:, 1:] = step.reshape(m, p).T
        scale = 1.0
        while scale > 1e-8:
            trial = coef + scale * delta
            value = _objective(design, resp_w, trial)
            if value >= current - 1e-12 * abs(current):
                break
            scale /= 2
        else:
            break
        improvement = value - current
        coef, current = trial, value
        if improvement <= tol * max(1.0, abs(current)):
            break
    return coef
