"""The generator says what the 2020 study says: demographic compositions per true segment as the
cards state them, "Unsure about X" without an invented position, list-experiment arms balanced by
design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from segment import Typology, read_survey
from segment.resources import bundled_path
from segment.synth.listexp import LEVELS, _categories, blocked_assignment
from segment.synth.population import Population, categories
from segment.synth.survey import (
    ABSOLUTE_SHARE,
    VAST_MAJORITY_SHARE,
    _demographic_tables,
    _segment_shares,
    item_answer_probs,
)


@pytest.fixture(scope="module")
def kz2020() -> Typology:
    return Typology.load("kz2020")


@pytest.fixture(scope="module")
def expected(kz2020):
    """Population shares and the generator's P(category | segment) for every variable."""
    population = Population.load(
        kz2020.path.replace("kz2020.yaml", "kz2020_population.yaml"), kz2020.instrument
    )
    shares = _segment_shares(kz2020, None)
    tables = _demographic_tables(kz2020, population, shares)
    margins: dict[str, np.ndarray] = {}
    for var, (parent, probs) in tables.items():
        margins[var] = probs if parent is None else np.einsum("kg,kgc->kc", margins[parent], probs)
    return population, shares, tables, margins


@pytest.fixture(scope="module")
def bundled():
    frame, codebook = read_survey(
        bundled_path("data", "kz2020_synthetic.csv"),
        bundled_path("data", "kz2020_synthetic_codebook.yaml"),
    )
    truth = pd.read_csv(bundled_path("data", "kz2020_synthetic_truth.csv"))
    return frame, codebook, truth


def _claims(typology, kind):
    for k, seg in enumerate(typology.segments):
        for bullet in seg.bullets:
            for claim in bullet.claims:
                if claim.is_demographic and claim.strength in kind:
                    yield k, seg, bullet, claim


def _idx(typology, claim):
    cats = categories(typology.instrument[claim.variable])
    return cats, np.isin(cats, claim.categories)


def _weighted_share(frame, codebook, variable, cats, mask):
    it = codebook[variable]
    values = frame[variable].to_numpy(dtype=float)
    answered = ~np.isnan(values) & ~np.isin(values, it.refused_codes)
    if it.bands:
        hit = np.isin(it.band_labels(values), list(cats))
    else:
        hit = np.isin(values, [it.code_of(c) for c in cats])
    w = frame[codebook.weight].to_numpy() * answered
    share = (w * hit)[mask].sum() / w[mask].sum()
    # linearised standard error of a weighted proportion (with replacement, one stratum)
    resid = w[mask] * (hit[mask] - share) / w[mask].sum()
    return (
        share,
        (w * hit).sum() / w.sum(),
        np.sqrt(mask.sum() / (mask.sum() - 1) * (resid**2).sum()),
    )


def test_absolute_claims_are_compositions_in_the_generator(kz2020, expected):
    """ "Mostly X" = 0.70 of the segment, "Vast majority X" = 0.88 (unless already above)."""
    _, _, _, margins = expected
    checked = 0
    for k, seg, bullet, claim in _claims(kz2020, {"strong"}):
        _, mask = _idx(kz2020, claim)
        want = VAST_MAJORITY_SHARE if "vast majority" in bullet.text.lower() else ABSOLUTE_SHARE
        got = margins[claim.variable][k, mask].sum()
        assert got >= want - 1e-6, (seg.id, bullet.text, got)
        if got > want + 1e-6:  # only a claim the population already meets is left above
            assert got > 0.9, (seg.id, bullet.text, got)
        checked += 1
    assert checked == 17


def test_comparative_claims_are_clear_overrepresentations_in_the_generator(kz2020, expected):
    """ "More X": at least 10 points and 1.25 times the sample's share (the mixture)."""
    _, shares, _, margins = expected
    checked = 0
    for k, seg, bullet, claim in _claims(kz2020, {"moderate", "slight"}):
        _, mask = _idx(kz2020, claim)
        got = margins[claim.variable][k, mask].sum()
        overall = (shares @ margins[claim.variable])[mask].sum()
        assert got - overall >= 0.10 and got >= 1.25 * overall, (seg.id, bullet.text, got, overall)
        checked += 1
    assert checked == 18


def test_average_claims_are_the_population_share_and_margins_stay_close(kz2020, expected):
    population, shares, _, margins = expected
    for k, seg, bullet, claim in _claims(kz2020, {"average"}):
        cats, mask = _idx(kz2020, claim)
        groups = (
            [mask] if claim.categories else [np.arange(len(cats)) == c for c in range(len(cats))]
        )
        overall = shares @ margins[claim.variable]
        for g in groups:
            got = margins[claim.variable][k, g].sum()
            assert got == pytest.approx(overall[g].sum(), abs=0.025), (seg.id, bullet.text)
    for var, spec in population.variables.items():
        if isinstance(spec, tuple):
            continue
        overall = shares @ margins[var]
        want = np.array([spec[c] for c in categories(kz2020.instrument[var])])
        assert np.abs(overall - want).max() <= 0.03, var


