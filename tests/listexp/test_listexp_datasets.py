"""Every list-experiment estimator on every standard-design data set of R `list`.

Published figures are checked in test_listexp.py (race, R list 9.2.6) and
test_listexp_published.py (the papers' tables). Here each estimator runs on the other data
sets too, and the estimators must agree with each other within sampling error: the
regression estimators' average prevalence against the difference in means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segment.listexp import (
    design_effect_test,
    difference_in_means,
    ict_lm,
    ict_ml,
    ict_nls,
    predict_prevalence,
)

# data set -> (count, treat, J, covariates, row filter)
DATASETS = {
    "race": ("y", "treat", 3, ["south", "age", "male", "college"], None),
    "affirm": ("y", "treat", 3, ["south", "age", "male", "college"], None),
    "mis": ("y", "treat", 4, ["south", "age", "male", "college"], "`list.data` == 1"),
    "mexico": (
        "mex.y.all",
        "mex.t",
        3,
        ["mex.male", "mex.age", "mex.education", "mex.urban"],
        None,
    ),
}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def dataset(request, shared_data):
    name = request.param
    count, treat, J, covariates, query = DATASETS[name]
    frame = pd.read_csv(shared_data / "listexp" / f"{name}.csv")
    if query:
        frame = frame.query(query)
    frame = frame.dropna(subset=[count, treat, *covariates])
    y = frame[count].to_numpy(dtype=float)
    t = frame[treat].astype(str).isin(["1", "TRUE", "True", "1.0"]).to_numpy().astype(float)
    return name, y, t, J, frame[covariates].astype(float).reset_index(drop=True)


@pytest.mark.parametrize("fitter", [ict_lm, ict_nls, ict_ml], ids=["lm", "nls", "ml"])
def test_regression_prevalence_agrees_with_difference_in_means(dataset, fitter):
    name, y, t, J, X = dataset
    dim = difference_in_means(y, t, J=J)
    result = fitter(y, t, X, J)
    prev = predict_prevalence(result, X)
    assert np.isfinite(result.params).all() and np.isfinite(result.bse).all()
    assert prev.ci_low <= prev.estimate <= prev.ci_high
    # two estimators of one prevalence from the same data: far closer than two SEs of the DiM
    assert abs(prev.estimate - dim.estimate) < 2 * dim.se, (name, prev.estimate, dim.estimate)


def test_unconstrained_ml_fits_at_least_as_well(dataset):
    _, y, t, J, X = dataset
    constrained = ict_ml(y, t, X, J)
    free = ict_ml(y, t, X, J, constrained=False)
    assert free.loglik >= constrained.loglik - 1e-6


def test_design_effect_test_runs_and_is_a_probability(dataset):
    _, y, t, J, _ = dataset
    for selection in ("gms", "none", "blair-imai"):
        p = design_effect_test(y, t, J, moment_selection=selection).p_value
        assert 0.0 <= p <= 1.0
    # more aggressive moment selection can only lower the p-value
    gms = design_effect_test(y, t, J).p_value
    assert design_effect_test(y, t, J, moment_selection="blair-imai").p_value <= gms + 1e-12
    assert gms <= design_effect_test(y, t, J, moment_selection="none").p_value + 1e-12
