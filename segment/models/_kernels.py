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

Threads. From ``PARALLEL_MIN_ROWS`` rows on, a pass runs over fixed blocks of ``BLOCK_ROWS``
rows, spread over numba's threads (``numba.prange``). Each block sums its own log-likelihood,
class totals and counts into its own slot, and the slots are then added in block order, so the
result depends on the number of rows only, never on the number of threads: the same data and
seed give the same bytes on 1, 2 or 8 threads. Below ``PARALLEL_MIN_ROWS`` a pass is the
single serial loop of earlier versions, with their results bit for bit; above it the blocks
change only the order of the floating-point additions (about 1e-14 relative).

The number of threads is numba's: ``NUMBA_NUM_THREADS`` (environment, read once at start; by
default the number of cores) or ``numba.set_num_threads`` (per calling thread). A process that
runs several fits at once, in worker processes or threads (a Dask cluster, a process pool),
should set ``NUMBA_NUM_THREADS=1`` in each worker, else every worker starts one thread per core.
With one numba thread, or in a worker thread that has called ``numba.set_num_threads(1)``, the
blocked pass runs serially on the calling thread without touching the threading layer. Parallel
passes of several Python threads take turns (a lock), as numba's ``workqueue`` layer (the one
always available; ``omp`` and ``tbb`` need their libraries) must not be entered concurrently;
in a process forked after GNU OpenMP was started, which it cannot survive, passes run serially.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numba as nb
import numpy as np

# Fast-math without the no-inf / no-nan assumptions: log-probabilities of impossible answers
# are -inf and must stay so.
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: Rows per block of the blocked passes. Each block keeps its own counts
#: (items x (categories + 1) x classes doubles: 5.8 kB for 20 items, 5 answers, 6 classes).
BLOCK_ROWS = 16_384

#: Fewest rows for which a pass is blocked (and may use several threads); below, the single
#: serial loop. Read at each call.
PARALLEL_MIN_ROWS = 2 * BLOCK_ROWS

_LOCK = threading.Lock()
_FORKED_FROM_OMP = False


def _after_fork_in_child() -> None:
    global _LOCK, _FORKED_FROM_OMP
    _LOCK = threading.Lock()
    try:
        layer = nb.threading_layer()
    except ValueError:  # no parallel region started yet: any layer can start in the child
        return
    if layer == "omp":
        _FORKED_FROM_OMP = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def _use_threads() -> bool:
    """Whether a blocked pass started on this thread may use several numba threads."""
    if _FORKED_FROM_OMP or nb.config.NUMBA_NUM_THREADS < 2:  # type: ignore[attr-defined]
        return False
    return nb.get_num_threads() > 1


