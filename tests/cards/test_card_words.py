"""Names, taglines, short labels and bullets a pollster would publish (issue 15, item 4).

A small hand-made poll: three attitude items (a 4-point trust scale with ``say:`` words, a
yes/no item and a nominal referendum vote) and profile variables of every kind (a sex item with
``short:`` phrases, a race item without, age and years of education as numbers). Segments are
fixed memberships, so each rule is checked against numbers known in advance.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segment import Codebook
from segment.cards import demographics as demo
from segment.cards.profile_stats import holm_adjust, profile_segments
from segment.cards.wording import (
    SHORT_LABEL_MAX,
    build_cards,
    item_levels,
    say_text,
    segment_traits,
    short_label,
    short_labels,
)

N = 1200
DOC = {
    "schema": "segment.codebook/1",
    "id": None,
    "weight": None,
    "domains": [
        {"name": "trust", "label": "Trust"},
        {"name": "europe", "label": "Europe"},
        {"name": "demographics", "label": "Demographics", "role": "profile"},
    ],
    "items": [
        {
            "column": "trust_gov",
            "question": "How much do you trust the government?",
            "domain": "trust",
            "short": "the government",
            "type": "ordinal",
            "measures": "trust",
            "levels": {1: "None at all", 2: "Not much", 3: "Some", 4: "A lot"},
        },
        {
            "column": "voted",
            "question": "Did you vote in the last election?",
            "domain": "trust",
            "short": "having voted",
            "type": "ordinal",
            "levels": {0: "No", 1: "Yes"},
        },
        {
            "column": "eu",
            "question": "How would you vote in a referendum on EU membership?",
            "domain": "europe",
            "short": "EU vote",
            "type": "nominal",
            "levels": {
                1: {"en": "Join EU", "short": "would vote to join the EU"},
                2: {"en": "Remain Outside", "short": "would vote to stay outside"},
            },
        },
        {
            "column": "sex",
            "domain": "demographics",
            "type": "nominal",
            "levels": {1: {"en": "Male", "short": "men"}, 2: {"en": "Female", "short": "women"}},
        },
        {
            "column": "race",
            "question": "Race",
            "domain": "demographics",
            "short": "race",
            "type": "nominal",
            "levels": {1: "White", 2: "Black", 3: "Not strong republican"},
        },
        {
            "column": "age",
            "question": "Age in years",
            "domain": "demographics",
            "type": "numeric",
            "measures": "age",
            "min": 18,
            "max": 90,
        },
        {
            "column": "educ",
            "question": "Years of education",
            "domain": "demographics",
            "short": "years of education",
            "type": "numeric",
            "measures": "education",
            "min": 0,
            "max": 20,
        },
    ],
}
DEMOGRAPHIC_WORDS = ("men", "women", "Male", "Female", "White", "Black", "republican", "race")
DEMOGRAPHIC = re.compile(r"\b(" + "|".join(DEMOGRAPHIC_WORDS) + r")\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def poll():
    """Segment 0 (first 400): distrust, 70% yes, 45% join EU, 40% Black (14% elsewhere: a
    material difference), older, fewer years of education; segment 1 (next 400): trust; segment
    2: in between. Men are 52% in segment 0 and 48% elsewhere (not material)."""
    rng = np.random.default_rng(3)
    seg = np.repeat([0, 1, 2], N // 3)
    trust = np.where(seg == 0, rng.choice([1, 2], N), np.where(seg == 1, 4, rng.choice([2, 3], N)))
    voted = (rng.random(N) < np.where(seg == 0, 0.7, 0.35)).astype(int)
    eu = np.where(rng.random(N) < np.where(seg == 0, 0.45, 0.15), 1, 2)
    black = rng.random(N) < np.where(seg == 0, 0.40, 0.12)
    race = np.where(black, 2, np.where(rng.random(N) < 0.1, 3, 1))
    sex = np.where(rng.random(N) < np.where(seg == 0, 0.52, 0.48), 1, 2)
    age = np.round(rng.normal(np.where(seg == 0, 58, 44), 12)).clip(18, 90)
    educ = np.round(rng.normal(np.where(seg == 0, 11, 14), 2.5)).clip(0, 20)
    frame = pd.DataFrame(
        {
            "trust_gov": trust,
            "voted": voted,
            "eu": eu,
            "sex": sex,
            "race": race,
            "age": age,
            "educ": educ,
        }
    )
    cb = Codebook.from_dict(DOC)
    frame = cb.validate(frame, file="poll.csv")
    resp = np.eye(3)[seg]
    return frame, cb, resp


@pytest.fixture(scope="module")
def cards(poll):
    frame, cb, resp = poll
    profiles = profile_segments(resp, frame, cb, items=["trust_gov", "voted", "eu"])
    return profiles, build_cards(profiles, cb)


def _card(cards, segment):
    return next(c for c in cards[1] if c.segment == segment)


def _texts(card, domain=None):
    return [b.text for b in card.bullets if domain is None or b.domain == domain]


# --- Holm's adjustment ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm")
        ([0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]),
        # R: p.adjust(c(0.2, 0.5), "holm")
        ([0.2, 0.5], [0.4, 0.5]),
        ([0.9, np.nan, 0.001], [0.9, np.nan, 0.002]),
    ],
)
def test_holm_matches_r(p, expected):
    np.testing.assert_allclose(holm_adjust(np.array(p)), expected, equal_nan=True)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_is_between_raw_and_one_and_keeps_the_order(p):
    p = np.array(p)
    adj = holm_adjust(p)
    assert np.all(adj >= p - 1e-12) and np.all(adj <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= -1e-12)


# --- materiality -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "sample", "material"),
    [
        (0.14, 0.12, False),  # "Not strong republican": 14% against 12%
        (0.16, 0.14, False),  # "Black respondents": 16% against 14%
        (0.40, 0.24, True),  # 40% join the EU against 24%
        (0.62, 0.53, False),  # 9 points
        (0.63, 0.53, False),  # 10 points but a ratio of 1.19
        (0.68, 0.47, True),
        (0.20, 0.10, True),
        (0.02, 0.01, False),  # doubled, but one point
        (0.10, 0.00, True),
    ],
)
def test_materiality_threshold(share, sample, material):
    assert bool(demo.is_material(share, sample)) is material


def test_the_thresholds_are_documented_constants():
    assert (demo.MIN_POINTS, demo.MIN_RATIO, demo.MIN_EFFECT, demo.ALPHA) == (0.10, 1.25, 0.2, 0.05)
    for name in ("MIN_POINTS", "MIN_RATIO", "MIN_EFFECT", "Holm"):
        assert name in demo.__doc__


# --- demographic bullets -------------------------------------------------------------------


def test_demographic_tests_are_holm_adjusted_over_the_card_set(cards):
    profiles, _ = cards
    t = profiles.demographic_tests
    assert set(t["kind"]) == {"category", "mean"}
    np.testing.assert_allclose(t["p_adjusted"], holm_adjust(t["p_value"].to_numpy()))
    np.testing.assert_allclose(t["estimate"] - t["sample"], t["difference"])


def test_clear_and_material_demographics_only(cards):
    texts = _texts(_card(cards, 0), "demographics")
    assert "Race: 40% Black, 19% overall" in texts or any(
        t.startswith("Race: ") and "Black" in t for t in texts
    )
    assert "Older" in texts and "Fewer years of education" in texts
    assert not any(re.search(r"\b(wo)?men\b", t) for t in texts)  # 52% against 49%


def test_numbers_are_worded_by_what_they_measure(cards):
    everything = [t for c in cards[1] for t in _texts(c, "demographics")]
    assert not any("Younger" in t or "Older" in t for t in everything if "educ" in t)
    assert "More years of education" in _texts(_card(cards, 1), "demographics")


def test_labels_keep_their_case(poll):
    frame, cb, resp = poll
    frame = frame.copy()
    frame.loc[:399, "race"] = np.where(np.arange(400) % 2 == 0, 3, 1)  # 50% in segment 0
    profiles = profile_segments(resp, frame, cb, items=["trust_gov", "voted", "eu"])
    texts = [b.text for b in build_cards(profiles, cb)[0].bullets] + [
        b.text for c in build_cards(profiles, cb) for b in c.bullets
    ]
    assert any("Not strong republican" in t for t in texts)
    assert not any("not strong republican" in t for t in texts)


def test_every_printed_demographic_passes_the_test_and_the_threshold(cards):
    profiles, built = cards
    t = profiles.demographic_tests
    for card in built:
        for b in card.bullets:
            if b.domain != "demographics":
                continue
            rows = t[(t["segment"] == card.segment) & (t["variable"] == b.items[0])]
            assert (rows["p_adjusted"] <= demo.ALPHA).any()
            if "share" in b.numbers:
                assert demo.is_material(b.numbers["share"], b.numbers["in the sample"])


# --- attitude bullets ------------------------------------------------------------------------


def test_binary_items_in_percent_who_say(cards):
    texts = _texts(_card(cards, 0), "trust")
    assert any(t.endswith("overall") and "say yes to having voted" in t for t in texts), texts
    assert not any(t.startswith("Divided on having voted") for c in cards[1] for t in _texts(c))


def test_nominal_items_get_a_bullet_when_an_answer_is_over_represented(cards):
    texts = _texts(_card(cards, 0), "europe")
    assert len(texts) == 1 and texts[0].endswith("overall")
    assert "would vote to join the EU" in texts[0]
    share, overall = (int(x) for x in re.findall(r"(\d+)%", texts[0]))
    assert share - overall >= 10


# --- names ------------------------------------------------------------------------------------


def test_names_taglines_and_short_labels(cards):
    _, built = cards
    names = [c.name for c in built]
    shorts = [c.short_label for c in built]
    assert len(set(names)) == len(names) and len(set(shorts)) == len(shorts)
    assert all(len(s) <= SHORT_LABEL_MAX for s in shorts)
    for card in built:
        assert not DEMOGRAPHIC.search(card.name)  # names come from the segmentation items only
        # a tagline's demographic traits are the card's own demographic bullets, never numbers
        demographic = {b.text.split(", ")[0] for b in card.bullets if b.says}
        for trait in card.tagline.split(", "):
            assert "%" not in trait
            assert not DEMOGRAPHIC.search(trait) or trait in demographic, trait
    assert "distrust the government" in _card(cards, 0).name.lower()


def _assert_traits_agree_with_the_card(profiles, cb):
    """Each trait of a name or tagline is said by the card's bullet on that item, at its level."""
    cards = {c.segment: c for c in build_cards(profiles, cb)}
    for s in range(profiles.n_segments):
        levels = item_levels(s, profiles, cb)
        bullets = [b.text.lower() for b in cards[s].bullets]
        for _, trait, item in segment_traits(s, profiles, cb):
            if cb[item].type == "ordinal" and len(cb[item].levels) > 2:
                assert trait == say_text(cb[item], levels[item])  # the card's scale and words
            else:  # binary and nominal: the bullet's words without its numbers
                assert any(trait.lower() in b for b in bullets), (trait, bullets)


