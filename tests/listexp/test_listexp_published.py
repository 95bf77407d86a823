"""segment.listexp against figures PRINTED in the papers (not against R output).

Data: ../shared/data/listexp (the data sets of the R package ``list`` 9.2.6, see its README).
Each expected value is copied from the paper named in the comment; the tolerance is half a unit
of the last printed digit (the figure must round to what the paper prints), never wider.

Sources and what they allow:

* Aronow, Coppock, Crawford & Green (2015), JSSAM 3(1): 43-66 ("ACCG"), Section 5: Tables 1, 3-8
  on combinedListExps.csv. Study A = ``directsfirst == 1`` (n = 500), Study B = ``directsfirst
  == 0`` (n = 514), after dropping the 9 incomplete rows (n = 1,014, p. 52). Lists 1-5 are
  Nuclear power, Public transportation, Spanish speaking, Muslim teachers, CNN (Appendix A);
  J = 4, 3, 4, 3, 4 (the control lists in Table A1).
* Blair & Imai (2012), Political Analysis 20(1): 47-77 ("B&I"): Table 2 (frequencies), p. 49
  (race DiM SE), Table 6 and Section 3.4 (design-effect test), Table 7 columns 1-2 and
  footnote 26 (ML on affirm). Table pages are read off the stored text's page stamps and may be
  off by one; the test p-values are on p. 69.

Not checked here (see the module's report): B&I's South minus non-South difference 0.250
(SE 0.095) is the mean of Monte Carlo draws (our plug-in is 0.2625; the mean of draws from our
fit is about 0.251); B&I's mis results are only a figure (Fig. 3) plus two differences (44.5 and
51.5 points) whose specification is not recoverable from the paper; Imai, Park & Greene (2015)
(mexico.csv) could not be read, and its Tables 4-5 need ``ictreg.joint``, not implemented.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from segment.listexp import (
    combined_list_direct,
    design_effect_test,
    difference_in_means,
    ict_ml,
)

LISTEXP = Path(__file__).resolve().parents[3] / "shared" / "data" / "listexp"


def printed(ours: float, published: float, decimals: int) -> bool:
    """True when ``ours`` rounds to ``published`` printed with ``decimals`` decimals."""
    return abs(ours - published) <= 0.5 * 10.0**-decimals + 1e-12


def _read(name: str) -> pd.DataFrame:
    path = LISTEXP / name
    if not path.is_file():
        pytest.skip(f"../shared/data/listexp/{name} is not beside this checkout")
    return pd.read_csv(path)


# =============================================================== ACCG (2015), combinedListExps

ACCG_J = {1: 4, 2: 3, 3: 4, 4: 3, 5: 4}
ITEMS = {1: "nuclear", 2: "transport", 3: "spanish", 4: "muslim", 5: "cnn"}
STUDY = {"A": 1, "B": 0}  # value of directsfirst


@pytest.fixture(scope="module")
def accg() -> pd.DataFrame:
    # ACCG p. 52: 2 failed the attention check, 7 skipped a question -> n = 1,014;
    # the package example does the same with na.omit()
    return _read("combinedListExps.csv").dropna()


@pytest.fixture(scope="module")
def accg_fits(accg) -> dict:
    fits = {}
    for study, flag in STUDY.items():
        d = accg[accg.directsfirst == flag]
        for k in range(1, 6):
            fits[study, k] = combined_list_direct(
                d[f"list{k}N"], d[f"list{k}treat"], d[f"direct{k}"], ACCG_J[k]
            )
    return fits


def test_accg_sample(accg):
    # ACCG p. 52: n = 1,014; Tables 3 and 6 notes: n = 500 (Study A), 514 (Study B)
    assert len(accg) == 1014
    assert (accg.directsfirst == 1).sum() == 500
    assert (accg.directsfirst == 0).sum() == 514


# ACCG Table 1 (p. 52): treated / control counts of each list in each study
TABLE1 = {
    "A": [(245, 255), (238, 262), (275, 225), (243, 257), (232, 268)],
    "B": [(272, 242), (259, 255), (253, 261), (271, 243), (260, 254)],
}


@pytest.mark.parametrize("study", ["A", "B"])
@pytest.mark.parametrize("k", range(1, 6))
def test_accg_table1_arms(accg_fits, study, k):
    r = accg_fits[study, k]
    assert (r.n_treat, r.n_control) == TABLE1[study][k - 1]


# ACCG Table 3 (Study A, p. 54) and Table 6 (Study B, p. 56): direct Ybar (SE), standard list
# (difference in means) muS (SE), combined mu (SE), % reduction in sampling variance
PREVALENCE = {
    ("A", 1): (0.656, 0.021, 0.748, 0.084, 0.666, 0.048, 67.1),
    ("A", 2): (0.538, 0.022, 0.513, 0.072, 0.627, 0.049, 54.0),
    ("A", 3): (0.102, 0.014, 0.035, 0.079, 0.042, 0.074, 14.0),
    ("A", 4): (0.110, 0.014, 0.166, 0.081, 0.187, 0.074, 15.3),
    ("A", 5): (0.444, 0.022, 0.338, 0.105, 0.533, 0.070, 54.9),
    ("B", 1): (0.603, 0.022, 0.499, 0.089, 0.624, 0.052, 66.0),
    ("B", 2): (0.539, 0.022, 0.578, 0.073, 0.608, 0.051, 51.9),
    ("B", 3): (0.113, 0.014, 0.144, 0.083, 0.149, 0.076, 16.4),
    ("B", 4): (0.103, 0.013, 0.107, 0.083, 0.123, 0.074, 20.1),
    ("B", 5): (0.496, 0.022, 0.645, 0.101, 0.587, 0.064, 60.2),
}
KEYS = [pytest.param(s, k, id=f"{s}-{ITEMS[k]}") for s, k in PREVALENCE]

# The combined SE is the default variance="proposition1": ACCG's Proposition 1 plug-in,
#   Var = (1 - mu)^2 Ybar / (n (1 - Ybar)) + (1 - Ybar) [s2(V|Z=1,Y=0) / n1 + s2(V|Z=0,Y=0) / n0],
# (n1, n0 = arm sizes, s2 with ddof = 1), which reproduces all ten printed SEs and all ten
# "% reduction" figures. The variance="delta" option (delta method on the four arm means) differs
# in the 4th decimal and misses A-spanish's SE (0.07349 -> 0.073) and 9 of the 10 reductions
# (e.g. A-cnn 55.48, B-cnn 59.59), so it is not what the paper prints.


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_direct(accg_fits, study, k):
    direct, direct_se = PREVALENCE[study, k][:2]
    f = accg_fits[study, k].to_frame()
    assert printed(f.loc["direct", "estimate"], direct, 3)
    assert printed(f.loc["direct", "se"], direct_se, 3)


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_standard_list(accg_fits, study, k):
    _, _, dim, dim_se = PREVALENCE[study, k][:4]
    r = accg_fits[study, k]
    assert printed(r.dim_estimate, dim, 3)
    assert printed(r.dim_se, dim_se, 3)


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_combined_estimate(accg_fits, study, k):
    assert printed(accg_fits[study, k].estimate, PREVALENCE[study, k][4], 3)


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_combined_se(accg_fits, study, k):
    r = accg_fits[study, k]
    assert r.variance == "proposition1"  # the default
    assert printed(r.se, PREVALENCE[study, k][5], 3)


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_variance_reduction(accg_fits, study, k):
    # % reduction in sampling variance, 100 (1 - SE_combined^2 / SE_DiM^2)
    r = accg_fits[study, k]
    assert printed(100 * (1 - r.se**2 / r.dim_se**2), PREVALENCE[study, k][6], 1)


# ACCG Table 4 (Study A, p. 55) and Table 7 (Study B, p. 57): Placebo Test I, the DiM among
# direct "yes" respondents against 1: beta (SE), p-value, n (direct "yes")
PLACEBO_I = {
    ("A", 1): (1.054, 0.095, 0.568, 328),
    ("A", 2): (0.790, 0.091, 0.021, 269),
    ("A", 3): (0.848, 0.279, 0.585, 51),
    ("A", 4): (1.008, 0.237, 0.973, 55),
    ("A", 5): (0.696, 0.143, 0.034, 222),
    ("B", 1): (0.881, 0.113, 0.294, 310),
    ("B", 2): (0.913, 0.091, 0.339, 277),
    ("B", 3): (0.767, 0.229, 0.309, 58),
    ("B", 4): (0.700, 0.285, 0.293, 53),
    ("B", 5): (0.847, 0.135, 0.256, 255),
}


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_placebo_1(accg_fits, study, k):
    beta, se, p, n_yes = PLACEBO_I[study, k]
    r = accg_fits[study, k]
    row = r.placebo.loc["I: DiM among direct yes = 1"]
    assert printed(row.estimate, beta, 3)
    assert printed(row.se, se, 3)
    assert printed(row.p_value, p, 3)
    assert r.n_direct_yes == n_yes


# ACCG Table 5 (Study A, p. 56) and Table 8 (Study B, p. 58): Placebo Test II, the effect of the
# treatment list on the direct answer: delta (SE), p-value; n = 500 / 514
PLACEBO_II = {
    ("A", 1): (0.066, 0.042, 0.118),
    ("A", 2): (-0.000, 0.045, 0.994),
    ("A", 3): (0.016, 0.027, 0.560),
    ("A", 4): (-0.030, 0.028, 0.285),
    ("A", 5): (-0.056, 0.045, 0.206),
    ("B", 1): (-0.086, 0.043, 0.045),
    ("B", 2): (0.034, 0.044, 0.434),
    ("B", 3): (0.027, 0.028, 0.337),
    ("B", 4): (0.016, 0.027, 0.549),
    ("B", 5): (0.132, 0.044, 0.003),
}


@pytest.mark.parametrize(("study", "k"), KEYS)
def test_accg_placebo_2(accg_fits, study, k):
    delta, se, p = PLACEBO_II[study, k]
    r = accg_fits[study, k]
    row = r.placebo.loc["II: treatment -> direct answer"]
    assert printed(row.estimate, delta, 3)
    assert printed(row.se, se, 3)
    assert printed(row.p_value, p, 3)
    assert r.n == {"A": 500, "B": 514}[study]


# ==================================================== Blair & Imai (2012), race.csv / affirm.csv


@pytest.fixture(scope="module")
def race() -> pd.DataFrame:
    return _read("race.csv")


@pytest.fixture(scope="module")
def affirm() -> pd.DataFrame:
    d = _read("affirm.csv")
    d["treat"] = d["treat"].astype(int)  # R logical, written as TRUE/FALSE
    return d


def _data(race, affirm, name):
    return {"race": race, "affirm": affirm}[name]


# B&I Table 2 (p. 58): frequencies of y in the control group and the two treatment groups
# (black family = race.csv treated, affirmative action = affirm.csv treated)
def test_bi_table2_frequencies(race, affirm):
    def counts(d, t):
        return d.y[d.treat == t].value_counts().sort_index().to_dict()

    assert counts(race, 0) == {0: 8, 1: 132, 2: 222, 3: 227}
    assert counts(affirm, 0) == {0: 8, 1: 132, 2: 222, 3: 227}  # the same control group
    assert counts(race, 1) == {0: 19, 1: 123, 2: 229, 3: 219, 4: 34}
    assert counts(affirm, 1) == {0: 9, 1: 78, 2: 172, 3: 184, 4: 139}


def test_bi_race_dim_se(race):
    # B&I p. 49 (Section 1): "using the difference-in-means estimator, the standard error for the
    # estimated overall population proportion ... is 0.050"
    r = difference_in_means(race.y, race.treat, J=3)
    assert printed(r.se, 0.050, 3)


# B&I Table 6 (Section 3.4, p. 68): estimated proportions of respondent types pi_yz, in %, with
# SEs; y = 0..3; columns pi_y0, SE, pi_y1, SE
TABLE6 = {
    "race": [
        (3.0, 0.7, -1.7, 0.8),
        (21.4, 1.7, 1.0, 2.4),
        (35.7, 2.6, 2.0, 2.8),
        (33.1, 2.2, 5.5, 0.9),
    ],
    "affirm": [
        (1.5, 0.5, -0.2, 0.7),
        (13.6, 1.6, 8.8, 2.3),
        (20.7, 2.7, 17.0, 2.9),
        (14.7, 2.7, 23.9, 1.8),
    ],
}
TABLE6_TOTALS = {"race": (93.2, 6.8), "affirm": (50.5, 49.5)}


def _table6_params():
    out = []
    for name, rows in TABLE6.items():
        for y in range(4):
            for col, j in (("pi_z0", 0), ("se_z0", 1), ("pi_z1", 2), ("se_z1", 3)):
                marks = ()
                if (name, y, col) == ("race", 3, "pi_z1"):
                    marks = pytest.mark.xfail(
                        strict=True,
                        reason="pi_31 = P(Y = 4 | T = 1) = 34/624 = 5.449%, which B&I's own "
                        "Table 2 prints as 5.4; Table 6 prints 5.5 (rounding in the paper)",
                    )
                out.append(
                    pytest.param(name, y, col, rows[y][j], id=f"{name}-y{y}-{col}", marks=marks)
                )
    return out


@pytest.fixture(scope="module")
def design_tests(race, affirm) -> dict:
    out = {}
    for name, d in (("race", race), ("affirm", affirm)):
        for ms in ("gms", "negative"):
            out[name, ms] = design_effect_test(d.y, d.treat, 3, moment_selection=ms)
    return out


@pytest.mark.parametrize(("name", "y", "col", "published"), _table6_params())
def test_bi_table6_types(design_tests, name, y, col, published):
    assert printed(100 * design_tests[name, "gms"].table.loc[y, col], published, 1)


@pytest.mark.parametrize("name", ["race", "affirm"])
def test_bi_table6_totals(design_tests, name):
    t = design_tests[name, "gms"].table
    assert printed(100 * t.pi_z0.sum(), TABLE6_TOTALS[name][0], 1)
    assert printed(100 * t.pi_z1.sum(), TABLE6_TOTALS[name][1], 1)


# B&I Section 3.4 (p. 69): "minimum p value to be 0.022" (black family, rejected at alpha = 0.05
# after Bonferroni, threshold 0.025) and 0.394 (affirmative action, not rejected).
# moment_selection="negative" is the variant design_test.py documents as matching the R package;
# with the default GMS (Andrews & Soares, kappa = sqrt(log n)) no race inequality is slack, so
# the least-favourable chi-bar-square gives 0.119 instead.
MIN_P = {"race": (0.022, True), "affirm": (0.394, False)}


@pytest.mark.parametrize(
    ("name", "ms"),
    [
        pytest.param("race", "negative", id="race-negative"),
        pytest.param("affirm", "negative", id="affirm-negative"),
        pytest.param("affirm", "gms", id="affirm-gms"),
        pytest.param(
            "race",
            "gms",
            id="race-gms",
            marks=pytest.mark.xfail(
                strict=True,
                reason="default GMS keeps all three Z=1 inequalities binding on race "
                "(t = -2.1, 0.4, 0.7 < sqrt(log 1213) = 2.67): min p = 0.119, B&I print 0.022",
            ),
        ),
    ],
)
def test_bi_design_effect_min_p(design_tests, name, ms):
    published, rejected = MIN_P[name]
    r = design_tests[name, ms]
    assert printed(min(r.p_values), published, 3)
    # Bonferroni: reject iff min p < alpha / 2, i.e. our corrected p = 2 min p < alpha
    assert r.p_value == pytest.approx(min(1.0, 2 * min(r.p_values)))
    assert bool(r.reject) is rejected


# B&I Table 7, columns 1-2 (p. 70): standard binomial logistic ML model of Imai (2011) on affirm,
# y ~ age + college + male + south (age / 10), sensitive-item coefficients (SE); BIC 2939.7 in
# footnote 26. ictreg's default ML model is the constrained one.
AFFIRM_COVS = ["age", "college", "male", "south"]
TABLE7 = {
    "(Intercept)": (-1.299, 0.556),
    "age": (0.295, 0.101),
    "college": (-0.343, 0.336),
    "male": (0.040, 0.346),
    "south": (1.177, 0.480),
}


@pytest.fixture(scope="module")
def affirm_ml(affirm):
    return ict_ml(affirm.y, affirm.treat, affirm[AFFIRM_COVS], 3, constrained=True)


@pytest.mark.parametrize(
    "term",
    [
        pytest.param(
            "(Intercept)",
            marks=pytest.mark.xfail(
                strict=True,
                reason="ours -1.298491 (Newton-converged MLE) is 9e-6 short of the -1.2985 "
                "rounding boundary; B&I print -1.299, within R's EM stopping tolerance",
            ),
        ),
        "age",
        "college",
        "male",
        "south",
    ],
)
def test_bi_table7_coef(affirm_ml, term):
    assert printed(affirm_ml.coef_sensitive[term], TABLE7[term][0], 3)


@pytest.mark.parametrize("term", list(TABLE7))
def test_bi_table7_se(affirm_ml, term):
    i = affirm_ml.names.index(term)
    assert printed(affirm_ml.bse[i], TABLE7[term][1], 3)


def test_bi_table7_bic(affirm_ml):
    # B&I footnote 26: BIC of the model without ceiling/floor effects 2939.7 (N = 1,171)
    assert affirm_ml.n == 1171
    assert affirm_ml.converged
    assert printed(affirm_ml.bic, 2939.7, 1)
    assert affirm_ml.bic == pytest.approx(-2 * affirm_ml.loglik + math.log(1171) * 10)


# ============================================================= Blair & Imai (2012), mis.csv


def test_bi_mis_list_nonresponse():
    # B&I p. 49: in the Multi-Investigator Survey "the nonresponse rate is ... 0% for the list
    # experiment" (J = 4: 232 control, 211 treated). The 6.5% direct-question nonresponse cannot
    # be checked: the shipped direct subsample (218 rows) has no missing answers.
    m = _read("mis.csv")
    lst = m[m["list.data"] == 1]
    assert lst.y.notna().all()
    assert lst.treat.value_counts().to_dict() == {0.0: 232, 1.0: 211}
    assert m.loc[m["sens.data"] == 1, "sensitive"].notna().all()
