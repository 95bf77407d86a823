"""Nominal versus ordinal latent class models: log-likelihood, parameters and BIC by k.

Fits, for each k, the nominal LatentClassModel and OrdinalLatentClassModel with every attitude
item ordinal (adjacent-category logit, and the cumulative logit for comparison), and prints one
table per data set with the k that BIC chooses under each model and the fitting time.

- ``bundled``: the bundled SYNTHETIC survey (data/kz2020_synthetic.csv, 39 attitude items with
  don't know kept as a separate nominal answer), k = 4..7, survey weights rescaled to mean 1 as
  ``segment select`` does.
- ``election``: poLCA's ``election`` (../shared/data/lca/election.csv; 12 ratings 1-4, missing
  answers kept), k = 2..4.

Run:  .venv/bin/python benchmarks/bench_ordinal.py [--data bundled,election] [--n-init 10]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import segment
from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.resources import bundled_path

ELECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "lca" / "election.csv"
ELECTION_ITEMS = [
    "MORALG", "CARESG", "KNOWG", "LEADG", "DISHONG", "INTELG",
    "MORALB", "CARESB", "KNOWB", "LEADB", "DISHONB", "INTELB",
]  # fmt: skip


def bundled():
    frame, codebook = segment.read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    X = codebook.model_codes(frame)
    w = frame[codebook.weight].to_numpy(dtype=float)
    # items the typology calls "Divided on ..." (a bimodal answer distribution) in some segment
    typology = segment.Typology.load("kz2020")
    divided = {
        item
        for seg in typology.segments
        for item, expected in typology.expected_levels(seg.id).items()
        if expected.level.polarised
    }
    models = {
        "nominal": lambda k, **kw: LatentClassModel(k, **kw),
        "ordinal": lambda k, **kw: OrdinalLatentClassModel.from_codebook(codebook, k, **kw),
        "cumulative": lambda k, **kw: OrdinalLatentClassModel.from_codebook(
            codebook, k, ordinal_type="cumulative", **kw
        ),
        "mixed": lambda k, **kw: OrdinalLatentClassModel.from_codebook(
            codebook, k, **kw
        ).set_params(item_types={c: "nominal" if c in divided else "ordinal" for c in X.columns}),
    }
    return "bundled SYNTHETIC survey (N = 1,500, 39 items)", X, w / w.mean(), range(4, 8), models


def election():
    X = pd.read_csv(ELECTION)[ELECTION_ITEMS]
    models = {
        "nominal": lambda k, **kw: LatentClassModel(k, **kw),
        "ordinal": lambda k, **kw: OrdinalLatentClassModel(k, item_types="ordinal", **kw),
        "cumulative": lambda k, **kw: OrdinalLatentClassModel(k, item_types="cumulative", **kw),
    }
    return "poLCA election (N = 1,785, 12 items, missing kept)", X, None, range(2, 5), models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="bundled,election")
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in args.data.split(","):
        title, X, w, ks, models = {"bundled": bundled, "election": election}[name]()
        rows = []
        for k in ks:
            row = {"k": k}
            for label, make in models.items():
                start = time.perf_counter()
                model = make(k, n_init=args.n_init, random_state=args.seed).fit(X, sample_weight=w)
                row[f"{label} loglik"] = model.loglik_
                row[f"{label} p"] = model.n_parameters()
                row[f"{label} BIC"] = model.bic(X, sample_weight=w)
                row[f"{label} s"] = time.perf_counter() - start
            rows.append(row)
        table = pd.DataFrame(rows).set_index("k")
        print(f"\n{title}, n_init={args.n_init}, random_state={args.seed}")
        with pd.option_context(
            "display.width", 250, "display.max_columns", 50, "display.float_format", "{:.1f}".format
        ):
            print(table)
        for label in models:
            print(f"  BIC chooses k = {int(table[f'{label} BIC'].idxmin())} ({label})")
        print(f"  best BIC overall: {table[[f'{m} BIC' for m in models]].min().idxmin()}")


if __name__ == "__main__":
    main()