def _n_blocks(n: int) -> int:
    return -(-n // BLOCK_ROWS)


class Kernels(NamedTuple):
    """The kernels for one number of classes.

    Each takes the arguments of, and fills the outputs of, the single-pass kernel of the same
    name (:func:`_single_pass_kernels`), and runs it, or the blocked pass from
    ``PARALLEL_MIN_ROWS`` rows on.
    """

    em_pass: Callable[..., Any]
    em_pass_rows: Callable[..., Any]
    class_log_lik: Callable[..., Any]
    summarise: Callable[..., Any]
    posterior: Callable[..., Any]


@functools.cache
def kernels(n_classes: int) -> Kernels:
    """The kernels for ``n_classes`` classes."""
    K = int(n_classes)
    single = _single_pass_kernels(K)
    serial = _blocked_kernels(K, range)
    parallel = _blocked_kernels(K, nb.prange)

    def run(name, *args):
        if _use_threads():
            with _LOCK:
                return getattr(parallel, name)(*args)
        return getattr(serial, name)(*args)

    def em_pass(codes, weights, log_theta, log_prior, counts, class_totals):
        n = codes.shape[0]
        if n < PARALLEL_MIN_ROWS:
            return single.em_pass(codes, weights, log_theta, log_prior, counts, class_totals)
        n_blocks = _n_blocks(n)
        block_loglik = np.zeros((n_blocks, 1))
        block_counts = np.zeros((n_blocks, counts.size))
        block_totals = np.zeros((n_blocks, K))
        run(
            "em_pass",
            codes,
            weights,
            log_theta,
            log_prior,
            BLOCK_ROWS,
            block_loglik,
            block_counts.reshape((n_blocks, *counts.shape)),
            block_totals,
        )
        counts[...] = _sum_blocks(block_counts).reshape(counts.shape)
        class_totals[...] = _sum_blocks(block_totals)
        return float(_sum_blocks(block_loglik)[0])

    def em_pass_rows(codes, weights, log_theta, log_prior_rows, counts, resp):
        n = codes.shape[0]
        if n < PARALLEL_MIN_ROWS:
            return single.em_pass_rows(codes, weights, log_theta, log_prior_rows, counts, resp)
        n_blocks = _n_blocks(n)
        block_loglik = np.zeros((n_blocks, 1))
        block_counts = np.zeros((n_blocks, counts.size))
        run(
            "em_pass_rows",
            codes,
            weights,
            log_theta,
            log_prior_rows,
            resp,
            BLOCK_ROWS,
            block_loglik,
            block_counts.reshape((n_blocks, *counts.shape)),
        )
        counts[...] = _sum_blocks(block_counts).reshape(counts.shape)
        return float(_sum_blocks(block_loglik)[0])

    def class_log_lik(codes, log_theta, out):
        if codes.shape[0] < PARALLEL_MIN_ROWS:
            return single.class_log_lik(codes, log_theta, out)
        return run("class_log_lik", codes, log_theta, out, BLOCK_ROWS)

    def summarise(codes, weights, log_theta, log_prior, informative, labels, class_totals):
        n = codes.shape[0]
        if n < PARALLEL_MIN_ROWS:
            return single.summarise(
                codes, weights, log_theta, log_prior, informative, labels, class_totals
            )
        n_blocks = _n_blocks(n)
        block_sums = np.zeros((n_blocks, 2))
        block_totals = np.zeros((n_blocks, K))
        run(
            "summarise",
            codes,
            weights,
            log_theta,
            log_prior,
            informative,
            labels,
            BLOCK_ROWS,
            block_sums,
            block_totals,
        )
        class_totals[...] = _sum_blocks(block_totals)
        loglik, entropy = _sum_blocks(block_sums)
        return float(loglik), float(entropy)

    def posterior(codes, log_theta, log_prior, out):
        if codes.shape[0] < PARALLEL_MIN_ROWS:
            return single.posterior(codes, log_theta, log_prior, out)
        return run("posterior", codes, log_theta, log_prior, out, BLOCK_ROWS)

    return Kernels(em_pass, em_pass_rows, class_log_lik, summarise, posterior)


@nb.njit(cache=True, nogil=True)
def _sum_blocks(blocks):
    """``blocks[0] + blocks[1] + ...`` of an (n_blocks, m) array, added in block order."""
    out = blocks[0].copy()
    for b in range(1, blocks.shape[0]):
        for m in range(blocks.shape[1]):
            out[m] += blocks[b, m]
    return out


def _single_pass_kernels(K: int) -> Kernels:
    """The single serial loops over all rows (numba dispatchers)."""

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


def _blocked_kernels(K: int, loop) -> Kernels:
    """The blocked passes (numba dispatchers), looping over blocks with ``loop``.

    ``loop`` is ``range`` (serial) or ``numba.prange`` (parallel); the two builds run the same
    per-block code. Block ``b`` is rows ``b * block_rows`` to ``(b + 1) * block_rows`` and
    writes its sums into row ``b`` of the ``block_*`` arrays (zeroed by the caller).
    """
    # No reassociation: with it LLVM may order a sum differently in the two builds (seen in the
    # last bits of class_log_lik), which would make results depend on the number of threads.
    # Measured cost at 1M rows: none.
    jit = nb.njit(cache=True, nogil=True, fastmath=_FAST - {"reassoc"}, parallel=loop is nb.prange)

    @jit
    def em_pass(
        codes, weights, log_theta, log_prior, block_rows, block_loglik, block_counts, block_totals
    ):
        n, n_items = codes.shape
        for b in loop(block_loglik.shape[0]):
            counts = block_counts[b]
            class_totals = block_totals[b]
            row = np.empty(K)
            loglik = 0.0
            for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
                w = weights[i]
                if w == 0.0:
                    continue
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
            block_loglik[b, 0] = loglik

    @jit
    def em_pass_rows(
        codes, weights, log_theta, log_prior_rows, resp, block_rows, block_loglik, block_counts
    ):
        n, n_items = codes.shape
        for b in loop(block_loglik.shape[0]):
            counts = block_counts[b]
            loglik = 0.0
            for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
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
            block_loglik[b, 0] = loglik

    @jit
    def class_log_lik(codes, log_theta, out, block_rows):
        n, n_items = codes.shape
        for b in loop(-(-n // block_rows)):
            for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
                for k in range(K):
                    out[i, k] = 0.0
                for j in range(n_items):
                    c = codes[i, j]
                    for k in range(K):
                        out[i, k] += log_theta[j, c, k]

    @jit
    def summarise(
        codes,
        weights,
        log_theta,
        log_prior,
        informative,
        labels,
        block_rows,
        block_sums,
        block_totals,
    ):
        n, n_items = codes.shape
        for b in loop(block_sums.shape[0]):
            class_totals = block_totals[b]
            row = np.empty(K)
            loglik = 0.0
            entropy = 0.0
            for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
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
                        entropy -= w * r * (np.log(row[k]) - log_total)
            block_sums[b, 0] = loglik
            block_sums[b, 1] = entropy

    @jit
    def posterior(codes, log_theta, log_prior, out, block_rows):
        n, n_items = codes.shape
        for b in loop(-(-n // block_rows)):
            row = np.empty(K)
            for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
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
