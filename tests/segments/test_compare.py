"""`segment compare`: one model, two waves; shares, changes, intervals and tests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli as run
from hypothesis import given, settings
from hypothesis import strategies as st

from segment.cards.typology import Typology
from segment.resources import bundled_path
from segment.segments.fit import fit_segments
from segment.segments.model_file import save_model
from segment.segments.waves import compare_waves, posterior_shares
from segment.survey.read import read_survey
from segment.synth.survey import generate_survey, write_survey

WAVE2_SHARES = {
    "illiberal_loyalists": 0.12,
    "satisfied_conservatives": 0.20,
    "conflicted_optimists": 0.18,
    "realists": 0.18,
    "disenchanted_democrats": 0.16,
    "angry_liberals": 0.16,
}
WAVE2_COMMAND = (
    "segment synth --n 1500 --seed 2 --shares "
    + ",".join(f"{k}={v:.2f}" for k, v in WAVE2_SHARES.items())
    + " --stem kz2022_synthetic_wave -o data --force"
)


@pytest.fixture(scope="module")
def waves():
    w1, cb = read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    w2, _ = read_survey(
        bundled_path("data", "kz2022_synthetic_wave.csv"),
        bundled_path("data", "kz2022_synthetic_wave_codebook.yaml"),
    )
    model = fit_segments(w1, cb, 6, typology=Typology.load("kz2020"), n_init=3)
    return model, w1, w2


def test_bundled_second_wave_is_what_the_documented_command_produces(tmp_path):
    survey = generate_survey(Typology.load("kz2020"), 1500, seed=2, shares=WAVE2_SHARES)
    paths = write_survey(survey, tmp_path, "kz2022_synthetic_wave")
    for key, suffix in (("data", ".csv"), ("codebook", "_codebook.yaml"), ("truth", "_truth.csv")):
        bundled = bundled_path("data", f"kz2022_synthetic_wave{suffix}")
        assert paths[key].read_bytes() == bundled.read_bytes(), f"run `{WAVE2_COMMAND}`"


def test_compare_recovers_the_shifts_built_into_the_second_wave(waves):
    model, w1, w2 = waves
    r = compare_waves(
        model, w1, w2, weights_1=w1["weight"], weights_2=w2["weight"], labels=("2020", "2022")
    ).table.set_index("name")
    # wave 2 was generated with Illiberal Loyalists 17% -> 12% and Angry Liberals 10% -> 16%
    assert r.loc["Illiberal Loyalists", "ci_high"] < 0
    assert r.loc["Angry Liberals", "ci_low"] > 0
    assert r.loc["Angry Liberals", "ci_low"] < 0.06 < r.loc["Angry Liberals", "ci_high"]
    assert r.loc["Illiberal Loyalists", "p_holm"] < 0.05
    assert r.loc["Satisfied Conservatives", "p_holm"] > 0.05  # 22% -> 20%: within noise


def test_a_wave_compared_with_itself_has_no_change(waves):
    model, w1, _ = waves
    res = compare_waves(model, w1, w1)
    assert np.allclose(res.table["change"], 0)
    assert res.p_value == pytest.approx(1.0)
    assert res.table["share_1"].sum() == pytest.approx(1.0)


def test_unit_weights_equal_no_weights(waves):
    model, w1, w2 = waves
    a = compare_waves(model, w1, w2).table
    b = compare_waves(model, w1, w2, weights_1=np.ones(len(w1)), weights_2=np.ones(len(w2))).table
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 40), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_posterior_shares_match_the_sample_mean_and_its_covariance(n, k, seed):
    rng = np.random.default_rng(seed)
    resp = rng.dirichlet(np.ones(k), size=n)
    p, cov = posterior_shares(resp)
    assert np.allclose(p, resp.mean(axis=0))
    assert np.allclose(cov, np.cov(resp, rowvar=False, ddof=1) / n)
    perm = rng.permutation(n)
    p2, cov2 = posterior_shares(resp[perm])
    assert np.allclose(p, p2) and np.allclose(cov, cov2)  # row order does not matter


def test_posterior_shares_with_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(4)
    resp = rng.dirichlet(np.ones(3), size=12)
    w = rng.integers(1, 4, size=12)
    p, _ = posterior_shares(resp, w)
    assert np.allclose(p, np.repeat(resp, w, axis=0).mean(axis=0))


def test_cli_compare_json_and_plot(tmp_path, capsys, waves):
    model, _, _ = waves
    model_path = tmp_path / "model.json"
    save_model(model, model_path)
    plot = tmp_path / "shares.png"
    code, out, _ = run(
        [
            "compare",
            model_path,
            bundled_path("data", "kz2020_synthetic.csv"),
            bundled_path("data", "kz2022_synthetic_wave.csv"),
            "--labels",
            "2020,2022",
            "--format",
            "json",
            "--plot",
            plot,
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["labels"] == ["2020", "2022"]
    assert doc["wald"]["p_value"] < 0.001
    assert len(doc["segments"]) == 6
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run(
        [
            "compare",
            model_path,
            bundled_path("data", "kz2020_synthetic.csv"),
            bundled_path("data", "kz2022_synthetic_wave.csv"),
            "--plot",
            plot,
        ],
        capsys,
    )
    assert code == 2 and "--force" in err  # an existing plot is not replaced silently


def test_cli_compare_rejects_a_wave_that_violates_the_codebook(tmp_path, capsys, waves):
    model, w1, _ = waves
    model_path = tmp_path / "model.json"
    save_model(model, model_path)
    bad = w1.head(40).copy()
    bad.loc[bad.index[4], "trust_army"] = 7
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    code, _, err = run(
        ["compare", model_path, bundled_path("data", "kz2020_synthetic.csv"), bad_path], capsys
    )
    assert code == 2
    assert "trust_army, row 5: value 7" in err


@pytest.mark.parametrize("n_small", [40, 100, 170])
def test_compare_withholds_small_shares_and_what_reveals_them(waves, n_small):
    """A wave of few respondents: every share under 30 posterior respondents is withheld, and
    more when one alone would follow from the others (they add up to one); no change, test or
    omnibus statistic is printed from a withheld share."""
    model, w1, w2 = waves
    small = w2.iloc[:n_small]
    result = compare_waves(model, w1, small)
    codes, reasons, used = model.answers(small)
    ok = (reasons == None) & (used > 0)  # noqa: E711
    counts = model.proba_of_codes(codes[ok]).sum(axis=0)
    t = result.table
    hidden = t["suppressed_2"].to_numpy()
    assert hidden[counts < 30].all()
    assert t.loc[hidden, ["share_2", "change", "p_holm"]].isna().all().all()
    assert hidden.sum() != 1 and (hidden.sum() == 0 or counts[hidden].sum() >= 30)
    assert np.isfinite(result.statistic) == (not hidden.any())
    text = result.summary()
    for r in t[hidden].itertuples():
        assert "withheld" in next(line for line in text.splitlines() if line.startswith(r.name))
    records = result.published_records()
    assert all(r["share_2"] is None for r in records if r["suppressed_2"])
