"""Tests of segment.listexp.liars: the ceiling / floor liar model (Blair & Imai 2012, sec. 3.2).

Published figures: Blair, G. & Imai, K. (2012), "Statistical Analysis of List Experiments",
Political Analysis 20(1): 47-77, Table 7 (p. 70; "Estimated coefficients from the logistic
regression models where the outcome variable is whether or not 'Black Leaders Asking the
Government for Affirmative Action' will make (white) respondents angry") and footnote 26 (BIC
values "in the order of Table 7: 2939.7, 2975.1, 2983.1, and 3018.5"). The R help page of
``ictreg`` (list 9.2.6) says the liar models of Table 7 use ``~ age + college + male + south``
and the weakly informative prior (``bayesglm``), which is ``liar_X="same"`` and
``liar_prior="cauchy"`` here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from segment.exceptions import InputError
from segment.listexp import ict_ml
from segment.listexp.liars import (
    ICTLiarResult,
    _LiarModel,
    _num_jacobian,
    _std_transform,
    ict_ml_liars,
)

COVS = ["age", "college", "male", "south"]  # the row order of Table 7

# Table 7, sensitive-item coefficients (Est., SE), one entry per pair of columns.
TABLE7 = {
    "standard": ([-1.299, 0.295, -0.343, 0.040, 1.177], [0.556, 0.101, 0.336, 0.346, 0.480]),
    "ceiling": ([-1.291, 0.294, -0.345, 0.038, 1.175], [0.558, 0.101, 0.336, 0.346, 0.480]),
    "floor": ([-1.251, 0.314, -0.605, -0.088, 0.682], [0.501, 0.092, 0.298, 0.300, 0.335]),
    "both": ([-1.245, 0.313, -0.606, -0.088, 0.681], [0.502, 0.092, 0.298, 0.300, 0.335]),
}
# footnote 26
BIC = {"standard": 2939.7, "ceiling": 2975.1, "floor": 2983.1, "both": 3018.5}
# Table 7, last two rows: "Proportion of liars" (Est., SE) -- population proportions (eqs. 27, 29)
CEILING_LIARS = {"ceiling": (0.0002, 0.0017), "both": (0.0002, 0.0016)}
FLOOR_LIARS = {"floor": (0.0115, 0.0000), "both": (0.0115, 0.0000)}


def bic_loglik(bic: float, k: int, n: int = 1171) -> float:
    """The log-likelihood implied by a published BIC."""
    return -(bic - k * math.log(n)) / 2


@pytest.fixture(scope="module")
def affirm(shared_data) -> pd.DataFrame:
    path = shared_data / "listexp" / "affirm.csv"
    if not path.is_file():
        pytest.skip("../shared/data/listexp/affirm.csv is not beside this checkout")
    return pd.read_csv(path)


def fit(affirm, **kw) -> ICTLiarResult:
    return ict_ml_liars(affirm.y, affirm.treat, affirm[COVS], J=3, **kw)


# ---------------------------------------------------------------- Table 7, columns 1-2


def test_table7_standard_model(affirm):
    # ictreg(y ~ age + college + male + south, treat = "treat", J = 3, data = affirm,
    #        method = "ml")  -- Table 7 columns 1-2, p. 70; BIC 2939.7 (footnote 26)
    r = fit(affirm, ceiling=False, floor=False)
    est, se = TABLE7["standard"]
    # Printed to 3 decimals. Our intercept is -1.29849, 0.00051 from the printed -1.299: it sits
    # on the rounding boundary (the EM behind the table stopped a hair further), so the
    # coefficients are compared within 0.0006 instead of 0.0005; every other figure rounds to
    # the printed value.
    assert np.allclose(r.coef_sensitive.values, est, atol=6e-4, rtol=0)
    assert np.allclose(r.bse[:5], se, atol=5e-4, rtol=0)
    assert np.round(r.coef_sensitive.values[1:], 3).tolist() == est[1:]
    assert round(r.bic, 1) == BIC["standard"]
    assert len(r.liars) == 0


def test_reduces_to_ict_ml(affirm):
    # with neither ceiling nor floor liars the model is Imai's (2011) constrained ML model
    r = fit(affirm, ceiling=False, floor=False)
    b = ict_ml(affirm.y, affirm.treat, affirm[COVS], 3, constrained=True)
    assert r.params == pytest.approx(b.params, abs=1e-6)
    assert r.loglik == pytest.approx(b.loglik, abs=1e-8)
    assert r.bse == pytest.approx(b.bse, rel=1e-5)  # numerical vs analytic Hessian
    assert r.names == b.names and r.converged
    with pytest.raises(AttributeError):
        _ = r.coef_ceiling
    with pytest.raises(AttributeError):
        _ = r.coef_floor


# ---------------------------------------------------------------- Table 7, columns 3-4


def test_table7_ceiling_model(affirm):
    # ictreg(..., method = "ml", ceiling = TRUE, ceiling.fit = "bayesglm",
    #        ceiling.formula = ~ age + college + male + south) -- Table 7 columns 3-4, p. 70
    r = fit(affirm, ceiling=True, liar_X="same", liar_prior="cauchy")
    est, se = TABLE7["ceiling"]
    # NOT reproduced to the printed precision: ours are -1.2951, 0.2951, -0.3441, 0.0387, 1.1758
    # (SE 0.5568, 0.1012, 0.3359, 0.3464, 0.4801), up to 0.004 from the table. The posterior
    # mode is unique (see test_map_is_unique_across_starting_values) and barely moves with the
    # details of the prior (centred or uncentred inputs, scales from the whole sample or from
    # the liar risk set: all within 0.001 of ours), and our log-likelihood, -1434.632, is 0.07
    # below the one implied by the published BIC (-1434.56; BIC 2975.2 vs 2975.1). The gap is
    # presumably how R's bayesglm implements the Gelman et al. (2008) prior inside the EM,
    # which we did not (and may not) read. Hence tolerances of 0.005 (coef) and 0.002 (SE),
    # stated here and in the report, instead of 0.0005.
    assert np.allclose(r.coef_sensitive.values, est, atol=5e-3, rtol=0)
    assert np.allclose(r.bse[:5], se, atol=2e-3, rtol=0)
    assert r.bic == pytest.approx(BIC["ceiling"], abs=0.2)
    assert r.loglik == pytest.approx(bic_loglik(BIC["ceiling"], 15), abs=0.1)
    # "The estimated population proportion of ceiling liars is close to zero" (p. 69-70):
    # published 0.0002 (SE 0.0017); ours 0.0004 (SE 0.0012)
    pop, pop_se = r.liars.loc["ceiling", ["population", "population_se"]]
    assert 0 < pop < 0.001 and abs(pop - CEILING_LIARS["ceiling"][0]) < pop_se
    assert 0.0005 < pop_se < 0.002
    assert list(r.to_frame().index.get_level_values("part").unique()) == [
        "sensitive",
        "control",
        "ceiling",
    ]


def test_ceiling_ml_goes_to_the_boundary(affirm):
    # plain ML (intercept-only ceiling model): the ceiling-liar probability goes to 0, so the
    # sensitive-item coefficients are those of the standard model, and the fit warns
    with pytest.warns(RuntimeWarning, match="diverges"):
        r = fit(affirm, ceiling=True)
    b = fit(affirm, ceiling=False, floor=False)
    assert r.coef_sensitive.values == pytest.approx(b.coef_sensitive.values, abs=1e-4)
    assert r.coef_ceiling.iloc[0] < -12
    assert r.liars.loc["ceiling", "population"] < 1e-6
    assert r.loglik == pytest.approx(b.loglik, abs=1e-4)


# ---------------------------------------------------------------- Table 7, columns 5-8


def _corner_fit(affirm, ceiling: bool):
    """Maximise the model with the floor-liar probability fixed at 1 for everyone (the corner
    where EM cannot leave: with q = 1 no truthful (0, 1) type is left in the risk set)."""
    X = np.column_stack([np.ones(len(affirm)), affirm[COVS].to_numpy(float)])
    Ws, _, scales = _std_transform(X, True)
    prior = {k: scales for k in ((2, 3) if ceiling else (3,))}
    model = _LiarModel(
        X, Ws, Ws, affirm.y.to_numpy(float), affirm.treat.to_numpy(float), 3, None, ceiling, True,
        prior,
    )  # fmt: skip
    floor_block = np.r_[60.0, np.zeros(4)]  # q = expit(60) = 1
    base = ict_ml(affirm.y, affirm.treat, affirm[COVS], 3).params
    z0 = np.concatenate([base] + ([np.r_[-2.2, np.zeros(4)]] if ceiling else []))

    def neg(z):
        o, g, _ = model.grad(np.concatenate([z, floor_block]))
        return -o, -g[: z.size]

    z = optimize.minimize(neg, z0, jac=True, method="BFGS", options={"gtol": 1e-7}).x
    H = _num_jacobian(lambda v: -neg(v)[1], z)
    se = np.sqrt(np.diag(np.linalg.inv(-(H + H.T) / 2)))
    theta = np.concatenate([z, floor_block])
    ll = float(model.estep(theta)[0].sum())
    return z[:5], se[:5], ll


@pytest.mark.parametrize("column", ["floor", "both"])
def test_table7_floor_models_are_a_degenerate_corner(affirm, column):
    # ictreg(..., floor = TRUE, floor.fit = "bayesglm", floor.formula = ~ age + college + male +
    #        south[, ceiling = TRUE, ...]) -- Table 7 columns 5-6 and 7-8, p. 70.
    # NOT reproduced by the maximum: our posterior mode (liar_X="same", liar_prior="cauchy") is
    # unique and has delta = (-1.509, 0.350, -0.384, 0.096, 1.146) [floor] and
    # (-1.505, 0.350, -0.385, 0.095, 1.145) [both], South 1.15 instead of 0.68, and a
    # log-likelihood about 6 higher than the one implied by the published BIC. The published
    # columns are instead reproduced (to about 0.01) by the corner where every floor-type
    # respondent lies (floor-liar probability 1, the "0.0000" SE of the published proportion):
    # an absorbing point of EM, not the maximum. See the report.
    k = 15 if column == "floor" else 20
    r = fit(affirm, ceiling=column == "both", floor=True, liar_X="same", liar_prior="cauchy")
    assert r.converged
    assert r.loglik > bic_loglik(BIC[column], k) + 5
    est, se = TABLE7[column]
    assert r.coef_sensitive["south"] == pytest.approx(1.146, abs=2e-3)
    assert abs(r.coef_sensitive["south"] - est[4]) > 0.4
    # the corner reproduces the table
    d, d_se, ll = _corner_fit(affirm, ceiling=column == "both")
    assert np.allclose(d, est, atol=0.012, rtol=0)
    assert np.allclose(d_se, se, atol=3e-3, rtol=0)
    assert -2 * ll + k * math.log(1171) == pytest.approx(BIC[column], abs=0.6)
    assert ll < r.loglik - 5


def test_map_is_unique_across_starting_values(affirm):
    # several starting values (liar probabilities from 0.001 to 0.999, perturbed delta) reach
    # the same posterior mode
    ref = fit(affirm, floor=True, ceiling=False, liar_X="same", liar_prior="cauchy")
    rng = np.random.default_rng(7)
    for q0 in (-7.0, 0.0, 7.0):
        start = ref.params.copy()
        start[:5] += rng.normal(0, 0.5, 5)
        start[10:] = np.r_[q0, rng.normal(0, 1, 4)]
        r = fit(affirm, floor=True, ceiling=False, liar_X="same", liar_prior="cauchy", start=start)
        assert r.params == pytest.approx(ref.params, abs=1e-3)
        assert r.loglik == pytest.approx(ref.loglik, abs=1e-6)


# ---------------------------------------------------------------- properties


def simulate(n: int, seed: int, qc: float = 0.6, qf: float = 0.6):
    """Standard design, J = 3, one covariate; ceiling and floor liars with constant rates."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    D = np.column_stack([np.ones(n), x])
    delta, psi = np.array([-0.3, 1.0]), np.array([0.4, 0.5])
    g, p = special.expit(D @ delta), special.expit(D @ psi)
    z = rng.random(n) < g
    y0 = rng.binomial(3, p)
    t = rng.random(n) < 0.5
    lie_c = t & z & (y0 == 3) & (rng.random(n) < qc)
    lie_f = t & z & (y0 == 0) & (rng.random(n) < qf)
    y = y0 + (t & z) - (lie_c | lie_f)
    truth = {
        "params": np.r_[delta, psi, special.logit(qc), special.logit(qf)],
        "prevalence": g.mean(),
        "ceiling": np.mean(qc * p**3 * g),
        "floor": np.mean(qf * (1 - p) ** 3 * g),
    }
    return y, t, x[:, None], truth


