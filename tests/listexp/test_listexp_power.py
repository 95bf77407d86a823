"""power_list_experiment / sample_size_list_experiment: formula vs Monte Carlo and the memo's N."""

from __future__ import annotations

import numpy as np
import pytest

from segment.exceptions import InputError
from segment.listexp import power_list_experiment, sample_size_list_experiment


@pytest.mark.parametrize(
    "n,J,ps,f,p",
    [(400, 4, 0.56, 0.5, 0.5), (1000, 3, 0.1, 0.6, 0.3), (250, 5, 0.3, 0.4, 0.7)],
)
def test_formula_matches_monte_carlo(n, J, ps, f, p):
    rng = np.random.default_rng(2022)
    reps = 4000
    n1 = round(f * n)
    n0 = n - n1
    yc = rng.binomial(J, p, (reps, n0))
    yt = rng.binomial(J, p, (reps, n1)) + (rng.random((reps, n1)) < ps)
    dim = yt.mean(1) - yc.mean(1)
    r = power_list_experiment(n, J, prevalence=ps, treated_share=n1 / n, p_control=p)
    assert r.se == pytest.approx(dim.std(ddof=1), rel=0.05)
    cover = np.mean(np.abs(dim - ps) <= r.half_width)
    assert cover == pytest.approx(0.95, abs=0.015)
    assert r.power == pytest.approx(np.mean(np.abs(dim / r.se) > 1.959964), abs=0.03)


def test_memo_n400_is_about_20_points():
    # PONARS memo 806: N = 400, J = 4, support ~ 56%; "roughly +-20 points"
    r = power_list_experiment(400, 4, prevalence=0.56)
    assert r.half_width == pytest.approx(0.207, abs=0.002)
    s = sample_size_list_experiment(0.20, 4, prevalence=0.56)
    assert s.n == 432 and s.n_treat == s.n_control == 216
    assert s.n == pytest.approx(400, rel=0.1) and s.half_width <= 0.20


def test_design_effect_and_vectorised():
    base = sample_size_list_experiment(0.05, 4)
    # e.g. a national sample with an Almaty/Astana oversample weighted back: deff 1.5
    over = sample_size_list_experiment(0.05, 4, deff=1.5)
    assert over.n == pytest.approx(1.5 * base.n, abs=2)
    hw = power_list_experiment(np.array([400, 1600]), 4).half_width
    assert hw[0] == pytest.approx(2 * hw[1])
    ns = sample_size_list_experiment(np.array([0.2, 0.1]), 4, control_var=[1.0, 0.5]).n
    assert ns.shape == (2,) and np.all(ns > 0)
    # an unequal split: optimal share favours the (noisier) treated arm slightly
    a = power_list_experiment(1000, 4, treated_share=0.5).se
    b = power_list_experiment(1000, 4, treated_share=np.sqrt(1.25) / (1 + np.sqrt(1.25))).se
    assert b < a


def test_bad_input():
    with pytest.raises(InputError) as ei:
        power_list_experiment(400, 0, prevalence=1.5, treated_share=1.0, deff=-1)
    wheres = {p.where for p in ei.value.problems}
    assert wheres == {"J", "prevalence", "treated_share", "deff"}
    with pytest.raises(InputError, match="half-width"):
        sample_size_list_experiment(0, 4)
    with pytest.raises(InputError, match="sample size"):
        power_list_experiment(1, 4)
