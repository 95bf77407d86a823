"""Latent class fit on a Dask cluster (``fit_latent_class_dask``) at 10,000,000 respondents.

Data: answers simulated from a 6-class model fitted on the bundled survey (its 39 items and
their categories, each item missing at the bundled survey's rate, weights drawn from the bundled
weights), written as Parquet files of 250,000 rows (40 files at 10M) to a temporary folder that
is deleted at the end (the script checks the free disk space first).

Runs, each with a fresh ``LocalCluster`` of worker processes (one thread each):

1. Dask, all rows: start fitted on a 100,000-respondent sample (``n_init=10``), full-data EM.
2. Dask, the first 1,000,000 rows (4 files), from the start found in run 1 (equal shares).
3. In memory, the same 1,000,000 rows read with pandas, ``LatentClassModel.fit`` from the same
   start (its own process, for its peak memory). Runs 2 and 3 must agree on the log-likelihood.

Peak memory: each process's peak resident set size (``VmHWM``, Python included), reset after the
numba kernels are loaded, so it is that of fitting; "idle" is the resident size just before.
Seconds: the whole call (reading, scanning, encoding, the sample start, EM, last pass); "start"
is the sample fit on the client and "EM" the full-data iterations (per iteration = EM /
iterations).

Run:  .venv/bin/python benchmarks/bench_dask_fit.py [--rows 10000000] [--workers 2] [--dir /tmp]
Needs dask[distributed]:  .venv/bin/pip install -e ".[dask]"
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

K = 6
PART_ROWS = 250_000
MEMORY_ROWS = 1_000_000
ONE_THREAD = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


# ---------------------------------------------------------------------- data
def generator():
    """(item names, categories, shares, item probabilities, missing rates, weights) to simulate."""
    from segment import read_survey
    from segment.models import LatentClassModel
    from segment.resources import bundled_path

    frame, cb = read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    X = cb.model_codes(frame)
    w = frame[cb.weight].to_numpy(dtype=float)
    model = LatentClassModel(K, n_init=2, random_state=1).fit(X, sample_weight=w)
    return {
        "items": list(X.columns),
        "categories": model.categories_,
        "shares": model.weights_,
        "probs": model.item_probs_,
        "missing": X.isna().mean().to_numpy(),
        "weights": w,
    }


def write_part(gen: dict, n: int, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    z = rng.choice(K, size=n, p=gen["shares"])
    cols = {}
    for name, cats, probs, miss in zip(
        gen["items"], gen["categories"], gen["probs"], gen["missing"], strict=True
    ):
        cum = np.cumsum(probs, axis=1)
        cum[:, -1] = 1.0
        idx = (rng.random(n)[:, None] > cum[z]).sum(axis=1)
        values = cats[idx]
        values[rng.random(n) < miss] = np.nan
        cols[name] = values
    cols["weight"] = rng.choice(gen["weights"], size=n)
    pd.DataFrame(cols).to_parquet(path, index=False)


# ---------------------------------------------------------------------- measuring
def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset VmHWM to the current resident size (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def warm_kernels(k: int) -> None:
    """Load the compiled kernels (numba's disk cache) before the measured fit."""
    from segment.models._kernels import kernels
    from segment.models.latent_class import _log_table, sufficient_statistics

    codes = np.zeros((4, 3), dtype=np.uint8)
    w = np.ones(4)
    theta = np.full((3, 2, k), 0.5)
    sufficient_statistics(codes, w, theta, np.log(np.full(k, 1.0 / k)))
    kernels(k).summarise(
        codes,
        w,
        _log_table(theta),
        np.log(np.full(k, 1.0 / k)),
        np.ones(4, dtype=np.bool_),
        np.empty(4, dtype=np.intp),
        np.empty(k),
    )


class Timer:
    """Times the E-steps and the sample start inside ``fit_latent_class_dask``."""

    def __init__(self):
        import segment.models.dask_fit as mod

        self.mod = mod
        self.em = []
        self.start = 0.0
        self.start_params = None
        e_step, sample_start = mod._DistributedEStep.__call__, mod._sample_start
        timer = self

        def timed_e_step(self_, *args):
            t = time.perf_counter()
            out = e_step(self_, *args)
            timer.em.append(time.perf_counter() - t)
            return out

        def timed_start(*args):
            t = time.perf_counter()
            out = sample_start(*args)
            timer.start = time.perf_counter() - t
            timer.start_params = out
            return out

        self._saved = (e_step, sample_start)
        mod._DistributedEStep.__call__ = timed_e_step
        mod._sample_start = timed_start

    def restore(self):
        self.mod._DistributedEStep.__call__, self.mod._sample_start = self._saved


def run_dask(source: Path, n_workers: int, init=None) -> dict:
    import distributed

    from segment.models.dask_fit import fit_latent_class_dask

    os.environ.update(ONE_THREAD)
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(warm_kernels, K)
        warm_kernels(K)
        client.run(reset_peak)
        idle = client.run(rss_mb)
        timer = Timer()
        try:
            t = time.perf_counter()
            model = fit_latent_class_dask(
                source, None, K, weight="weight", init=init, client=client, random_state=0
            )
            seconds = time.perf_counter() - t
        finally:
            timer.restore()
        peaks = client.run(peak_mb)
        n_parts = len(list(source.glob("*.parquet")))
    theta = None if timer.start_params is None else timer.start_params[0]
    return {
        "rows": model.n_samples_fit_ + model.n_empty_,
        "partitions": n_parts,
        "workers": n_workers,
        "iterations": model.n_iter_,
        "seconds": seconds,
        "start": timer.start,
        "em": float(np.sum(timer.em)),
        "peak_mb": sorted(peaks.values()),
        "idle_mb": max(idle.values()),
        "loglik": model.loglik_,
        "model": model,
        "start_theta": theta,
    }


def in_memory(files: list[str], start_path: str) -> dict:
    """Worker process: read the files with pandas and fit from the saved start."""
    from segment.models import LatentClassModel

    start = np.load(start_path)["theta"]

    class FromStart(LatentClassModel):
        def _starts(self, data, weights, rng):
            return [start]

    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    X, w = frame.drop(columns="weight"), frame["weight"].to_numpy()
    del frame
    FromStart(K, n_init=0).fit(X.iloc[:2000], sample_weight=w[:2000])  # load the kernels
    reset_peak()
    idle = rss_mb()
    t = time.perf_counter()
    model = FromStart(K, n_init=0).fit(X, sample_weight=w)
    seconds = time.perf_counter() - t
    return {
        "rows": len(X),
        "iterations": model.n_iter_,
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "idle_mb": idle,
        "loglik": model.loglik_,
    }


# ---------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", default=None, help="folder for the temporary Parquet data")
    parser.add_argument("--in-memory", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_memory:
        print(json.dumps(in_memory(json.loads(args.in_memory[0]), args.in_memory[1])))
        return

    n_parts = -(-args.rows // PART_ROWS)
    base = Path(args.dir or tempfile.gettempdir())
    need = args.rows * 60  # about 45 bytes a row on disk; keep a margin
    free = shutil.disk_usage(base).free
    if free < 2 * need:
        sys.exit(f"{base}: {free / 1e9:.1f} GB free, need about {2 * need / 1e9:.1f} GB")
    print(f"{base}: {free / 1e9:.0f} GB free", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(dir=base, prefix="bench_dask_fit.") as tmp:
        tmp = Path(tmp)
        gen = generator()
        full = tmp / "all"
        full.mkdir()
        t = time.perf_counter()
        for i in range(n_parts):
            n = min(PART_ROWS, args.rows - i * PART_ROWS)
            write_part(gen, n, seed=i, path=full / f"part{i:03d}.parquet")
        disk = sum(f.stat().st_size for f in full.iterdir())
        print(
            f"  wrote {args.rows:,} rows in {n_parts} files ({disk / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )

        big = run_dask(full, args.workers)
        rows.append(("dask", big))
        print(f"  done: dask {big['rows']:,} rows, {big['seconds']:.0f} s", file=sys.stderr)

        # the first 1M rows, from the start of the big run
        small = tmp / "first"
        small.mkdir()
        files = sorted(full.glob("*.parquet"))[: -(-MEMORY_ROWS // PART_ROWS)]
        for f in files:
            os.link(f, small / f.name)
        theta = big["start_theta"]
        cats = big["model"].categories_
        init = {
            "weights": np.full(K, 1.0 / K),
            "item_probs": [theta[j, : len(c), :].T for j, c in enumerate(cats)],
        }
        mid = run_dask(small, args.workers, init=init)
        rows.append(("dask", mid))
        print(f"  done: dask {mid['rows']:,} rows, {mid['seconds']:.0f} s", file=sys.stderr)

        rows.append(("memory", run_in_memory(files, theta, tmp)))

    print_table(rows, len(gen["items"]))


def run_in_memory(files: list[Path], theta: np.ndarray, tmp: Path) -> dict:
    """Run 3: the in-memory fit of ``files`` from ``theta``, in its own process."""
    np.savez(tmp / "start.npz", theta=theta)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--in-memory",
            json.dumps([str(f) for f in files]),
            str(tmp / "start.npz"),
        ],
        env={**os.environ, **ONE_THREAD},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"in-memory fit failed:\n{out.stderr[-3000:]}")
    mem = json.loads(out.stdout.strip().splitlines()[-1])
    mem.update(partitions=1, workers=1, start=0.0, em=float("nan"), peak_mb=[mem["peak_mb"]])
    return mem


def print_table(rows: list[tuple[str, dict]], n_items: int) -> None:
    """The table of the runs, with its legend."""
    print(
        f"\nLatent class fit, {K} classes, {n_items} items (bundled survey's), "
        f"weights and missing answers; tol 1e-8; worker processes with one thread each"
    )
    header = (
        f"{'engine':<8}{'rows':>12}{'parts':>7}{'workers':>8}{'iters':>7}{'total s':>9}"
        f"{'start s':>9}{'EM s':>8}{'s/iter':>8}{'peak MB per worker':>20}{'idle MB':>9}"
        f"{'log-likelihood':>20}"
    )
    print(header)
    print("-" * len(header))
    for engine, r in rows:
        em = r["em"] if r["em"] == r["em"] else r["seconds"]
        per = em / max(r["iterations"], 1)
        peaks = " / ".join(f"{p:.0f}" for p in r["peak_mb"])
        print(
            f"{engine:<8}{r['rows']:>12,}{r['partitions']:>7}{r['workers']:>8}"
            f"{r['iterations']:>7}{r['seconds']:>9.1f}{r['start']:>9.1f}{em:>8.1f}{per:>8.3f}"
            f"{peaks:>20}{r['idle_mb']:>9.0f}{r['loglik']:>20.3f}"
        )
    print(
        "total = the whole call (read, scan, encode, start, EM, last pass); start = sample fit "
        "(n_init=10 on ~100,000 rows, client); EM = full-data iterations; rows 2 and 3 start "
        "from row 1's start; in memory: EM s = whole fit, peak = the fitting process (its data "
        "frame included); idle MB = resident size before the fit (Python, dask, numba)."
    )


if __name__ == "__main__":
    main()
