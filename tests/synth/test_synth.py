"""The synthetic survey generator and the bundled synthetic survey it produced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segment import Typology, read_survey
from segment.cli import main
from segment.synth.population import Population, PopulationError
from segment.synth.survey import generate_survey, write_survey

N_BUNDLED, SEED_BUNDLED = 1500, 1


@pytest.fixture(scope="module")
def kz2020() -> Typology:
    return Typology.load("kz2020")


@pytest.fixture(scope="module")
def survey(kz2020):
    """The bundled survey regenerated in memory (parameters and oracle available)."""
    return generate_survey(kz2020, N_BUNDLED, seed=SEED_BUNDLED)


@pytest.fixture(scope="module")
def bundled(bundled_survey):
    data_path, codebook_path, truth_path = bundled_survey
    frame, codebook = read_survey(data_path, codebook_path)
    truth = pd.read_csv(truth_path)
    return frame, codebook, truth


def test_bundled_files_are_what_the_documented_command_produces(survey, bundled_survey, tmp_path):
    # segment synth --typology kz2020 --n 1500 --seed 1 -o data --force
    paths = write_survey(survey, tmp_path, "kz2020_synthetic")
    for key, bundled_path in zip(("data", "codebook", "truth"), bundled_survey, strict=True):
        assert paths[key].read_bytes() == bundled_path.read_bytes(), (
            f"{bundled_path.name} is out of date: "
            "run `segment synth --n 1500 --seed 1 -o data --force`"
        )


def test_generation_is_deterministic_for_a_seed(kz2020):
    a = generate_survey(kz2020, 300, seed=7)
    b = generate_survey(kz2020, 300, seed=7)
    c = generate_survey(kz2020, 300, seed=8)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.data.equals(c.data)


def test_bundled_survey_is_marked_synthetic_everywhere(bundled):
    _, codebook, _ = bundled
    assert codebook.synthetic
    assert "SYNTHETIC" in codebook.title and "SYNTHETIC" in codebook.note
    assert "segment synth --typology kz2020 --n 1500 --seed 1" in codebook.note


def test_bundled_survey_has_the_battery_and_demographics(bundled):
    frame, codebook, truth = bundled
    assert len(frame) == 1500 and frame["resp_id"].is_unique
    assert 35 <= len(codebook.attitude_items) <= 45
    domains = {it.domain for it in codebook.attitude_items}
    assert domains == {
        "civic_rights",
        "democracy",
        "trust",
        "civic_sector",
        "governance",
        "external",
        "optimism",
    }
    demographics = {it.column for it in codebook.demographic_items}
    assert demographics == {
        "age",
        "gender",
        "settlement",
        "region",
        "education",
        "income",
        "ethnicity",
        "language",
        "employment",
        "news_source",
    }
    assert list(truth["resp_id"].astype(str)) == list(frame["resp_id"].astype(str))


def _position_stats(frame, codebook, item, mask):
    it = codebook[item]
    values = frame.loc[mask, item].to_numpy(dtype=float)
    answered = ~np.isnan(values) & ~np.isin(values, it.refused_codes)
    dont_know = np.isin(values, it.dont_know_codes)[answered]
    pos = it.position(values)
    pos = pos[~np.isnan(pos)]
    return pos, dont_know


def test_segment_level_item_answers_agree_with_the_typology_levels(kz2020, bundled):
    """Every (segment, item) the seed describes: mean position, don't-know share, polarisation.

    223 comparisons: each tolerance is 4.5 standard errors (Bonferroni at about 1%), at least 0.03.
    """
    frame, codebook, truth = bundled
    failures, checked = [], 0
    for seg in kz2020.segments:
        mask = (truth["segment"] == seg.id).to_numpy()
        for item, exp in kz2020.expected_levels(seg.id).items():
            pos, dk = _position_stats(frame, codebook, item, mask)
            checked += 1
            want_dk = exp.dont_know(kz2020.base_dont_know, kz2020.unsure_dont_know)
            tol_dk = max(0.03, 4.5 * np.sqrt(want_dk * (1 - want_dk) / len(dk)))
            if abs(dk.mean() - want_dk) > tol_dk:
                failures.append((seg.id, item, "dont_know", round(dk.mean(), 3), want_dk))
            if exp.level.position is not None:
                tol = max(0.03, 4.5 * pos.std() / np.sqrt(len(pos)))
                if abs(pos.mean() - exp.level.position) > tol:
                    failures.append(
                        (seg.id, item, "position", round(pos.mean(), 3), exp.level.position)
                    )
            if exp.level.polarised:
                low, high = (pos < 0.5).mean(), (pos > 0.5).mean()
                if min(low, high) < 0.3:
                    failures.append((seg.id, item, "polarised", round(low, 2), round(high, 2)))
    assert checked == 223
    assert failures == []


def test_segments_are_ordered_on_items_as_the_typology_orders_them(kz2020, bundled):
    """Where two segments' levels differ by 0.2 or more, their answers differ the same way."""
    frame, codebook, truth = bundled
    levels = {s.id: kz2020.expected_levels(s.id) for s in kz2020.segments}
    means = {
        (s.id, item): _position_stats(frame, codebook, item, (truth["segment"] == s.id).to_numpy())[
            0
        ].mean()
        for s in kz2020.segments
        for item in levels[s.id]
    }
    pairs = 0
    for item in codebook.columns:
        stated = [
            (s, lv[item].level.position)
            for s, lv in levels.items()
            if item in lv and lv[item].level.position is not None
        ]
        for a, pa in stated:
            for b, pb in stated:
                if pa - pb >= 0.2:
                    pairs += 1
                    assert means[(a, item)] > means[(b, item)], (item, a, b)
    assert pairs > 100


