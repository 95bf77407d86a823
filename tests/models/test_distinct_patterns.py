"""EM on the distinct answer patterns: the same fit as EM on every row, much faster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.models import latent_class as lc


def _codes(model, X):
    return model._prepare(X, fitting=False)


@pytest.mark.parametrize("n_items", [4, 40])  # 40 items x 6 codes: the keys are re-ranked
def test_distinct_rows_are_the_unique_rows_with_summed_weights(n_items):
    rng = np.random.default_rng(0)
    patterns = rng.integers(0, 5, (30, n_items)).astype(float)
    X = patterns[rng.integers(0, 30, 400)]
    X[::40, 1] = np.nan  # a missing answer: one more code
    w = rng.random(400)
    model = LatentClassModel(2, n_init=1, random_state=0).fit(X, sample_weight=w)
    codes = _codes(model, X)
    rows, summed = model._distinct_rows(codes, w)
    unique, inverse = np.unique(codes, axis=0, return_inverse=True)
    np.testing.assert_array_equal(rows, unique)
    np.testing.assert_allclose(summed, np.bincount(inverse.ravel(), weights=w), rtol=1e-12)
    assert rows.flags.c_contiguous and rows.dtype == codes.dtype


def test_mostly_distinct_rows_are_left_alone():
    X = np.random.default_rng(1).integers(0, 5, (300, 12)).astype(float)
    model = LatentClassModel(2, n_init=1, random_state=0).fit(X)
    assert model._distinct_rows(_codes(model, X), np.ones(300)) is None


@pytest.mark.parametrize("estimator", [LatentClassModel, OrdinalLatentClassModel])
def test_em_on_patterns_gives_the_fit_of_em_on_rows(shared_data, monkeypatch, estimator):
    """gss82 (1,202 respondents, 4 items: 36 patterns), with weights and a missing answer."""
    X = pd.read_csv(shared_data / "lca" / "gss82.csv")
    X.iloc[5, 1] = np.nan
    w = np.random.default_rng(2).uniform(0.5, 2, len(X))
    fast = estimator(3, n_init=3, random_state=0).fit(X, sample_weight=w)
    monkeypatch.setattr(lc, "DISTINCT_MAX_SHARE", 0.0)  # EM on every row
    slow = estimator(3, n_init=3, random_state=0).fit(X, sample_weight=w)
    assert fast.loglik_ == pytest.approx(slow.loglik_, rel=1e-12)
    assert fast.n_iter_ == slow.n_iter_
    np.testing.assert_allclose(fast.start_logliks_, slow.start_logliks_, rtol=1e-12)
    np.testing.assert_array_equal(fast.labels_, slow.labels_)
    for a, b in zip(fast.item_probs_, slow.item_probs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