def test_parameter_recovery_with_liars():
    y, t, X, truth = simulate(6000, seed=1)
    r = ict_ml_liars(y, t, X, J=3, ceiling=True, floor=True)
    assert r.converged
    z = (r.params - truth["params"]) / r.bse
    assert np.all(np.abs(z) < 3.5), z
    assert abs(r.prevalence - truth["prevalence"]) < 3 * r.prevalence_se
    for kind in ("ceiling", "floor"):
        est, se = r.liars.loc[kind, ["population", "population_se"]]
        assert abs(est - truth[kind]) < 3 * se
    # ignoring the liars underestimates the prevalence badly (0.22 vs 0.44 here)
    naive = ict_ml(y, t, X, 3)
    naive_prev = special.expit(np.column_stack([np.ones(len(y)), X]) @ naive.params[:2]).mean()
    assert naive_prev < truth["prevalence"] - 0.15


def test_unit_weights_equal_unweighted(affirm):
    kw = {"ceiling": True, "floor": True, "liar_prior": "cauchy"}
    r = fit(affirm, **kw)
    w1 = fit(affirm, weights=np.ones(len(affirm)), cov_type="oim", **kw)
    assert w1.weighted and w1.cov_type == "oim"
    assert w1.params == pytest.approx(r.params, abs=1e-7)
    assert w1.loglik == pytest.approx(r.loglik, abs=1e-8)
    assert w1.bse == pytest.approx(r.bse, rel=1e-6)
    # default SE with weights is the sandwich
    assert fit(affirm, weights=np.ones(len(affirm)), **kw).cov_type == "robust"


