"""Peak memory of fitting LatentClassModel (issue 18), Python included.

A 6-class model on 20 items x 5 answers (``make_data`` of ``bench_fit.py``) is fitted with one
random start, the k-means start and a fixed number of EM iterations (``--iters``, tolerance 0),
on one thread, at N = 1,000,000 and 10,000,000 respondents. Every (input, N) runs in its own
fresh process, which reports its peak resident set size (``VmHWM``: the maximum RSS of the
process image, Python, numpy, pandas, scikit-learn and numba included; not ``ru_maxrss``, which
survives ``exec`` and would include the parent's peak).

Inputs, as a user holds answers:

* ``codes``: a (N, 20) uint8 array of answer codes 0..4;
* ``frame-float``: a pandas DataFrame of float64 answers 1..5 with 5% NaN (what ``read_csv``
  gives for a column with a missing answer);
* ``frame-int``: a DataFrame of int64 answers 1..5 (``read_csv`` without missing answers);
* ``frame-mixed``: 10 int64 columns without NaN and 10 float64 columns with 5% NaN (two
  blocks, as ``read_csv`` gives when only some items have missing answers);
* ``frame-Int64``: a DataFrame of pandas nullable Int64 answers 1..5 with 5% <NA>.

Each process builds its input column by column (no transient copy of the table), then reports
``held``: its RSS with the input built, before the fit, and ``peak``: its peak RSS at the end.
``peak - held`` is what the fit itself costs on top of the data the user holds.

The kernels are compiled (and cached on disk) in a throw-away process first, so that the
measured processes' peak is that of fitting, not of the JIT compiler. N = 10,000,000 runs only
when ``free -m`` says there is memory for it (about 4 GB for the float frame); peers (StepMix)
run at 1,000,000 only, and only when installed.

Run:  .venv/bin/python benchmarks/bench_memory.py [--sizes 1000000,10000000]
          [--inputs codes,frame-float,frame-int,frame-mixed,frame-Int64] [--iters 20] [--reps 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit import INPUTS, N_CLASSES, build_input, make_data, run_worker

PEER_MAX_ROWS = 1_000_000


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(tool: str, kind: str, path: str, iters: int) -> dict:
    codes = np.load(path)
    if tool == "segment":
        from segment.models import LatentClassModel
    X = build_input(kind, codes)
    del codes
    held = rss_mb("VmRSS")
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tool == "segment":
            model = LatentClassModel(
                N_CLASSES, n_init=1, max_iter=iters, tol=0.0, random_state=0
            ).fit(X)
            loglik = model.loglik_
        else:
            from stepmix.stepmix import StepMix

            model = StepMix(
                n_components=N_CLASSES,
                measurement="categorical",
                n_init=1,
                max_iter=iters,
                abs_tol=0.0,
                rel_tol=0.0,
                random_state=0,
                progress_bar=0,
                verbose=0,
            )
            model.fit(X)
            loglik = float(model.score(X) * len(X))
    seconds = time.perf_counter() - t
    return {"held": held, "peak": rss_mb("VmHWM"), "seconds": seconds, "loglik": loglik}


def available_mb() -> int:
    out = subprocess.run(["free", "-m"], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[1].split()[6])


def need_mb(kind: str, n: int) -> float:
    """A generous bound on a process's peak: the input twice over plus 1 GB."""
    per_row = {"codes": 20, "frame-Int64": 180}.get(kind, 160)
    return 2 * per_row * n / 2**20 + 1024


def run_case(tool, kind, path, iters) -> dict | None:
    args = ["--iters", str(iters), "--worker", tool, kind, str(path)]
    return run_worker(__file__, args, f"{tool} {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--inputs", default=",".join(INPUTS))
    parser.add_argument("--iters", type=int, default=20, help="EM iterations per start")
    parser.add_argument("--reps", type=int, default=1, help="processes per case (median)")
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "INPUT", "PATH"), help="internal")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker[:2], args.worker[2], args.iters)))
        return
    kinds = args.inputs.split(",")
    tools = ["segment"]
    if importlib.util.find_spec("stepmix") is not None:
        tools.append("stepmix")
    else:
        print("note: StepMix is not installed; no peer runs (pip install -e '.[bench]')")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.npy"
        make_data(2000, warm)
        run_case("segment", "codes", warm, 2)
        for n in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"codes_{n}.npy"
            make_data(n, path)
            for kind in kinds:
                for tool in tools:
                    if tool != "segment" and n > PEER_MAX_ROWS:
                        continue
                    free = available_mb()
                    if need_mb(kind, n) > free:
                        print(
                            f"note: {tool} {kind} at N={n:,} skipped: needs about "
                            f"{need_mb(kind, n):.0f} MB, {free} MB available"
                        )
                        continue
                    runs = [run_case(tool, kind, path, args.iters) for _ in range(args.reps)]
                    done = [r for r in runs if r is not None]
                    if not done:
                        continue
                    r = {
                        key: float(np.median([d[key] for d in done]))
                        for key in ("held", "peak", "seconds")
                    }
                    r["loglik"] = done[0]["loglik"]
                    rows.append((tool, kind, n, r))
                    print(
                        f"  done: {tool} {kind} N={n:,} peak {r['peak']:.0f} MB",
                        file=sys.stderr,
                    )
            path.unlink()
    print(
        f"\nFit of {N_CLASSES} classes, 20 items x 5 answers: one random start + k-means, "
        f"{args.iters} EM iterations each, one thread; medians of {args.reps} process(es)"
    )
    header = (
        f"{'tool':<9}{'input':<13}{'N':>12}{'held MB':>9}{'peak MB':>9}{'fit MB':>8}"
        f"{'seconds':>9}{'log-likelihood':>20}"
    )
    print(header)
    print("-" * len(header))
    for tool, kind, n, r in rows:
        print(
            f"{tool:<9}{kind:<13}{n:>12,}{r['held']:>9.0f}{r['peak']:>9.0f}"
            f"{r['peak'] - r['held']:>8.0f}{r['seconds']:>9.2f}{r['loglik']:>20.4f}"
        )
    print("held = RSS with the input built; peak = peak RSS; fit = peak - held.")


if __name__ == "__main__":
    main()
