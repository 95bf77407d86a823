"""The reference typology: the kz2020 encoding of the 2020 ICPA/PaperLab segmentation and the
typology schema check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from segment import Typology, TypologyError
from segment.cli import main
from segment.resources import bundled_path

SEED_004 = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "004_d25f468b3ea5f4c9.txt"
DOMAIN_HEADINGS = {
    "Civic Rights": "civic_rights",
    "Democracy": "democracy",
    "Trust": "trust",
    "Demographics": "demographics",
    "Civic Sector": "civic_sector",
    "Governance": "governance",
    "External threat": "external",
    "Optimism": "optimism",
}


def parse_seed_004(text: str) -> dict[str, dict]:
    """Segments of the 2020 ICPA/PaperLab segmentation from its text.

    name -> {"tagline": str, "bullets": {domain: [text, ...]}}.
    """
    segments: dict[str, dict] = {}
    current = None
    domain = None
    expect_tagline = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# "):
            current = {"tagline": None, "bullets": {}}
            segments[line[2:].strip()] = current
            expect_tagline = True
        elif line.startswith("### ") and current is not None:
            domain = DOMAIN_HEADINGS[line[4:].strip()]
        elif line.startswith("- ") and current is not None and domain is not None:
            current["bullets"].setdefault(domain, []).append(line[2:].strip())
        elif line and expect_tagline and not line.startswith("#"):
            current["tagline"] = line
            expect_tagline = False
    return segments


@pytest.fixture(scope="module")
def kz2020() -> Typology:
    return Typology.load("kz2020")


@pytest.fixture(scope="module")
def seed_segments() -> dict[str, dict]:
    if not SEED_004.is_file():
        pytest.skip("seed 004 is not in ../shared/seeds")
    return parse_seed_004(SEED_004.read_text(encoding="utf-8"))


def test_bundled_typology_has_the_six_seed_segments_in_order(kz2020, seed_segments):
    assert [s.name for s in kz2020.segments] == list(seed_segments)
    assert len(kz2020.segments) == 6


def test_taglines_are_verbatim_from_the_seed(kz2020, seed_segments):
    for seg in kz2020.segments:
        assert seg.tagline == seed_segments[seg.name]["tagline"]


@pytest.mark.parametrize("domain", list(DOMAIN_HEADINGS.values()))
def test_every_seed_bullet_is_encoded_verbatim_under_its_domain(kz2020, seed_segments, domain):
    for seg in kz2020.segments:
        encoded = [b.text for b in seg.bullets if b.domain == domain]
        assert encoded == seed_segments[seg.name]["bullets"].get(domain, []), seg.name


def test_every_bullet_has_claims_and_shares_sum_to_one(kz2020):
    assert sum(s.share for s in kz2020.segments) == pytest.approx(1.0, abs=1e-9)
    for seg in kz2020.segments:
        assert len(seg.bullets) == 30
        assert all(b.claims for b in seg.bullets)


def test_every_attitude_item_is_claimed_by_some_segment(kz2020):
    table = kz2020.expected_table()
    unclaimed = [c for c in table.columns if table[c].isna().all()]
    assert unclaimed == []
    assert len(table.columns) == 39


def test_assumptions_are_stated(kz2020):
    text = " ".join(kz2020.assumptions).lower()
    for topic in ("share", "cut-point", "don't-know", "government institutions"):
        assert topic in text


@pytest.mark.parametrize(
    ("segment_id", "item", "level"),
    [
        ("illiberal_loyalists", "cr_associate", "unsure"),  # specific bullet beats the summary
        ("illiberal_loyalists", "cr_free_speech", "lean_low"),
        ("illiberal_loyalists", "trust_president", "extremely_high"),  # "especially"
        ("illiberal_loyalists", "trust_parliament", "very_high"),
        ("satisfied_conservatives", "trust_akim", "high"),  # "slightly less so"
        ("disenchanted_democrats", "trust_army", "lean_high"),
        ("disenchanted_democrats", "trust_courts", "divided_unsure"),
        ("angry_liberals", "trust_nur_otan", "very_low"),
        ("angry_liberals", "dem_rights_vs_order", "very_high"),
        ("realists", "dem_working", "unsure"),
    ],
)
def test_claim_precedence_gives_the_intended_level(kz2020, segment_id, item, level):
    assert kz2020.expected_levels(segment_id)[item].level.name == level


def test_also_unsure_raises_the_dont_know_share(kz2020):
    exp = kz2020.expected_levels("realists")["ext_trust_russia"]
    assert exp.also_unsure
    assert exp.dont_know(kz2020.base_dont_know, kz2020.unsure_dont_know) == pytest.approx(0.40)


# ------------------------------------------------------------------ schema check
MINIMAL_INSTRUMENT = {
    "schema": "segment.codebook/1",
    "id": "rid",
    "weight": None,
    "scales": {
        "agree4": {
            "type": "ordinal",
            "levels": {1: "Disagree", 2: "Rather disagree", 3: "Rather agree", 4: "Agree"},
            "dont_know": {8: "Don't know"},
        }
    },
    "items": [
        {"column": "q_free_press", "domain": "civic_rights", "scale": "agree4"},
        {"column": "q_trust_army", "domain": "trust", "scale": "agree4"},
        {
            "column": "sex",
            "domain": "demographics",
            "type": "nominal",
            "levels": {1: {"name": "man", "en": "Man"}, 2: {"name": "woman", "en": "Woman"}},
        },
    ],
}


def minimal_typology() -> dict:
    return {
        "schema": "segment.typology/1",
        "name": "demo",
        "instrument": "demo_instrument.yaml",
        "levels": {
            "high": {"position": 0.8},
            "low": {"position": 0.2},
            "unsure": {"position": None, "dont_know": 0.4},
        },
        "segments": [
            {
                "id": "liberals",
                "name": "Liberals",
                "share": 0.4,
                "bullets": {
                    "civic_rights": [
                        {
                            "text": "Value a free press",
                            "claims": [{"items": ["q_free_press"], "level": "high"}],
                        }
                    ],
                    "demographics": [
                        {
                            "text": "More women",
                            "claims": [
                                {"variable": "sex", "categories": ["woman"], "strength": "moderate"}
                            ],
                        }
                    ],
                },
            },
            {
                "id": "loyalists",
                "name": "Loyalists",
                "share": 0.6,
                "bullets": {
                    "trust": [
                        {
                            "text": "Trust the army",
                            "claims": [{"items": ["q_trust_army"], "level": "high"}],
                        }
                    ]
                },
            },
        ],
    }


def write_typology(tmp_path: Path, doc: dict) -> Path:
    (tmp_path / "demo_instrument.yaml").write_text(
        yaml.safe_dump(MINIMAL_INSTRUMENT), encoding="utf-8"
    )
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_user_written_typology_for_another_country_passes(tmp_path, capsys):
    path = write_typology(tmp_path, minimal_typology())
    with pytest.raises(SystemExit) as exit_info:
        main(["typology", "check", str(path)])
    assert exit_info.value.code == 0
    assert "OK (2 segments, 3 bullets" in capsys.readouterr().out
    assert Typology.load(path).expected_levels("liberals")["q_free_press"].level.position == 0.8


def test_bundled_typology_passes_the_cli_check(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["typology", "check", str(bundled_path("profiles", "kz2020.yaml"))])
    assert exit_info.value.code == 0
    assert "6 segments, 180 bullets, 39 attitude items" in capsys.readouterr().out


def test_every_problem_of_a_broken_typology_is_listed_at_once(tmp_path, capsys):
    doc = minimal_typology()
    lib = doc["segments"][0]["bullets"]
    lib["civic_rights"][0]["claims"][0]["level"] = "sky_high"  # not in the vocabulary
    lib["civic_rights"].append(
        {"text": "x", "claims": [{"items": ["q_nope"], "level": "low"}]}
    )  # unknown item
    lib["demographics"][0]["claims"][0]["categories"] = ["martian"]  # unknown category
    doc["segments"][1]["share"] = 0.9  # shares add to 1.3
    doc["segments"][1]["id"] = "liberals"  # duplicate id
    path = write_typology(tmp_path, doc)
    with pytest.raises(TypologyError) as info:
        Typology.load(path)
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 5
    joined = "\n".join(messages)
    for needle in ("'sky_high'", "'q_nope'", "'martian'", "add up to 1", "used by two segments"):
        assert needle in joined
    with pytest.raises(SystemExit) as exit_info:
        main(["typology", "check", str(path)])
    assert exit_info.value.code == 2
    assert "5 problems found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.pop("levels"), "'levels' is a required property"),
        (lambda d: d["segments"][0].__setitem__("colour", "red"), "'colour' was unexpected"),
        (lambda d: d["segments"][0]["bullets"].__setitem__("economy", []), "economy"),
        (lambda d: d.__setitem__("instrument", "missing.yaml"), "file not found"),
        (lambda d: d["levels"]["high"].__setitem__("position", 1.5), "1.5"),
    ],
)
def test_structural_problems_name_the_location(tmp_path, mutate, needle):
    doc = minimal_typology()
    mutate(doc)
    path = write_typology(tmp_path, doc)
    with pytest.raises(TypologyError) as info:
        Typology.load(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_invalid_yaml_reports_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("schema: segment.typology/1\nsegments: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(TypologyError, match=re.escape(str(path)) + r", line \d+"):
        Typology.load(path)
