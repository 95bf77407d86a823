"""The comparison of k in worker processes: the same table, models and warnings as in one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.models.selection import _plan, select_n_components


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    """300 respondents, 5 items with 3 answers, 3 classes, a few missing answers."""
    rng = np.random.default_rng(4)
    z = rng.choice(3, size=300, p=[0.5, 0.3, 0.2])
    X = np.where(rng.random((300, 5)) < 0.8, z[:, None], rng.integers(0, 3, (300, 5)))
    X = X.astype(float) + 1
    X[rng.random(X.shape) < 0.03] = np.nan
    return pd.DataFrame(X, columns=[f"q{j}" for j in range(5)])


def _select(X, n_jobs, **kwargs):
    ticks: list[str] = []
    result = select_n_components(
        X, [1, 2, 3], n_init=2, n_boot=3, random_state=7, progress=ticks.append, n_jobs=n_jobs,
        **kwargs,
    )  # fmt: skip
    return result, ticks


@pytest.mark.parametrize("estimator", [None, OrdinalLatentClassModel(item_types="ordinal")])
def test_two_processes_give_the_table_of_one(answers, estimator):
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(answers))
    one, ticks_one = _select(answers, 1, sample_weight=w, estimator=estimator)
    two, ticks_two = _select(answers, 2, sample_weight=w, estimator=estimator)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    assert (
        one.table.astype(float).to_numpy().tobytes() == two.table.astype(float).to_numpy().tobytes()
    )
    assert (one.recommended, one.reason) == (two.recommended, two.reason)
    for k in one.models:
        assert one.models[k].loglik_ == two.models[k].loglik_
        np.testing.assert_array_equal(one.models[k].labels_, two.models[k].labels_)
    assert (one.table["stability"] > 0).all()  # the refits ran
    # one tick per fit (3 full-data fits and 3 x 3 refits), in any order with two processes
    assert len(ticks_one) == len(ticks_two) == 12
    assert sorted(ticks_one) == sorted(ticks_two)


def test_an_array_and_every_core_give_the_same_table(answers):
    X = answers.to_numpy()
    one, _ = _select(X, 1)
    every, _ = _select(X, -1)
    pd.testing.assert_frame_equal(one.table, every.table, check_exact=True)


def test_a_worker_s_warning_reaches_the_caller(answers):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        _select(answers, 2, estimator=LatentClassModel(max_iter=2))


def test_a_worker_s_error_reaches_the_caller(answers):
    X = answers.copy()
    X["q0"] = 1.0  # a constant item: every fit refuses it
    with pytest.raises(ValueError, match="constant"):
        _select(X, 2)


def test_the_plan_draws_the_stream_of_the_fits_one_after_another():
    """Each resample's rows and seed are the draws the sequential loop made (the same tables as
    before the fits ran in processes)."""
    n = 50
    fits = _plan([2, 3], n, 4, 2, 1, np.random.RandomState(3))
    rng = np.random.RandomState(3)
    for fit in fits:
        if fit.boot is None:
            assert fit.seed == int(rng.randint(2**31 - 1))
            continue
        replay = np.random.RandomState()
        replay.set_state(fit.state)
        np.testing.assert_array_equal(replay.randint(0, n, n), rng.randint(0, n, n))
        assert replay.randint(2**31 - 1) == rng.randint(2**31 - 1)
    assert [(f.k, f.boot, f.n_init) for f in fits] == [
        (2, None, 4), (2, 0, 1), (2, 1, 1), (3, None, 4), (3, 0, 1), (3, 1, 1),
    ]  # fmt: skip
