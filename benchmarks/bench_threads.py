"""One EM iteration of LatentClassModel on 1 and 2 numba threads (issue 18: both cores used).

Data: ``make_data`` of ``bench_fit.py`` (20 items x 5 answers from a 6-class model), N =
1,000,000 by default. One EM iteration is ``LatentClassModel._e_step`` (the fused E-step and
sufficient statistics) plus ``_m_step``, from fixed parameters (a short fit on the first
20,000 rows). Three set-ups, each in its own process, run in turn (A B C A B C ...) so that a
drift of the machine's speed hits all of them alike:

* ``serial``: the single-pass kernel (the code path before blocking, forced by raising
  ``PARALLEL_MIN_ROWS``), NUMBA_NUM_THREADS=1;
* ``1 thread``: the blocked kernel, NUMBA_NUM_THREADS=1;
* ``2 threads``: the blocked kernel, NUMBA_NUM_THREADS=2.

Each process times ``--iters`` iterations after one untimed warm-up and reports their median;
the table gives the median over ``--reps`` processes, the speed-up over ``1 thread`` and the
log-likelihood of the last iteration (equal bytes on 1 and 2 threads; ``serial`` differs in the
last digits only, by the order of the additions). CPU seconds (all threads) per iteration show
what the threads cost in total.

Run:  .venv/bin/python benchmarks/bench_threads.py [--n 1000000] [--reps 5] [--iters 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit import N_CLASSES, make_data

SETUPS = {
    "serial": {"threads": "1", "single": True},
    "1 thread": {"threads": "1", "single": False},
    "2 threads": {"threads": "2", "single": False},
}


def worker(path: str, single: bool, iters: int) -> dict:
    from segment.models import LatentClassModel, _kernels

    codes = np.load(path)
    start = LatentClassModel(N_CLASSES, n_init=0, max_iter=50, random_state=0).fit(codes[:20_000])
    if single:
        _kernels.PARALLEL_MIN_ROWS = sys.maxsize
    data = start._prepare(codes, fitting=False)
    weights = np.ones(len(codes))
    params, log_prior = start._theta, np.log(start.prior_shares_)
    seconds, cpu = [], []
    for _ in range(iters + 1):
        c, t = time.process_time(), time.perf_counter()
        loglik, stats, _ = start._e_step(data, weights, params, log_prior)
        start._m_step(stats, params)
        seconds.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {
        "seconds": float(np.median(seconds[1:])),
        "cpu": float(np.median(cpu[1:])),
        "loglik": loglik,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "SINGLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1] == "1", args.iters)))
        return
    runs: dict[str, list[dict]] = {name: [] for name in SETUPS}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "codes.npy"
        make_data(args.n, path)
        for rep in range(-1, args.reps):  # rep -1 compiles and caches the kernels, not counted
            for name, setup in SETUPS.items():
                env = {**os.environ, "NUMBA_NUM_THREADS": setup["threads"]}
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--iters",
                        str(args.iters),
                        "--worker",
                        str(path),
                        "1" if setup["single"] else "0",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                if rep >= 0:
                    runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  done: repetition {rep + 1} of {args.reps}", file=sys.stderr)
    base = np.median([r["seconds"] for r in runs["1 thread"]])
    print(
        f"\nOne EM iteration, N = {args.n:,}, 20 items x 5 answers, {N_CLASSES} classes "
        f"({args.reps} processes x {args.iters} iterations, medians)"
    )
    header = f"{'set-up':<11}{'s/iter':>9}{'cpu s/iter':>12}{'speed-up':>10}{'log-likelihood':>24}"
    print(header)
    print("-" * len(header))
    for name, rs in runs.items():
        sec = float(np.median([r["seconds"] for r in rs]))
        cpu = float(np.median([r["cpu"] for r in rs]))
        logliks = {repr(r["loglik"]) for r in rs}
        ll = logliks.pop() if len(logliks) == 1 else f"varies: {sorted(logliks)}"
        print(f"{name:<11}{sec:>9.4f}{cpu:>12.4f}{base / sec:>9.2f}x{ll:>24}")
    print("speed-up = s/iter of '1 thread' / s/iter; cpu = user + system of all threads.")


if __name__ == "__main__":
    main()
