"""combined_list_direct (Aronow, Coppock, Crawford & Green 2015) on combinedListExps.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segment.exceptions import InputError
from segment.listexp import combined_list_direct, difference_in_means

LISTEXP = Path(__file__).resolve().parents[3] / "shared" / "data" / "listexp"
JS = {1: 4, 2: 3, 3: 4, 4: 3, 5: 4}


@pytest.fixture(scope="module")
def cle() -> pd.DataFrame:
    path = LISTEXP / "combinedListExps.csv"
    if not path.is_file():
        pytest.skip("../shared/data/listexp/combinedListExps.csv is not beside this checkout")
    # as the R example: na.omit(combinedListExps), then subset(directsfirst == 1)
    d = pd.read_csv(path).dropna()
    return d[d.directsfirst == 1]


@pytest.mark.parametrize("k", range(1, 6))
def test_internal_consistency(cle, k):
    y, t, d = cle[f"list{k}N"], cle[f"list{k}treat"], cle[f"direct{k}"]
    r = combined_list_direct(y, t, d, JS[k])
    assert r.n == len(cle) == 500
    # identity: estimate = P(D=1) + P(D=0) * DiM among direct 'no'
    assert r.estimate == pytest.approx(r.direct_mean + (1 - r.direct_mean) * r.dim_no, abs=1e-12)
    no = d == 0
    dn = difference_in_means(y[no], t[no], J=JS[k])
    assert r.dim_no == pytest.approx(dn.estimate, abs=1e-12)
    assert r.dim_no_se == pytest.approx(dn.se, rel=1e-12)
    # it lies above the direct mean exactly when the list finds withholders among the 'no's
    assert (r.estimate >= r.direct_mean) == (r.dim_no >= 0)
    # direct answers are informative here (10-66% 'yes'): the combined SE is smaller
    assert r.se < r.dim_se
    full = difference_in_means(y, t, J=JS[k])
    assert r.dim_estimate == pytest.approx(full.estimate) and r.dim_se == pytest.approx(full.se)


@pytest.mark.parametrize("variance", ["proposition1", "delta"])
def test_se_matches_bootstrap(cle, variance):
    y = cle.list1N.to_numpy()
    t = cle.list1treat.to_numpy()
    d = cle.direct1.to_numpy()
    r = combined_list_direct(y, t, d, 4, variance=variance)
    assert r.variance == variance
    rng = np.random.default_rng(20150101)
    boots = []
    for _ in range(1000):  # stratified by arm, as the arms are fixed by design
        i1 = rng.choice(np.flatnonzero(t == 1), (t == 1).sum())
        i0 = rng.choice(np.flatnonzero(t == 0), (t == 0).sum())
        i = np.concatenate([i1, i0])
        boots.append(combined_list_direct(y[i], t[i], d[i], 4).estimate)
    assert r.se == pytest.approx(np.std(boots, ddof=1), rel=0.1)


def test_simulation_unbiased_and_placebo():
    # types: admitters, withholders, innocents (ACCG 2015 vignette-style design)
    rng = np.random.default_rng(7)
    n = 30_000
    typ = rng.choice(3, n, p=[0.3, 0.3, 0.4])
    Z = typ < 2
    D = (typ == 0).astype(int)
    t = rng.integers(0, 2, n)
    y = rng.binomial(3, 0.4, n) + t * Z
    r = combined_list_direct(y, t, D, 3)
    assert abs(r.estimate - 0.6) < 3 * r.se
    assert r.placebo.loc["I: DiM among direct yes = 1", "p_value"] > 0.001
    assert r.se < r.dim_se
    text = r.summary()
    assert "Placebo" in text and "combined" in text
    assert list(r.to_frame().index) == ["combined", "difference in means", "direct"]
    # false confessions (D = 1 without the trait) are caught by placebo test I
    D2 = D.copy()
    D2[(typ == 2) & (rng.random(n) < 0.5)] = 1
    bad = combined_list_direct(y, t, D2, 3)
    assert bad.placebo.loc["I: DiM among direct yes = 1", "p_value"] < 1e-6


def test_bad_input():
    with pytest.raises(InputError) as ei:
        combined_list_direct([0, 1, 2, 3, 1, 2], [0, 1, 0, 1, 0, 1], [0, 2, 0, 0, 1, 0], 3)
    p = ei.value.problems[0]
    assert (p.where, p.row, p.value) == ("direct", 2, 2)
    with pytest.raises(InputError, match="has 2 values"):
        combined_list_direct([0, 1, 2], [0, 1, 0], [0, 1], 3)
    with pytest.raises(InputError, match="answered 'no'"):
        combined_list_direct([0, 1, 2, 3], [0, 1, 0, 1], [1, 1, 1, 1], 3)


def test_variance_options_agree_on_large_sample():
    # both are consistent for the same asymptotic variance under ACCG's assumptions
    rng = np.random.default_rng(20150319)
    n = 200_000
    typ = rng.choice(3, n, p=[0.25, 0.2, 0.55])  # admitters, withholders, innocents
    Z = typ < 2
    D = (typ == 0).astype(int)
    t = rng.integers(0, 2, n)
    y = rng.binomial(4, 0.35, n) + t * Z
    p1 = combined_list_direct(y, t, D, 4)
    de = combined_list_direct(y, t, D, 4, variance="delta")
    assert (p1.variance, de.variance) == ("proposition1", "delta")
    # only the SE changes
    assert p1.estimate == de.estimate and p1.dim_se == de.dim_se
    assert p1.se == pytest.approx(de.se, rel=1e-3)  # about 5e-5 apart at this n
    assert p1.se < p1.dim_se and de.se < de.dim_se
    # Proposition 1 by hand (sample variances with ddof = 1, full arm sizes)
    tt, no = t == 1, D == 0
    Db = D.mean()
    v = (1 - p1.estimate) ** 2 * Db / (n * (1 - Db)) + (1 - Db) * (
        y[tt & no].var(ddof=1) / tt.sum() + y[~tt & no].var(ddof=1) / (~tt).sum()
    )
    assert p1.se == pytest.approx(np.sqrt(v), rel=1e-12)
    assert "Proposition 1" in p1.summary() and "delta method" in de.summary()
    # the truth is within reach of either interval
    assert abs(p1.estimate - 0.45) < 4 * p1.se


@pytest.mark.parametrize("bad", ["Proposition1", "bootstrap", "", None, 1])
def test_bad_variance(bad):
    with pytest.raises(InputError, match="invalid input") as ei:
        combined_list_direct(
            [0, 1, 2, 3, 1, 2], [0, 1, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0], 3, variance=bad
        )
    (p,) = ei.value.problems
    assert p.where == "variance" and p.value == bad
    assert "'proposition1' or 'delta'" in p.message
