"""Profile statistics of segments and naming them after the reference typology."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import ELECTION_ITEMS

from segment import Codebook, Typology, read_survey
from segment.cards.naming import name_segments, typology_distances
from segment.cards.profile_stats import profile_segments
from segment.models import LatentClassModel


# ---------------------------------------------------------------- hand-computed statistics
@pytest.fixture
def tiny():
    codebook = Codebook.from_dict(
        {
            "schema": "segment.codebook/1",
            "id": "rid",
            "weight": "w",
            "items": [
                {
                    "column": "q",
                    "domain": "trust",
                    "type": "ordinal",
                    "levels": {1: "No", 2: "Somewhat", 3: "Yes"},
                    "dont_know": {8: "Don't know"},
                },
                {
                    "column": "sex",
                    "domain": "demographics",
                    "type": "nominal",
                    "levels": {
                        1: {"name": "man", "en": "Man"},
                        2: {"name": "woman", "en": "Woman"},
                    },
                },
            ],
        }
    )
    # segment 0: rows 0-3 (q = 3, 3, 2, 8), segment 1: rows 4-7 (q = 1, 1, 2, 1)
    frame = pd.DataFrame(
        {
            "rid": range(8),
            "w": [1.0, 1, 2, 1, 1, 1, 1, 1],
            "q": [3.0, 3, 2, 8, 1, 1, 2, 1],
            "sex": [2.0, 2, 2, 1, 1, 1, 1, 2],
        }
    )
    resp = np.zeros((8, 2))
    resp[:4, 0] = 1
    resp[4:, 1] = 1
    return codebook, frame, resp


def test_shares_positions_dont_know_and_contrasts_by_hand(tiny):
    codebook, frame, resp = tiny
    p = profile_segments(resp, frame, codebook, min_cell=0)
    w = np.array([1.0, 1, 2, 1, 1, 1, 1, 1])
    w = w / w.mean()
    np.testing.assert_allclose(p.shares["share"], [w[:4].sum() / w.sum(), w[4:].sum() / w.sum()])
    assert (p.shares["ci_low"] < p.shares["share"]).all() and (
        p.shares["share"] < p.shares["ci_high"]
    ).all()
    seg0 = p.items.set_index(["segment", "item"]).loc[(0, "q")]
    # substantive answers of segment 0: 3 (w1), 3 (w1), 2 (w2) -> positions 1, 1, 0.5
    assert seg0["position"] == pytest.approx((1 + 1 + 0.5 * 2) / 4)
    assert seg0["mean_code"] == pytest.approx((3 + 3 + 2 * 2) / 4)
    assert seg0["dont_know"] == pytest.approx(1 / 5)  # weight 1 of 5 answered
    sample_pos = (1 + 1 + 0.5 * 2 + 0 + 0 + 0.5 + 0) / 8
    assert seg0["sample_position"] == pytest.approx(sample_pos)
    assert seg0["difference"] == pytest.approx(seg0["position"] - sample_pos)
    assert np.sign(seg0["effect_size"]) == 1
    assert seg0["p_adjusted"] >= seg0["p_value"]


def test_demographic_index_against_the_sample(tiny):
    codebook, frame, resp = tiny
    p = profile_segments(resp, frame, codebook, min_cell=0)
    women = p.demographics.set_index(["segment", "category"]).loc[(0, "woman")]
    w = np.array([1.0, 1, 2, 1, 1, 1, 1, 1])
    share = w[:3].sum() / w[:4].sum()
    sample = (w[:3].sum() + w[7]) / w.sum()
    assert women["share"] == pytest.approx(share)
    assert women["index"] == pytest.approx(100 * share / sample)


def test_small_cells_are_suppressed(tiny):
    codebook, frame, resp = tiny
    p = profile_segments(resp, frame, codebook, min_cell=30)
    assert p.shares["suppressed"].all()
    assert p.items["suppressed"].all() and p.items["position"].isna().all()
    assert p.demographics["suppressed"].all() and p.demographics["share"].isna().all()
    assert p.distributions.empty


def test_unit_weights_equal_no_weights_and_row_order_does_not_matter(tiny):
    codebook, frame, resp = tiny
    unweighted = Codebook.from_dict({**codebook.to_dict(), "weight": None})
    a = profile_segments(resp, frame, unweighted, min_cell=0)
    b = profile_segments(resp, frame, codebook, sample_weight=np.ones(8), min_cell=0)
    pd.testing.assert_frame_equal(a.items, b.items)
    perm = np.random.default_rng(0).permutation(8)
    c = profile_segments(resp[perm], frame.iloc[perm].reset_index(drop=True), codebook, min_cell=0)
    d = profile_segments(resp, frame, codebook, min_cell=0)
    pd.testing.assert_frame_equal(c.items, d.items, rtol=1e-12)
    pd.testing.assert_frame_equal(c.demographics, d.demographics, rtol=1e-12)


# ---------------------------------------------------------------- naming on the bundled survey
@pytest.fixture(scope="module")
def bundled(bundled_survey):
    data, codebook, truth = bundled_survey
    frame, cb = read_survey(data, codebook)
    return frame, cb, pd.read_csv(truth)


@pytest.fixture(scope="module")
def kz2020():
    return Typology.load("kz2020")


def fitted_names(frame, cb, typology, k):
    X = cb.model_codes(frame)
    model = LatentClassModel(k, random_state=0).fit(X, sample_weight=frame["weight"])
    profiles = profile_segments(model.predict_proba(X), frame, cb)
    return model, profiles, name_segments(profiles, typology)


def test_six_segment_fit_gets_all_six_names_right(bundled, kz2020):
    frame, cb, truth = bundled
    model, _profiles, names = fitted_names(frame, cb, kz2020, 6)
    assert names["named"].all()
    for s, name in enumerate(names["name"]):
        majority = truth.loc[model.labels_ == s, "segment_name"].value_counts().index[0]
        assert name == majority
    assert sorted(names["name"]) == sorted(seg.name for seg in kz2020.segments)
    assert (names["score"] > 0.9).all()


def test_a_merged_segment_is_named_after_the_two_reference_segments_it_joins(bundled, kz2020):
    frame, cb, truth = bundled
    model, _profiles, names = fitted_names(frame, cb, kz2020, 5)
    named = names[names["named"]]
    assert len(named) == 4 and len(set(named["name"])) == 4
    merged = names[~names["named"]]
    assert len(merged) == 1 and merged["merged"].all()
    s = int(merged["segment"].iloc[0])
    members = truth.loc[model.labels_ == s, "segment"].value_counts(normalize=True)
    assert members.iloc[1] > 0.25  # genuinely two reference segments
    assert set(merged["references"].iloc[0]) == set(members.index[:2])
    by_id = {seg.id: seg.name for seg in kz2020.segments}
    assert merged["name"].iloc[0] == " + ".join(by_id[r] for r in merged["references"].iloc[0])
    assert not named["merged"].any()
    for _, row in named.iterrows():
        majority = (
            truth.loc[model.labels_ == row["segment"], "segment_name"].value_counts().index[0]
        )
        assert row["name"] == majority


def test_names_follow_the_segments_when_their_order_changes(bundled, kz2020):
    frame, cb, _ = bundled
    X = cb.model_codes(frame)
    model = LatentClassModel(6, random_state=0).fit(X, sample_weight=frame["weight"])
    resp = model.predict_proba(X)
    perm = np.array([3, 0, 5, 1, 4, 2])
    a = name_segments(profile_segments(resp, frame, cb), kz2020)
    b = name_segments(profile_segments(resp[:, perm], frame, cb), kz2020)
    assert list(b["name"]) == list(a["name"].to_numpy()[perm])


def test_real_data_without_the_typology_items_gets_no_borrowed_names(shared_data, kz2020):
    frame, cb = read_survey(shared_data / "lca" / "election.csv")
    items = ELECTION_ITEMS
    X = cb.model_codes(frame, items)
    model = LatentClassModel(3, n_init=3, random_state=0).fit(X)
    profiles = profile_segments(model.predict_proba(X), frame, cb, items=items)
    names = name_segments(profiles, kz2020)
    assert not names["named"].any()
    assert list(names["name"]) == ["Segment 1", "Segment 2", "Segment 3"]
    assert typology_distances(profiles, kz2020).isna().all().all()
    # the election profiles themselves are sensible: segments differ on the candidate ratings
    spread = profiles.items.groupby("item")["position"].agg(lambda p: p.max() - p.min())
    assert (spread > 0.2).sum() >= 6


def test_heavy_weights_cannot_reveal_a_small_cell(tiny):
    codebook, frame, resp = tiny
    heavy = frame.assign(w=[10.0, 10, 10, 10, 1, 1, 1, 1])
    p = profile_segments(resp, heavy, codebook, min_cell=5)  # 4 respondents per segment
    assert p.shares["suppressed"].all() and p.shares["share"].isna().all()
    assert p.items["weighted_n"].isna().all() and p.demographics["weighted_n"].isna().all()


def test_share_intervals_survive_a_zero_weight(tiny):
    codebook, frame, resp = tiny
    p = profile_segments(resp, frame.assign(w=[0.0, 1, 2, 1, 1, 1, 1, 1]), codebook, min_cell=0)
    assert p.shares[["se", "ci_low", "ci_high"]].notna().all().all()
