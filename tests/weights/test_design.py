"""Design-based variances (segment.weights.survey_design) against R survey's figures, their
properties, the codebook's design fields, and the design-based SEs of profile shares and list
experiments."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segment import Codebook, DataError
from segment.cards.profile_stats import _shares, profile_segments
from segment.listexp import difference_in_means
from segment.weights.survey_design import SurveyDesign

REF = Path(__file__).resolve().parents[1] / "reference" / "survey_r"
REFERENCE = json.loads((REF / "reference.json").read_text(encoding="utf-8"))


def assert_printed(ours: float, printed: str, what: str = "") -> None:
    """``ours`` rounds to R's printed figure: within half a unit of its last printed digit."""
    decimals = max(-Decimal(printed).as_tuple().exponent, 0)
    tol = 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-12
    assert abs(ours - float(printed)) <= tol, f"{what}: ours {ours!r}, R printed {printed}"


@pytest.fixture(scope="module")
def api() -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(REF / f"{name}.csv", dtype={"cds": str})
        for name in ("apistrat", "apiclus1", "apiclus2")
    }


def _design(api, name: str) -> tuple[SurveyDesign, pd.DataFrame]:
    spec = REFERENCE["designs"][name]
    frame = api[spec["data"].removesuffix(".csv")]
    cols = spec["segment"]
    return (
        SurveyDesign(
            weights=frame[cols["weights"]],
            strata=frame[cols["strata"]] if "strata" in cols else None,
            psu=frame[cols["psu"]] if "psu" in cols else None,
            fpc=frame[cols["fpc"]] if "fpc" in cols else None,
        ),
        frame,
    )


def _ours(design: SurveyDesign, frame: pd.DataFrame, fig: dict, deff: str):
    """(estimate, se, deff) of one reference figure, computed by segment."""
    kind, name = fig["kind"], fig["name"]
    if kind == "mean":
        est = design.mean(frame[name], deff=deff)
    elif kind == "total":
        ok = frame[name].notna()  # svytotal(..., na.rm=TRUE): missing values count as 0
        est = design.total(frame[name].where(ok, 0.0), deff=deff)
    elif kind == "proportion":
        column = "stype" if fig["design"] == "dclus1" else "sch.wide"
        est = design.proportions(frame[column], deff=deff)
    elif kind == "category total":
        est = design.total(pd.get_dummies(frame["stype"]).astype(float), deff=deff)
    elif kind == "ratio":
        est = design.ratio(frame["api.stu"], frame["enroll"], deff=deff)
    elif kind.startswith("domain mean"):
        est = design.domain_means(frame[kind.split()[-1]], frame["stype"], deff=deff)
    else:  # pragma: no cover - a new kind in reference.json
        raise AssertionError(kind)
    k = 0 if est.estimate.size == 1 else list(est.names).index(name)
    return est.estimate[k], est.se[k], est.deff[k]


# ------------------------------------------------------------------ R survey figures
@pytest.mark.parametrize("fig", REFERENCE["figures"], ids=lambda f: f["id"])
def test_reproduces_r_survey_figure(api, fig):
    design, frame = _design(api, fig["design"])
    estimate, se, deff = _ours(design, frame, fig, fig.get("deff_kind", "replace"))
    assert_printed(estimate, fig["estimate"], f"{fig['call']} estimate")
    assert_printed(se, fig["se"], f"{fig['call']} SE")
    if "deff" in fig:
        assert_printed(deff, fig["deff"], f"{fig['call']} DEff")


def test_reproduces_r_covariance_matrix_of_means_and_proportions(api):
    ref = REFERENCE["covariance"]
    design, frame = _design(api, ref["design"])
    Y = pd.concat([frame[["api00"]], pd.get_dummies(frame["stype"]).astype(float)], axis=1)
    cov = design.mean(Y).cov
    for i, row in enumerate(ref["cov"]):
        for j, printed in enumerate(row):
            assert_printed(cov[i, j], printed, f"cov[{ref['names'][i]}, {ref['names'][j]}]")