def _share(frame, codebook, variable, categories, mask):
    it = codebook[variable]
    values = frame[variable].to_numpy(dtype=float)
    if it.bands:
        hit = np.isin(it.band_labels(values), list(categories))
    else:
        hit = np.isin(values, [it.code_of(c) for c in categories])
    w = frame[codebook.weight].to_numpy()
    return (w[mask] * hit[mask]).sum() / w[mask].sum(), (w * hit).sum() / w.sum()


def test_demographic_tendencies_hold_in_every_segment(kz2020, bundled):
    """ "More X" (slight/moderate): above the sample; "Mostly X" (strong): a majority or 1.5x the
    sample."""
    frame, codebook, truth = bundled
    failures, checked = [], 0
    for seg in kz2020.segments:
        mask = (truth["segment"] == seg.id).to_numpy()
        for claim in seg.demographic_claims:
            if claim.strength == "average":
                continue
            share, overall = _share(frame, codebook, claim.variable, claim.categories, mask)
            ok = (
                share > overall
                if claim.strength != "strong"
                else (share >= 0.5 or share > 1.5 * overall)
            )
            checked += 1
            if not ok:
                failures.append(
                    (seg.id, claim.variable, claim.categories, round(share, 3), round(overall, 3))
                )
    assert checked == 35
    assert failures == []


def test_weighted_composition_matches_the_population_margins(kz2020, bundled):
    frame, codebook, _ = bundled
    population = Population.load(
        kz2020.path.replace("kz2020.yaml", "kz2020_population.yaml"), kz2020.instrument
    )
    everyone = np.ones(len(frame), dtype=bool)
    for variable in ("gender", "settlement", "education", "ethnicity", "news_source"):
        for category, target in population.variables[variable].items():
            share, _ = _share(frame, codebook, variable, [category], everyone)
            assert share == pytest.approx(target, abs=0.04), (variable, category)


