"""Profile cards of real polls: names, taglines and bullets a pollster would publish.

The GSS 2018 spending battery (k = 4) and ESS round 10 Norway (k = 3, weights, strata and PSUs)
with small hand-written codebooks (the drafted ones are tested in ``test_draft_real_polls``):
no segment is named after a demographic, every demographic bullet passes the Holm-adjusted
design-based test and the materiality threshold, numbers are worded by what they measure.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from segment.cards import demographics as demo
from segment.cards.profile_stats import profile_segments
from segment.cards.render import cards_to_markdown
from segment.cards.wording import SHORT_LABEL_MAX, build_cards, segment_traits
from segment.models import LatentClassModel
from segment.survey.read import read_survey

SPENDING = {
    "natspac": "the space program",
    "natenvir": "the environment",
    "natheal": "health",
    "natcity": "big cities",
    "natcrime": "fighting crime",
    "natdrug": "drug addiction",
    "nateduc": "education",
    "natrace": "improving the conditions of Blacks",
    "natarms": "defense",
    "nataid": "foreign aid",
    "natfare": "welfare",
    "natroad": "highways and bridges",
    "natsoc": "Social Security",
    "natmass": "mass transportation",
    "natpark": "parks",
    "natchld": "childcare",
    "natsci": "scientific research",
    "natenrgy": "alternative energy",
}
GSS = {
    "schema": "segment.codebook/1",
    "id": "id",
    "weight": None,
    "missing_text": ["NA"],
    "domains": [
        {"name": "spending", "label": "National spending"},
        {"name": "demographics", "label": "Demographics", "role": "profile"},
    ],
    "scales": {
        "spend": {
            "type": "ordinal",
            "levels": {-1: "Too much", 0: "About right", 1: "Too little"},
        }
    },
    "items": [
        *(
            {
                "column": col,
                "question": f"Spending on {x}",
                "domain": "spending",
                "short": x,
                "scale": "spend",
                "say": {
                    "high": f"want more spent on {x}",
                    "low": f"think too much is spent on {x}",
                },
            }
            for col, x in SPENDING.items()
        ),
        {"column": "age", "domain": "demographics", "type": "numeric", "measures": "age"},
        {
            "column": "educ",
            "question": "Years of education",
            "short": "years of education",
            "domain": "demographics",
            "type": "numeric",
            "measures": "education",
        },
        {
            "column": "sex",
            "domain": "demographics",
            "type": "nominal",
            "levels": {0: {"en": "Male", "short": "men"}, 1: {"en": "Female", "short": "women"}},
        },
        {
            "column": "race",
            "short": "race",
            "domain": "demographics",
            "type": "nominal",
            "levels": {1: "White", 2: "Black", 3: "Other"},
        },
        {
            "column": "partyid",
            "short": "party",
            "domain": "demographics",
            "type": "nominal",
            "levels": {
                0: "Strong democrat",
                1: "Not strong democrat",
                2: "Independent, near democrat",
                3: "Independent",
                4: "Independent, near republican",
                5: "Not strong republican",
                6: "Strong republican",
                7: "Other party",
            },
        },
    ],
}
ESS = {
    "schema": "segment.codebook/1",
    "id": "idno",
    "weight": "pspwght",
    "design": {"strata": "stratum", "psu": "psu"},
    "missing_text": ["NA", "Not Eligible", "Blank Ballot", "Wouldn't Vote", "Refuse to Answer"],
    "domains": [
        {"name": "immigration", "label": "Immigration"},
        {"name": "europe", "label": "Europe"},
        {"name": "demographics", "label": "Demographics", "role": "profile"},
    ],
    "scales": {"eleven": {"type": "ordinal", "levels": {i: str(i) for i in range(11)}}},
    "items": [
        *(
            {
                "column": col,
                "domain": "immigration",
                "short": short,
                "scale": "eleven",
                "say": {"high": high, "low": low},
            }
            for col, short, high, low in (
                (
                    "imbgeco",
                    "the economy",
                    "see immigration as good for the economy",
                    "see immigration as bad for the economy",
                ),
                (
                    "imueclt",
                    "cultural life",
                    "think immigrants enrich cultural life",
                    "think immigrants undermine cultural life",
                ),
                (
                    "imwbcnt",
                    "Norway",
                    "think immigrants make Norway better",
                    "think immigrants make Norway worse",
                ),
                (
                    "lrscale",
                    "left-right",
                    "place themselves on the right",
                    "place themselves on the left",
                ),
            )
        ),
        {
            "column": "eu_vote",
            "domain": "europe",
            "short": "EU vote",
            "type": "nominal",
            "levels": {
                1: {"en": "Join EU", "short": "would vote to join the EU"},
                2: {"en": "Remain Outside", "short": "would vote to stay outside the EU"},
            },
            "dont_know": {8: "Don't Know"},
        },
        {"column": "agea", "domain": "demographics", "type": "numeric", "measures": "age"},
        {
            "column": "eduyrs",
            "short": "years of education",
            "domain": "demographics",
            "type": "numeric",
            "measures": "education",
        },
        {
            "column": "female",
            "domain": "demographics",
            "type": "nominal",
            "levels": {0: {"en": "Male", "short": "men"}, 1: {"en": "Female", "short": "women"}},
        },
        {
            "column": "region",
            "short": "region",
            "domain": "demographics",
            "type": "nominal",
            "levels": {
                1: "Agder og Sør-Østlandet",
                2: "Innlandet",
                3: "Nord-Norge",
                4: "Oslo og Viken",
                5: "Trøndlet",  # as the file spells it
                6: "Vestlandet",
            },
        },
    ],
}
DEMOGRAPHIC = re.compile(
    r"\b(men|women|male|female|white|black|democrat|republican|independent|oslo|"
    r"viken|vestlandet|innlandet|nord-norge|older|younger|years of education)\b",
    re.IGNORECASE,
)


def _cards(path, doc, tmp_path, k):
    cb_path = tmp_path / "codebook.yaml"
    cb_path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    frame, cb = read_survey(path, cb_path)
    items = [it.column for it in cb.segmentation_items]
    X = cb.model_codes(frame, items)
    asked = X.notna().any(axis=1).to_numpy()
    frame, X = frame[asked], X[asked]
    w = frame[cb.weight].to_numpy(dtype=float) if cb.weight else None
    model = LatentClassModel(k, n_init=2, random_state=0).fit(X, sample_weight=w)
    profiles = profile_segments(model.predict_proba(X), frame, cb, items=items)
    return cb, profiles, build_cards(profiles, cb)


@pytest.fixture(scope="module")
def gss(gss2018_spending_csv, tmp_path_factory):
    return _cards(gss2018_spending_csv, GSS, tmp_path_factory.mktemp("gss"), 4)


@pytest.fixture(scope="module")
def ess(ess2021_norway_csv, tmp_path_factory):
    return _cards(ess2021_norway_csv, ESS, tmp_path_factory.mktemp("ess"), 3)


@pytest.fixture(params=["gss", "ess"])
def poll(request):
    return request.getfixturevalue(request.param)


def test_names_come_from_the_battery_only(poll):
    cb, profiles, cards = poll
    for card in cards:
        traits = segment_traits(card.segment, profiles, cb)
        assert traits and all(cb[item].is_segmentation for _, _, item in traits)
        assert not DEMOGRAPHIC.search(card.name), card.name
        # the tagline's demographic traits are the card's own demographic bullets
        own = {b.text.split(", ")[0] for b in card.bullets if b.says}
        for trait in card.tagline.split(", "):
            assert not DEMOGRAPHIC.search(trait) or trait in own, card.tagline
    assert len({c.name for c in cards}) == len(cards)
    assert len({c.short_label for c in cards}) == len(cards)
    assert all(0 < len(c.short_label) <= SHORT_LABEL_MAX for c in cards)


def test_demographic_bullets_are_clear_and_material(poll):
    cb, profiles, cards = poll
    t = profiles.demographic_tests
    for card in cards:
        for b in card.bullets:
            if b.domain != "demographics":
                continue
            rows = t[(t["segment"] == card.segment) & t["variable"].isin(b.items)]
            if b.level == "average":  # "All ages": shown equivalent, not different
                bound, margin = b.numbers["largest difference (90% bound)"].split(" (margin ")
                assert float(bound) <= float(margin.rstrip(")")), b
                continue
            if b.level == "mostly" and all(cb[i].composition for i in b.items):
                continue  # a composition majority is said whether or not it differs
            assert (rows["p_adjusted"] <= demo.ALPHA).any(), b
            if "share" in b.numbers:
                assert demo.is_material(b.numbers["share"], b.numbers["in the sample"]), b
            else:
                effect = float(b.numbers["effect size"])
                assert abs(effect) >= demo.MIN_EFFECT, b


def test_numbers_are_worded_by_what_they_measure(poll):
    _, _, cards = poll
    for card in cards:
        for b in card.bullets:
            if any(i in ("educ", "eduyrs") for i in b.items):
                assert "years of education" in b.text and "ounger" not in b.text


def test_labels_keep_their_case_and_no_bullet_is_divided_yes_no(gss):
    _, _, cards = gss
    text = cards_to_markdown(cards)
    for lower in ("strong republican,", "strong democrat,", "black,"):
        assert f"% {lower}" not in text


def test_ess_uses_the_design_and_the_weights(ess):
    _, profiles, cards = ess
    assert profiles.design is not None and "strat" in profiles.design
    t = profiles.demographic_tests
    assert np.isfinite(t["se"]).all()
    texts = [b.text for c in cards for b in c.bullets if b.domain == "europe"]
    for text in texts:
        share, overall = (int(x) for x in re.findall(r"(\d+)%", text))
        assert share - overall >= 10 and share >= 1.25 * overall
