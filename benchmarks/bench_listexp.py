"""Speed of the list-experiment ML estimator (Imai 2011) with 4 covariates.

Bootstrap resamples of R list's `race` data (../shared/data/listexp/race.csv) at N = 100,000 and
1,000,000; `y ~ south + age + male + college`, constrained model, one thread. Prints seconds,
the log-likelihood per respondent and the sensitive-item coefficient on `south` (the estimates
must agree with the N = 1,213 fit up to sampling noise). R list 9.2.6 on this kind of machine:
about 165 s at N = 100,000 and over 10 minutes at N = 1,000,000.

Run:  .venv/bin/python benchmarks/bench_listexp.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

RACE = Path(__file__).resolve().parents[2] / "shared" / "data" / "listexp" / "race.csv"
COVARIATES = ["south", "age", "male", "college"]


def main() -> None:
    from segment.listexp import ict_ml

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    race = pd.read_csv(RACE)
    rng = np.random.default_rng(0)
    rows = []
    for n in [len(race)] + [int(s) for s in args.sizes.split(",")]:
        sample = race if n == len(race) else race.iloc[rng.integers(0, len(race), n)]
        t = time.perf_counter()
        result = ict_ml(
            sample["y"].to_numpy(), sample["treat"].to_numpy(), sample[COVARIATES].to_numpy(), 3
        )
        seconds = time.perf_counter() - t
        rows.append((n, seconds, result.loglik / n, result))
    print("\nImai (2011) ML, constrained, y ~ south + age + male + college, one thread")
    print(f"{'N':>11}{'seconds':>10}{'loglik / N':>12}")
    for n, seconds, ll, _ in rows:
        print(f"{n:>11,}{seconds:>10.2f}{ll:>12.5f}")
    print("\nSensitive-item coefficients (N = 1,213 first):")
    for n, _, _, result in rows:
        print(f"{n:>11,}  " + "  ".join(f"{v:+.3f}" for v in result.coef_sensitive.to_numpy()))


if __name__ == "__main__":
    main()
