"""Fit diagnostics: bivariate residuals and the bootstrap likelihood ratio test."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run

from segment.models import LatentClassModel
from segment.models.diagnostics import BVR_RULE_OF_THUMB, bivariate_residuals, bootstrap_lrt
from segment.models.selection import select_n_components

PAIRS = [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")]


def simulate(n, shares, probs, seed):
    """Answers 1..C from a latent class model: ``probs[j]`` is the K x C matrix of item j."""
    rng = np.random.default_rng(seed)
    z = rng.choice(len(shares), size=n, p=shares)
    X = np.empty((n, len(probs)))
    for j, p in enumerate(probs):
        X[:, j] = (rng.random(n)[:, None] > np.cumsum(p[z], axis=1)).sum(axis=1) + 1
    return X


@pytest.fixture(scope="module")
def three_class():
    """3,000 respondents from a 3-class model with 6 items of 3 categories."""
    rng = np.random.default_rng(1)
    probs = [rng.dirichlet(np.full(3, 0.5), size=3) for _ in range(6)]
    X = simulate(3000, [0.5, 0.3, 0.2], probs, seed=0)
    return pd.DataFrame(X, columns=[f"q{j}" for j in range(6)])


@pytest.fixture(scope="module")
def fitted3(three_class):
    return LatentClassModel(3, random_state=0).fit(three_class)


@pytest.fixture(scope="module")
def values(shared_data):
    return pd.read_csv(shared_data / "lca" / "values.csv")


@pytest.fixture(scope="module")
def gss82(shared_data):
    return pd.read_csv(shared_data / "lca" / "gss82.csv")


def by_pair(table: pd.DataFrame) -> pd.Series:
    return table.set_index(["item_a", "item_b"])["bvr"]


# ----------------------------------------------------------------------------- BVR: reference
def test_bvr_reproduces_polca_on_the_values_data(values):
    # poLCA (github.com/dlinzer/poLCA, tests/testthat/test-bvr.r), Stouffer-Toby values data:
    #   M0 <- poLCA(cbind(A,B,C,D)~1, values, nclass=1); bvr(M0)
    #   M1 <- poLCA(cbind(A,B,C,D)~1, values, nclass=2); bvr(M1)
    # in the order AB, AC, AD, BC, BD, CD (binary items: df = 1, so BVR = Pearson chi-square).
    one = LatentClassModel(1).fit(values)
    np.testing.assert_allclose(
        by_pair(bivariate_residuals(one, values)).loc[PAIRS],
        [12.378947, 5.704402, 8.308752, 15.586100, 23.562456, 23.779559],
        atol=1e-6,
    )
    # poLCA runs EM to tol=1e-10 on the absolute log-likelihood and rounds expected counts to 3
    # decimals; the BVRs of the 2-class model move in the 3rd decimal until EM has converged
    # tightly (at our default tol=1e-8: AB 1.1698), so fit to 1e-12.
    two = LatentClassModel(2, random_state=0, tol=1e-12, max_iter=10_000).fit(values)
    assert two.loglik_ == pytest.approx(-504.4677, abs=1e-4)  # poLCA's log-likelihood
    np.testing.assert_allclose(
        by_pair(bivariate_residuals(two, values)).loc[PAIRS],
        [1.172161691, 0.003303647, 0.010097938, 0.037913535, 0.016503607, 0.055858509],
        atol=5e-5,
    )


def test_bvr_matches_a_pair_by_pair_crosstab_with_weights_and_missing_answers(three_class):
    rng = np.random.default_rng(3)
    X = three_class.to_numpy().copy()
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:5] = np.nan  # respondents with no answers are ignored
    w = rng.uniform(0.3, 3.0, len(X))
    model = LatentClassModel(3, random_state=0).fit(X, sample_weight=w)
    table = bivariate_residuals(model, X, w)
    w = w * len(w) / w.sum()
    for row in table.itertuples():
        a, b = int(row.item_a.split()[-1]), int(row.item_b.split()[-1])
        both = ~np.isnan(X[:, a]) & ~np.isnan(X[:, b])
        obs = np.zeros((3, 3))
        np.add.at(obs, (X[both, a].astype(int) - 1, X[both, b].astype(int) - 1), w[both])
        pa, pb = model.item_probs_[a], model.item_probs_[b]
        exp = w[both].sum() * np.einsum("k,ka,kb->ab", model.weights_, pa, pb)
        assert row.n == pytest.approx(w[both].sum())
        assert row.df == 4
        assert row.bvr == pytest.approx(((obs - exp) ** 2 / exp).sum() / 4, rel=1e-9)
    assert list(table.columns) == ["item_a", "item_b", "bvr", "df", "n", "flagged"]
    assert table["bvr"].is_monotonic_decreasing
    assert len(table) == 15


def test_bvr_with_covariates_uses_each_respondents_prior():
    rng = np.random.default_rng(4)
    z = rng.normal(size=800)
    cls = (rng.random(800) < 1 / (1 + np.exp(-2 * z))).astype(int)
    X = np.where(rng.random((800, 5)) < 0.8, cls[:, None], 1 - cls[:, None]).astype(float)
    model = LatentClassModel(2, random_state=0).fit(X, covariates=z)
    table = bivariate_residuals(model, X, covariates=z)
    design = np.column_stack([np.ones(800), z]) @ model.coef_
    prior = np.exp(design - design.max(axis=1, keepdims=True))
    prior /= prior.sum(axis=1, keepdims=True)
    obs = np.zeros((2, 2))
    np.add.at(obs, (X[:, 0].astype(int), X[:, 1].astype(int)), 1.0)
    exp = np.einsum("ik,ka,kb->ab", prior, model.item_probs_[0], model.item_probs_[1])
    expected = ((obs - exp) ** 2 / exp).sum()
    assert by_pair(table).loc[("column 0", "column 1")] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="covariates"):
        bivariate_residuals(model, X)


# ----------------------------------------------------------------------------- BVR: properties
def test_bvr_is_near_one_or_below_under_the_true_model_and_larger_with_too_few_classes(
    three_class, fitted3
):
    right = bivariate_residuals(fitted3, three_class)
    # BVRs use parameters estimated from the same data, so they fall below 1 on average
    # (Oberski et al. 2013); none should pass the rule of thumb here.
    assert 0.2 < right["bvr"].mean() < 1.5
    assert not right["flagged"].any()
    too_few = bivariate_residuals(LatentClassModel(2, random_state=0).fit(three_class), three_class)
    assert too_few["bvr"].max() > 5 * right["bvr"].max()
    assert too_few["flagged"].any()


def test_a_locally_dependent_pair_has_the_largest_bvr(three_class):
    X = three_class.copy()
    rng = np.random.default_rng(5)
    # q5 copies q0 for 60% of respondents: dependence the classes do not explain
    X["q5"] = np.where(rng.random(len(X)) < 0.6, X["q0"], X["q5"])
    table = bivariate_residuals(LatentClassModel(3, random_state=0).fit(X), X)
    top = table.iloc[0]
    assert (top.item_a, top.item_b) == ("q0", "q5")
    assert top.bvr > 10 * BVR_RULE_OF_THUMB
    assert top.flagged


def test_an_exact_duplicate_takes_over_the_classes_and_the_other_pairs_are_flagged():
    # With an exact copy of item 0, the 2-class maximum makes the classes *be* item 0 (its
    # answer probabilities go to 0 and 1): the duplicated pair is then fitted perfectly and the
    # dependence among the other items, which the classes no longer explain, shows instead.
    X = simulate(1500, [0.6, 0.4], [np.array([[0.8, 0.2], [0.3, 0.7]])] * 5, seed=6)
    X = np.column_stack([X, X[:, 0]])
    model = LatentClassModel(2, random_state=0).fit(X)
    np.testing.assert_allclose(np.sort(model.item_probs_[0][:, 0]), [0, 1], atol=1e-6)
    table = by_pair(bivariate_residuals(model, X))
    assert table.loc[("column 0", "column 5")] < 1e-6
    others = table.drop(index=[p for p in table.index if "column 0" in p or "column 5" in p])
    assert (others > BVR_RULE_OF_THUMB).all()


def test_bvr_is_invariant_to_row_order_and_class_labels(three_class, fitted3):
    model = fitted3
    table = by_pair(bivariate_residuals(model, three_class))
    shuffled = three_class.sample(frac=1.0, random_state=2)
    pd.testing.assert_series_equal(
        by_pair(bivariate_residuals(model, shuffled)).loc[table.index], table, rtol=1e-10
    )
    permuted = copy.deepcopy(model)
    order = np.array([2, 0, 1])
    permuted.item_probs_ = [p[order] for p in model.item_probs_]
    permuted.weights_ = model.weights_[order]
    pd.testing.assert_series_equal(
        by_pair(bivariate_residuals(permuted, three_class)).loc[table.index], table, rtol=1e-10
    )


def test_unit_or_constant_weights_equal_no_weights(three_class, fitted3):
    model = fitted3
    plain = bivariate_residuals(model, three_class)
    for w in (np.ones(len(three_class)), np.full(len(three_class), 7.5)):
        pd.testing.assert_frame_equal(bivariate_residuals(model, three_class, w), plain)


def test_bvr_bootstrap_p_values():
    X = simulate(600, [0.6, 0.4], [np.array([[0.8, 0.2], [0.3, 0.7]])] * 5, seed=7)
    X = np.column_stack([X, X[:, 0]])
    model = LatentClassModel(2, random_state=0).fit(X)
    table = bivariate_residuals(model, X, n_boot=4, random_state=0)
    again = bivariate_residuals(model, X, n_boot=4, random_state=0)
    pd.testing.assert_frame_equal(table, again)
    assert table["p_boot"].between(1 / 5, 1).all()
    assert table.iloc[0]["p_boot"] == pytest.approx(1 / 5)  # the duplicated pair
    assert table["p_boot"].iloc[1:].max() > 0.2


# ----------------------------------------------------------------------------- BLRT
def separated(k, n, seed, n_items=6):
    """Binary items, each class answering 1 with probability 0.9 on its own items."""
    probs = []
    for j in range(n_items):
        p = np.full(k, 0.15)
        p[j % k] = 0.9
        probs.append(np.column_stack([1 - p, p]))
    return simulate(n, np.full(k, 1 / k), probs, seed)


def test_blrt_rejects_too_few_classes_and_is_reproducible():
    X = separated(3, 300, seed=8)
    result = bootstrap_lrt(X, 3, n_boot=9, n_init=3, boot_n_init=2, random_state=0)
    assert result.n_components == 3
    assert result.lr > 50
    assert result.p_value == pytest.approx(1 / 10)  # no bootstrap LR reaches the data's
    assert len(result.boot_lr) == 9 and result.n_failed == 0
    assert result.lr == pytest.approx(2 * (result.loglik_alt - result.loglik_null))
    again = bootstrap_lrt(X, 3, n_boot=9, n_init=3, boot_n_init=2, random_state=0)
    np.testing.assert_array_equal(result.boot_lr, again.boot_lr)
    assert again.p_value == result.p_value
    text = result.summary()
    assert "3 against 2 classes" in text and "p = 0.1000" in text


def test_blrt_does_not_reject_when_the_smaller_model_is_true():
    X = separated(2, 500, seed=9)
    result = bootstrap_lrt(X, 3, n_boot=9, n_init=3, boot_n_init=2, random_state=1)
    # Under the null the p-value is uniform; with this seed it is large.
    assert result.p_value >= 0.3
    assert np.median(result.boot_lr) < 3 * result.n_parameters_alt


def test_blrt_with_weights_and_missing_answers_runs():
    X = separated(2, 400, seed=10)
    rng = np.random.default_rng(10)
    X[rng.random(X.shape) < 0.1] = np.nan
    w = rng.uniform(0.5, 2.0, len(X))
    result = bootstrap_lrt(X, 2, sample_weight=w, n_boot=4, n_init=2, random_state=0)
    assert result.p_value == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="k must be"):
        bootstrap_lrt(X, 1, n_boot=4)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_lrt(X, 2, n_boot=0)


# ----------------------------------------------------------------------------- real data
def test_gss82_bvrs_and_blrt(gss82):
    # poLCA's gss82 (McCutcheon 1987; 1,202 white respondents, 4 items). Our figures (no
    # published BVRs found for these data): the 2-class model leaves UNDERSTA x COOPERAT
    # strongly dependent (BVR 32.68, df 2), the 3-class model explains it (2.11) and every pair.
    bvr = {}
    for k in (2, 3):
        model = LatentClassModel(k, random_state=0, tol=1e-12, max_iter=10_000).fit(gss82)
        bvr[k] = bivariate_residuals(model, gss82)
    top2 = bvr[2].iloc[0]
    assert (top2.item_a, top2.item_b) == ("UNDERSTA", "COOPERAT")
    assert top2.bvr == pytest.approx(32.68, abs=0.01)
    assert bvr[2]["flagged"].sum() == 1
    assert bvr[3]["bvr"].max() == pytest.approx(2.11, abs=0.01)
    assert not bvr[3]["flagged"].any()
    assert bvr[3]["bvr"].max() < bvr[2]["bvr"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bootstrap_lrt(gss82, 3, n_boot=9, n_init=5, boot_n_init=2, random_state=0)
    # LR = 2 (-2754.545 + 2783.268) = 57.45 (poLCA's maxima), far beyond every bootstrap LR
    assert result.lr == pytest.approx(57.45, abs=0.01)
    assert result.p_value == pytest.approx(1 / 10)
    assert result.boot_lr.max() < 0.6 * result.lr


# ----------------------------------------------------------------------------- select and CLI
def test_select_blrt_adds_a_column_and_changes_nothing_else(gss82):
    kwargs = {"n_init": 3, "n_boot": 1, "random_state": 0}
    plain = select_n_components(gss82, [1, 2, 3], **kwargs)
    with_blrt = select_n_components(gss82, [1, 2, 3], **kwargs, blrt=3)
    assert "blrt_p" not in plain.table and not plain.blrt
    pd.testing.assert_frame_equal(with_blrt.table.drop(columns="blrt_p"), plain.table)
    assert with_blrt.recommended == plain.recommended
    assert np.isnan(with_blrt.table.loc[0, "blrt_p"])
    assert with_blrt.table["blrt_p"].iloc[1:].tolist() == [0.25, 0.25]
    assert set(with_blrt.blrt) == {2, 3}
    assert with_blrt.blrt[3].null_model is with_blrt.models[2]


def test_cli_select_blrt_and_bvr(capsys, shared_data):
    path = str(shared_data / "lca" / "gss82.csv")
    args = ["select", path, "--k", "2-3", "--n-init", "3", "--bootstrap", "0", "--quiet"]
    code, out, _ = run([*args, "--blrt", "2", "--bvr"], capsys)
    assert code == 0
    assert "BLRT p" in out and "Bivariate residuals, k = 3" in out
    assert "UNDERSTA" in out and "not chi-square distributed" in out
    code, out, _ = run([*args, "--blrt", "2", "--bvr", "--format", "json"], capsys)
    doc = json.loads(out)
    assert [row["blrt_p"] for row in doc["table"]] == [pytest.approx(1 / 3)] * 2
    assert doc["bvr"]["k"] == 3 and doc["bvr"]["n_pairs"] == 6
    assert doc["bvr"]["pairs"][0]["item_a"] == "UNDERSTA"
    # k = 2 is tested against a 1-class model fitted for the test (k = 1 is not among --k)
    code, out, _ = run(args, capsys)
    assert "BLRT" not in out and "Bivariate" not in out
