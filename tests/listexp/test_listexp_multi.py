"""Tests of segment.listexp.multi: the multiple-sensitive-item ML estimator of Blair & Imai (2012,
Section 2.2) on the 1991 NRPS data (../shared/data/listexp/multi.csv, race.csv) and on simulated
data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special

from segment.exceptions import InputError
from segment.listexp import ict_ml
from segment.listexp.multi import ICTMultiMLResult, _MultiModel, _start, ict_ml_multi

LISTEXP = Path(__file__).resolve().parents[3] / "shared" / "data" / "listexp"
TABLE3_COVS = ["male", "college", "age", "south", "south:age"]


def _table3_X(d: pd.DataFrame) -> pd.DataFrame:
    # Blair & Imai (2012) Table 3: y ~ male + college + age + south + south:age (age = years / 10)
    X = d[["male", "college", "age", "south"]].astype(float).copy()
    X["south:age"] = d.south * d.age
    return X


@pytest.fixture(scope="module")
def multi() -> pd.DataFrame:
    path = LISTEXP / "multi.csv"
    if not path.is_file():
        pytest.skip("../shared/data/listexp/multi.csv is not beside this checkout")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def race() -> pd.DataFrame:
    path = LISTEXP / "race.csv"
    if not path.is_file():
        pytest.skip("../shared/data/listexp/race.csv is not beside this checkout")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def fit_level(multi) -> ICTMultiMLResult:
    # ictreg(y ~ male + college + age + south + south:age, treat = "treat", J = 3,
    #        data = multi, method = "ml", multi.condition = "level")
    return ict_ml_multi(multi.y, multi.treat, _table3_X(multi), J=3, condition="level")


@pytest.fixture(scope="module")
def fit_none(multi) -> ICTMultiMLResult:
    return ict_ml_multi(multi.y, multi.treat, _table3_X(multi), J=3, condition="none")


# ------------------------------------------------------------------------ Table 3 (real data)

# Blair & Imai (2012), "Statistical Analysis of List Experiments", Political Analysis 20(1):47-77,
# Table 3, p. 59 (Section 2.5.1): ML for the multiple-sensitive-item design, 1991 NRPS, N = 1795,
# J = 3, the two treatment arms and the control group fitted jointly; the sensitive-item logits
# include the control count ("Control items Y_i(0)" row = multi.condition "level", eq. 13);
# covariates male, college, age (years / 10), south, south x age. 3 decimals printed.
# {(block, term): (estimate, se)}; "race" = "A Black Family Moving Next Door to You",
# "affirm" = "Black Leaders Asking the Government for Affirmative Action".
TABLE3_PUBLISHED: dict[tuple[str, str], tuple[float, float]] = {
    ("race", "(Intercept)"): (-7.575, 1.539),
    ("race", "male"): (1.200, 0.569),
    ("race", "college"): (-0.259, 0.496),
    ("race", "age"): (0.852, 0.220),
    ("race", "south"): (4.751, 1.850),
    ("race", "south:age"): (-0.643, 0.347),
    ("race", "Y(0)"): (0.267, 0.252),
    ("affirm", "(Intercept)"): (-5.270, 1.268),
    ("affirm", "male"): (0.538, 0.435),
    ("affirm", "college"): (-0.552, 0.399),
    ("affirm", "age"): (0.579, 0.147),
    ("affirm", "south"): (5.660, 2.429),
    ("affirm", "south:age"): (-0.833, 0.418),
    ("affirm", "Y(0)"): (0.991, 0.264),
    ("control", "(Intercept)"): (1.389, 0.143),
    ("control", "male"): (-0.325, 0.076),
    ("control", "college"): (-0.533, 0.074),
    ("control", "age"): (0.006, 0.028),
    ("control", "south"): (-0.685, 0.297),
    ("control", "south:age"): (0.093, 0.061),
}
HALF_UNIT = 5e-4 + 1e-9  # half a unit in the 3rd printed decimal

# Five of the 40 printed figures are not the roundings of the exact maximum likelihood estimates
# (ours: gradient < 1e-12, unique maximum from many starts; loglik -2223.394301). Four miss by
# 0.501-0.511 of a unit in the last digit (our values sit on a rounding boundary), one by 0.72.
# All 40 printed figures -- these five included -- ARE reproduced by an EM iterate stopped
# about 1e-6 log-likelihood units short of the maximum while approaching it along EM's slow
# direction (mostly the affirm south coefficient); see
# test_table3_printed_figures_match_early_stopped_em. So the paper's column is a
# not-quite-converged EM point, not a different model, scaling or local maximum.
_EM_NOTE = (
    "not a bug: the printed table matches an EM iterate stopped ~1e-6 loglik short of the "
    "maximum (test_table3_printed_figures_match_early_stopped_em); the exact MLE "
)
TABLE3_NOT_AT_MLE = {
    (("control", "male"), "coef"): "gives -0.32551 (rounds to -0.326; printed -0.325)",
    (("control", "south"), "se"): "SE is 0.29649 (rounds to 0.296; printed 0.297)",
    (("affirm", "south"), "coef"): "gives 5.66072 (rounds to 5.661; printed 5.660)",
    (("affirm", "south:age"), "coef"): "gives -0.833501 (rounds to -0.834; printed -0.833)",
    (("affirm", "Y(0)"), "coef"): "gives 0.991505 (rounds to 0.992; printed 0.991)",
}


def _table3_cases():
    for key in TABLE3_PUBLISHED:
        for what in ("coef", "se"):
            why = TABLE3_NOT_AT_MLE.get((key, what))
            marks = [pytest.mark.xfail(strict=True, reason=_EM_NOTE + why)] if why else []
            yield pytest.param(key, what, marks=marks, id=f"{key[0]}-{key[1]}-{what}")


@pytest.mark.parametrize(("key", "what"), list(_table3_cases()))
def test_table3_published(fit_level, key, what):
    """Our ML estimates against Blair & Imai (2012) Table 3 at the printed precision."""
    est, se = TABLE3_PUBLISHED[key]
    printed = est if what == "coef" else se
    assert fit_level.to_frame().loc[key, what] == pytest.approx(printed, abs=HALF_UNIT)


def test_table3_printed_figures_match_early_stopped_em(multi, fit_level):
    """The whole printed Table 3 (all 20 coefficients and 20 SEs) is reproduced by plain EM
    (exact M-steps) from our starting values, stopped when an iteration gains < 1e-8 in
    log-likelihood, with SEs from the observed information at that iterate. That iterate is
    within 2e-6 of the maximum log-likelihood but has not converged along EM's slow direction:
    the affirm south coefficient is still ~1e-3 short. This is how the paper's figures can be
    off the exact MLE in the last digit (the five xfails above). From an all-zero start EM
    approaches from the opposite side and never matches all 40 figures, so this is evidence of
    early stopping, not a claim about the start or settings the authors used."""
    Xm = np.column_stack([np.ones(len(multi)), _table3_X(multi).to_numpy()])
    code = multi.treat.map({"control": -1, "affirm": 0, "race": 1}).to_numpy()
    yf = multi.y.to_numpy(float)
    m = _MultiModel(Xm, yf, code, 2, 3, None, True)
    th = _start(m, Xm, yf, code, None, True)
    ll = m.loglik(th)
    for _ in range(1000):
        th = m.mstep(th, n_newton=25)
        ll_new = m.loglik(th)
        gain, ll = ll_new - ll, ll_new
        if gain < 1e-8:
            break
    assert fit_level.loglik - 2e-6 < ll < fit_level.loglik
    se = np.sqrt(np.diag(np.linalg.inv(-m.derivatives(th)[2])))
    # fit_level's parameter order: control, affirm, race (arms sorted)
    terms = ["(Intercept)", *TABLE3_COVS]
    keys = [("control", t) for t in terms]
    keys += [(arm, t) for arm in ("affirm", "race") for t in [*terms, "Y(0)"]]
    assert sorted(keys) == sorted(TABLE3_PUBLISHED)
    printed = np.array([TABLE3_PUBLISHED[k] for k in keys])
    assert np.all(np.abs(th - printed[:, 0]) <= HALF_UNIT)
    assert np.all(np.abs(se - printed[:, 1]) <= HALF_UNIT)
    # ...whereas the exact maximum misses exactly the five figures marked xfail above
    f = fit_level.to_frame()
    missed = {
        (k, w)
        for k, (e, s) in TABLE3_PUBLISHED.items()
        for w, v in (("coef", e), ("se", s))
        if abs(f.loc[k, w] - v) > HALF_UNIT
    }
    assert missed == set(TABLE3_NOT_AT_MLE)
    i = keys.index(("affirm", "south"))
    assert fit_level.params[i] - th[i] > 5e-4


# Our own estimates for the Table 3 model (3 decimals), pinned as a regression guard. They are
# NOT all the published figures (5 of the 40 differ in the last digit, see above); the checks
# that they are the maximum likelihood estimates are the tests below (multi-start, analytic =
# numerical derivatives, special case = Imai 2011 / R).
PINNED_LEVEL = {
    "control": [
        (1.389, 0.143),
        (-0.326, 0.076),
        (-0.533, 0.074),
        (0.006, 0.028),
        (-0.685, 0.296),
        (0.093, 0.061),
    ],
    "race": [
        (-7.575, 1.539),
        (1.200, 0.569),
        (-0.259, 0.496),
        (0.852, 0.220),
        (4.751, 1.850),
        (-0.643, 0.347),
        (0.267, 0.252),
    ],
    "affirm": [
        (-5.270, 1.268),
        (0.538, 0.435),
        (-0.552, 0.399),
        (0.579, 0.147),
        (5.661, 2.429),
        (-0.834, 0.418),
        (0.992, 0.264),
    ],
}


@pytest.mark.parametrize("block", ["control", "race", "affirm"])
def test_table3_model_pinned(fit_level, block):
    assert fit_level.converged
    assert fit_level.loglik == pytest.approx(-2223.3943, abs=5e-4)
    f = fit_level.to_frame().loc[block]
    terms = ["(Intercept)", *TABLE3_COVS] + ([] if block == "control" else ["Y(0)"])
    assert list(f.index) == terms
    for term, (est, se) in zip(terms, PINNED_LEVEL[block], strict=True):
        assert f.loc[term, "coef"] == pytest.approx(est, abs=5e-4 + 1e-9), term
        assert f.loc[term, "se"] == pytest.approx(se, abs=5e-4 + 1e-9), term


def test_table3_design(fit_level, multi):
    assert fit_level.n == 1795
    assert fit_level.n_arm == {"control": 589, "affirm": 582, "race": 624}
    assert fit_level.arms == ("affirm", "race")  # sorted labels
    assert fit_level.J == 3
    assert fit_level.n_params == 6 + 2 * 7


def test_level_loglik_maximised_from_other_starts(fit_level, multi):
    """No other start reaches a higher log-likelihood (BFGS on the observed-data likelihood)."""
    Xm = np.column_stack([np.ones(len(multi)), _table3_X(multi).to_numpy()])
    code = multi.treat.map({"control": -1, "affirm": 0, "race": 1}).to_numpy()
    m = _MultiModel(Xm, multi.y.to_numpy(float), code, 2, 3, None, True)
    assert m.loglik(fit_level.params) == pytest.approx(fit_level.loglik, abs=1e-9)
    rng = np.random.default_rng(2012)
    for _ in range(4):
        th0 = fit_level.params + rng.normal(0.0, 1.0, fit_level.params.size)
        res = optimize.minimize(
            lambda t: -m.loglik(t),
            th0,
            jac=lambda t: -m.derivatives(t, need_hessian=False)[1],
            method="BFGS",
            options={"maxiter": 3000, "gtol": 1e-6},
        )
        assert -res.fun <= fit_level.loglik + 1e-6
        if -res.fun > fit_level.loglik - 1e-4:  # found the same maximum
            assert np.max(np.abs(res.x - fit_level.params)) < 1e-3


def test_level_nests_none(fit_level, fit_none):
    # "none" is "level" with theta_t = 0, so its maximum can be no higher
    assert fit_none.converged
    assert fit_none.loglik == pytest.approx(-2233.6266, abs=5e-4)
    assert fit_level.loglik > fit_none.loglik
    assert "Y(0)" not in fit_none.coef_sensitive("race").index
    assert fit_none.n_params == 6 + 2 * 6


@pytest.mark.parametrize("condition", ["level", "none"])
def test_analytic_derivatives_match_numerical(multi, fit_level, condition):
    Xm = np.column_stack([np.ones(len(multi)), _table3_X(multi).to_numpy()])
    code = multi.treat.map({"control": -1, "affirm": 0, "race": 1}).to_numpy()
    s = np.random.default_rng(3).uniform(0.5, 2.0, len(multi))
    m = _MultiModel(Xm, multi.y.to_numpy(float), code, 2, 3, s, condition == "level")
    rng = np.random.default_rng(4)
    th = rng.normal(0, 0.05, m.P)
    th[: m.p] += fit_level.params[: m.p]
    _, g, H, _ = m.derivatives(th)
    h = 1e-5
    eye = np.eye(m.P)
    g_num = np.array([(m.loglik(th + h * e) - m.loglik(th - h * e)) / (2 * h) for e in eye])
    H_num = np.array(
        [
            (m.derivatives(th + h * e, need_hessian=False)[1] - m.derivatives(th - h * e, False)[1])
            / (2 * h)
            for e in eye
        ]
    )
    assert np.max(np.abs(g - g_num)) < 1e-4 * (1 + np.max(np.abs(g)))
    assert np.max(np.abs(H - H_num)) < 1e-6 * np.max(np.abs(H))


# ------------------------------------------- one sensitive item: the Imai (2011) model and R


SENS = [(-5.508, 1.021), (1.675, 0.559), (0.636, 0.163), (0.846, 0.494), (-0.315, 0.474)]
CTRL = [(1.191, 0.144), (-0.292, 0.097), (0.033, 0.028), (-0.251, 0.082), (-0.516, 0.084)]


def test_one_arm_none_is_imai2011_constrained(race, multi):
    """With one arm and condition="none" the model is Imai's (2011) constrained ML model:
    R list 9.2.6, ictreg(y ~ south + age + male + college, data = race, treat = "treat",
    J = 3, method = "ml", constrained = TRUE): log-likelihood -1444.394 (README reference)."""
    covs = ["south", "age", "male", "college"]
    r = ict_ml_multi(race.y, race.treat, race[covs], J=3, control=0, condition="none")
    assert r.arms == ("1",) and r.control_label == "0"
    assert r.loglik == pytest.approx(-1444.394, abs=5e-4)
    for k, (est, se) in enumerate(CTRL):
        assert r.coef_control.iloc[k] == pytest.approx(est, abs=1e-3)
        assert r.se_control.iloc[k] == pytest.approx(se, rel=0.02)
    for k, (est, se) in enumerate(SENS):
        assert r.coef_sensitive(1).iloc[k] == pytest.approx(est, abs=1e-3)
        assert r.se_sensitive("1").iloc[k] == pytest.approx(se, rel=0.02)
    # and it equals this package's ict_ml to the last digits
    a = ict_ml(race.y, race.treat, race[covs], 3)
    p = len(covs) + 1
    np.testing.assert_allclose(r.params[p:], a.params[:p], atol=1e-6)
    np.testing.assert_allclose(r.params[:p], a.params[p:], atol=1e-6)
    np.testing.assert_allclose(r.bse[p:], a.bse[:p], rtol=1e-5)
    # the control + black-family rows of multi.csv are the race.csv respondents
    sub = multi[multi.treat != "affirm"]
    s = ict_ml_multi(sub.y, sub.treat, sub[covs], J=3, condition="none")
    assert s.loglik == pytest.approx(r.loglik, abs=1e-8)
    np.testing.assert_allclose(s.params, r.params, atol=1e-6)


# ------------------------------------------------------------------------ simulated data


def _simulate(rng, n, condition, J=3):
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    X = pd.DataFrame({"x1": x1, "x2": x2})
    Xm = np.column_stack([np.ones(n), x1, x2])
    psi = np.array([-0.3, 0.5, -0.4])
    deltas = {"a": np.array([-1.0, 0.8, 0.5]), "b": np.array([0.3, -0.6, -0.5])}
    thetas = {"a": 0.5, "b": -0.4} if condition == "level" else {"a": 0.0, "b": 0.0}
    treat = rng.choice(np.array(["control", "a", "b"]), n)
    y0 = rng.binomial(J, special.expit(Xm @ psi))
    y = y0.copy()
    for arm in ("a", "b"):
        m = treat == arm
        eta = Xm[m] @ deltas[arm] + thetas[arm] * y0[m]
        y[m] += rng.binomial(1, special.expit(eta))
    truth = [*psi]
    for arm in ("a", "b"):
        truth += [*deltas[arm]] + ([thetas[arm]] if condition == "level" else [])
    return y, treat, X, np.array(truth)


@pytest.mark.parametrize("condition", ["level", "none"])
def test_recovers_simulated_parameters(condition):
    rng = np.random.default_rng(20120 + len(condition))
    y, treat, X, truth = _simulate(rng, 9000, condition)
    r = ict_ml_multi(y, treat, X, J=3, condition=condition)
    assert r.converged
    z = (r.params - truth) / r.bse
    assert np.all(np.abs(z) < 4), z
    assert np.mean(np.abs(z) < 1.96) >= 0.7
    # a constant-free check of the layout
    assert r.coef_sensitive("a").index[-1] == ("Y(0)" if condition == "level" else "x2")


# ------------------------------------------------------------------------ weights


@pytest.fixture(scope="module")
def sim_small():
    return _simulate(np.random.default_rng(7), 1500, "level")


@settings(max_examples=12, deadline=None)
@given(c=st.floats(min_value=0.05, max_value=20.0, allow_nan=False))
def test_constant_weights_equal_unweighted(sim_small, c):
    y, treat, X, _ = sim_small
    a = ict_ml_multi(y, treat, X, J=3)
    b = ict_ml_multi(y, treat, X, J=3, weights=np.full(len(y), c), cov_type="oim")
    np.testing.assert_allclose(b.params, a.params, atol=1e-7)
    assert b.loglik == pytest.approx(c * a.loglik, rel=1e-9)
    np.testing.assert_allclose(b.cov * c, a.cov, rtol=1e-5, atol=1e-10)
    assert b.weighted and not a.weighted


def test_unit_weights_equal_unweighted(sim_small):
    y, treat, X, _ = sim_small
    a = ict_ml_multi(y, treat, X, J=3)
    b = ict_ml_multi(y, treat, X, J=3, weights=np.ones(len(y)), cov_type="oim")
    np.testing.assert_allclose(b.params, a.params, atol=1e-9)
    np.testing.assert_allclose(b.cov, a.cov, rtol=1e-7)
    assert b.loglik == pytest.approx(a.loglik, abs=1e-9)
    # with weights the default SE is the sandwich
    assert ict_ml_multi(y, treat, X, J=3, weights=np.ones(len(y))).cov_type == "robust"


def test_integer_weights_equal_replication_and_zero_weights_drop(sim_small):
    y, treat, X, _ = sim_small
    w = np.random.default_rng(8).integers(0, 3, len(y))
    r = ict_ml_multi(y, treat, X, J=3, weights=w, cov_type="oim")
    rep = np.repeat(np.arange(len(y)), w)
    u = ict_ml_multi(y[rep], treat[rep], X.iloc[rep], J=3)
    np.testing.assert_allclose(r.params, u.params, atol=1e-7)
    np.testing.assert_allclose(r.cov, u.cov, rtol=1e-5)
    assert r.n == int(np.sum(w > 0))


# ------------------------------------------------------------------------ invariances, API


def test_row_order_invariance(multi, fit_level):
    perm = np.random.default_rng(1).permutation(len(multi))
    d = multi.iloc[perm].reset_index(drop=True)
    r = ict_ml_multi(d.y, d.treat, _table3_X(d), J=3, condition="level")
    assert r.arms == fit_level.arms
    np.testing.assert_allclose(r.params, fit_level.params, atol=1e-7)
    np.testing.assert_allclose(r.bse, fit_level.bse, rtol=1e-6)
    assert r.loglik == pytest.approx(fit_level.loglik, abs=1e-8)


def test_numeric_labels_and_arm_order(multi, fit_level):
    X = _table3_X(multi)
    code = multi.treat.map({"control": 0, "race": 1, "affirm": 2}).to_numpy()
    r = ict_ml_multi(multi.y, code, X, J=3)  # control defaults to 0 when "control" is absent
    assert r.control_label == "0" and r.arms == ("1", "2")
    pd.testing.assert_series_equal(r.coef_sensitive(1), fit_level.coef_sensitive("race"))
    o = ict_ml_multi(multi.y, multi.treat, X, J=3, arms=["race", "affirm"])
    assert o.arms == ("race", "affirm")
    pd.testing.assert_series_equal(o.coef_sensitive("affirm"), fit_level.coef_sensitive("affirm"))
    pd.testing.assert_series_equal(o.se_sensitive("race"), fit_level.se_sensitive("race"))
    pd.testing.assert_series_equal(o.coef_control, fit_level.coef_control)
    with pytest.raises(KeyError):
        o.coef_sensitive("nope")
    # J inferred from the data (max control count 3)
    assert ict_ml_multi(multi.y, multi.treat, X).J == 3
    # names for an array X
    a = ict_ml_multi(multi.y, multi.treat, X.to_numpy(), J=3, names=TABLE3_COVS)
    assert a.names == ["(Intercept)", *TABLE3_COVS]
    np.testing.assert_allclose(a.params, fit_level.params)


def test_to_frame_summary_str(fit_level):
    f = fit_level.to_frame(level=0.9)
    assert f.index.names == ["block", "term"]
    assert list(f.index.get_level_values(0).unique()) == ["control", "affirm", "race"]
    assert len(f) == fit_level.n_params
    assert list(f.columns) == ["coef", "se", "z", "p_value", "ci_low", "ci_high"]
    np.testing.assert_allclose(f.coef, fit_level.params)
    np.testing.assert_allclose(f.ci_high - f.coef, 1.6448536 * f.se, rtol=1e-6)
    assert f.loc[("race", "Y(0)"), "coef"] == fit_level.coef_sensitive("race")["Y(0)"]
    text = fit_level.summary()
    assert "sensitive item: race" in text and "control items" in text and "Y(0)" in text
    assert "log-likelihood = -2223.394" in text
    assert str(fit_level) == text
    with pytest.raises(AttributeError):
        fit_level.loglik = 0.0  # frozen


# ------------------------------------------------------------------------ bad input


def _problems(**kw):
    with pytest.raises(InputError) as ei:
        ict_ml_multi(**kw)
    return {(p.where, p.row): p for p in ei.value.problems}


def test_bad_counts_name_column_row_value():
    y = [0, 4, 2, 5, 1, 3, 2.5]
    t = ["control", "control", "race", "affirm", "race", "affirm", "race"]
    found = _problems(y=y, treat=t, J=3)
    assert found[("y", 2)].value == 4 and "0..3" in found[("y", 2)].message  # control > J
    assert found[("y", 4)].value == 5 and "0..4" in found[("y", 4)].message  # arm > J + 1
    assert ("y", 7) in found  # not a whole number
    assert ("y", 6) not in found  # 3 is fine in an arm


def test_bad_treat_labels():
    y, t = [1, 2, 3, 1, 0], ["control", "race", "affirm", "race", None]
    found = _problems(y=y, treat=t, J=3)
    assert ("treat", 5) in found and "missing" in found[("treat", 5)].message
    found = _problems(y=y[:4], treat=t[:4], J=3, arms=["race"])
    assert (
        found[("treat", 3)].value == "affirm"
        and "not among the arms" in found[("treat", 3)].message
    )
    found = _problems(y=y[:4], treat=["c", "race", "affirm", "race"], J=3)
    assert "control label" in found[("treat", None)].message
    found = _problems(y=y[:4], treat=["control"] * 4, J=3)
    assert "no treatment arm" in found[("treat", None)].message


def test_empty_arm():
    y, t = [1, 2, 3, 1], ["control", "race", "affirm", "race"]
    found = _problems(y=y, treat=t, J=3, arms=["race", "affirm", "other"])
    assert "'other' has no respondents" in found[("treat", None)].message
    found = _problems(y=y, treat=t, J=3, weights=[1, 1, 0, 1])
    assert "'affirm' has no respondents with positive weight" in found[("treat", None)].message


def test_bad_options_weights_and_X():
    y, t = [1, 2, 3, 1], [0, 1, 2, 1]
    assert ("condition", None) in _problems(y=y, treat=t, J=3, condition="indicators")
    assert ("cov_type", None) in _problems(y=y, treat=t, J=3, cov_type="hc3")
    found = _problems(y=y, treat=t, J=3, weights=[1, -1, np.nan, 1])
    assert ("weights", 2) in found and ("weights", 3) in found
    assert ("treat", None) in _problems(y=y, treat=t[:3], J=3)  # length
    assert ("names", None) in _problems(y=y, treat=t, X=np.ones((4, 2)), J=3, names=["a"])
    X = pd.DataFrame({"a": [1.0, np.nan, 2.0, 3.0]})
    assert ("X[a]", 2) in _problems(y=y, treat=t, X=X, J=3)