def test_frequency_weights_equal_duplicated_rows(affirm):
    w = np.where(np.arange(len(affirm)) % 3 == 0, 2.0, 1.0)
    dup = pd.concat([affirm, affirm[w == 2]], ignore_index=True)
    a = fit(affirm, floor=True, ceiling=False, weights=w, cov_type="oim")
    b = fit(dup, floor=True, ceiling=False)
    assert a.params == pytest.approx(b.params, abs=1e-6)
    assert a.loglik == pytest.approx(b.loglik, abs=1e-6)
    assert a.bse == pytest.approx(b.bse, rel=1e-4)


def test_em_is_monotone_and_score_is_exact(affirm):
    X = np.column_stack([np.ones(len(affirm)), affirm[COVS].to_numpy(float)])
    Ws, _, scales = _std_transform(X, True)
    y, t = affirm.y.to_numpy(float), affirm.treat.to_numpy(float)
    for prior in (None, {2: scales, 3: scales}):
        m = _LiarModel(X, Ws, Ws, y, t, 3, None, True, True, prior)
        theta = np.concatenate([np.zeros(10), np.r_[-1.0, np.zeros(4)], np.r_[-1.0, np.zeros(4)]])
        objs = [m.objective(theta)]
        for _ in range(15):
            theta = m.em_step(theta)
            objs.append(m.objective(theta))
        assert np.all(np.diff(objs) > -1e-9)
        # Fisher's identity gradient == numerical gradient of the objective
        num = _num_jacobian(lambda v, m=m: np.array([m.objective(v)]), theta).ravel()
        assert m.grad(theta)[1] == pytest.approx(num, rel=1e-5, abs=1e-4)


