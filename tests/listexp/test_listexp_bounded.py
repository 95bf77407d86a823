"""Bounded list-experiment estimators: the constrained ML within groups (Imai 2011), the ML
three-step by latent class (Vermunt 2010), and the flag rule.

Outside software: the within-group model is Imai's (2011) constrained ML with a full set of
group indicators, so it must equal :func:`segment.listexp.ict_ml` with those indicators;
``ict_ml`` reproduces R ``list`` 9.2.6 ``ictreg(method = "ml")`` on ``race`` (log-likelihood
-1444.394 and every coefficient, ``tests/listexp/test_listexp.py``). No R figure of the
intercept-only or south-only ML fit is stored, so the link to R is through ``ict_ml``; the MLEs
are also checked against a direct optimiser (scipy's L-BFGS-B on the same likelihood).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from segment.listexp import ict_ml
from segment.listexp.bounded import (
    binomial_mixture_loglik,
    bounded_prevalence,
    fit_histograms,
    histograms,
)
from segment.listexp.flags import dim_flag, headline
from segment.listexp.three_step import _CellModel, _cells, three_step_prevalence

LISTEXP = Path(__file__).resolve().parents[3] / "shared" / "data" / "listexp"


def _simulate(rng, n: int, delta: float, p: float = 0.69, J: int = 4):
    t = rng.permutation(np.arange(n) < n // 2)
    y = rng.binomial(J, p, n) + t * (rng.random(n) < delta)
    return y, t.astype(int)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("n", "delta", "p"), [(30, 0.02, 0.69), (40, 0.98, 0.69), (60, 0.5, 0.95), (30, 0.5, 0.05)]
)
def test_estimates_and_intervals_are_shares(seed, n, delta, p):
    y, t = _simulate(np.random.default_rng(seed), n, delta, p)
    r = bounded_prevalence(y, t, J=4)
    assert 0.0 <= r.ci_low <= r.estimate <= r.ci_high <= 1.0
    assert 0.0 <= r.p_control <= 1.0


def test_coverage_few_replications_fixed_seed():
    # 60 groups of n = 40 at prevalence 0.9: the difference in means leaves [0, 1] often,
    # the bounded estimate never, and its profile interval covers near the nominal 95%
    rng = np.random.default_rng(11)
    reps, n = 60, 40
    tt = np.arange(n) < n // 2
    y = rng.binomial(4, 0.69, (reps, n)) + tt * (rng.random((reps, n)) < 0.9)
    t = np.tile(tt, reps)
    codes = np.repeat(np.arange(reps), n)
    nc, nt = histograms(y.ravel(), t, 4, codes, reps)
    fit = fit_histograms(nc, nt, 4)
    assert ((fit["estimate"] >= 0) & (fit["estimate"] <= 1)).all()
    cover = (fit["ci_low"] <= 0.9) & (0.9 <= fit["ci_high"])
    assert cover.mean() >= 0.85
    dim = y[:, tt].mean(1) - y[:, ~tt].mean(1)
    assert (dim > 1).sum() >= 5  # the case the bounded estimator exists for


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mle_matches_a_direct_optimiser(seed):
    y, t = _simulate(np.random.default_rng(seed), 50, 0.6)
    nc, nt = histograms(y, t.astype(bool), 4)
    r = bounded_prevalence(y, t, J=4)

    def nll(x):
        return -binomial_mixture_loglik(x[0], x[1], nc, nt, 4)[0]

    best = min(
        (
            optimize.minimize(nll, x0, bounds=[(1e-9, 1 - 1e-9)] * 2, method="L-BFGS-B")
            for x0 in ([0.2, 0.5], [0.5, 0.7], [0.9, 0.6])
        ),
        key=lambda res: res.fun,
    )
    assert r.loglik >= -best.fun - 1e-9
    assert r.estimate == pytest.approx(best.x[0], abs=1e-4)
    assert r.p_control == pytest.approx(best.x[1], abs=1e-4)


def test_profile_interval_ends_are_at_the_chi_square_cut():
    y, t = _simulate(np.random.default_rng(4), 200, 0.5)
    r = bounded_prevalence(y, t, J=4)
    nc, nt = histograms(y, t.astype(bool), 4)
    assert 0 < r.ci_low < r.estimate < r.ci_high < 1
    for end in (r.ci_low, r.ci_high):
        prof = max(
            -optimize.minimize_scalar(
                lambda q, d=end: -binomial_mixture_loglik(d, q, nc, nt, 4)[0],
                bounds=(1e-6, 1 - 1e-6),
                method="bounded",
                options={"xatol": 1e-10},
            ).fun,
            -np.inf,
        )
        assert 2 * (r.loglik - prof) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-4)


def test_a_bound_the_data_cannot_exclude_is_the_interval_end():
    # every treated count is one more than a control count could explain only with Z = 1
    y = np.array([0, 1, 2, 3, 1, 2] * 3 + [5, 4, 3, 2, 5, 4] * 3)
    t = np.array([0] * 18 + [1] * 18)
    r = bounded_prevalence(y, t, J=4)
    assert r.ci_high == 1.0
    assert r.estimate > 0.8


@pytest.fixture(scope="module")
def race() -> pd.DataFrame:
    path = LISTEXP / "race.csv"
    if not path.is_file():
        pytest.skip("../shared/data/listexp/race.csv is not beside this checkout")
    return pd.read_csv(path)


def test_by_group_equals_ict_ml_with_group_indicators(race):
    # ictreg(y ~ south, method = "ml") is the within-group model with a South indicator
    r = bounded_prevalence(race.y, race.treat, J=3, by=race.south)
    m = ict_ml(race.y, race.treat, race[["south"]], 3, constrained=True)
    d = m.coef_sensitive
    assert r.groups.loc[0, "estimate"] == pytest.approx(special.expit(d["(Intercept)"]), abs=2e-5)
    assert r.groups.loc[1, "estimate"] == pytest.approx(
        special.expit(d["(Intercept)"] + d["south"]), abs=2e-5
    )
    assert r.groups["loglik"].sum() == pytest.approx(m.loglik, abs=1e-6)


def test_overall_equals_intercept_only_ict_ml(race):
    r = bounded_prevalence(race.y, race.treat, J=3)
    m = ict_ml(race.y, race.treat, None, 3, constrained=True)
    assert r.estimate == pytest.approx(special.expit(m.params[0]), abs=2e-5)
    assert r.loglik == pytest.approx(m.loglik, abs=1e-6)


def test_weights_equal_to_one_change_nothing():
    y, t = _simulate(np.random.default_rng(3), 80, 0.4)
    a = bounded_prevalence(y, t, J=4)
    b = bounded_prevalence(y, t, J=4, weights=np.full(80, 2.5))
    assert (a.estimate, a.ci_low, a.ci_high) == pytest.approx((b.estimate, b.ci_low, b.ci_high))


def test_logit_wald_is_undefined_at_a_bound():
    y = np.array([3, 4, 3, 4, 2] * 4 + [1, 2, 1, 2, 3] * 4)
    t = np.array([0] * 20 + [1] * 20)  # treated count lower than control: the MLE is 0
    r = bounded_prevalence(y, t, J=4, interval="logit-wald")
    assert r.estimate == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(r.ci_low)
    assert bounded_prevalence(y, t, J=4).ci_low == 0.0


# ---------------------------------------------------------------------- ML three-step


def _latent(rng, n, K=3, accuracy=0.85, support=(0.9, 0.5, 0.1)):
    seg = rng.integers(0, K, n)
    wrong = rng.random(n) > accuracy
    assigned = np.where(wrong, (seg + rng.integers(1, K, n)) % K, seg)
    D = np.full((K, K), (1 - accuracy) / (K - 1))
    np.fill_diagonal(D, accuracy)
    t = rng.permutation(np.arange(n) < n // 2)
    y = rng.binomial(4, 0.69, n) + t * (rng.random(n) < np.asarray(support)[seg])
    return y, t, assigned, D


def test_three_step_with_perfect_classification_is_the_within_group_fit():
    rng = np.random.default_rng(5)
    y, t, assigned, _ = _latent(rng, 300)
    r = three_step_prevalence(y, t, assigned, np.eye(3), J=4, tol=1e-12)
    g = bounded_prevalence(y, t, J=4, by=assigned).groups
    assert r.estimate == pytest.approx(g["estimate"].to_numpy(), abs=1e-4)
    assert r.ci_low == pytest.approx(g["ci_low"].to_numpy(), abs=2e-3)
    assert r.ci_high == pytest.approx(g["ci_high"].to_numpy(), abs=2e-3)


def test_three_step_mle_matches_a_direct_optimiser():
    rng = np.random.default_rng(6)
    y, t, assigned, D = _latent(rng, 400)
    r = three_step_prevalence(y, t, assigned, D, J=4, intervals=False, tol=1e-12)
    nc, nt = _cells(y, t, assigned, 3, 4, None)
    model = _CellModel(nc, nt, D, 4)

    def nll(x):
        pi = special.softmax(np.r_[0.0, x[:2]])
        return -model.loglik(pi[None], special.expit(x[2:5])[None], special.expit(x[5:])[None])[0]

    x0 = np.r_[0, 0, special.logit(np.clip(r.estimate, 0.02, 0.98)), np.zeros(3)]
    best = optimize.minimize(nll, x0, method="BFGS", options={"gtol": 1e-8})
    assert r.loglik >= -best.fun - 1e-6
    interior = (r.estimate > 0.01) & (r.estimate < 0.99)
    assert r.estimate[interior] == pytest.approx(special.expit(best.x[2:5])[interior], abs=2e-3)


@pytest.mark.parametrize("seed", range(4))
def test_three_step_estimates_are_shares(seed):
    y, t, assigned, D = _latent(np.random.default_rng(seed), 120, support=(1.0, 0.5, 0.0))
    r = three_step_prevalence(y, t, assigned, D, J=4)
    assert ((r.ci_low >= 0) & (r.ci_low <= r.estimate + 1e-12)).all()
    assert ((r.estimate <= r.ci_high + 1e-12) & (r.ci_high <= 1)).all()
    assert r.shares.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"estimate": 0.5, "n": 30}, None),
        ({"estimate": 0.0, "n": 30}, None),
        (
            {"estimate": 1.244, "n": 38, "mean_control": 2.04, "J": 4, "se": 0.356},
            "outside 0-100%: n = 38, small group; SE 36 points",
        ),
        (
            {"estimate": -0.2, "n": 400, "mean_control": 3.9, "J": 4, "se": 0.05},
            "outside 0-100%: control mean 3.9 of 4: ceiling; n = 400; SE 5 points",
        ),
        (
            {"estimate": 1.1, "n": 250, "mean_control": 0.3, "J": 4},
            "outside 0-100%: control mean 0.3 of 4: floor; n = 250",
        ),
    ],
)
def test_flag_reasons(kwargs, expected):
    assert dim_flag(kwargs.pop("estimate"), **kwargs) == expected


@pytest.mark.parametrize(
    ("dim", "expected"),
    [
        ((0.6, 0.2, 1.1), (0.6, 0.2, 1.0, "dim")),
        ((1.2, 0.7, 1.7), (0.97, 0.6, 1.0, "bounded")),
        ((-0.1, -0.5, 0.3), (0.97, 0.6, 1.0, "bounded")),
    ],
)
def test_headline_is_the_dim_only_inside_the_bounds(dim, expected):
    assert headline(*dim, 0.97, 0.6, 1.0) == pytest.approx(expected)
