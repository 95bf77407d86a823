"""Support for a sensitive item by segment: BCH correction and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segment.cards.typology import Typology
from segment.segments.fit import fit_segments
from segment.segments.support import support_by_segment
from segment.segments.typing_tool import build_typing_tool
from segment.synth.survey import generate_survey


@pytest.fixture(scope="module")
def simulated():
    """20,000 respondents with known segments, a list experiment with known support by segment."""
    typology = Typology.load("kz2020")
    survey = generate_survey(typology, 20_000, seed=5)
    model = fit_segments(survey.data.iloc[:3000], survey.codebook, 6, typology=typology, n_init=3)
    rng = np.random.default_rng(5)
    ids = list(survey.segment_ids)
    seg = np.array([ids.index(s) for s in survey.truth["segment"]])
    # two segments that short tools confuse get opposite support: the worst case for attenuation
    chosen = {"satisfied_conservatives": 0.9, "conflicted_optimists": 0.1}
    support = np.array([chosen.get(i, 0.5) for i in ids])
    treat = rng.integers(0, 2, len(seg))
    y = rng.binomial(4, 0.6, len(seg)) + treat * (rng.random(len(seg)) < support[seg])
    frame = survey.data.assign(y=y, treat=treat)
    truth = {typology[s].name: chosen.get(s, 0.5) for s in ids}
    return model, frame, truth


def test_bch_removes_the_attenuation_of_a_short_typing_tool(simulated):
    model, frame, truth = simulated
    questions = ["dem_engaged_parties", "gov_religious", "ext_threat_western_values", "cr_assembly"]
    tool = build_typing_tool(model, questions)
    result = support_by_segment(tool, frame, n_boot=20).table.set_index("name")
    # two respondents answered none of the tool's questions: one segment protects them
    assert (result["withheld"].dropna().str.contains("complementary")).sum() == 1
    result = result.dropna(subset=["estimate"])
    expected = np.array([truth[n] for n in result.index])
    bch_error = np.abs(result["estimate"].to_numpy() - expected)
    assert bch_error.max() < 0.08
    num = result.select_dtypes("number")
    gap = num.loc["Satisfied Conservatives"] - num.loc["Conflicted Optimists"]
    assert gap["estimate"] == pytest.approx(0.8, abs=0.1)  # the true gap
    assert gap["modal_estimate"] < gap["estimate"] - 0.05  # modal assignment attenuates it


def test_ml_three_step_recovers_support_within_bounds(simulated):
    model, frame, truth = simulated
    questions = ["dem_engaged_parties", "gov_religious", "ext_threat_western_values", "cr_assembly"]
    tool = build_typing_tool(model, questions)
    result = support_by_segment(tool, frame, n_boot=10).table.set_index("name")
    result = result.dropna(subset=["bounded"])  # one segment protects two untyped respondents
    assert len(result) == 5
    expected = np.array([truth[n] for n in result.index])
    # about 3,300 respondents a segment: a standard error near 0.04, so 0.1 is 2.5 SE
    assert np.abs(result["bounded"].to_numpy() - expected).max() < 0.1
    for col in ("bounded", "bounded_ci_low", "bounded_ci_high", "headline"):
        assert result[col].between(0, 1).all(), col
    covered = (result["bounded_ci_low"] <= expected) & (expected <= result["bounded_ci_high"])
    assert covered.sum() >= 4


def test_intervals_cover_and_widen_with_fewer_respondents(simulated):
    model, frame, truth = simulated
    small = support_by_segment(model, frame.iloc[:1500], n_boot=100).table.set_index("name")
    large = support_by_segment(model, frame, n_boot=20).table.set_index("name")
    assert ((small["ci_high"] - small["ci_low"]) > (large["ci_high"] - large["ci_low"])).all()
    covered = [small.loc[n, "ci_low"] <= truth[n] <= small.loc[n, "ci_high"] for n in small.index]
    assert sum(covered) >= 5


def test_small_segments_are_not_reported(simulated):
    model, frame, _ = simulated
    table = support_by_segment(model, frame.iloc[:120], n_boot=10).table
    assert table["estimate"].isna().any()
    assert "too few respondents" in support_by_segment(model, frame.iloc[:120], n_boot=10).summary()


def test_bundled_table1_survey_runs(bundled_survey):
    from segment.resources import bundled_path

    data = pd.read_csv(
        bundled_path("data", "kz2022_listexp.csv"), keep_default_na=False, na_values=[""]
    )
    frame, cb = __import__("segment").read_survey(bundled_survey[0], bundled_survey[1])
    model = fit_segments(frame, cb, 6, typology=Typology.load("kz2020"), n_init=2)
    result = support_by_segment(model, data, n_boot=50, J=4)
    t = result.table
    # 400 respondents in 6 segments: those with an arm under 30 are withheld, with the reason
    assert t["estimate"].notna().any()
    assert (t["estimate"].isna() == t["withheld"].map(lambda w: isinstance(w, str))).all()
    t = t.dropna(subset=["estimate"])
    assert "BCH" in result.method and "ML three-step" in result.method
    # nothing reported outside 0-100% unless flagged, and a flag says why
    for col in ("ci_low", "ci_high", "bounded", "bounded_ci_low", "bounded_ci_high", "headline"):
        assert t[col].between(0, 1).all(), col
    outside = ~t["estimate"].between(0, 1)
    flagged = t["flag"].map(lambda f: isinstance(f, str))
    assert (outside == flagged).all()
    assert (t.loc[outside, "headline"] == t.loc[outside, "bounded"]).all()
    assert t.loc[outside, "flag"].str.contains("BCH weights").all()
    summary = result.summary()
    for name in t.loc[outside, "name"]:
        assert f"* {name}: BCH difference in means" in summary
