"""Declared domains, item roles, composite ids and answer texts in the codebook (issue 15)."""

from __future__ import annotations

import pandas as pd
import pytest

from segment.exceptions import CodebookError, DataError
from segment.survey.codebook import Codebook

AGREE = {1: "Strongly disagree", 2: "Disagree", 3: "Agree", 4: "Strongly agree"}


def spending_doc(**top) -> dict:
    """A US-style spending battery with its own domains (nothing Kazakh about it)."""
    doc = {
        "schema": "segment.codebook/1",
        "title": "Spending poll",
        "id": "idno",
        "weight": None,
        "domains": [
            {"name": "spending", "label": "Government spending"},
            {"name": "background", "label": "Who they are", "role": "profile"},
            {"name": "admin", "role": "ignored"},
        ],
        "items": [
            *(
                {
                    "column": f"nat{topic}",
                    "domain": "spending",
                    "type": "ordinal",
                    "levels": {1: "Too little", 2: "About right", 3: "Too much"},
                    "dont_know": {8: "Don't know"},
                }
                for topic in ("env", "heal", "educ")
            ),
            {
                "column": "partyid",
                "domain": "background",
                "type": "nominal",
                "levels": {
                    1: "Democrat",
                    2: "Independent",
                    3: {"en": "GOP", "value": "Republican"},
                },
            },
            {"column": "interviewer", "domain": "admin", "type": "numeric"},
            {
                "column": "trust_courts",
                "domain": "spending",
                "role": "profile",
                "type": "ordinal",
                "levels": AGREE,
            },
        ],
    }
    doc.update(top)
    return doc


def test_declared_domains_give_headings_order_and_roles():
    cb = Codebook.from_dict(spending_doc())
    assert cb.domain_titles == {
        "spending": "Government spending",
        "background": "Who they are",
        "admin": "Admin",
    }
    assert [it.column for it in cb.segmentation_items] == ["natenv", "natheal", "nateduc"]
    assert [it.column for it in cb.profile_items] == ["partyid", "trust_courts"]
    assert cb["interviewer"].role == "ignored"
    assert list(cb.by_domain()) == ["spending", "background", "admin"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["items"][0].update(domain="spending_typo"), "domain not declared"),
        (lambda d: d["domains"].append({"name": "spending"}), "domain declared twice"),
        (lambda d: d["items"][0].update(role="weight"), "role"),
        (lambda d: d["domains"].append({"name": "Bad Name"}), "Bad Name"),
        (lambda d: d.update(id=["year", "year"]), "column listed twice in a composite id"),
        (
            lambda d: d["items"].append(
                {"column": "comment", "domain": "spending", "type": "text"}
            ),
            "a text item cannot be segmented on",
        ),
        (
            lambda d: d["items"][3]["levels"].update({4: {"en": "Other", "value": "republican"}}),
            r"answer text \(`value:`\) used twice",
        ),
    ],
    ids=["undeclared", "twice", "bad-role", "bad-slug", "composite-twice", "text-seg", "value"],
)
def test_bad_domains_and_roles_are_refused(edit, message):
    doc = spending_doc()
    edit(doc)
    with pytest.raises(CodebookError, match=message):
        Codebook.from_dict(doc)


def test_codebook_without_domains_keeps_the_legacy_roles():
    doc = spending_doc()
    del doc["domains"]
    for it in doc["items"]:
        it.pop("role", None)
    doc["items"][3]["domain"] = "demographics"
    doc["items"][4]["domain"] = "other"
    cb = Codebook.from_dict(doc)
    assert [it.column for it in cb.segmentation_items] == [
        "natenv",
        "natheal",
        "nateduc",
        "trust_courts",
    ]
    assert [it.column for it in cb.profile_items] == ["partyid", "interviewer"]
    assert cb.domain_titles["spending"] == "Spending"


def test_domains_roles_and_composite_ids_survive_a_yaml_round_trip(tmp_path):
    cb = Codebook.from_dict(spending_doc(id=["year", "idno"], population="US adults"))
    path = tmp_path / "cb.yaml"
    cb.save(path)
    again = Codebook.load(path)
    assert again == Codebook.from_dict(cb.to_dict(), file=str(path))
    assert again.id_columns == ("year", "idno")
    assert again.domains == cb.domains
    assert [it.role for it in again.items] == [it.role for it in cb.items]
    assert again["partyid"].levels[2].value == "Republican"
    assert again.population == "US adults"


def _frame(**cols) -> pd.DataFrame:
    base = {
        "idno": [1, 2, 3, 4],
        "natenv": [1, 2, 3, 8],
        "natheal": ["Too little", " too MUCH ", "About right", "Don't know"],
        "nateduc": [1, 1, 2, None],
        "partyid": ["Democrat", "Republican", "Independent", ""],
        "interviewer": [7, 7, 8, 8],
        "trust_courts": [1, 2, 3, 4],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_text_answers_are_read_as_their_codes():
    cb = Codebook.from_dict(spending_doc())
    out = cb.validate(_frame())
    assert out["natheal"].tolist() == [1.0, 3.0, 2.0, 8.0]
    assert out["partyid"].tolist()[:3] == [1.0, 3.0, 2.0]
    assert pd.isna(out["partyid"].iloc[3])


def test_a_text_that_is_no_answer_names_row_and_value():
    cb = Codebook.from_dict(spending_doc())
    with pytest.raises(DataError) as exc:
        cb.validate(_frame(natheal=["Too little", "Far too much", "About right", 1]))
    text = str(exc.value)
    assert "natheal, row 2: value 'Far too much'" in text


def test_composite_id_is_unique_together_and_duplicates_are_bounded():
    cb = Codebook.from_dict(spending_doc(id=["year", "idno"]))
    frame = _frame(year=[2018, 2018, 2020, 2020], idno=[1, 2, 1, 2])
    assert cb.check_data(frame) == []
    single = Codebook.from_dict(spending_doc())
    problems = single.check_data(frame)
    assert [p.row for p in problems] == [3, 4]
    pooled = pd.concat([frame] * 30, ignore_index=True)
    pooled["idno"] = list(range(60)) * 2
    problems = single.check_data(pooled)
    assert len(problems) == 21
    assert "40 more duplicate respondent ids (60 rows in all)" in problems[-1].message
    assert "id: [year, id]" in problems[-1].message


@pytest.mark.parametrize("mark", ["NA", " NA ", "."])
def test_missing_text_cells_read_as_blank_and_the_input_is_not_changed(mark):
    cb = Codebook.from_dict(spending_doc(missing_text=["NA", "."]))
    frame = _frame(natenv=[1, mark, 3, 8], partyid=["Democrat", mark, "Independent", mark])
    before = frame.copy()
    out = cb.validate(frame)
    assert pd.isna(out["natenv"].iloc[1]) and pd.isna(out["partyid"].iloc[1])
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(DataError, match="natenv, row 2"):
        Codebook.from_dict(spending_doc()).validate(frame)
