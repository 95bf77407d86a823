"""Scoring throughput: posterior segment probabilities for 1,000,000 respondents.

A 6-class latent class model (20 items x 5 categories) is fitted once on a sample (the first
20,000 rows, in the form scored); then ``LatentClassModel.predict_proba`` and StepMix's
``predict_proba`` score the same 1,000,000 rows on one thread, each (tool, form) in its own
process. The forms (``build_input`` of ``bench_fit.py``): ``codes``, a uint8 array of answer
codes 0..4; ``frame-float``, a pandas DataFrame of float64 answers 1..5 with 5% NaN;
``frame-int``, a DataFrame of int64 answers 1..5; ``frame-mixed``, 10 int64 and 10 float64
columns (two blocks); ``frame-Int64``, a DataFrame of nullable Int64
answers with 5% <NA>. Prints seconds (median of 5 calls per process, then the median over
``--reps`` processes), rows per second and peak memory.

With ``--stream``, also scores CSV files of 200,000 and 1,000,000 respondents with the
``segment score`` command (chunks of 100,000 rows) and prints its peak memory for each, which
must not grow with the file.

Run:  .venv/bin/python benchmarks/bench_score.py [--n 1000000] [--no-stepmix] [--stream]
          [--inputs codes,frame-float,frame-int,frame-mixed,frame-Int64] [--reps 3]
Needs StepMix for the comparison:  .venv/bin/pip install -e ".[bench]"
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit import INPUTS, N_CLASSES, ONE_THREAD, build_input, make_data, peak_rss_mb, run_worker

REPEATS = 5
FIT_ROWS = 20_000


def worker(tool: str, kind: str, path: str) -> dict:
    codes = build_input(kind, np.load(path))
    train = codes[:FIT_ROWS]
    if tool == "segment":
        from segment.models import LatentClassModel

        model = LatentClassModel(N_CLASSES, n_init=0, random_state=0).fit(train)
        model.predict_proba(codes[:100])  # compile outside the timing
        model.predict_proba(codes[:40_000])  # and the blocked kernel
    else:
        import warnings

        from stepmix.stepmix import StepMix

        warnings.simplefilter("ignore")
        model = StepMix(
            n_components=N_CLASSES,
            measurement="categorical",
            n_init=1,
            random_state=0,
            progress_bar=0,
            verbose=0,
        )
        model.fit(train)
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        proba = model.predict_proba(codes)
        times.append(time.perf_counter() - t)
    assert proba.shape == (len(codes), N_CLASSES)
    seconds = float(np.median(times))
    return {"seconds": seconds, "rows_per_s": len(codes) / seconds, "peak_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-stepmix", action="store_true")
    parser.add_argument("--stream", action="store_true", help="also measure streaming CSV scoring")
    parser.add_argument("--inputs", default=",".join(INPUTS))
    parser.add_argument("--reps", type=int, default=3, help="processes per case (median)")
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "INPUT", "PATH"), help="internal")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    tools = ["segment"] if args.no_stepmix else ["segment", "stepmix"]
    if "stepmix" in tools and importlib.util.find_spec("stepmix") is None:
        print("note: StepMix is not installed; no peer runs (pip install -e '.[bench]')")
        tools.remove("stepmix")
    cases = [(tool, kind) for kind in args.inputs.split(",") for tool in tools]
    runs: dict[tuple[str, str], list[dict]] = {case: [] for case in cases}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "codes.npy"
        make_data(args.n, path)
        for _ in range(args.reps):  # cases in turn, so that a drift of the machine hits all
            for tool, kind in cases:
                result = run_worker(__file__, ["--worker", tool, kind, str(path)], f"{tool} {kind}")
                if result is not None:
                    runs[(tool, kind)].append(result)
    print(
        f"\nScoring {args.n:,} respondents ({N_CLASSES} classes, 20 items x 5 categories), "
        f"one thread; median of {REPEATS} calls in each of {args.reps} processes"
    )
    header = f"{'tool':<9}{'input':<13}{'seconds':>9}{'M rows/s':>10}{'peak MB':>9}"
    print(header)
    print("-" * len(header))
    for (tool, kind), rs in runs.items():
        if not rs:
            continue
        sec = float(np.median([r["seconds"] for r in rs]))
        peak = float(np.median([r["peak_mb"] for r in rs]))
        print(f"{tool:<9}{kind:<13}{sec:>9.3f}{args.n / sec / 1e6:>10.2f}{peak:>9.0f}")
    if args.stream:
        stream_table()


STREAM_PROBE = """
import resource, runpy, sys
sys.argv = ["segment"] + sys.argv[1:]
try:
    runpy.run_module("segment.cli", run_name="__main__")
except SystemExit:
    pass
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print("PEAK_MB", int(line.split()[1]) / 1024, file=sys.stderr)
"""


def stream_table() -> None:
    """Peak memory of `segment score` on CSV files of two sizes (streamed in chunks)."""
    import pandas as pd

    print("\nStreaming `segment score` on CSV (chunks of 100,000 rows)")
    print(f"{'rows':>10}{'file MB':>9}{'seconds':>9}{'peak MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_data(200_000, tmp / "codes.npy")
        codes = np.load(tmp / "codes.npy")
        items = [f"q{j + 1}" for j in range(codes.shape[1])]
        frame = pd.DataFrame(codes + 1, columns=items)
        cb = {
            "schema": "segment.codebook/1",
            "id": None,
            "weight": None,
            "scales": {
                "five": {"type": "ordinal", "levels": {c: f"answer {c}" for c in range(1, 6)}}
            },
            "items": [{"column": q, "domain": "trust", "scale": "five"} for q in items],
        }
        import yaml

        (tmp / "cb.yaml").write_text(yaml.safe_dump(cb), encoding="utf-8")
        frame.head(20_000).to_csv(tmp / "train.csv", index=False)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "segment.cli",
                "fit",
                str(tmp / "train.csv"),
                "--codebook",
                str(tmp / "cb.yaml"),
                "--k",
                "6",
                "--typology",
                "none",
                "--n-init",
                "0",
                "-o",
                str(tmp / "m.json"),
            ],
            check=True,
            capture_output=True,
        )
        for rows in (200_000, 1_000_000):
            path = tmp / f"answers_{rows}.csv"
            with open(path, "w", encoding="utf-8") as fh:
                frame.to_csv(fh, index=False)
                for _ in range(rows // len(frame) - 1):
                    frame.to_csv(fh, index=False, header=False)
            t = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    STREAM_PROBE,
                    "score",
                    str(tmp / "m.json"),
                    str(path),
                    "-o",
                    str(tmp / "s.csv"),
                    "--force",
                    "--quiet",
                ],
                env={**os.environ, **ONE_THREAD},
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - t
            peak = [
                float(line.split()[1])
                for line in out.stderr.splitlines()
                if line.startswith("PEAK_MB")
            ]
            print(
                f"{rows:>10,}{path.stat().st_size / 2**20:>9.0f}{seconds:>9.1f}"
                f"{(peak or [float('nan')])[0]:>9.0f}"
            )


if __name__ == "__main__":
    main()
