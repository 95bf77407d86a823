"""LatentClassModel's given starts (init_item_probs, init_weights), Dirichlet prior (item_prior,
posterior-mode EM) and class_order="init".

StepMix (the Python latent class package) has no Dirichlet prior on the measurement parameters
and poLCA none either, so the posterior mode is checked against a direct optimiser of the log
posterior (scipy) and the M-step against the closed form by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from segment.models import LatentClassModel

#: As for the model without a prior (tests/models/test_latent_class.py): every distinct value is
#: an answer category, so continuous test data are refused at predict.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": "unseen answer values at predict are refused",
    "check_fit_idempotent": "predicts on continuous values never seen at fit",
    "check_clustering": "continuous blobs are not categorical answers",
}


def simulate(n=400, seed=0, k=2, n_items=4, n_cat=3):
    rng = np.random.default_rng(seed)
    theta = rng.dirichlet(np.ones(n_cat) * 0.7, size=(n_items, k))  # (items, k, cats)
    z = rng.choice(k, size=n, p=np.full(k, 1 / k))
    X = np.empty((n, n_items))
    for j in range(n_items):
        cum = np.cumsum(theta[j, z], axis=1)
        X[:, j] = (rng.random((n, 1)) > cum).sum(axis=1) + 1
    return X, theta


def log_posterior(X, w, probs, shares, prior):
    """Weighted log-likelihood plus sum a log theta, directly (no EM)."""
    ll = np.tile(np.log(shares), (len(X), 1))
    for j, p in enumerate(probs):
        idx = X[:, j].astype(int) - 1
        ll += np.log(p[:, idx]).T
    return float(w @ logsumexp(ll, axis=1)) + sum(
        float(np.sum(a * np.log(p))) for a, p in zip(prior, probs, strict=True)
    )


@parametrize_with_checks(
    [LatentClassModel(n_init=2, random_state=0, item_prior=0.5)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible_with_a_prior(estimator, check):
    check(estimator)


def test_constructor_stores_the_parameters_only_and_clone_keeps_them():
    init = [np.full((2, 3), 1 / 3)] * 4
    model = LatentClassModel(2, init_item_probs=init, init_weights=[0.3, 0.7], item_prior=2.0)
    params = model.get_params()
    assert params["init_item_probs"] is init and params["item_prior"] == 2.0
    assert params["class_order"] == "size"
    assert not [a for a in vars(model) if a.endswith("_")]
    assert clone(model).get_params()["init_weights"] == [0.3, 0.7]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_zero_prior_is_maximum_likelihood_to_the_last_bit(seed):
    X, _ = simulate(seed=seed)
    ml = LatentClassModel(2, random_state=seed).fit(X)
    zero = LatentClassModel(2, random_state=seed, item_prior=0.0).fit(X)
    for a, b in zip(ml.item_probs_, zero.item_probs_, strict=True):
        assert a.tobytes() == b.tobytes()
    assert ml.loglik_ == zero.loglik_ == zero.log_posterior_
    assert ml.start_logliks_.tobytes() == zero.start_logliks_.tobytes()


@pytest.mark.parametrize("a", [0.5, 3.0])
def test_one_map_em_step_is_the_closed_form(a):
    X, _ = simulate(n=60, seed=3)
    w = np.linspace(0.5, 1.5, len(X))
    rng = np.random.default_rng(0)
    init = [rng.dirichlet(np.ones(3), size=2) for _ in range(X.shape[1])]
    prior = [a * rng.dirichlet(np.ones(3), size=2) for _ in range(X.shape[1])]
    shares = np.array([0.4, 0.6])
    model = LatentClassModel(
        2,
        n_init=0,
        max_iter=1,
        init_item_probs=init,
        init_weights=shares,
        item_prior=prior,
        class_order="init",
    )
    with pytest.warns(Warning):  # one iteration does not converge
        model.fit(X, sample_weight=w)
    # by hand: posteriors at the start (floored as the model floors a start), then
    # theta = (n_kc + a_kc) / (n_k + sum_c a_kc)
    start = [(0.999 * p + 0.001) / (0.999 * p + 0.001).sum(axis=1, keepdims=True) for p in init]
    joint = np.tile(np.log(shares), (len(X), 1))
    for j, p in enumerate(start):
        joint += np.log(p[:, X[:, j].astype(int) - 1]).T
    resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True)) * w[:, None]
    for j in range(X.shape[1]):
        onehot = np.eye(3)[X[:, j].astype(int) - 1]
        counts = resp.T @ onehot + prior[j]
        np.testing.assert_allclose(
            model.item_probs_[j], counts / counts.sum(axis=1, keepdims=True), rtol=1e-12
        )


def test_the_posterior_mode_is_the_maximum_a_direct_optimiser_finds():
    X, _ = simulate(n=150, seed=5, n_items=3)
    w = np.ones(len(X))
    rng = np.random.default_rng(1)
    prior = [2.0 * rng.dirichlet(np.ones(3), size=2) for _ in range(3)]
    model = LatentClassModel(2, random_state=0, item_prior=prior, tol=1e-12).fit(X)
    # the prior was given in the order of the model's classes before ordering by size; refit
    # with class_order="init" from the fitted solution so the prior stays with its class
    init = model.item_probs_
    model = LatentClassModel(
        2, n_init=0, init_item_probs=init, item_prior=prior, class_order="init", tol=1e-12
    ).fit(X)
    mode = log_posterior(X, w, model.item_probs_, model.weights_, prior)
    assert model.log_posterior_ == pytest.approx(mode, rel=1e-10)

    def unpack(v):
        probs = [np.exp(log_softmax(v[6 * j : 6 * j + 6].reshape(2, 3), axis=1)) for j in range(3)]
        return probs, np.exp(log_softmax(v[18:]))

    def objective(v):
        probs, shares = unpack(v)
        return -log_posterior(X, w, probs, shares, prior)

    v0 = np.concatenate([np.log(p).ravel() for p in model.item_probs_] + [np.log(model.weights_)])
    found = minimize(objective, v0 + 0.3 * rng.standard_normal(v0.shape), method="BFGS")
    assert -found.fun <= mode + 1e-6  # nothing higher nearby
    probs, _ = unpack(found.x)
    for p, q in zip(probs, model.item_probs_, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-4)


def test_the_objective_never_decreases_with_a_prior():
    X, _ = simulate(n=300, seed=2, k=3)
    model = LatentClassModel(3, random_state=0, item_prior=1.5).fit(X)
    path = model.loglik_path_
    assert np.all(np.diff(path) >= -1e-8 * np.abs(path[1:]))
    assert model.log_posterior_ < model.loglik_  # sum a log theta < 0


def test_a_prior_keeps_a_sparse_cell_off_the_boundary():
    X, _ = simulate(n=200, seed=4)
    X[:, 0] = np.where(X[:, 1] == 1, 1, np.where(X[:, 0] == 1, 2, X[:, 0]))  # answer 1 of item 0
    ml = LatentClassModel(2, random_state=0).fit(X)
    assert ml.item_probs_[0].min() < 1e-8  # a class never gives that answer: boundary estimate
    map_ = LatentClassModel(2, random_state=0, item_prior=1.0).fit(X)
    assert map_.item_probs_[0].min() > 1e-3
    assert map_.loglik_ <= ml.loglik_ + 1e-6  # loglik_ stays the log-likelihood


@pytest.mark.parametrize("perm", [[0, 1, 2], [2, 0, 1], [1, 2, 0]])
def test_class_order_init_keeps_the_order_of_the_start(perm):
    X, theta = simulate(n=600, seed=6, k=3, n_items=6, n_cat=4)
    truth = [theta[j][perm] for j in range(6)]
    model = LatentClassModel(
        3, n_init=3, random_state=0, init_item_probs=truth, class_order="init"
    ).fit(X)
    for j in range(6):
        nearest = np.abs(model.item_probs_[j][:, None, :] - truth[j][None]).sum(axis=2)
        assert np.sum(np.argmin(nearest, axis=1) == np.arange(3)) >= 2
    size = LatentClassModel(3, n_init=3, random_state=0, init_item_probs=truth).fit(X)
    assert np.all(np.diff(size.weights_) <= 0)


def test_init_weights_start_the_given_start():
    X, theta = simulate(n=300, seed=7)
    init = [theta[j] for j in range(4)]
    a = LatentClassModel(2, n_init=0, max_iter=1, init_item_probs=init, init_weights=[0.9, 0.1])
    b = clone(a).set_params(init_weights=[0.1, 0.9])
    with pytest.warns(Warning):
        a.fit(X)
    with pytest.warns(Warning):
        b.fit(X)
    assert not np.allclose(a.item_probs_[0], b.item_probs_[0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"init_item_probs": [np.full((2, 3), 1 / 3)] * 3}, "has 3 items"),
        ({"init_item_probs": [np.full((2, 2), 0.5)] * 4}, r"expected \(2, 3\)"),
        ({"init_weights": [0.5, 0.5]}, "init_weights needs init_item_probs"),
        ({"class_order": "init"}, "needs init_item_probs"),
        ({"class_order": "alphabetical"}, "class_order must be one of"),
        ({"item_prior": -1.0}, "non-negative"),
        ({"item_prior": [np.full((2, 3), -1.0)] * 4}, "finite and non-negative"),
        (
            {"init_item_probs": [np.full((2, 3), 1 / 3)] * 4, "init_weights": [1.0, 0.0]},
            "positive numbers",
        ),
    ],
)
def test_bad_starts_and_priors_are_refused_at_fit(params, message):
    X, _ = simulate(n=50)
    model = LatentClassModel(2, **params)  # the constructor accepts anything
    with pytest.raises(ValueError, match=message):
        model.fit(X)


def test_restrict_items_drops_the_per_item_parameters():
    X, theta = simulate(n=200)
    model = LatentClassModel(
        2, random_state=0, init_item_probs=[theta[j] for j in range(4)], item_prior=1.0
    ).fit(X)
    small = model.restrict_items([0, 2])
    assert small.get_params()["init_item_probs"] is None
    np.testing.assert_allclose(small.predict_proba(X[:, [0, 2]]).sum(axis=1), 1.0)