def test_intercept_only_and_explicit_liar_covariates(affirm):
    r = fit(affirm, ceiling=False, floor=True)
    assert r.floor_names == ["(Intercept)"] and r.ceiling_names == []
    s = fit(affirm, ceiling=False, floor=True, liar_X=affirm[["south"]], liar_prior="cauchy")
    assert s.floor_names == ["(Intercept)", "south"]
    assert s.coef_floor.index.tolist() == ["(Intercept)", "south"]
    # average prevalence: the plain mean of expit(X delta), as in Imai (2011)
    Xd = np.column_stack([np.ones(len(affirm)), affirm[COVS].to_numpy(float)])
    assert r.prevalence == pytest.approx(special.expit(Xd @ r.coef_sensitive.values).mean())
    assert 0 < r.prevalence_se < 0.1
    frame = r.to_frame(level=0.9)
    assert list(frame.columns) == ["coef", "se", "z", "p_value", "ci_low", "ci_high"]
    assert frame.loc[("floor", "(Intercept)"), "coef"] == r.coef_floor.iloc[0]
    text = str(r)
    assert "floor liars" in text and "Average prevalence" in text and "Blair & Imai" in text
    assert r.n == 1171 and r.J == 3 and r.n_params == 11


def test_floor_ml_on_race_is_at_the_upper_boundary(shared_data):
    # race (black family item): pi_01 is estimated negative (Table 6, -1.7%), so the ML floor
    # model puts every floor-type respondent among the liars (q -> 1), with a warning; the fit
    # is still better than the standard model (log-likelihood -1444.394, R list 9.2.6)
    race = pd.read_csv(shared_data / "listexp" / "race.csv")
    with pytest.warns(RuntimeWarning, match="diverges"):
        r = ict_ml_liars(race.y, race.treat, race[["south", "age", "male", "college"]], J=3,
                         ceiling=False, floor=True)  # fmt: skip
    assert r.liars.loc["floor", "conditional"] > 0.999
    assert r.loglik > -1444.394 + 2
    # the prior keeps the floor-liar probability inside (0, 1), close to the same fit
    s = ict_ml_liars(race.y, race.treat, race[["south", "age", "male", "college"]], J=3,
                     ceiling=False, floor=True, liar_prior="cauchy")  # fmt: skip
    assert 0.8 < s.liars.loc["floor", "conditional"] < 0.99
    assert s.loglik == pytest.approx(r.loglik, abs=0.1)