def test_reproduces_r_domain_contrasts_as_a_list_experiment(api):
    """svycontrast(svyby(...)) of two domain means = difference_in_means with a design."""
    ref = REFERENCE["domain_contrasts"]
    design, frame = _design(api, ref["design"])
    treat = (frame["sch.wide"] == "Yes").to_numpy()
    res = difference_in_means(
        frame["api00"].to_numpy(), treat, J=1000, design=design, by=frame["stype"].to_numpy()
    )
    assert_printed(res.estimate, ref["overall"]["estimate"], "overall difference")
    assert_printed(res.se, ref["overall"]["se"], "overall SE")
    for group, printed in ref["by_stype"].items():
        assert_printed(res.groups.loc[group, "estimate"], printed["estimate"], group)
        assert_printed(res.groups.loc[group, "se"], printed["se"], f"{group} SE")
    diff = res.differences.set_index(["group_a", "group_b"]).loc[("E", "H")]
    assert_printed(diff["se"], ref["difference_E_minus_H_se"], "E - H SE")
    # the arms' SEs are the domain means' SEs (svyby ~api00 by sch.wide: 23.42657, 28.98769)
    by_arm = design.domain_means(frame["api00"], frame["sch.wide"])
    np.testing.assert_allclose([res.se_control, res.se_treat], by_arm.se, rtol=1e-12)


@pytest.mark.parametrize("option", ["remove", "adjust", "average"])
def test_single_psu_strata_as_r_lonely_psu_option(api, option):
    ref = REFERENCE["lonely_psu"]
    frame = api["apiclus1"]
    design = SurveyDesign(frame["pw"], strata=frame["dnum"], lonely_psu=option)
    est = design.mean(frame["api00"])
    assert_printed(est.estimate[0], ref["estimate"])
    assert_printed(est.se[0], ref["se"][option], option)


def test_single_psu_stratum_fails_by_default_naming_row_and_stratum(api):
    frame = api["apiclus1"]
    with pytest.raises(DataError) as exc:
        SurveyDesign(frame["pw"], strata=frame["dnum"])
    (problem,) = exc.value.problems
    assert problem.where == "strata"
    assert problem.value == REFERENCE["lonely_psu"]["lonely_stratum"]
    assert problem.row == int(np.flatnonzero(frame["dnum"].to_numpy() == 413)[0]) + 1
    assert "single PSU" in problem.message and "lonely_psu" in problem.message


@pytest.mark.parametrize("fig", REFERENCE["kigyo_deff"]["figures"], ids=lambda f: f["call"][:40])
def test_design_effect_definitions_as_r_deff_true_and_replace(fig):
    data = REFERENCE["kigyo_deff"]["data"]
    design = SurveyDesign(weights=data[fig["weights"]])
    y = np.asarray(data["uriage"], dtype=float)
    est = (design.mean if fig["kind"] == "mean" else design.total)(y, deff=fig["deff_kind"])
    assert_printed(est.estimate[0], fig["estimate"])
    assert_printed(est.se[0], fig["se"])
    assert_printed(est.deff[0], fig["deff"])


def test_two_stage_design_uses_first_stage_only_as_r_with_replacement(api):
    """Ultimate cluster: districts carry the variance; ignoring them understates it."""
    frame = api["apiclus2"]
    by_district = SurveyDesign(frame["pw"], psu=frame["dnum"]).mean(frame["api00"])
    by_school = SurveyDesign(frame["pw"], psu=frame["snum"]).mean(frame["api00"])
    assert_printed(by_district.se[0], "30.712")
    assert by_school.se[0] < 0.7 * by_district.se[0]


# ------------------------------------------------------------------ properties
@st.composite
def samples(draw, max_n: int = 40):
    n = draw(st.integers(4, max_n))
    y = np.array(draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.floats(0.2, 5), min_size=n, max_size=n)))
    k = draw(st.integers(2, 4))
    raw = np.array(draw(st.lists(st.floats(0.01, 1), min_size=n * k, max_size=n * k)))
    resp = raw.reshape(n, k)
    resp /= resp.sum(axis=1, keepdims=True)
    return y, w, resp


