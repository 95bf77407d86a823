"""ict_lm / ict_nls (Imai 2011 least squares) against Imai (2011) Table 1 on race.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from segment.exceptions import InputError
from segment.listexp import (
    difference_in_means,
    ict_lm,
    ict_ml,
    ict_nls,
    predict_prevalence,
)

LISTEXP = Path(__file__).resolve().parents[3] / "shared" / "data" / "listexp"
COVS = ["south", "age", "male", "college"]

# Imai (2011) Table 1, as printed by R list 9.2.6 tests (age / 10, so the age rows are x10):
# ictreg(y ~ south + age + male + college, data = race, treat = "treat", J = 3, method = "lm")
LM_SENS = [(-0.434, 0.160), (0.202, 0.118), (0.07, 0.03), (0.180, 0.098), (0.114, 0.098)]
LM_CTRL = [(2.406, 0.105), (-0.18, 0.074), (0.02, 0.02), (-0.202, 0.065), (-0.394, 0.064)]
# same call with method = "nls" (two-step NLS), Table 1 columns 3-4
NLS_SENS = [(-7.084, 3.669), (2.490, 1.268), (0.26, 0.31), (3.097, 2.929), (0.612, 1.03)]
NLS_CTRL = [(1.388, 0.187), (-0.277, 0.116), (0.03, 0.04), (-0.332, 0.107), (-0.662, 0.113)]


@pytest.fixture(scope="module")
def race() -> pd.DataFrame:
    path = LISTEXP / "race.csv"
    if not path.is_file():
        pytest.skip("../shared/data/listexp/race.csv is not beside this checkout")
    return pd.read_csv(path)


def test_lm_intercept_only_is_difference_in_means(race):
    # ictreg(y ~ 1, data = race, treat = "treat", J = 3, method = "lm"): 0.06780, HC3 SE 0.04962
    r = ict_lm(race.y, race.treat, None, 3)
    d = difference_in_means(race.y, race.treat, J=3)
    assert r.coef_sensitive.iloc[0] == pytest.approx(d.estimate, abs=1e-12)
    assert r.bse[0] == pytest.approx(0.04962, abs=5e-6)
    assert r.coef_control.iloc[0] == pytest.approx(d.mean_control, abs=1e-12)
    # HC2 equals the Neyman SE exactly in the two-group regression
    assert ict_lm(race.y, race.treat, None, cov_type="HC2").bse[0] == pytest.approx(d.se, rel=1e-10)


@pytest.mark.parametrize("k", range(5))
def test_lm_table1(race, k):
    r = ict_lm(race.y, race.treat, race[COVS], 3)
    for part, ref, off in (("sensitive", LM_SENS, 0), ("control", LM_CTRL, 5)):
        est, se = ref[k]
        scale = 10 if COVS[k - 1] == "age" and k > 0 else 1  # published age rows are per year
        assert round(r.params[off + k] / scale, 3) * scale == pytest.approx(est, abs=6e-3), part
        assert r.bse[off + k] == pytest.approx(se, abs=6e-3), part


@pytest.mark.parametrize("k", range(5))
def test_nls_two_step_table1(race, k):
    r = ict_nls(race.y, race.treat, race[COVS], 3)
    assert r.method == "nls-two-step" and r.converged
    for ref, off in ((NLS_SENS, 0), (NLS_CTRL, 5)):
        est, se = ref[k]
        assert r.params[off + k] == pytest.approx(est, abs=0.01)
        # our sandwich is within 4% of the published SEs (male: 2.82 vs 2.929)
        assert r.bse[off + k] == pytest.approx(se, rel=0.04, abs=6e-3)


def test_nls_near_ml_and_prevalence(race):
    nls = ict_nls(race.y, race.treat, race[COVS], 3)
    ml = ict_ml(race.y, race.treat, race[COVS], 3)
    # ML is the efficient estimator: the two agree within 1.5 NLS SEs (age and the control
    # intercept differ by 1.2 and 1.05 SEs) and the NLS SEs are the larger
    assert np.all(np.abs(nls.params - ml.params) < 1.5 * nls.bse)
    assert np.all(nls.bse > ml.bse)
    pn = predict_prevalence(nls, race[COVS])
    pm = predict_prevalence(ml, race[COVS])
    # average prevalence: NLS 0.088 (SE 0.038) vs ML 0.155 (SE 0.027)
    assert abs(pn.estimate - pm.estimate) < 2 * pn.se
    lm = ict_lm(race.y, race.treat, race[COVS], 3)
    pl = predict_prevalence(lm, race[COVS])
    Xm = np.column_stack([np.ones(len(race)), race[COVS]])
    assert pl.estimate == pytest.approx(float((Xm @ lm.coef_sensitive.to_numpy()).mean()))


def test_nls_intercept_only_is_difference_in_means(race):
    d = difference_in_means(race.y, race.treat, J=3)
    for est in ("two-step", "joint"):
        r = ict_nls(race.y, race.treat, None, 3, estimator=est)
        assert special.expit(r.params[0]) == pytest.approx(d.estimate, abs=1e-6)
        assert 3 * special.expit(r.params[1]) == pytest.approx(d.mean_control, abs=1e-6)


def test_nls_joint_warns_at_boundary_on_race(race):
    # the joint criterion on race is flat towards male -> +inf (female prevalence -> 0)
    with pytest.warns(RuntimeWarning, match="interior minimum"):
        ict_nls(race.y, race.treat, race[COVS], 3, estimator="joint")


def test_simulation_recovery():
    rng = np.random.default_rng(11)
    n, J = 40_000, 4
    x = rng.normal(size=n)
    X = pd.DataFrame({"x": x})
    delta, psi = np.array([-0.5, 1.0]), np.array([0.2, -0.5])
    t = rng.integers(0, 2, n)
    z = rng.random(n) < special.expit(delta[0] + delta[1] * x)
    ystar = rng.binomial(J, special.expit(psi[0] + psi[1] * x))
    y = ystar + t * z
    truth = np.concatenate([delta, psi])
    for est in ("two-step", "joint"):
        r = ict_nls(y, t, X, J, estimator=est)
        assert r.converged
        assert np.all(np.abs(r.params - truth) < 4 * r.bse), est
        assert np.all(r.bse < 0.1)
    lm = ict_lm(y, t, X, J)
    # linear probability model: the average slope of the sensitive part is E[g'(.)] * 1.0
    assert lm.coef_sensitive.iloc[0] == pytest.approx(
        special.expit(delta[0] + delta[1] * x).mean(), abs=0.03
    )


def test_result_objects_and_weights(race):
    r = ict_nls(race.y, race.treat, race[COVS], 3)
    f = r.to_frame()
    assert list(f.columns) == ["coef", "se", "z", "p_value", "ci_low", "ci_high"]
    assert f.loc[("control", "south"), "coef"] == pytest.approx(r.coef_control["south"])
    assert "two-step" in r.summary() and "sensitive item" in str(r)
    w = ict_nls(race.y, race.treat, race[COVS], 3, weights=np.ones(len(race)))
    assert np.allclose(w.params, r.params, atol=1e-6) and w.weighted
    a = ict_lm(race.y, race.treat, race[COVS], 3)
    b = ict_lm(race.y, race.treat, race[COVS], 3, weights=np.full(len(race), 2.5))
    assert np.allclose(a.params, b.params) and np.allclose(a.bse, b.bse)


def test_bad_input():
    with pytest.raises(InputError) as ei:
        ict_lm([0, 1, 2, 9], [0, 1, 0, 1], None, 3, cov_type="HC9")
    assert {p.where for p in ei.value.problems} == {"cov_type"}
    with pytest.raises(InputError, match="estimator"):
        ict_nls([0, 1, 2, 3], [0, 1, 0, 1], None, 3, estimator="gauss")
    X = pd.DataFrame({"a": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0], "b": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})
    with pytest.raises(InputError, match="collinear"):
        ict_lm([0, 1, 2, 1, 2, 3], [0, 1, 0, 1, 0, 1], X, 3)
    with pytest.raises(InputError) as ei:
        ict_nls([0, 5, 1, 2], [0, 1, 0, 1], None, 3)
    assert ("y", 2) in {(p.where, p.row) for p in ei.value.problems}


@pytest.mark.parametrize("estimator", [ict_lm, ict_nls, ict_ml])
def test_a_count_that_never_varies_is_refused(estimator):
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, 120)
    X = rng.normal(size=(120, 2))
    with pytest.raises(InputError, match="every respondent gave the same item count"):
        estimator(np.full(120, 2), t, X, J=3)


@pytest.mark.parametrize("arm", [0, 1])
@pytest.mark.parametrize("estimator", [ict_lm, ict_nls])
def test_least_squares_refuses_an_arm_without_residual_variance(estimator, arm):
    rng = np.random.default_rng(4)
    t = rng.integers(0, 2, 120)
    y = np.where(t == arm, 1, rng.integers(0, 4, 120))
    name = "control" if arm == 0 else "treatment"
    with pytest.raises(InputError, match=f"every respondent in {name} gave the same"):
        estimator(y, t, rng.normal(size=(120, 2)), J=3)
    # maximum likelihood has a binomial for the control counts and is defined there
    assert np.isfinite(ict_ml(y, t, rng.normal(size=(120, 2)), J=3).params).all()
