"""Fit speed and memory of LatentClassModel, with StepMix side by side.

A 6-class model on 20 items with 5 categories each, at N = 10,000, 100,000 and 1,000,000
(data drawn from a known 6-class model), one start and the same relative tolerance for both
tools, one thread. Every (tool, N) runs in its own process so that peak memory (maximum resident
set size, Python included) is measured separately.

Run:  .venv/bin/python benchmarks/bench_fit.py [--sizes 10000,100000,1000000] [--no-stepmix]
Needs StepMix for the comparison:  .venv/bin/pip install -e ".[bench]"
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_CLASSES, N_ITEMS, N_CATS = 6, 20, 5
TOL = 1e-8
MAX_ITER = 2000
ONE_THREAD = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def run_worker(script: str, args: list[str], label: str) -> dict | None:
    """Run ``script args`` in a fresh one-thread process; the JSON of its last output line,
    or None (with its error printed) when it failed."""
    out = subprocess.run(
        [sys.executable, script, *args],
        env={**os.environ, **ONE_THREAD},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        print(f"{label} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_data(n: int, path: Path, seed: int = 0) -> None:
    """Answers from a 6-class model with well separated but overlapping classes."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(N_CLASSES, 5.0))
    theta = rng.dirichlet(np.full(N_CATS, 0.7), size=(N_ITEMS, N_CLASSES))  # (J, K, C)
    z = rng.choice(N_CLASSES, size=n, p=shares)
    codes = np.empty((n, N_ITEMS), dtype=np.uint8)
    chunk = 200_000
    for start in range(0, n, chunk):
        zz = z[start : start + chunk]
        u = rng.random((len(zz), N_ITEMS))
        cum = np.cumsum(theta, axis=2)[:, zz, :]  # (J, n, C)
        codes[start : start + chunk] = (u.T[:, :, None] > cum).sum(axis=2).T
    np.save(path, codes)


#: Forms of the answers a user holds (``build_input``).
INPUTS = ("codes", "frame-float", "frame-int", "frame-mixed", "frame-Int64")
MISSING_SHARE = 0.05


def build_input(kind: str, codes: np.ndarray):
    """The answers as ``kind``, built one column at a time."""
    import pandas as pd

    if kind == "codes":
        return codes
    n, n_items = codes.shape
    rng = np.random.default_rng(1)
    columns = [f"q{j + 1}" for j in range(n_items)]
    if kind in ("frame-float", "frame-int"):
        dtype = np.float64 if kind == "frame-float" else np.int64
        table = np.empty((n, n_items), dtype=dtype, order="F")  # the frame's own block
        for j in range(n_items):
            table[:, j] = codes[:, j]
            table[:, j] += 1
            if kind == "frame-float":
                table[rng.random(n) < MISSING_SHARE, j] = np.nan
        return pd.DataFrame(table, columns=columns, copy=False)
    if kind == "frame-mixed":  # two blocks: int64 items without NaN, float64 items with NaN
        half = n_items // 2
        blocks = []
        for dtype, items in ((np.int64, range(half)), (np.float64, range(half, n_items))):
            table = np.empty((n, len(items)), dtype=dtype, order="F")
            for i, j in enumerate(items):
                table[:, i] = codes[:, j]
                table[:, i] += 1
                if dtype is np.float64:
                    table[rng.random(n) < MISSING_SHARE, i] = np.nan
            blocks.append(pd.DataFrame(table, columns=columns[items[0] : items[-1] + 1]))
        return pd.concat(blocks, axis=1)
    if kind == "frame-Int64":
        data = {}
        for j in range(n_items):
            values = codes[:, j].astype(np.int64) + 1
            data[columns[j]] = pd.arrays.IntegerArray(values, rng.random(n) < MISSING_SHARE)
        return pd.DataFrame(data, copy=False)
    raise ValueError(kind)


def peak_rss_mb() -> float:
    """Peak resident memory of this process image (VmHWM), Python included.

    Not ``ru_maxrss``: on Linux that survives ``exec`` and would include the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(tool: str, path: str) -> dict:
    codes = np.load(path)
    if tool == "segment":
        from segment.models import LatentClassModel

        model = LatentClassModel(N_CLASSES, n_init=0, tol=TOL, max_iter=MAX_ITER, random_state=0)
        model.fit(codes[:2000])  # compile the kernels outside the timing
        t = time.perf_counter()
        model.fit(codes)
        seconds = time.perf_counter() - t
        iters, loglik = model.n_iter_, model.loglik_
        data = model._prepare(codes, fitting=False)
        t = time.perf_counter()
        model._e_step(data, np.ones(len(codes)), model._theta, np.log(model.prior_shares_))
        em_pass = time.perf_counter() - t
    else:
        import warnings

        from stepmix.stepmix import StepMix

        warnings.simplefilter("ignore")
        model = StepMix(
            n_components=N_CLASSES,
            measurement="categorical",
            n_init=1,
            max_iter=MAX_ITER,
            abs_tol=0.0,
            rel_tol=TOL,
            random_state=0,
            progress_bar=0,
            verbose=0,
        )
        t = time.perf_counter()
        model.fit(codes)
        seconds = time.perf_counter() - t
        iters = int(model.n_iter_)
        loglik = float(model.score(codes) * len(codes))
        em_pass = float("nan")
    peak_mb = peak_rss_mb()
    return {
        "seconds": seconds,
        "iterations": iters,
        "loglik": loglik,
        "peak_mb": peak_mb,
        "em_pass": em_pass,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--no-stepmix", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    tools = ["segment"] if args.no_stepmix else ["segment", "stepmix"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # compile (and cache on disk) the numba kernels in a throw-away process first, so that
        # the measured processes' peak memory is that of fitting, not of the JIT compiler
        warm = Path(tmp) / "warm.npy"
        make_data(2000, warm)
        subprocess.run(
            [sys.executable, __file__, "--worker", "segment", str(warm)],
            capture_output=True,
            check=False,
        )
        for n in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"codes_{n}.npy"
            make_data(n, path)
            for tool in tools:
                env = {**os.environ, **ONE_THREAD}
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", tool, str(path)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    print(f"{tool} at N={n} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((tool, n, r))
                print(f"  done: {tool} N={n:,} {r['seconds']:.1f}s", file=sys.stderr)
    header = (
        f"{'tool':<9}{'N':>11}{'seconds':>10}{'iters':>7}{'s/iter':>9}{'EM pass':>9}"
        f"{'peak MB':>9}{'log-likelihood':>18}"
    )
    print(
        f"\nLatent class fit: {N_CLASSES} classes, {N_ITEMS} items x {N_CATS} categories, "
        f"one start, rel. tol {TOL:g}, one thread"
    )
    print(header)
    print("-" * len(header))
    for tool, n, r in rows:
        per = r["seconds"] / max(r["iterations"], 1)
        em = "-" if r["em_pass"] != r["em_pass"] else f"{r['em_pass']:.3f}"
        print(
            f"{tool:<9}{n:>11,}{r['seconds']:>10.2f}{r['iterations']:>7}{per:>9.3f}{em:>9}"
            f"{r['peak_mb']:>9.0f}{r['loglik']:>18.2f}"
        )
    print(
        "s/iter = seconds / iterations (the whole fit: start, EM, summary); "
        "EM pass = one E+M pass over the data."
    )


if __name__ == "__main__":
    main()