def test_traits_are_the_cards_own_words(cards, poll):
    _, cb, _ = poll
    _assert_traits_agree_with_the_card(cards[0], cb)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 4))
def test_names_never_use_demographics_nor_contradict_the_card(poll, seed, k):
    frame, cb, _ = poll
    rng = np.random.default_rng(seed)
    resp = rng.dirichlet(np.full(k, 0.3), size=len(frame))
    profiles = profile_segments(resp, frame, cb, items=["trust_gov", "voted", "eu"])
    built = build_cards(profiles, cb)
    names = [c.name for c in built]
    assert len(set(names)) == len(names)
    assert len({c.short_label for c in built}) == len(built)
    for card in built:
        assert len(card.short_label) <= SHORT_LABEL_MAX
        assert not DEMOGRAPHIC.search(card.name) and not DEMOGRAPHIC.search(card.tagline)
    _assert_traits_agree_with_the_card(profiles, cb)


@pytest.mark.parametrize(
    "text",
    [
        "Strongly distrust China",
        "Strongly want more spent on improving the nation's education system",
        "On balance think immigrants enrich cultural life, Think immigrants make it better",
        "Supercalifragilisticexpialidocious-and-then-some words",
    ],
)
def test_short_labels_fit(text):
    label = short_label(text)
    assert 0 < len(label) <= SHORT_LABEL_MAX
    assert label == text or len(text) > SHORT_LABEL_MAX


def test_short_labels_are_unique():
    labels = short_labels(["Strongly distrust the government of the day"] * 3)
    assert len(set(labels)) == 3 and all(len(x) <= SHORT_LABEL_MAX for x in labels)
