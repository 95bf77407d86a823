"""The default multi-start fit against one start and against every start run on all data.

Same synthetic data as ``bench_fit.py`` (a known 6-class model, 20 items x 5 answers). For each
N, three fits of ``LatentClassModel(6)`` with ``random_state=0``:

- ``one start``: the k-means start alone (``n_init=0``);
- ``default``: ``n_init=10`` with the default ``screen_rows=50_000`` (beyond 50,000
  respondents every start runs on one subsample and the two best continue on all data);
- ``all full``: ``n_init=10, screen_rows=None`` (every start to convergence on all data, the
  behaviour before the screen).

It prints seconds, the log-likelihood, how many starts reached the best one, and the time of
each fit relative to one start (the issue's target: the default within 3x one start, with the
same best log-likelihood as every start in full). One process per fit, one thread.

Run:  .venv/bin/python benchmarks/bench_multistart.py [--sizes 100000,1000000] [--no-full]
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

sys.path.insert(0, str(Path(__file__).parent))
from bench_fit import MAX_ITER, N_CLASSES, ONE_THREAD, TOL, make_data

VARIANTS = {
    "one start": {"n_init": 0},
    "default": {},
    "all full": {"screen_rows": None},
}


def worker(variant: str, path: str) -> dict:
    from segment.models import LatentClassModel

    codes = np.load(path)
    params = {"tol": TOL, "max_iter": MAX_ITER, "random_state": 0, **VARIANTS[variant]}
    LatentClassModel(N_CLASSES, n_init=0).fit(codes[:2000])  # compile outside the timing
    model = LatentClassModel(N_CLASSES, **params)
    t = time.perf_counter()
    model.fit(codes)
    return {
        "seconds": time.perf_counter() - t,
        "loglik": float(model.loglik_),
        "n_best": int(model.n_best_starts_),
        "n_starts": len(model.start_logliks_),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--no-full", action="store_true", help="skip 'all full' (slow at 1M)")
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    variants = [v for v in VARIANTS if not (args.no_full and v == "all full")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"codes_{n}.npy"
            make_data(n, path)
            for variant in variants:
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", variant, str(path)],
                    env={**os.environ, **ONE_THREAD},
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    print(f"{variant} at N={n} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((n, variant, r))
                print(f"  done: {variant} N={n:,} {r['seconds']:.1f}s", file=sys.stderr)
    header = (
        f"{'N':>11}  {'fit':<10}{'seconds':>9}{'x one':>7}{'log-likelihood':>18}{'best starts':>13}"
    )
    print(f"\nMulti-start fit: {N_CLASSES} classes, 20 items x 5, rel. tol {TOL:g}, one thread")
    print(header)
    print("-" * len(header))
    one = {n: r["seconds"] for n, v, r in rows if v == "one start"}
    for n, variant, r in rows:
        ratio = f"{r['seconds'] / one[n]:.1f}" if n in one else "-"
        best = f"{r['n_best']}/{r['n_starts']}"
        print(
            f"{n:>11,}  {variant:<10}{r['seconds']:>9.1f}{ratio:>7}{r['loglik']:>18.2f}{best:>13}"
        )
    print("best starts: starts within 1e-6 (relative) of the best final log-likelihood.")


if __name__ == "__main__":
    main()
