"""LatentClassModel: poLCA's maxima on real data, EM properties, scikit-learn conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import ELECTION_ITEMS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from segment import read_survey
from segment.models import GaussianMixtureModel, KMeansModel, LatentClassModel
from segment.synth.survey import generate_survey


def fit(X, k, **kwargs):
    return LatentClassModel(
        k, n_init=kwargs.pop("n_init", 10), tol=1e-10, max_iter=5000, random_state=0
    ).fit(X, **kwargs)


# ---------------------------------------------------------------- real data: poLCA's maxima
@pytest.fixture(scope="module")
def gss82(shared_data):
    return pd.read_csv(shared_data / "lca" / "gss82.csv")


@pytest.fixture(scope="module")
def election(shared_data):
    return pd.read_csv(shared_data / "lca" / "election.csv")


@pytest.mark.parametrize(
    ("k", "n_params", "loglik", "bic", "shares"),
    [
        # poLCA 1.6, gss82 ~ 1, 10 random starts, tol 1e-10 (../shared/data/lca/README.md;
        # also man/gss82.Rd: "log-likelihood = -2783.268 / -2754.545 / -2746.621")
        (2, 13, -2783.268, 5658.729, [0.808, 0.192]),
        (3, 20, -2754.545, 5650.926, [0.621, 0.207, 0.172]),
        (4, 27, -2746.621, 5684.719, [0.572, 0.221, 0.179, 0.028]),
    ],
)
def test_gss82_reaches_polca_maximum(gss82, k, n_params, loglik, bic, shares):
    model = fit(gss82, k)
    assert model.loglik_ == pytest.approx(loglik, abs=0.01)
    assert model.n_parameters() == n_params
    assert model.bic(gss82) == pytest.approx(bic, abs=0.01)
    np.testing.assert_allclose(model.weights_, shares, atol=0.001)


def test_gss82_three_classes_has_local_maxima_that_restarts_escape(gss82):
    # poLCA manual 1.4, section 5.7: local maxima -2755.739, -2762.005, -2762.231
    model = fit(gss82, 3)
    finals = np.round(model.start_logliks_, 3)
    assert finals.max() == pytest.approx(-2754.545, abs=0.01)
    assert (finals < -2755).any()


def test_election_complete_cases_reaches_polca_maximum(election):
    # poLCA man/election.Rd: nes3 <- poLCA(f, election, nclass=3)  # log-likelihood: -16714.66
    X = election[ELECTION_ITEMS].dropna()
    assert len(X) == 1311
    model = fit(X, 3)
    assert model.loglik_ == pytest.approx(-16714.66, abs=0.01)
    assert model.n_parameters() == 110
    # mixLCA workflow article (same model): AIC 33649.32, BIC 34218.96
    assert model.aic(X) == pytest.approx(33649.32, abs=0.01)
    assert model.bic(X) == pytest.approx(34218.96, abs=0.01)


def test_election_party_covariate_reaches_polca_maximum_and_coefficients(election):
    # poLCA manual example script, section 6.2: nes.party <- poLCA(f.party, election, nclass=3)
    # "log-likelihood: -16222.32"; coefficients (manual 1.4, 6.2; 1 = neutral class):
    # 2/1 (Intercept) -3.81813, PARTY 0.79327; 3/1 (Intercept) 1.16155, PARTY -0.57436
    data = election.dropna(subset=[*ELECTION_ITEMS, "PARTY"])
    assert len(data) == 1300
    model = fit(data[ELECTION_ITEMS], 3, covariates=data[["PARTY"]].to_numpy())
    assert model.loglik_ == pytest.approx(-16222.32, abs=0.01)
    assert model.n_parameters() == 112
    coef = model.coef_  # classes ordered by size: neutral (reference), pro-Bush, pro-Gore
    np.testing.assert_allclose(coef[:, 0], 0.0)
    np.testing.assert_allclose(coef[:, 1], [-3.81813, 0.79327], atol=2e-3)
    np.testing.assert_allclose(coef[:, 2], [1.16155, -0.57436], atol=2e-3)


@pytest.mark.parametrize(
    ("covariate", "n_rows", "loglik"), [(None, 1785, -21311.536), ("PARTY", 1760, -20609.273)]
)
def test_election_with_missing_answers_kept_reaches_the_same_maximum_from_any_seed(
    election, covariate, n_rows, loglik
):
    """poLCA na.rm=FALSE: no published figure; the maximum is checked across seeds instead."""
    data = election if covariate is None else election.dropna(subset=[covariate])
    assert len(data) == n_rows
    z = None if covariate is None else data[[covariate]].to_numpy()
    found = [
        LatentClassModel(3, n_init=6, tol=1e-10, max_iter=5000, random_state=seed)
        .fit(data[ELECTION_ITEMS], covariates=z)
        .loglik_
        for seed in (0, 1)
    ]
    np.testing.assert_allclose(found, loglik, atol=0.01)
    complete = data[ELECTION_ITEMS].notna().all(axis=1).sum()
    assert complete < n_rows  # respondents with missing answers were kept


def test_bundled_survey_recovers_segments_as_well_as_the_true_parameters():
    """At k = 6 the fitted model's ARI is within 0.02 of the Bayes classifier's (0.03 for the
    design-weighted pseudo-likelihood fit, which the weights make noisier: 0.885 against 0.912)."""
    survey = generate_survey("kz2020", 1500, seed=1)  # the bundled survey, with its parameters
    truth = np.array([survey.segment_ids.index(s) for s in survey.truth["segment"]])
    oracle = adjusted_rand_score(truth, survey.oracle_predict())
    X = survey.codebook.model_codes(survey.data)
    weights = survey.data["weight"].to_numpy()
    for kwargs, slack in (({}, 0.02), ({"sample_weight": weights}, 0.03)):
        model = LatentClassModel(6, random_state=0).fit(X, **kwargs)
        ari = adjusted_rand_score(truth, model.labels_)
        assert ari >= oracle - slack, (kwargs.keys(), ari, oracle)


def test_bundled_file_reads_and_fits(bundled_survey):
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    model = LatentClassModel(3, n_init=2, random_state=0).fit(
        cb.model_codes(frame), sample_weight=frame["weight"]
    )
    assert model.feature_names_in_.tolist() == [it.column for it in cb.attitude_items]
    assert model.weights_.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- EM properties
def small_data(seed, n=120, items=5, cats=3, missing=0.1):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    X = np.where(
        rng.random((n, items)) < 0.7, z[:, None] * (cats - 1), rng.integers(0, cats, (n, items))
    ).astype(float)
    X[rng.random((n, items)) < missing] = np.nan
    X[:cats, 0] = np.arange(cats)  # every category of item 0 is seen
    return X


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4), covariate=st.booleans())
def test_loglik_never_decreases_across_em_iterations(seed, k, covariate):
    X = small_data(seed)
    z = np.random.default_rng(seed).normal(size=len(X)) if covariate else None
    model = LatentClassModel(k, n_init=2, tol=0, max_iter=60, random_state=seed).fit(
        X, covariates=z
    )
    path = model.loglik_path_
    assert len(path) >= 2
    assert np.all(np.diff(path) >= -1e-8 * np.abs(path[1:]))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_row_order_does_not_matter(seed):
    X = small_data(seed)
    perm = np.random.default_rng(seed).permutation(len(X))
    a = fit(X, 2, n_init=4)
    b = fit(X[perm], 2, n_init=4)
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-9)
    for pa, pb in zip(a.item_probs_, b.item_probs_, strict=True):
        np.testing.assert_allclose(pa, pb, atol=1e-5)
    np.testing.assert_array_equal(a.labels_[perm], b.labels_)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_unit_weights_equal_no_weights(seed):
    X = small_data(seed)
    a = fit(X, 2, n_init=3)
    b = fit(X, 2, n_init=3, sample_weight=np.ones(len(X)))
    assert a.loglik_ == b.loglik_
    np.testing.assert_array_equal(a.weights_, b.weights_)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_integer_weights_equal_duplicated_rows(seed):
    X = small_data(seed)
    counts = np.random.default_rng(seed).integers(1, 4, len(X))
    a = fit(X, 2, n_init=4, sample_weight=counts)
    b = fit(np.repeat(X, counts, axis=0), 2, n_init=4)
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-9)
    for pa, pb in zip(a.item_probs_, b.item_probs_, strict=True):
        np.testing.assert_allclose(pa, pb, atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 4))
def test_permuting_the_labels_of_a_start_does_not_change_the_optimum(seed, k):
    X = small_data(seed)
    model = LatentClassModel(k, n_init=1, tol=1e-12, max_iter=3000, random_state=seed).fit(X)
    data = model._prepare(X, fitting=False)
    start = model._starts(data, np.ones(len(X)), np.random.RandomState(seed))[0]
    perm = np.random.default_rng(seed).permutation(k)
    w = np.ones(len(X))
    shares = np.full(k, 1 / k)
    ll_a, theta_a, pi_a, *_ = model._run_em(data, w, None, start, shares, None)
    ll_b, theta_b, pi_b, *_ = model._run_em(data, w, None, start[:, :, perm], shares, None)
    assert ll_a == pytest.approx(ll_b, rel=1e-10)
    np.testing.assert_allclose(theta_a[:, :, perm], theta_b, atol=1e-8)
    np.testing.assert_allclose(pi_a[perm], pi_b, atol=1e-10)


def test_fit_predict_equals_fit_then_predict_and_labels():
    X = small_data(3)
    a = LatentClassModel(2, n_init=3, random_state=1)
    labels = a.fit_predict(X)
    np.testing.assert_array_equal(labels, a.predict(X))
    np.testing.assert_array_equal(labels, a.labels_)


def test_same_seed_same_model_and_classes_ordered_by_size():
    X = small_data(5, n=300)
    a = LatentClassModel(3, random_state=7).fit(X)
    b = LatentClassModel(3, random_state=7).fit(X)
    assert a.loglik_ == b.loglik_
    assert np.all(np.diff(a.weights_) <= 0)
    np.testing.assert_allclose(a.predict_proba(X).sum(axis=1), 1.0)


def test_parameter_count_is_exact():
    X = small_data(1, items=4, cats=3)
    model = LatentClassModel(3, n_init=1, random_state=0).fit(X)
    # 3 classes x 4 items x (3 - 1) free probabilities + 2 shares
    assert model.n_parameters() == 3 * 4 * 2 + 2
    z = np.random.default_rng(0).normal(size=(len(X), 2))
    model = LatentClassModel(3, n_init=1, random_state=0).fit(X, covariates=z)
    assert model.n_parameters() == 3 * 4 * 2 + 2 * 3


def test_information_criteria_formulas():
    X = small_data(2)
    m = LatentClassModel(2, n_init=2, random_state=0).fit(X)
    ll, p, n = m.loglik_, m.n_parameters(), len(X)
    assert m.bic(X) == pytest.approx(-2 * ll + p * np.log(n))
    assert m.aic(X) == pytest.approx(-2 * ll + 2 * p)
    assert m.sabic(X) == pytest.approx(-2 * ll + p * np.log((n + 2) / 24))
    assert 0 <= m.relative_entropy(X) <= 1
    assert m.relative_entropy(X) == pytest.approx(m.entropy_)


# ---------------------------------------------------------------- bad input
def test_respondents_with_no_answers_are_excluded_and_counted():
    X = small_data(4)
    X[[5, 9], :] = np.nan
    model = LatentClassModel(2, n_init=2, random_state=0).fit(X)
    assert model.n_empty_ == 2
    assert model.n_samples_fit_ == len(X) - 2
    assert len(model.labels_) == len(X)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda X: X.__setitem__((slice(None), 2), 1.0), "column 2 is constant"),
        (lambda X: X.__setitem__((slice(None), 1), np.nan), "column 1 has no answers"),
    ],
)
def test_bad_items_are_named(mutate, message):
    X = small_data(0)
    mutate(X)
    with pytest.raises(ValueError, match=message):
        LatentClassModel(2).fit(X)


def test_non_numeric_answers_name_column_row_and_value():
    frame = pd.DataFrame({"q1": ["1", "2", "x", "1"], "q2": [1, 2, 1, 2]})
    with pytest.raises(ValueError, match=r"column 'q1', row 3: value 'x' is not a number"):
        LatentClassModel(2).fit(frame)


def test_unseen_answer_at_predict_names_column_row_and_value():
    frame = pd.DataFrame({"q1": [1, 2, 1, 2, 1, 2], "q2": [1, 1, 2, 2, 1, 2]})
    model = LatentClassModel(2, n_init=1, random_state=0).fit(frame)
    with pytest.raises(ValueError, match=r"q2, row 2: answer 7 was not seen"):
        model.predict(pd.DataFrame({"q1": [1, 2], "q2": [1, 7]}))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1, 1, -1, 1, 1, 1], "row 3, value -1.0"),
        ([1, np.nan, 1, 1, 1, 1], "row 2, value nan"),
        ([0, 0, 0, 0, 0, 0], "zero for every row"),
        ([1, 1], "2 values for 6 rows"),
    ],
)
def test_bad_weights_are_refused(weights, message):
    X = np.array([[1, 1], [2, 2], [1, 2], [2, 1], [1, 1], [2, 2]], dtype=float)
    with pytest.raises(ValueError, match=message):
        LatentClassModel(2).fit(X, sample_weight=weights)


def test_more_classes_than_respondents_is_refused():
    X = np.array([[1, 1], [2, 2], [1, 2]], dtype=float)
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_components=5"):
        LatentClassModel(5).fit(X)


def test_covariates_must_be_given_at_predict_when_fitted_with_them():
    X = small_data(6)
    z = np.random.default_rng(0).normal(size=len(X))
    model = LatentClassModel(2, n_init=1, random_state=0).fit(X, covariates=z)
    with pytest.raises(ValueError, match="pass covariates="):
        model.predict(X)
    assert model.predict(X, covariates=z).shape == (len(X),)


# ---------------------------------------------------------------- scikit-learn conventions
EXPECTED_FAILURES = {
    # Each distinct value is an answer category: values never seen at fit (continuous test
    # data, or rows that had zero weight) are refused at predict instead of guessed.
    "check_sample_weight_equivalence_on_dense_data": "unseen answer values at predict are refused",
    "check_fit_idempotent": "predicts on continuous values never seen at fit",
    # Gaussian blobs: a categorical model treats every real number as its own answer.
    "check_clustering": "continuous blobs are not categorical answers",
}


@parametrize_with_checks(
    [LatentClassModel(n_init=2, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


OTHER_EXPECTED_FAILURES = {
    # EM / Lloyd iterations stop at a tolerance and random starts are drawn from rows, so a fit
    # with integer weights and a fit with repeated rows agree to the tolerance, not to 1e-7.
    "check_sample_weight_equivalence_on_dense_data": "agree to the stopping tolerance, not 1e-7",
}


@parametrize_with_checks(
    [GaussianMixtureModel(n_init=2, random_state=0), KMeansModel(n_init=2, random_state=0)],
    expected_failed_checks=lambda est: OTHER_EXPECTED_FAILURES,
)
def test_sklearn_compatible_alternatives(estimator, check):
    check(estimator)


def test_gaussian_mixture_with_weights_matches_repeated_rows_and_beats_sklearn_diag():
    from sklearn.datasets import load_iris
    from sklearn.mixture import GaussianMixture

    X = load_iris().data
    ours = GaussianMixtureModel(3, random_state=0, tol=1e-12).fit(X)
    theirs = GaussianMixture(3, covariance_type="diag", n_init=10, random_state=0, tol=1e-10).fit(X)
    assert ours.loglik_ >= theirs.score(X) * len(X) - 1e-6
    counts = np.random.default_rng(0).integers(1, 4, len(X))
    a = GaussianMixtureModel(3, random_state=0, tol=1e-12).fit(X, sample_weight=counts)
    b = GaussianMixtureModel(3, random_state=0, tol=1e-12).fit(np.repeat(X, counts, axis=0))
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-8)
    missing = X.copy()
    missing[::7, 1] = np.nan
    assert np.isfinite(GaussianMixtureModel(3, random_state=0).fit(missing).loglik_)


def test_kmeans_model_orders_segments_by_weighted_size():
    X = small_data(9, n=200)
    X = np.nan_to_num(X, nan=1.0)
    model = KMeansModel(3, random_state=0).fit(X, sample_weight=np.linspace(0.5, 1.5, len(X)))
    assert np.all(np.diff(model.weights_) <= 0)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


# ---------------------------------------------------------------- review regressions
def test_a_zero_weight_row_with_an_answer_nobody_else_gave_does_not_poison_the_fit():
    rng = np.random.default_rng(0)
    X = rng.integers(1, 4, (300, 5)).astype(float)
    X[0, 0] = 9  # seen only in a zero-weight row
    w = np.ones(300)
    w[0] = 0
    model = LatentClassModel(2, random_state=0).fit(X, sample_weight=w)
    assert np.isfinite(model.loglik_) and np.all(np.isfinite(model.weights_))


def test_n_init_zero_falls_back_to_a_random_start_when_kmeans_cannot_start():
    X = np.tile([[1, 1], [2, 2]], (10, 1)).astype(float)  # two answer patterns, three classes
    model = LatentClassModel(3, n_init=0, random_state=0).fit(X)
    assert np.isfinite(model.loglik_) and len(model.start_logliks_) == 1


def test_bic_counts_only_respondents_who_answered():
    X = small_data(7, n=200)
    X[100:] = np.nan
    model = LatentClassModel(2, n_init=2, random_state=0).fit(X)
    assert model.bic(X) == pytest.approx(-2 * model.loglik_ + model.n_parameters() * np.log(100))


def test_a_new_answer_pattern_impossible_in_every_class_still_gets_a_posterior():
    # two perfectly separated classes: answers 1 only in class A, 2 only in class B
    X = np.array([[1, 1]] * 20 + [[2, 2]] * 20, dtype=float)
    model = LatentClassModel(2, random_state=0).fit(X)
    proba = model.predict_proba(np.array([[1.0, 2.0]]))  # impossible in both classes
    assert np.all(np.isfinite(proba)) and proba.sum() == pytest.approx(1.0)


def test_from_parameters_rebuilds_a_fitted_model_that_scores_the_same():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.integers(1, 4, size=(300, 5)).astype(float), columns=list("abcde"))
    X.iloc[::7, 2] = np.nan
    fitted = LatentClassModel(3, n_init=2, random_state=0).fit(X)
    rebuilt = LatentClassModel.from_parameters(
        fitted.categories_,
        fitted.item_probs_,
        fitted.prior_shares_,
        feature_names=list(X.columns),
        n_init=2,
        random_state=0,
    )
    np.testing.assert_array_equal(rebuilt.predict_proba(X), fitted.predict_proba(X))
    codes = fitted.encode(X.to_numpy())
    np.testing.assert_array_equal(fitted.predict_proba_codes(codes), fitted.predict_proba(X))
    joint = fitted.class_log_lik_codes(codes) + np.log(fitted.prior_shares_)
    np.testing.assert_allclose(
        np.exp(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True)),
        fitted.predict_proba(X),
        atol=1e-12,
    )
    assert rebuilt.get_params() == LatentClassModel(3, n_init=2, random_state=0).get_params()