def test_region_carries_no_segment_tilt_beyond_settlement(expected):
    _, _, tables, _ = expected
    parent, probs = tables["region"]
    assert parent == "settlement"
    np.testing.assert_allclose(probs, np.broadcast_to(probs[:1], probs.shape), atol=1e-12)


def test_bundled_survey_meets_every_demographic_bullet(kz2020, bundled):
    """Realised weighted shares per true segment: absolute claims a clear majority (95% lower
    bound above one half), comparative ones 1.25 times the sample and significantly above it."""
    frame, codebook, truth = bundled
    failures = []
    for _, seg, bullet, claim in _claims(kz2020, {"strong", "moderate", "slight"}):
        mask = (truth["segment"] == seg.id).to_numpy()
        share, overall, se = _weighted_share(
            frame, codebook, claim.variable, claim.categories, mask
        )
        if claim.strength == "strong":
            ok = share - 1.96 * se > 0.5
        else:
            ok = share >= 1.25 * overall and (share - overall) / se > 2.5
        if not ok:
            failures.append((seg.id, bullet.text, round(share, 3), round(overall, 3)))
    assert failures == []


def test_unsure_levels_have_no_lean_of_their_own(kz2020, bundled):
    """ "Unsure about X": 40% don't know, answerers centred on the scale's middle, not polarised."""
    frame, codebook, truth = bundled
    checked = 0
    for k, seg in enumerate(kz2020.segments):
        mask = (truth["segment"] == seg.id).to_numpy()
        for item, exp in kz2020.expected_levels(seg.id).items():
            if exp.level.position is not None:
                continue
            it = codebook[item]
            codes, probs = item_answer_probs(kz2020, kz2020.instrument[item], 0.11)
            dk = np.isin(codes, it.dont_know_codes)
            pos = it.position(codes[~dk])
            sub = probs[k, ~dk] / probs[k, ~dk].sum()
            assert probs[k, dk].sum() == pytest.approx(0.40)
            assert sub @ pos == pytest.approx(0.5, abs=1e-6), (seg.id, item)
            assert sub[np.argsort(pos)][[0, -1]].sum() < 0.2, (seg.id, item)  # not polarised
            values = frame.loc[mask, item].to_numpy(dtype=float)
            answered = values[~np.isnan(values) & ~np.isin(values, it.refused_codes)]
            positions = it.position(answered[~np.isin(answered, it.dont_know_codes)])
            assert positions.mean() == pytest.approx(
                0.5, abs=4 * positions.std() / np.sqrt(len(positions))
            )
            checked += 1
    assert checked == 11


def test_but_many_unsure_keeps_its_position(kz2020):
    realists = [s.id for s in kz2020.segments].index("realists")
    item = kz2020.instrument["ext_trust_russia"]
    codes, probs = item_answer_probs(kz2020, item, 0.11)
    dk = np.isin(codes, item.dont_know_codes)
    sub = probs[realists, ~dk] / probs[realists, ~dk].sum()
    assert sub @ item.position(codes[~dk]) == pytest.approx(0.80, abs=1e-6)
    assert probs[realists, dk].sum() == pytest.approx(0.40)


@pytest.fixture(scope="module")
def listexp():
    read = dict(keep_default_na=False, na_values=[""])
    data = pd.read_csv(bundled_path("data", "kz2022_listexp.csv"), **read)
    truth = pd.read_csv(bundled_path("data", "kz2022_listexp_truth.csv"), **read)
    return data.assign(segment=truth["segment"].to_numpy())


@pytest.mark.parametrize("variable", ["segment", "gender", "education", "ethnicity", "region"])
def test_list_experiment_arms_are_balanced(listexp, variable):
    table = pd.crosstab(listexp[variable].fillna("missing"), listexp["treat"])
    assert chi2_contingency(table)[1] > 0.1, table


def test_list_experiment_arms_are_blocked_and_blind_to_the_segment(listexp):
    # within every block of the table's variables the arms differ by at most one respondent
    keys = listexp[list(LEVELS)].fillna("missing").astype(str).agg("|".join, axis=1)
    per_block = listexp.groupby(keys)["treat"].agg(["sum", "count"])
    assert ((2 * per_block["sum"] - per_block["count"]).abs() <= 1).all()
    assert listexp["treat"].sum() == len(listexp) // 2
    # the assignment is a function of the blocks and its own stream only
    cats = _categories(np.random.default_rng(0), 400)
    a = blocked_assignment(np.random.default_rng([2022, 1]), cats, 400)
    b = blocked_assignment(np.random.default_rng([2022, 1]), cats, 400)
    np.testing.assert_array_equal(a, b)
    assert a.sum() == 200
