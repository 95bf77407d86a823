"""The blocked, multi-threaded EM kernels: the same bytes whatever the number of threads, and the
single serial pass of earlier versions below ``PARALLEL_MIN_ROWS`` rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numba as nb
import numpy as np
import pytest

from segment.models import LatentClassModel, _kernels
from segment.models.latent_class import _log_table

#: Run in a fresh interpreter (numba reads NUMBA_NUM_THREADS once, at start). Prints one JSON
#: line: a digest of every fit and whether a parallel region ran.
CHILD = textwrap.dedent(
    """
    import hashlib, json, multiprocessing, sys
    from concurrent.futures import ThreadPoolExecutor
    import numba, numpy as np
    from segment.models import LatentClassModel, _kernels

    def data(n):
        rng = np.random.default_rng(7)
        z = rng.integers(0, 3, n)
        theta = rng.dirichlet(np.full(4, 0.6), size=(10, 3))
        cum = np.cumsum(theta, axis=2)[:, z].transpose(1, 0, 2)
        X = (rng.random((n, 10, 1)) > cum).sum(2)
        X = X.astype(float) + 1
        X[rng.random(X.shape) < 0.05] = np.nan
        return X, rng.uniform(0.5, 2.0, n), rng.normal(size=(n, 1)) + (z == 1)[:, None]

    def digest(m, X, z=None):
        h = hashlib.sha256()
        for a in (m.loglik_, m.entropy_, *m.item_probs_, m.weights_, m.labels_):
            h.update(np.asarray(a).tobytes())
        h.update(m.predict_proba(X, covariates=z).tobytes())
        return h.hexdigest()

    def pass_once(codes):
        k = _kernels.kernels(3)
        rng = np.random.default_rng(1)
        theta = rng.dirichlet(np.ones(4), size=(10, 3)).transpose(0, 2, 1)
        table = np.zeros((10, 5, 3))
        table[:, :4] = np.log(theta)
        counts, totals = np.empty((10, 5, 3)), np.empty(3)
        ll = k.em_pass(codes, np.ones(len(codes)), table, np.log(np.full(3, 1 / 3)), counts,
                       totals)
        return hashlib.sha256(np.float64(ll).tobytes() + counts.tobytes()).hexdigest()

    out = {}
    X, w, z = data(40_000)
    for block in (_kernels.BLOCK_ROWS, 1000):
        _kernels.BLOCK_ROWS, _kernels.PARALLEL_MIN_ROWS = block, 2 * block
        kw = dict(n_init=1, max_iter=40, tol=0.0, random_state=0)
        m = LatentClassModel(3, **kw).fit(X, sample_weight=w)
        out[f"plain {block}"] = digest(m, X)
        m = LatentClassModel(3, **kw).fit(X, sample_weight=w, covariates=z)
        out[f"covariates {block}"] = digest(m, X, z)
    codes = np.random.default_rng(2).integers(0, 4, size=(50_000, 10)).astype(np.uint8)
    with ThreadPoolExecutor(4) as pool:
        out["threads"] = sorted(set(pool.map(pass_once, [codes] * 8)))
    if sys.argv[1] == "fork":
        with multiprocessing.get_context("fork").Pool(1) as pool:
            out["forked"] = pool.map(pass_once, [codes])
        out["parent"] = pass_once(codes)
    try:
        out["layer"] = numba.threading_layer()
    except ValueError:
        out["layer"] = None
    print(json.dumps(out))
    """
)


def _child(threads: int, layer: str | None = None, mode: str = "plain") -> dict:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    env.pop("NUMBA_THREADING_LAYER", None)
    if layer is not None:
        env["NUMBA_THREADING_LAYER"] = layer
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_fits_are_byte_identical_on_one_and_two_threads():
    """The same data and seed give the same bytes with NUMBA_NUM_THREADS=1 and =2, on numba's
    default threading layer and on ``workqueue`` (the only one every machine has), also with
    several Python threads running passes at once and in a forked worker."""
    one = _child(1)
    assert one.pop("layer") is None  # one thread never starts the threading layer
    two = _child(2, mode="fork")
    assert two.pop("layer") is not None  # the parallel build did run
    assert two.pop("forked") == [two.pop("parent")]
    queue = _child(2, layer="workqueue")
    assert queue.pop("layer") == "workqueue"
    assert len(one["threads"]) == 1
    assert one == two == queue


def _fit(X, **kw):
    return LatentClassModel(3, n_init=2, max_iter=100, random_state=0).fit(X, **kw)


def _survey(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 5, size=(n, 8)).astype(float)
    X[rng.random(X.shape) < 0.05] = np.nan
    return X, rng.uniform(0.5, 2.0, n), rng.normal(size=(n, 1))


def test_small_data_give_the_single_pass_model(monkeypatch):
    """Below PARALLEL_MIN_ROWS a fit is exactly the single-pass fit (the model of earlier
    versions), with and without covariates."""
    assert _kernels.PARALLEL_MIN_ROWS >= 20_000
    X, w, z = _survey(5000)
    fits = [_fit(X, sample_weight=w), _fit(X, covariates=z)]
    monkeypatch.setattr(_kernels, "PARALLEL_MIN_ROWS", 10**18)
    for model, kw in zip(fits, [{"sample_weight": w}, {"covariates": z}], strict=True):
        single = _fit(X, **kw)
        assert np.float64(model.loglik_).tobytes() == np.float64(single.loglik_).tobytes()
        for a, b in zip(model.item_probs_, single.item_probs_, strict=True):
            assert a.tobytes() == b.tobytes()
        assert model.labels_.tobytes() == single.labels_.tobytes()


def test_blocked_fit_matches_the_single_pass_up_to_summation_order(monkeypatch):
    """Blocks change only the order of the additions: the same fit to about 1e-12."""
    X, w, z = _survey(3000)
    single = _fit(X, sample_weight=w, covariates=z)
    monkeypatch.setattr(_kernels, "BLOCK_ROWS", 256)
    monkeypatch.setattr(_kernels, "PARALLEL_MIN_ROWS", 512)
    blocked = _fit(X, sample_weight=w, covariates=z)
    assert blocked.loglik_ == pytest.approx(single.loglik_, rel=1e-12)
    for a, b in zip(blocked.item_probs_, single.item_probs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(blocked.labels_, single.labels_)


@pytest.mark.parametrize("k", [1, 4])
def test_serial_and_parallel_builds_give_the_same_bytes(k):
    """The blocked kernels looped with ``range`` and with ``numba.prange`` agree bit for bit,
    whatever the number of threads the parallel one runs on."""
    rng = np.random.default_rng(k)
    n, n_items, n_cat, rows = 5000, 6, 3, 256
    codes = rng.integers(0, n_cat + 1, size=(n, n_items)).astype(np.uint8)
    weights = rng.uniform(0.0, 2.0, n)
    weights[::17] = 0.0
    table = _log_table(rng.dirichlet(np.ones(n_cat), size=(n_items, k)).transpose(0, 2, 1))
    log_prior = np.log(rng.dirichlet(np.ones(k)))
    prior_rows = np.log(rng.dirichlet(np.ones(k), size=n))
    informative = rng.random(n) > 0.1
    n_blocks = -(-n // rows)

    def outputs(build):
        res = []
        bl, bc = np.zeros((n_blocks, 1)), np.zeros((n_blocks, n_items, n_cat + 1, k))
        bt = np.zeros((n_blocks, k))
        build.em_pass(codes, weights, table, log_prior, rows, bl, bc, bt)
        res += [bl, bc, bt]
        bl, bc, resp = np.zeros((n_blocks, 1)), np.zeros_like(bc), np.empty((n, k))
        build.em_pass_rows(codes, weights, table, prior_rows, resp, rows, bl, bc)
        res += [bl, bc, resp]
        out = np.empty((n, k))
        build.class_log_lik(codes, table, out, rows)
        res.append(out.copy())
        labels, sums, bt = np.empty(n, np.intp), np.zeros((n_blocks, 2)), np.zeros((n_blocks, k))
        build.summarise(codes, weights, table, log_prior, informative, labels, rows, sums, bt)
        res += [labels, sums, bt]
        build.posterior(codes, table, log_prior, out, rows)
        res.append(out)
        return [a.tobytes() for a in res]

    serial = outputs(_kernels._blocked_kernels(k, range))
    parallel = _kernels._blocked_kernels(k, nb.prange)
    for threads in sorted({1, nb.config.NUMBA_NUM_THREADS}):
        previous = nb.get_num_threads()
        nb.set_num_threads(threads)
        try:
            assert outputs(parallel) == serial
        finally:
            nb.set_num_threads(previous)
