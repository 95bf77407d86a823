"""Compiled EM kernels for the latent class model (numba).

Answers are small integer codes, one row per respondent. A missing answer has the code
``n_categories`` (one past the largest category of any item), whose row of the log-probability
table is zero, so it adds nothing to the likelihood and no branch is needed. Each EM iteration
is one pass over the data: for every respondent the class log-likelihoods are summed from the
table, normalised in log space into posterior class probabilities and immediately added into the
expected category counts, so no (respondents x classes) or one-hot array is ever materialised.

The kernels are built per number of classes (:func:`kernels`), which makes the class loops'
trip count a compile-time constant (about 1.5x faster than a run-time count); builds are
cached in memory and on disk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numba as nb
import numpy as np

# Fast-math without the no-inf / no-nan assumptions: log-probabilities of impossible answers
# are -inf and must stay so.
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


class Kernels(NamedTuple):
    """The compiled kernels for one number of classes (numba dispatchers)."""

    em_pass: Callable[..., Any]
    em_pass_rows: Callable[..., Any]
    class_log_lik: Callable[..., Any]
    summarise: Callable[..., Any]
    posterior: Callable[..., Any]


@functools.cache
def kernels(n_classes: int) -> Kernels:
    """The compiled kernels for ``n_classes`` classes."""
    K = int(n_classes)

    @nb.njit(cache=True, nogil=True, fastmath=_FAST)
    def em_pass(codes, weights, log_theta, log_prior, counts, class_totals):
        """One fused E-step + sufficient statistics pass with a shared class prior.

        Returns the weighted log-likelihood ``sum_i w_i log sum_k pi_k prod_j theta_jk(x_ij)``;
        fills ``counts[j, c, k] = sum_i w_i r_ik [x_ij = c]`` and
        ``class_totals[k] = sum_i w_i r_ik``.
        """
        n, n_items = codes.shape
        counts[:] = 0.0
        class_totals[:] = 0.0
        row = np.empty(K)
        loglik = 0.0
        for i in range(n):
            w = weights[i]
            if w == 0.0:
                continue  # a zero weight drops the respondent (even one with impossible answers)
            for k in range(K):
                row[k] = log_prior[k]
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    row[k] += log_theta[j, c, k]
            top = row[0]
            for k in range(1, K):
                top = max(top, row[k])
            total = 0.0
            for k in range(K):
                row[k] = np.exp(row[k] - top)
                total += row[k]
            loglik += w * (top + np.log(total))
            scale = w / total
            for k in range(K):
                row[k] *= scale
                class_totals[k] += row[k]
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    counts[j, c, k] += row[k]
        return loglik

    @nb.njit(cache=True, nogil=True, fastmath=_FAST)
    def em_pass_rows(codes, weights, log_theta, log_prior_rows, counts, resp):
        """As ``em_pass`` with a class prior per respondent (covariates); fills ``resp``."""
        n, n_items = codes.shape
        counts[:] = 0.0
        loglik = 0.0
        for i in range(n):
            w = weights[i]
            if w == 0.0:
                for k in range(K):
                    resp[i, k] = 0.0
                continue
            for k in range(K):
                resp[i, k] = log_prior_rows[i, k]
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    resp[i, k] += log_theta[j, c, k]
            top = resp[i, 0]
            for k in range(1, K):
                top = max(top, resp[i, k])
            total = 0.0
            for k in range(K):
                resp[i, k] = np.exp(resp[i, k] - top)
                total += resp[i, k]
            loglik += w * (top + np.log(total))
            for k in range(K):
                resp[i, k] /= total
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    counts[j, c, k] += w * resp[i, k]
        return loglik

    @nb.njit(cache=True, nogil=True, fastmath=_FAST)
    def class_log_lik(codes, log_theta, out):
        """``out[i, k] = sum_j log theta_jk(x_ij)`` over answered items."""
        n, n_items = codes.shape
        for i in range(n):
            for k in range(K):
                out[i, k] = 0.0
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    out[i, k] += log_theta[j, c, k]

    @nb.njit(cache=True, nogil=True, fastmath=_FAST)
    def summarise(codes, weights, log_theta, log_prior, informative, labels, class_totals):
        """Labels of every row; log-likelihood, class totals and entropy of informative rows.

        Returns ``(loglik, entropy)`` with ``entropy = sum_i w_i sum_k -r_ik log r_ik``.
        """
        n, n_items = codes.shape
        class_totals[:] = 0.0
        row = np.empty(K)
        loglik = 0.0
        entropy = 0.0
        for i in range(n):
            for k in range(K):
                row[k] = log_prior[k]
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    row[k] += log_theta[j, c, k]
            best = 0
            for k in range(1, K):
                if row[k] > row[best]:
                    best = k
            labels[i] = best
            if not informative[i] or weights[i] == 0.0:
                continue
            top = row[best]
            total = 0.0
            for k in range(K):
                row[k] = np.exp(row[k] - top)
                total += row[k]
            w = weights[i]
            log_total = np.log(total)
            loglik += w * (top + log_total)
            for k in range(K):
                r = row[k] / total
                class_totals[k] += w * r
                if r > 0.0:
                    # -r log r with log r = (original row - top) - log total
                    entropy -= w * r * (np.log(row[k]) - log_total)
        return loglik, entropy

    @nb.njit(cache=True, nogil=True, fastmath=_FAST)
    def posterior(codes, log_theta, log_prior, out):
        """``out[i] = P(class | x_i)``: one pass, no log-likelihood matrix kept."""
        n, n_items = codes.shape
        row = np.empty(K)
        for i in range(n):
            for k in range(K):
                row[k] = log_prior[k]
            for j in range(n_items):
                c = codes[i, j]
                for k in range(K):
                    row[k] += log_theta[j, c, k]
            top = row[0]
            for k in range(1, K):
                top = max(top, row[k])
            total = 0.0
            for k in range(K):
                row[k] = np.exp(row[k] - top)
                total += row[k]
            inv = 1.0 / total
            for k in range(K):
                out[i, k] = row[k] * inv

    return Kernels(em_pass, em_pass_rows, class_log_lik, summarise, posterior)
