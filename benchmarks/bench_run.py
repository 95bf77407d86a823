"""Wall time of what a user waits for at the command line: the main job, the map, startup.

Each command runs in a fresh process, ``--repeat`` times (median printed):

- ``segment --help``;
- ``segment score MODEL --answer ...`` (one person, from the bundled typing tool's model);
- ``segment run`` on the bundled SYNTHETIC survey: **first run** (numba's cache in an empty
  folder, so every kernel compiles, as after installing; no cached map) and **warm** (compiled
  kernels on disk; the map's cache off, so the map is computed), and **rerun** (the map read
  back from its cache);
- the map alone (``umap_embedding`` of the survey's 1,500 respondents, warm, in-process).

Run:  .venv/bin/python benchmarks/bench_run.py [--repeat 3] [--skip-first]
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

REPO = Path(__file__).resolve().parent.parent
SEGMENT = [sys.executable, "-m", "segment.cli"]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def map_seconds() -> float:
    code = (
        "import os, time; os.environ['SEGMENT_CACHE_DIR'] = ''\n"
        "from segment import read_survey\n"
        "from segment.report.respondent_map import umap_embedding\n"
        "from segment.resources import bundled_path\n"
        "f, cb = read_survey(bundled_path('data', 'kz2020_synthetic.csv'),"
        " bundled_path('data', 'kz2020_synthetic_codebook.yaml'))\n"
        "X = cb.model_codes(f, [it.column for it in cb.segmentation_items])\n"
        "umap_embedding(X.head(100))\n"  # imports umap and loads its compiled code
        "t = time.perf_counter(); umap_embedding(X); print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-first", action="store_true", help="skip the first-run case")
    args = parser.parse_args()
    rows: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = {**os.environ, "SEGMENT_CACHE_DIR": ""}
        out = Path(tmp) / "report"
        run = [*SEGMENT, "run", "-o", str(out), "--force"]
        timed(run, base)  # compile and cache everything once
        model = str(out / "model.json")
        answer = [*SEGMENT, "score", model, "--answer", "trust_army=1", "--answer", "opt_economy=2"]
        rows.append(
            ("segment --help", [timed([*SEGMENT, "--help"], base) for _ in range(args.repeat)])
        )
        rows.append(
            ("score --answer (one person)", [timed(answer, base) for _ in range(args.repeat)])
        )
        if not args.skip_first:
            first = []
            for i in range(args.repeat):
                env = {**base, "NUMBA_CACHE_DIR": str(Path(tmp) / f"numba{i}")}
                first.append(timed(run, env))
            rows.append(("segment run, first run (nothing compiled)", first))
        rows.append(
            ("segment run, warm (map computed)", [timed(run, base) for _ in range(args.repeat)])
        )
        cached = {**os.environ, "SEGMENT_CACHE_DIR": str(Path(tmp) / "cache")}
        timed(run, cached)
        rows.append(
            ("segment run, rerun (map cached)", [timed(run, cached) for _ in range(args.repeat)])
        )
        rows.append(("map of 1,500 respondents, warm", [map_seconds() for _ in range(args.repeat)]))
    width = max(len(name) for name, _ in rows)
    cores = os.cpu_count()
    print(f"\nBundled SYNTHETIC survey (1,500 x 39), {cores} cores; seconds, {args.repeat} runs")
    print(f"{'':<{width}}  {'median':>7}  {'min':>6}  {'max':>6}")
    for name, times in rows:
        median = statistics.median(times)
        print(f"{name:<{width}}  {median:>7.2f}  {min(times):>6.2f}  {max(times):>6.2f}")


if __name__ == "__main__":
    main()