@settings(max_examples=60, deadline=None)
@given(samples())
def test_one_psu_per_respondent_equals_the_simple_weighted_se_times_n_over_n_minus_1(sample):
    """Convention check: profile shares' simple SE omits n/(n-1); linearisation includes it."""
    _, w, resp = sample
    n = len(w)
    w = w / w.mean()
    simple = _shares(resp, w, min_cell=0, protect=False)["se"].to_numpy()
    design = SurveyDesign(w, psu=np.arange(n)).mean(resp)
    np.testing.assert_allclose(design.se, simple * np.sqrt(n / (n - 1)), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(design.estimate, resp.T @ w / w.sum(), rtol=1e-12)
    # and with equal weights the deff is exactly 1 (SRS is the design)
    eq = SurveyDesign(np.ones(n)).mean(resp)
    varies = np.diag(eq.srs_cov) > 1e-12
    np.testing.assert_allclose(eq.deff[varies], 1.0, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(samples(), st.randoms(use_true_random=False))
def test_arm_means_without_clusters_match_the_weighted_linearisation_of_dim(sample, rnd):
    """difference_in_means: the design (one PSU per respondent) treats arms as domains of one
    sample (factor n/(n-1)); the simple weighted SE treats each arm as a sample (n_t/(n_t-1))."""
    y, w, _ = sample
    n = len(y)
    y = np.floor(np.abs(y))  # item counts 0..5
    t = np.array([rnd.random() < 0.5 for _ in range(n)])
    t[:2], t[2:4] = True, False
    plain = difference_in_means(y, t, J=5, weights=w)
    design = difference_in_means(y, t, J=5, design=SurveyDesign(w, psu=np.arange(n)))
    assert design.estimate == pytest.approx(plain.estimate, rel=1e-12, abs=1e-12)
    nt, nc = int(t.sum()), int((~t).sum())
    factor = lambda m: (n / (n - 1)) / (m / (m - 1))  # noqa: E731
    assert design.se_treat**2 == pytest.approx(plain.se_treat**2 * factor(nt), rel=1e-9, abs=1e-14)
    assert design.se_control**2 == pytest.approx(
        plain.se_control**2 * factor(nc), rel=1e-9, abs=1e-14
    )
    # arms in disjoint PSUs: no covariance, so the variances add
    assert design.se**2 == pytest.approx(design.se_treat**2 + design.se_control**2, rel=1e-9)


@st.composite
def clustered(draw):
    n_strata = draw(st.integers(1, 3))
    psus = draw(st.lists(st.integers(2, 4), min_size=n_strata, max_size=n_strata))
    sizes = draw(st.lists(st.integers(1, 4), min_size=sum(psus), max_size=sum(psus)))
    psu = np.repeat(np.arange(sum(psus)), sizes)
    stratum_of_psu = np.repeat(np.arange(n_strata), psus)
    n = psu.size
    y = np.array(draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.floats(0.5, 3), min_size=n, max_size=n)))
    cat = np.array(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)))
    perm = np.array(draw(st.permutations(range(n))))
    return stratum_of_psu[psu], psu, y, w, cat, perm


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered())
def test_row_order_does_not_change_estimates_or_covariances(sample):
    strata, psu, y, w, cat, perm = sample
    a = SurveyDesign(w, strata=strata, psu=psu)
    b = SurveyDesign(w[perm], strata=strata[perm], psu=psu[perm])
    for fa, fb in (
        (a.mean(y), b.mean(y[perm])),
        (a.total(y), b.total(y[perm])),
        (
            a.proportions(cat, categories=list("abc")),
            b.proportions(cat[perm], categories=list("abc")),
        ),
        (a.domain_means(y, cat), b.domain_means(y[perm], cat[perm])),
    ):
        np.testing.assert_allclose(fa.estimate, fb.estimate, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fa.cov, fb.cov, rtol=1e-8, atol=1e-12)
    # relabelling strata and PSUs changes nothing either
    c = SurveyDesign(w, strata=[f"s{s}" for s in strata], psu=[f"p{p}" for p in psu])
    np.testing.assert_allclose(c.mean(y).cov, a.mean(y).cov, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(clustered(), st.floats(0.01, 100))
def test_scaling_the_weights_changes_no_mean_se_or_deff(sample, scale):
    strata, psu, y, w, _, _ = sample
    a = SurveyDesign(w, strata=strata, psu=psu).mean(y)
    b = SurveyDesign(w * scale, strata=strata, psu=psu).mean(y)
    np.testing.assert_allclose(b.estimate, a.estimate, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(b.deff, a.deff, rtol=1e-8, atol=1e-12)


def test_nested_psu_labels_restart_in_each_stratum():
    strata = np.repeat([1, 2], 6)
    psu = np.tile(np.repeat([1, 2, 3], 2), 2)  # PSUs 1-3 in both strata
    y = np.arange(12.0) ** 1.5
    with pytest.raises(DataError, match="PSU is in stratum 2 here but in stratum 1 in row 1"):
        SurveyDesign(strata=strata, psu=psu)
    nested = SurveyDesign(strata=strata, psu=psu, nest=True)
    unique = SurveyDesign(strata=strata, psu=strata * 10 + psu)
    np.testing.assert_allclose(nested.mean(y).cov, unique.mean(y).cov)
    assert nested.n_psu == 6 and nested.df == 4


def test_bootstrap_agrees_with_linearisation_on_a_large_clustered_sample():
    rng = np.random.default_rng(20240611)
    n_strata, psu_per_stratum, size = 8, 30, 20
    psu = np.repeat(np.arange(n_strata * psu_per_stratum), size)
    strata = psu // psu_per_stratum
    cluster_effect = rng.normal(scale=0.8, size=psu.max() + 1)[psu]
    y = cluster_effect + rng.normal(size=psu.size) + strata * 0.3
    segment = np.digitize(cluster_effect + rng.normal(size=psu.size), [-0.5, 0.5])
    w = rng.uniform(0.5, 2.0, size=psu.size)
    design = SurveyDesign(w, strata=strata, psu=psu, fpc=np.full(psu.size, 300))
    for lin, boot in (
        (design.mean(y), design.mean(y, method="bootstrap", n_boot=2000, random_state=1)),
        (
            design.proportions(segment),
            design.proportions(segment, method="bootstrap", n_boot=2000, random_state=1),
        ),
    ):
        np.testing.assert_allclose(boot.estimate, lin.estimate)
        np.testing.assert_allclose(boot.se, lin.se, rtol=0.08)
        assert boot.method == "bootstrap" and boot.n_boot == 2000
        assert lin.deff.max() > 2  # clustered: the design effect is large
    again = design.mean(y, method="bootstrap", n_boot=50, random_state=1).se
    assert again == pytest.approx(design.mean(y, method="bootstrap", n_boot=50, random_state=1).se)
    assert again != pytest.approx(design.mean(y, method="bootstrap", n_boot=50, random_state=2).se)


def test_bootstrap_with_fpc_one_stratum_sampled_completely_has_no_variance():
    strata = np.repeat([0, 1], 10)
    psu = np.arange(20) // 2
    fpc = np.where(strata == 0, 5, 1000)  # 5 PSUs sampled of 5: a census stratum
    y = np.where(strata == 0, np.arange(20.0), 1.0)  # stratum 1 constant
    design = SurveyDesign(strata=strata, psu=psu, fpc=fpc)
    assert design.total(y).se[0] == pytest.approx(0.0, abs=1e-9)
    assert design.total(y, method="bootstrap", n_boot=20, random_state=0).se[0] == pytest.approx(
        0.0, abs=1e-9
    )


def test_contrast_and_frame_of_an_estimate(api):
    design, frame = _design(api, "dclus1")
    est = design.proportions(frame["stype"])
    table = est.to_frame()
    assert list(table.columns) == ["estimate", "se", "ci_low", "ci_high", "deff"]
    assert list(table.index) == ["E", "H", "M"]
    total = est.contrast([1, 1, 1])
    assert total.estimate == pytest.approx(1.0) and total.se == pytest.approx(0.0, abs=1e-6)
    diff = est.contrast([1, -1, 0])
    expected = np.sqrt(est.cov[0, 0] + est.cov[1, 1] - 2 * est.cov[0, 1])
    assert diff.se == pytest.approx(expected)
    assert est.df == 14
    assert "15 PSUs" in repr(design)


# ------------------------------------------------------------------ bad input
def test_bad_design_arrays_give_one_error_naming_rows_and_values():
    with pytest.raises(DataError) as exc:
        SurveyDesign(
            weights=[1, -2, 1, 1, 1, 1],
            strata=["a", "a", None, "b", "b", "b"],
            psu=[1, 1, 2, 3, 3, 4],
            fpc=[10, 10, 10, "x", 10, 10],
        )
    text = str(exc.value)
    assert "data, weight, row 2: value -2" in text
    assert "data, strata, row 3" in text and "blank" in text
    assert "data, fpc, row 4: value 'x'" in text
    with pytest.raises(
        DataError, match=r"row 5: value 30: fpc differs within stratum 'b' \(value 20 in row 3\)"
    ):
        SurveyDesign(strata=list("aabbb"), psu=[1, 2, 3, 4, 5], fpc=[10, 10, 20, 20, 30])
    with pytest.raises(DataError, match=r"population size 2 is smaller than the 3 PSUs"):
        SurveyDesign(strata=list("aabbb"), psu=[1, 2, 3, 4, 5], fpc=[10, 10, 2, 2, 2])
    with pytest.raises(ValueError, match="lonely_psu must be one of"):
        SurveyDesign(n=3, lonely_psu="certainty")
    design = SurveyDesign(n=4)
    with pytest.raises(DataError, match="row 3: value nan: missing or infinite"):
        design.mean([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(ValueError, match="method must be one of"):
        design.mean([1.0, 2, 3, 4], method="jackknife")


def _design_codebook(tmp_path: Path, design: dict) -> tuple[Path, Path]:
    doc = {
        "schema": "segment.codebook/1",
        "id": "rid",
        "weight": "w",
        "design": design,
        "items": [
            {
                "column": "q",
                "domain": "trust",
                "type": "ordinal",
                "levels": {1: "No", 2: "Yes"},
            }
        ],
    }
    cb = tmp_path / "cb.yaml"
    cb.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    data = tmp_path / "poll.csv"
    pd.DataFrame(
        {
            "rid": range(1, 9),
            "w": [1.0] * 8,
            "q": [1, 2, 1, 2, 1, 2, 1, 2],
            "region": ["N", "N", "N", "S", "S", "S", "E", "E"],
            "village": [1, 1, 2, 3, 3, 1, 7, 7],
            "N": [40, 40, 40, 30, 30, 31, 9, 9],
        }
    ).to_csv(data, index=False)
    return cb, data


def test_codebook_check_lists_every_design_problem_with_file_column_row_value(tmp_path, capsys):
    cb, data = _design_codebook(tmp_path, {"strata": "region", "psu": "village", "fpc": "N"})
    frame = pd.read_csv(data)
    problems = Codebook.load(cb).check_data(frame, str(data))
    assert [(p.where, p.row, p.value) for p in problems] == [("village", 6, 1)]
    assert "PSU is in stratum 'S' here but in stratum 'N' in row 1" in problems[0].message
    code, out, err = run_cli(["codebook", "check", cb, data], capsys)
    assert code == 2
    assert re.search(
        r"poll\.csv, village, row 6: value '1': PSU is in stratum 'S'", out + err
    )  # CLI reads text

    frame.loc[5, "village"] = 4  # PSU 4 only in S; now fpc 31 differs within S, E is lonely
    problems = Codebook.load(cb).check_data(frame, "poll.csv")
    assert [(p.where, p.row, p.value) for p in problems] == [("N", 6, 31)]
    frame.loc[5, "N"] = 30
    problems = Codebook.load(cb).check_data(frame, "poll.csv")
    assert [(p.where, p.row, p.value) for p in problems] == [("region", 7, "E")]
    assert "stratum 'E' has a single PSU (PSU 7)" in problems[0].message

    adjusted = Codebook.from_dict(
        {
            **yaml.safe_load(cb.read_text()),
            "design": {"strata": "region", "psu": "village", "fpc": "N", "lonely_psu": "adjust"},
        }
    )
    assert adjusted.check_data(frame, "poll.csv") == []
    design = SurveyDesign.from_codebook(adjusted, adjusted.validate(frame))
    assert design.n_strata == 3 and design.n_psu == 5 and design.lonely_psu == "adjust"


def test_codebook_design_columns_missing_or_clashing(tmp_path):
    cb, data = _design_codebook(tmp_path, {"strata": "province", "psu": "village"})
    problems = Codebook.load(cb).check_data(pd.read_csv(data), "poll.csv")
    assert [(p.where, p.message) for p in problems] == [
        ("province", "strata column named in the codebook is missing")
    ]
    doc = yaml.safe_load(cb.read_text())
    doc["design"] = {"strata": "region", "psu": "region", "fpc": "w", "lonely_psu": "maybe"}
    with pytest.raises(Exception) as exc:
        Codebook.from_dict(doc, file="cb.yaml")
    assert "design.lonely_psu" in str(exc.value)
    doc["design"]["lonely_psu"] = "remove"
    with pytest.raises(Exception) as exc:
        Codebook.from_dict(doc, file="cb.yaml")
    text = str(exc.value)
    assert "design.psu: value 'region': same column as design.strata" in text
    assert "design.fpc: value 'w': the fpc column cannot also be the weight column" in text


def test_codebook_design_round_trip(tmp_path):
    cb, _ = _design_codebook(
        tmp_path, {"strata": "region", "psu": "village", "lonely_psu": "average", "nest": True}
    )
    original = Codebook.load(cb)
    assert (original.strata, original.psu, original.fpc) == ("region", "village", None)
    assert original.lonely_psu == "average" and original.nest is True and original.has_design
    out = tmp_path / "again.yaml"
    original.save(out)
    assert Codebook.load(out) == original
    plain = Codebook.from_dict(
        {k: v for k, v in yaml.safe_load(cb.read_text()).items() if k != "design"}
    )
    assert not plain.has_design and plain.lonely_psu == "fail"


# ------------------------------------------------------------------ profile shares
@pytest.fixture(scope="module")
def clustered_poll(tmp_path_factory):
    """A clustered poll: 40 villages in 4 regions, segment membership varying by village."""
    rng = np.random.default_rng(7)
    n_villages, size = 40, 25
    village = np.repeat(np.arange(n_villages), size)
    region = village % 4
    lean = rng.normal(scale=1.2, size=n_villages)[village]
    logits = np.stack([np.zeros_like(lean), lean, -lean + 0.3], axis=1)
    resp = np.exp(logits + rng.normal(size=logits.shape))
    resp /= resp.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(
        {
            "rid": np.arange(village.size),
            "w": rng.uniform(0.6, 1.6, size=village.size),
            "q": rng.integers(1, 4, size=village.size).astype(float),
            "region": region,
            "village": village,
        }
    )
    doc = {
        "schema": "segment.codebook/1",
        "id": "rid",
        "weight": "w",
        "items": [
            {
                "column": "q",
                "domain": "trust",
                "type": "ordinal",
                "levels": {1: "No", 2: "Somewhat", 3: "Yes"},
            }
        ],
    }
    return frame, doc, resp


def test_profile_shares_are_design_based_when_the_codebook_declares_a_design(clustered_poll):
    frame, doc, resp = clustered_poll
    plain = profile_segments(resp, frame, Codebook.from_dict(doc), min_cell=0)
    cb = Codebook.from_dict({**doc, "design": {"strata": "region", "psu": "village"}})
    designed = profile_segments(resp, frame, cb, min_cell=0)
    assert plain.design is None and "deff" not in plain.shares.columns
    assert designed.design.startswith("linearization: 4 strata, 40 PSUs")
    pd.testing.assert_series_equal(designed.shares["share"], plain.shares["share"])
    assert list(designed.shares.columns) == [
        "segment",
        "share",
        "se",
        "ci_low",
        "ci_high",
        "deff",
        "weighted_n",
        "suppressed",
        "withheld",
    ]
    assert (designed.shares["se"] > 1.5 * plain.shares["se"]).all()  # clustering
    assert (designed.shares["deff"] > 2).all()
    assert (designed.shares["ci_low"] < plain.shares["ci_low"]).all()
    # item estimates are unchanged; their tests become design-based (se, deff, p-values)
    pd.testing.assert_frame_equal(
        designed.items.drop(columns=["se", "deff", "p_value", "p_adjusted"]),
        plain.items.drop(columns=["p_value", "p_adjusted"]),
    )

    # the same through design= ; the bootstrap agrees roughly
    w = frame["w"].to_numpy()
    design = SurveyDesign(w, strata=frame["region"], psu=frame["village"])
    explicit = profile_segments(resp, frame, Codebook.from_dict(doc), design=design, min_cell=0)
    pd.testing.assert_frame_equal(explicit.shares, designed.shares)
    boot = profile_segments(
        resp, frame, cb, min_cell=0, variance="bootstrap", n_boot=1000, random_state=3
    )
    np.testing.assert_allclose(boot.shares["se"], designed.shares["se"], rtol=0.15)
    assert boot.design.startswith("bootstrap:")


def test_profile_shares_one_psu_per_respondent_is_the_simple_se_times_sqrt_n_over_n_minus_1(
    clustered_poll,
):
    frame, doc, resp = clustered_poll
    n = len(frame)
    plain = profile_segments(resp, frame, Codebook.from_dict(doc), min_cell=0)
    srs = profile_segments(
        resp, frame, Codebook.from_dict(doc), design=SurveyDesign(n=n), min_cell=0
    )
    np.testing.assert_allclose(
        srs.shares["se"], plain.shares["se"] * np.sqrt(n / (n - 1)), rtol=1e-12
    )


def test_profile_segments_refuses_a_bad_design(clustered_poll):
    frame, doc, resp = clustered_poll
    # respondents sampled within villages (strata); village 3 keeps a single respondent
    keep = (frame["village"] != 3) | (frame["rid"] == frame.loc[frame["village"] == 3, "rid"].min())
    small, small_resp = frame[keep].reset_index(drop=True), resp[keep.to_numpy()]
    cb = Codebook.from_dict({**doc, "design": {"strata": "village", "psu": "rid"}})
    row = int(np.flatnonzero(small["village"].to_numpy() == 3)[0]) + 1
    with pytest.raises(
        DataError, match=rf"village, row {row}: value 3: stratum 3 has a single PSU"
    ):
        profile_segments(small_resp, small, cb, min_cell=0)
    with pytest.raises(ValueError, match="design has 3 respondents"):
        profile_segments(resp, frame, Codebook.from_dict(doc), design=SurveyDesign(n=3))


# ------------------------------------------------------------------ list experiments
def test_difference_in_means_with_strata_and_psu_arrays_and_bad_combinations():
    rng = np.random.default_rng(11)
    psu = np.repeat(np.arange(30), 10)
    strata = psu % 3
    t = rng.random(psu.size) < 0.5
    y = rng.integers(0, 4, size=psu.size) + t * (rng.random(psu.size) < 0.4)
    w = rng.uniform(0.5, 1.5, size=psu.size)
    res = difference_in_means(y, t, J=3, weights=w, strata=strata, psu=psu)
    same = difference_in_means(y, t, J=3, design=SurveyDesign(w, strata=strata, psu=psu))
    assert res.estimate == same.estimate and res.se == same.se
    plain = difference_in_means(y, t, J=3, weights=w)
    assert res.estimate == pytest.approx(plain.estimate)
    assert res.design == "linearization: 3 strata, 30 PSUs, 300 respondents"
    assert list(res.to_frame().columns)[-3:] == ["se_treat", "se_control", "deff"]
    assert list(plain.to_frame().columns)[-1] == "mean_control"  # unchanged without a design
    assert "design-based SE" in res.summary()
    with pytest.raises(Exception, match="a design carries its own weights"):
        difference_in_means(y, t, J=3, weights=w, design=SurveyDesign(w, psu=psu))
    with pytest.raises(Exception, match="has 10 respondents but y has 300"):
        difference_in_means(y, t, J=3, design=SurveyDesign(n=10))
    with pytest.raises(DataError, match="PSU is in stratum"):
        difference_in_means(y, t, J=3, strata=strata, psu=psu % 10)