# ---------------------------------------------------------------- bad input


def _problems(exc: pytest.ExceptionInfo) -> list:
    return list(exc.value.problems)


def test_bad_input(affirm):
    y = affirm.y.to_numpy().copy()
    y[4] = 7
    with pytest.raises(InputError) as e:
        ict_ml_liars(y, affirm.treat, affirm[COVS], J=3)
    p = _problems(e)
    assert p[0].where == "y" and p[0].row == 5 and p[0].value == 7

    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, affirm.treat, affirm[COVS], J=3, liar_X="all", liar_prior="flat",
                     ceiling="yes")  # fmt: skip
    where = {p.where: p for p in _problems(e)}
    assert set(where) == {"liar_X", "liar_prior", "ceiling"}
    assert where["liar_X"].value == "all" and where["liar_prior"].value == "flat"

    X = affirm[COVS].copy()
    X.loc[9, "age"] = np.nan
    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, affirm.treat, X, J=3)
    assert _problems(e)[0].where == "X[age]" and _problems(e)[0].row == 10

    treat = affirm.treat.astype(object).copy()
    treat[2] = "maybe"
    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, treat, affirm[COVS], J=3)
    assert _problems(e)[0].where == "treat" and _problems(e)[0].value == "maybe"

    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, affirm.treat, affirm[COVS], J=3, start=[0.0, 1.0])
    assert _problems(e)[0].where == "start"

    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, affirm.treat, affirm[COVS], J=3, weights=-np.ones(len(affirm)))
    assert _problems(e)[0].where == "weights"

    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, affirm.treat, affirm[COVS].iloc[:10], J=3)
    assert _problems(e)[0].where == "X"

    with pytest.raises(InputError) as e:
        ict_ml_liars(affirm.y, affirm.treat, affirm[COVS], J=3, liar_X=affirm[["age"]].iloc[:5])
    assert _problems(e)[0].where == "liar_X"
