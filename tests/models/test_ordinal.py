"""OrdinalLatentClassModel: recovery, EM properties, equivalences with the nominal model, real
data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import ELECTION_ITEMS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment, minimize
from scipy.special import expit, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from segment import read_survey
from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.models.ordinal import _initial_coef


# ---------------------------------------------------------------- simulation from the model
def simulate(n, shares, tau, beta, *, link="ordinal", dk=None, missing=0.0, seed=0):
    """Answers 1..S (8 = don't know) from the ordinal latent class model.

    ``tau`` (J, S-1): adjacent-category thresholds (link "ordinal") or cumulative thresholds
    kappa (link "cumulative"); ``beta`` (J, K) class locations; ``dk`` (J, K) don't-know
    probabilities or None; ``missing``: share of answers blanked at random.
    """
    rng = np.random.default_rng(seed)
    tau, beta = np.asarray(tau, float), np.asarray(beta, float)
    n_items, n_steps = tau.shape
    s = np.arange(n_steps + 1)
    if link == "ordinal":  # log P(c) - log P(c-1) = tau_c + beta_k
        eta = np.concatenate([np.zeros((n_items, 1)), np.cumsum(tau, axis=1)], axis=1)
        logits = eta[:, :, None] + s[None, :, None] * beta[:, None, :]  # (J, S, K)
        probs = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    else:  # logit P(y <= c) = kappa_c - beta_k
        cum = 1 / (1 + np.exp(-(tau[:, :, None] - beta[:, None, :])))
        cum = np.concatenate([cum, np.ones((n_items, 1, beta.shape[1]))], axis=1)
        probs = np.diff(cum, axis=1, prepend=0.0)
    z = rng.choice(len(shares), size=n, p=shares)
    X = np.empty((n, n_items))
    for j in range(n_items):
        cum = np.cumsum(probs[j][:, z], axis=0)  # (S, n)
        X[:, j] = 1 + (rng.random(n) > cum).sum(axis=0)
        if dk is not None:
            X[rng.random(n) < np.asarray(dk)[j, z], j] = 8
    X[rng.random(X.shape) < missing] = np.nan
    return pd.DataFrame(X, columns=[f"q{j}" for j in range(n_items)]), z


SHARES = [0.5, 0.3, 0.2]
TAU = [[0.5, 0.0, -0.5, -1.0], [1.0, 0.5, 0.0, -0.5], [0.0, 0.0, 0.0, 0.0], [-0.5, 0.5, 0.0, 0.5]]
TAU = TAU * 2  # 8 items with 5 answers
BETA = [[-1.5, 0.0, 1.5], [1.2, -1.0, -0.2], [-1.0, 1.5, -0.5], [0.8, -0.8, 0.0]] * 2


def match(truth_labels, labels, k):
    """Permutation ``perm`` with fitted class ``perm[t]`` matching true class ``t``."""
    table = np.zeros((k, k))
    np.add.at(table, (truth_labels, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return cols[np.argsort(rows)]


# ---------------------------------------------------------------- parameter recovery
@pytest.mark.parametrize("link", ["ordinal", "cumulative"])
def test_recovers_the_parameters_of_simulated_data(link):
    tau = np.array(TAU)
    if link == "cumulative":
        tau = np.sort(np.array(TAU) * 0.8 + np.arange(4) * 1.2 - 1.8, axis=1)
    dk = np.tile([0.02, 0.15, 0.05], (8, 1))
    X, z = simulate(4000, SHARES, tau, BETA, link=link, dk=dk, missing=0.02, seed=3)
    model = OrdinalLatentClassModel(
        3, item_types=link, dont_know=[8], n_init=3, random_state=0
    ).fit(X)
    perm = match(z, model.labels_, 3)
    np.testing.assert_allclose(model.weights_[perm], SHARES, atol=0.03)
    beta = np.array(BETA) - np.mean(BETA, axis=1, keepdims=True)  # effect coding
    thresholds = tau + np.mean(BETA, axis=1, keepdims=True) * (1 if link == "ordinal" else -1)
    for j in range(8):
        assert model.item_types_[j] == link
        np.testing.assert_array_equal(model.scale_codes_[j], [1, 2, 3, 4, 5])
        np.testing.assert_allclose(model.locations_[j][perm], beta[j], atol=0.2)
        np.testing.assert_allclose(model.locations_[j].sum(), 0.0, atol=1e-9)
        np.testing.assert_allclose(model.thresholds_[j], thresholds[j], atol=0.25)
        # don't know: a free probability per class
        np.testing.assert_allclose(model.item_probs_[j][perm, -1], dk[j], atol=0.03)
    # (S - 1) + (K - 1) per item for the scale and K for the don't-know code, plus K - 1 shares
    assert model.n_parameters() == 8 * (4 + 2 + 3) + 2


def test_thresholds_and_locations_reproduce_the_item_probabilities():
    X, _ = simulate(1500, SHARES, TAU, BETA, dk=np.full((8, 3), 0.05), seed=1)
    model = OrdinalLatentClassModel(3, dont_know=[8], n_init=1, random_state=0).fit(X)
    for j in range(8):
        p = model.item_probs_[j][:, :5]  # scale answers 1..5 (8 = don't know is last)
        log_ratio = np.log(p[:, 1:]) - np.log(p[:, :-1])  # (K, S - 1)
        expected = model.thresholds_[j][None, :] + model.locations_[j][:, None]
        np.testing.assert_allclose(log_ratio, expected, atol=1e-8)


# ---------------------------------------------------------------- EM properties
@pytest.mark.parametrize("link", ["ordinal", "cumulative"])
def test_log_likelihood_never_decreases(link):
    X, _ = simulate(800, SHARES, np.sort(TAU, axis=1), BETA, dk=np.full((8, 3), 0.05), seed=2)
    w = np.random.default_rng(0).uniform(0.3, 3.0, len(X))
    types = [link] * 6 + ["nominal"] * 2
    for seed in range(2):
        model = OrdinalLatentClassModel(
            4, item_types=types, dont_know=[8], n_init=1, tol=1e-12, max_iter=150,
            random_state=seed,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, sample_weight=w)
        path = model.loglik_path_
        assert len(path) > 20
        assert np.diff(path).min() >= -1e-9 * abs(path[-1]), np.diff(path).min()
        # the final summary pass scores the returned parameters, one M-step after the path
        assert model.loglik_ >= path[-1] - 1e-9 * abs(path[-1])


def test_fit_predict_equals_fit_then_predict_and_score_is_the_mean_loglik():
    X, _ = simulate(600, SHARES, TAU, BETA, missing=0.05, seed=4)
    model = OrdinalLatentClassModel(3, n_init=2, random_state=0)
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    assert model.score(X) * len(X) == pytest.approx(model.loglik_, rel=1e-10)
    ll, p, n = model.loglik_, model.n_parameters(), len(X)
    assert model.bic(X) == pytest.approx(-2 * ll + p * np.log(n), rel=1e-10)
    assert model.aic(X) == pytest.approx(-2 * ll + 2 * p, rel=1e-10)


def test_likelihood_is_invariant_to_permuting_the_class_labels():
    X, _ = simulate(500, SHARES, TAU, BETA, dk=np.full((8, 3), 0.05), seed=5)
    types = ["ordinal"] * 4 + ["cumulative"] * 2 + ["nominal"] * 2
    model = OrdinalLatentClassModel(3, item_types=types, dont_know=[8], random_state=0).fit(X)
    data = model._prepare(X, fitting=False)
    params = model._params()
    base = logsumexp(model._class_log_lik(data, params) + np.log(model.weights_), axis=1)
    for perm in ([2, 0, 1], [1, 2, 0], [0, 2, 1]):
        perm = np.array(perm)
        moved = model._reorder(params, perm)
        ll = logsumexp(model._class_log_lik(data, moved) + np.log(model.weights_[perm]), axis=1)
        np.testing.assert_allclose(ll, base, rtol=1e-12)
        # the ordinal M-step is permutation-equivariant: refitting the permuted expected counts
        # gives the permuted parameters
        resp = model.predict_proba(X)
        counts = np.zeros_like(params.theta)
        for j in range(data.shape[1]):
            for k in range(3):
                np.add.at(counts[j, :, k], data[:, j][data[:, j] < counts.shape[1]],
                          resp[data[:, j] < counts.shape[1], k])  # fmt: skip
        one = model._fit_measurement(counts, params.theta, params.coef, 100)
        other = model._fit_measurement(counts[:, :, perm], moved.theta, moved.coef, 100)
        np.testing.assert_allclose(other.theta, one.theta[:, :, perm], atol=1e-10)


# ---------------------------------------------------------------- equivalences
def test_all_nominal_items_reproduce_latent_class_model_exactly(shared_data):
    X = pd.read_csv(shared_data / "lca" / "election.csv")[ELECTION_ITEMS]
    ours = OrdinalLatentClassModel(3, item_types="nominal", n_init=3, random_state=0).fit(X)
    theirs = LatentClassModel(3, n_init=3, random_state=0).fit(X)
    assert ours.loglik_ == theirs.loglik_  # same starts, same iterations: bit for bit
    np.testing.assert_array_equal(ours.start_logliks_, theirs.start_logliks_)
    assert ours.n_parameters() == theirs.n_parameters() == 110
    for a, b in zip(ours.item_probs_, theirs.item_probs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours.bic(X) == theirs.bic(X)
    assert all(t is None for t in ours.thresholds_)


@pytest.mark.parametrize("link", ["ordinal", "cumulative"])
def test_two_answer_items_are_the_nominal_model(shared_data, link):
    # carcinoma: 7 pathologists' yes/no ratings (Agresti 2002): binary ordinal = nominal
    X = pd.read_csv(shared_data / "lca" / "carcinoma.csv")
    nominal = LatentClassModel(3, tol=1e-12, max_iter=5000, random_state=0).fit(X)
    ordinal = OrdinalLatentClassModel(
        3, item_types=link, tol=1e-12, max_iter=5000, random_state=0
    ).fit(X)
    assert ordinal.n_parameters() == nominal.n_parameters() == 3 * 7 + 2
    assert ordinal.loglik_ == pytest.approx(nominal.loglik_, abs=1e-6)
    for a, b in zip(ordinal.item_probs_, nominal.item_probs_, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_two_scale_answers_with_dont_know_are_the_nominal_model():
    rng = np.random.default_rng(0)
    X, _ = simulate(1000, SHARES, np.zeros((5, 1)), rng.normal(size=(5, 3)) * 2,
                    dk=rng.uniform(0.02, 0.3, (5, 3)), seed=6)  # fmt: skip
    nominal = LatentClassModel(3, tol=1e-12, max_iter=5000, random_state=0).fit(X)
    ordinal = OrdinalLatentClassModel(
        3, dont_know=[8], tol=1e-12, max_iter=5000, random_state=0
    ).fit(X)
    assert ordinal.n_parameters() == nominal.n_parameters() == 5 * 3 * 2 + 2
    assert ordinal.loglik_ == pytest.approx(nominal.loglik_, abs=1e-6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 3),
    link=st.sampled_from(["ordinal", "cumulative"]),
)
def test_unit_weights_are_the_unweighted_fit(seed, k, link):
    X, _ = simulate(120, SHARES, np.sort(TAU[:4], axis=1), BETA[:4], missing=0.1, seed=seed)
    kwargs = dict(item_types=link, n_init=1, max_iter=50, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = OrdinalLatentClassModel(k, **kwargs).fit(X)
        b = OrdinalLatentClassModel(k, **kwargs).fit(X, sample_weight=np.ones(len(X)))
    assert a.loglik_ == b.loglik_
    np.testing.assert_array_equal(a.loglik_path_, b.loglik_path_)
    for p, q in zip(a.item_probs_, b.item_probs_, strict=True):
        np.testing.assert_array_equal(p, q)


def test_integer_weights_match_repeated_rows():
    X, _ = simulate(300, SHARES, TAU, BETA, seed=7)
    counts = np.random.default_rng(1).integers(1, 4, len(X))
    kwargs = dict(n_init=4, tol=1e-12, max_iter=5000, random_state=0)
    weighted = OrdinalLatentClassModel(3, **kwargs).fit(X, sample_weight=counts)
    repeated = OrdinalLatentClassModel(3, **kwargs).fit(X.loc[X.index.repeat(counts)])
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, abs=1e-5)


# ---------------------------------------------------------------- outside references
# With class membership known, one ordinal item across K classes is a standard model for the
# K x S table of counts n_kc (class by scale answer), fitted here by code that shares nothing
# with OrdinalLatentClassModel's Newton M-step:
#   adjacent category = Goodman's (1979) row-effects association model, the Poisson log-linear
#     model log mu_kc = a_k + g_c + b_k s_c (Agresti 2010, sec. 4.1 and 6.2), fitted as a GLM
#     by scikit-learn's PoissonRegressor;
#   cumulative = the proportional-odds model logit P(y <= c | k) = kappa_c - beta_k with class
#     dummies, maximised directly with scipy.optimize.minimize.
# Both references return (P(scale answer | k), thresholds, locations) in the model's
# convention: locations effect-coded (summing to zero), thresholds moved to compensate.
def row_effects_reference(table, scores):
    n_k, n_s = table.shape
    k, c = (a.ravel() for a in np.meshgrid(np.arange(n_k), np.arange(n_s), indexing="ij"))
    rows, cols = np.eye(n_k)[k][:, 1:], np.eye(n_s)[c][:, 1:]
    design = np.column_stack([rows, cols, rows * scores[c][:, None]])  # a_0 = g_0 = b_0 = 0
    glm = PoissonRegressor(alpha=0, fit_intercept=True, solver="newton-cholesky", tol=1e-12,
                           max_iter=1000).fit(design, table.ravel())  # fmt: skip
    mu = glm.predict(design).reshape(n_k, n_s)
    g = np.concatenate([[0.0], glm.coef_[n_k - 1 : n_k + n_s - 2]])
    b = np.concatenate([[0.0], glm.coef_[n_k + n_s - 2 :]])
    # log P(s_c | k) / P(s_{c-1} | k) = (g_c - g_{c-1}) + b_k (s_c - s_{c-1})
    return mu / mu.sum(axis=1, keepdims=True), np.diff(g) + b.mean() * np.diff(scores), b - b.mean()


def proportional_odds_reference(table, scores):
    n_k, n_s = table.shape  # scores unused: the cumulative logit sees only the order

    def probs(theta):
        kappa, beta = theta[: n_s - 1], np.concatenate([[0.0], theta[n_s - 1 :]])
        cum = expit(kappa[None, :] - beta[:, None])  # P(y <= c | k), c = 0..S-2
        return np.diff(cum, axis=1, prepend=0.0, append=1.0), cum * (1 - cum)

    def nll_and_grad(theta):
        p, dens = probs(theta)
        w = table / p / table.sum()  # d(-loglik / n) / dp = -w
        # p_kc = F(kappa_c - beta_k) - F(kappa_{c-1} - beta_k): kappa_c enters p_kc and p_k,c+1
        grad_kappa = -((w[:, :-1] - w[:, 1:]) * dens).sum(axis=0)
        grad_beta = (w * np.diff(dens, axis=1, prepend=0.0, append=0.0)).sum(axis=1)[1:]
        nll = -(table * np.log(p)).sum() / table.sum()
        return nll, np.concatenate([grad_kappa, grad_beta])

    start = np.concatenate([np.linspace(-1.0, 1.0, n_s - 1), np.zeros(n_k - 1)])
    fit = minimize(nll_and_grad, start, jac=True, method="BFGS", options={"gtol": 1e-12})
    kappa, beta = fit.x[: n_s - 1], np.concatenate([[0.0], fit.x[n_s - 1 :]])
    return probs(fit.x)[0], kappa - beta.mean(), beta - beta.mean()


REFERENCES = {"ordinal": row_effects_reference, "cumulative": proportional_odds_reference}


def anchored_sample(n, shares, items, *, n_anchors=6, hit=0.99, seed=0):
    """Ordinal items plus nominal anchors that give away the class (answer = class w.p. ``hit``).

    ``items`` maps a column name to (codes, P(code | k) of shape (K, len(codes))).
    """
    rng = np.random.default_rng(seed)
    k = len(shares)
    z = rng.choice(k, size=n, p=shares)
    columns = {}
    for a in range(n_anchors):
        miss = (z + rng.integers(1, k, n)) % k  # one of the other classes' answers
        columns[f"anchor{a}"] = 1.0 + np.where(rng.random(n) < hit, z, miss)
    for name, (codes, probs) in items.items():
        cum = np.cumsum(np.asarray(probs)[z], axis=1)
        pick = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(codes) - 1)
        columns[name] = np.asarray(codes, float)[pick]
    return pd.DataFrame(columns), z


# Class-specific answer distributions that are ordered but follow neither link exactly (the
# ML fits must agree all the same). "y" has codes 1..5; "w" has unequally spaced scale codes
# 1, 2, 4, 5 (the adjacent-category scores) and don't know = 8.
ANCHOR_SHARES = [0.45, 0.35, 0.2]
ANCHORED_ITEMS = {
    "y": ([1, 2, 3, 4, 5], [[0.30, 0.30, 0.20, 0.12, 0.08],
                            [0.10, 0.25, 0.30, 0.25, 0.10],
                            [0.05, 0.10, 0.20, 0.35, 0.30]]),
    "w": ([1, 2, 4, 5, 8], [[0.15, 0.35, 0.25, 0.20, 0.05],
                            [0.40, 0.25, 0.12, 0.08, 0.15],
                            [0.20, 0.25, 0.25, 0.20, 0.10]]),
}  # fmt: skip


@pytest.mark.parametrize("link", ["ordinal", "cumulative"])
def test_ordinal_items_match_outside_fits_when_the_class_is_known(link):
    """Row-effects Poisson GLM (adjacent) / direct proportional-odds ML (cumulative) per item.

    Six nominal anchor items, each answering its class's code with probability 0.99, make the
    posteriors 0/1 up to a misallocated posterior mass of ~1e-7 respondents out of 3,000
    (asserted < 1e-3). The reference is fitted to two tables: (a) the counts by the *true*
    class, the "membership known" model; (b) the posterior-weighted counts, for which the
    ordinal parameters at an EM fixed point are exactly the ML fit whatever the anchors.
    Observed agreement with both: <= 2e-7 in probability, <= 1e-6 in thresholds and locations,
    limited by the stopping rules of EM (tol=1e-12) and of the M-step's Newton steps; a
    misallocated mass m could move a probability by only ~2 m / n_k (< 1e-9 here). Asserted:
    1e-6 (probabilities), 1e-5 (parameters). Scoring "w" by rank (1, 2, 3, 4) instead of its
    codes would move the adjacent-category probabilities by ~2e-2.
    """
    X, z = anchored_sample(3000, ANCHOR_SHARES, ANCHORED_ITEMS, seed=1)
    model = OrdinalLatentClassModel(
        3, item_types={"y": link, "w": link}, dont_know={"w": [8]}, n_init=2, tol=1e-12,
        max_iter=5000, random_state=0,
    )  # fmt: skip
    with pytest.warns(UserWarning, match=r"w: the codes of the ordinal scale \[1, 2, 4, 5\]"):
        model.fit(X)
    perm = match(z, model.labels_, 3)
    resp = model.predict_proba(X)[:, perm]  # columns in true-class order
    assert np.abs(resp - np.eye(3)[z]).sum() / 2 < 1e-3  # class membership is known
    for name, (codes, _) in ANCHORED_ITEMS.items():
        j = X.columns.get_loc(name)
        assert model.item_types_[j] == link
        scale = model.scale_codes_[j]
        np.testing.assert_array_equal(scale, [c for c in codes if c != 8])
        answer = X[name].to_numpy()[:, None] == np.asarray(codes, float)[None, :]  # (n, C)
        by_truth = np.eye(3)[z].T @ answer  # (K, C) counts
        by_posterior = resp.T @ answer
        probs = model.item_probs_[j][perm]  # categories_ order = codes order
        on_scale = np.isin(codes, scale)
        ours = probs[:, on_scale] / probs[:, on_scale].sum(axis=1, keepdims=True)
        for table in (by_truth, by_posterior):
            p, thresholds, locations = REFERENCES[link](table[:, on_scale], scale)
            np.testing.assert_allclose(ours, p, atol=1e-6, rtol=0)
            np.testing.assert_allclose(model.locations_[j][perm], locations, atol=1e-5, rtol=0)
            np.testing.assert_allclose(model.thresholds_[j], thresholds, atol=1e-5, rtol=0)
            # don't know: a free (here: the observed) share per class
            share = table[:, ~on_scale].sum(axis=1) / table.sum(axis=1)
            np.testing.assert_allclose(probs[:, ~on_scale].sum(axis=1), share, atol=1e-6)


@pytest.mark.parametrize("link", ["ordinal", "cumulative"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_m_step_on_a_fixed_table_is_the_outside_fit(link, seed):
    """The ordinal M-step alone, on a fixed table of expected counts, is the reference fit.

    The M-step takes the (item, category, class) table of expected counts, i.e. fixed
    responsibilities; fed the K x S table of one item (K = 4 classes, S = 6 scale answers with
    unequal scores 0, 1, 2, 4, 5, 7, small counts, some empty cells) it must return the ML fit
    of the reference model to that table. Its Newton steps stop once the predicted gain is
    below 1e-12 |log-likelihood| (~1e-9 here), which leaves up to ~5e-7 in the probabilities:
    so the log-likelihoods are compared at that precision, the probabilities at 2e-6.
    """
    rng = np.random.default_rng(seed)
    scores = np.array([0, 1, 2, 4, 5, 7.0])
    table = rng.poisson(rng.uniform(0.5, 40, (4, 6))).astype(float)
    table[:, [0, -1]] += 1  # every class answers both ends: the ML fit exists
    X = pd.DataFrame({"y": np.tile(scores, 2)})
    model = OrdinalLatentClassModel(4, item_types=link, n_init=1, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one item, one iteration, unequal codes
        model.fit(X)
    start = {link: _initial_coef(model._links[link], 4)}  # uniform answers in every class
    fitted = model._fit_measurement(table.T[None], model._params().theta, start, 200)
    ours = fitted.theta[0].T  # (K, S)
    p, _, _ = REFERENCES[link](table, scores)
    loglik_ours, loglik_reference = (table * np.log(ours)).sum(), (table * np.log(p)).sum()
    assert loglik_ours <= loglik_reference + 1e-9  # the reference did reach the maximum
    assert loglik_reference - loglik_ours <= 2e-12 * abs(loglik_reference)
    np.testing.assert_allclose(ours, p, atol=2e-6, rtol=0)


# ---------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def election(shared_data):
    return pd.read_csv(shared_data / "lca" / "election.csv")[ELECTION_ITEMS]


# poLCA's election (12 ratings 1-4, N = 1,785, missing answers kept), n_init=10, random_state=1
# (benchmarks/bench_ordinal.py; the same maxima from every seed tried):
#   k  nominal loglik   p  BIC       adjacent loglik  p  BIC       cumulative loglik  p  BIC
#   2  -22127.9        73  44802.4   -22212.6        49  44792.1   -22188.7          49  44744.3
#   3  -21311.5       110  43446.7   -21670.0        62  43804.2   -21651.1          62  43766.4
#   4  -20837.3       147  42775.2   -21239.2        75  43039.8   -21193.4          75  42948.4
ELECTION = {
    2: {"nominal": (-22127.9, 73, 44802.4), "ordinal": (-22212.6, 49, 44792.1),
        "cumulative": (-22188.7, 49, 44744.3)},
    4: {"nominal": (-20837.3, 147, 42775.2), "ordinal": (-21239.2, 75, 43039.8),
        "cumulative": (-21193.4, 75, 42948.4)},
}  # fmt: skip


@pytest.mark.parametrize("k", [2, 4])
def test_election_bic_nominal_versus_ordinal(election, k):
    """Ordinal wins BIC at k = 2 only; at k = 4 (BIC's choice in 2..4 under every model) nominal
    wins.

    The ordinal models lose 85-400 log-likelihood units for their 24-72 fewer parameters: the
    classes the nominal model finds differ in the shape of their answer distributions, not only
    in their location. (BIC still falls at k = 4 under all three models; beyond the range asked
    for, at k = 7, adjacent-category BIC 41959.6 is below nominal 42087.0.)
    """
    found = {}
    for link, expected in ELECTION[k].items():
        model = (
            LatentClassModel(k, n_init=3, random_state=1)
            if link == "nominal"
            else OrdinalLatentClassModel(k, item_types=link, n_init=3, random_state=1)
        ).fit(election)
        loglik, n_par, bic = expected
        assert model.loglik_ == pytest.approx(loglik, abs=0.05)
        assert model.n_parameters() == n_par
        assert model.bic(election) == pytest.approx(bic, abs=0.1)
        found[link] = model.bic(election)
    if k == 2:
        assert found["cumulative"] < found["ordinal"] < found["nominal"]
    else:
        assert found["nominal"] < found["cumulative"] < found["ordinal"]


def test_from_codebook_keeps_dont_know_off_the_scale(bundled_survey):
    data, codebook_path, _ = bundled_survey
    frame, codebook = read_survey(data, codebook_path)
    X = codebook.model_codes(frame).iloc[:, :6]
    model = OrdinalLatentClassModel.from_codebook(
        codebook, 2, items=X.columns, n_init=1, random_state=0
    ).fit(X)
    assert model.item_types_ == ["ordinal"] * 6
    for j, col in enumerate(X.columns):
        cats = model.categories_[j]
        assert 8 in cats  # don't know is an answer ...
        assert 8 not in model.scale_codes_[j]  # ... but not on the scale
        np.testing.assert_array_equal(model.scale_codes_[j], cats[cats != 8])
        assert set(codebook[col].substantive_codes) >= set(model.scale_codes_[j])
    s = [len(c) for c in model.scale_codes_]
    assert model.n_parameters() == sum(2 * 1 + (sj - 1) + 1 for sj in s) + 1


# ---------------------------------------------------------------- input validation
SMALL = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3], "b": [1, 1, 2, 2, 8, 1], "c": [2, 1, 2, 1, 2, 1]})


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"item_types": "likert"}, ValueError, r"item_types must be one of .*'likert'"),
        ({"item_types": ["ordinal", "nominal"]}, ValueError, "2 entries for 3 columns"),
        ({"item_types": ["ordinal", "nominal", 3]}, ValueError, r"item_types\[2\] .* got 3"),
        ({"item_types": {"d": "ordinal"}}, ValueError, "names column 'd', which is not in X"),
        ({"item_types": {"a": "Ordinal"}}, ValueError, r"item_types\['a'\] .*'Ordinal'"),
        ({"item_types": 5}, TypeError, "item_types must be a string, a sequence or a dict"),
        ({"dont_know": "8"}, TypeError, "dont_know must be a sequence of answer codes"),
        ({"dont_know": ["dk"]}, TypeError, "dont_know must hold numeric codes"),
        ({"dont_know": {"b": [np.nan]}}, ValueError, r"dont_know\['b'\] must hold finite codes"),
        ({"dont_know": {7: [8]}}, ValueError, "positions 0..2"),
    ],
)
def test_invalid_parameters_are_refused_with_the_value(params, error, message):
    with pytest.raises(error, match=message):
        OrdinalLatentClassModel(2, n_init=1, **params).fit(SMALL)


def test_dict_positions_and_names_and_unnamed_columns_are_nominal():
    with pytest.warns(UserWarning, match="b: the codes of the ordinal scale"):
        model = OrdinalLatentClassModel(2, item_types={0: "cumulative", "b": "ordinal"},
                                        n_init=1, random_state=0).fit(SMALL)  # fmt: skip
    assert model.item_types_ == ["cumulative", "ordinal", "nominal"]
    model = OrdinalLatentClassModel(
        2, item_types={"b": "ordinal"}, dont_know={"b": [8]}, n_init=1, random_state=0
    ).fit(SMALL)
    # b has two scale answers (1, 2) and don't know: the same parameters as nominal
    assert model.n_parameters() == 2 * 2 + 2 * 2 + 2 * 1 + 1


def test_undeclared_dont_know_code_is_warned_about():
    with pytest.warns(UserWarning, match=r"\[1, 2, 8\] are not consecutive.*dont_know="):
        OrdinalLatentClassModel(2, n_init=1, random_state=0).fit(SMALL)


def test_from_codebook_refuses_an_unknown_ordinal_type(bundled_survey):
    _, codebook_path, _ = bundled_survey
    from segment.survey.codebook import Codebook

    codebook = Codebook.load(codebook_path)
    with pytest.raises(ValueError, match=r"ordinal_type must be .* got 'probit'"):
        OrdinalLatentClassModel.from_codebook(codebook, 2, ordinal_type="probit")


def test_constructor_stores_parameters_only():
    types = {"a": "ordinal"}
    model = OrdinalLatentClassModel(3, item_types=types, dont_know=[8])
    assert model.get_params()["item_types"] is types
    assert not hasattr(model, "item_types_")


# ---------------------------------------------------------------- scikit-learn conventions
EXPECTED_FAILURES = {
    # as LatentClassModel: every distinct value is an answer category
    "check_sample_weight_equivalence_on_dense_data": "unseen answer values at predict are refused",
    "check_fit_idempotent": "predicts on continuous values never seen at fit",
    # (check_clustering passes: ordinal items use the values themselves as scores)
}


@parametrize_with_checks(
    [OrdinalLatentClassModel(n_init=2, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # continuous "codes" are not consecutive
        check(estimator)


def test_one_class_is_saturated_and_equals_the_nominal_model():
    X, _ = simulate(400, SHARES, TAU, BETA, dk=np.full((8, 3), 0.05), missing=0.05, seed=8)
    ordinal = OrdinalLatentClassModel(1, dont_know=[8], random_state=0).fit(X)
    nominal = LatentClassModel(1, random_state=0).fit(X)
    assert ordinal.n_parameters() == nominal.n_parameters() == 8 * 5
    assert ordinal.loglik_ == pytest.approx(nominal.loglik_, abs=1e-6)


def test_covariates_of_class_membership_are_estimated_jointly():
    X, z = simulate(600, SHARES, TAU, BETA, seed=9)
    covariate = z + np.random.default_rng(0).normal(size=len(z))  # predicts the class
    model = OrdinalLatentClassModel(3, n_init=2, random_state=0).fit(X, covariates=covariate)
    assert model.coef_.shape == (2, 3)
    assert np.abs(model.coef_[1]).max() > 0.5
    assert np.diff(model.loglik_path_).min() >= -1e-9 * abs(model.loglik_)
    assert model.n_parameters() == 8 * (4 + 2) + 2 * 2
    np.testing.assert_allclose(model.predict_proba(X, covariates=covariate).sum(axis=1), 1.0)