def test_almaty_and_astana_are_oversampled_and_weighted_down(bundled):
    frame, _codebook, _ = bundled
    region = frame["region"].to_numpy()
    w = frame["weight"].to_numpy()
    capitals = np.isin(region, [1, 2])  # almaty_city, astana
    assert capitals.mean() > 0.25  # about 15% of the population
    assert w[capitals].mean() < 0.6 * w[~capitals].mean()
    assert w.mean() == pytest.approx(1.0, abs=1e-3)
    assert np.all(w > 0)


def test_dont_know_and_item_nonresponse_are_present(bundled):
    frame, codebook, _ = bundled
    items = [it.column for it in codebook.attitude_items]
    values = frame[items].to_numpy(dtype=float)
    assert 0.005 < np.isnan(values).mean() < 0.05
    assert 0.0 < (values == 9).mean() < 0.02  # refused
    assert 0.03 < (values == 8).mean() < 0.15  # don't know
    assert (frame["income"] == 9).sum() > 0  # refused income


def test_oracle_recovers_segments_well_but_not_perfectly(survey):
    """A correctly specified model cannot beat the Bayes classifier with the true parameters."""
    truth = np.array([survey.segment_ids.index(s) for s in survey.truth["segment"]])
    ari = adjusted_rand_score(truth, survey.oracle_predict())
    assert 0.65 < ari < 0.95


def test_oracle_posterior_rows_are_probabilities(survey):
    proba = np.exp(survey.oracle_log_proba())
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert survey.sample_shares.sum() == pytest.approx(1.0)


def test_shares_override_moves_the_segment_mix(kz2020):
    shares = {s.id: 0.05 for s in kz2020.segments}
    shares["angry_liberals"] = 0.75
    wave2 = generate_survey(kz2020, 2000, seed=3, shares=shares)
    observed = (wave2.truth["segment"] == "angry_liberals").mean()
    assert observed == pytest.approx(wave2.sample_shares[-1], abs=0.04)
    assert observed > 0.6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be a positive integer"),
        ({"spread": 0.0}, "spread must be positive"),
        ({"shares": {"nobody": 1.0}}, "no such segment"),
    ],
)
def test_bad_generator_arguments_are_refused(kz2020, kwargs, message):
    with pytest.raises(ValueError if "shares" in kwargs else Exception, match=message):
        generate_survey(kz2020, **{"n": 10, **kwargs})


def test_a_broken_population_file_lists_every_problem(kz2020, tmp_path):
    path = tmp_path / "pop.yaml"
    path.write_text(
        "variables:\n"
        "  gender: {male: 0.5, female: 0.2}\n"
        "  planet: {mars: 1.0}\n"
        "  settlement: {megapolis: 1.0, moon: 0.0}\n"
        "oversample: {variable: region, factors: {almaty_city: -1}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PopulationError) as info:
        Population.load(path, kz2020.instrument)
    text = str(info.value)
    for needle in (
        "add up to 1",
        "'planet'",
        "'moon'",
        "oversample.variable",
        "has no distribution",
    ):
        assert needle in text


def test_cli_synth_writes_three_files_and_refuses_to_overwrite(tmp_path, capsys):
    args = ["synth", "--n", "200", "--seed", "2", "-o", str(tmp_path)]
    with pytest.raises(SystemExit) as first:
        main(args)
    assert first.value.code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "kz2020_synthetic.csv",
        "kz2020_synthetic_codebook.yaml",
        "kz2020_synthetic_truth.csv",
    ]
    before = (tmp_path / "kz2020_synthetic.csv").read_bytes()
    with pytest.raises(SystemExit) as second:
        main([*args[:4], "3", "-o", str(tmp_path)])
    assert second.value.code == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "kz2020_synthetic.csv").read_bytes() == before


@pytest.mark.parametrize("shares", ["angry_liberals", "angry_liberals=x", "martians=1"])
def test_cli_synth_rejects_bad_shares_without_writing(tmp_path, shares):
    with pytest.raises(SystemExit) as info:
        main(["synth", "--n", "50", "--shares", shares, "-o", str(tmp_path)])
    assert info.value.code == 2
    assert list(tmp_path.iterdir()) == []
