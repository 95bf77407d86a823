"""Drafting a codebook (``segment.survey.draft``): each rule on a small synthetic file.

Roles (ids, composite ids, weights, design, ignored, profile), answer scales (text -> codes,
ordinal words, special codes by label and convention, R's NA), one scale per format, domains,
and the commented YAML that loads back as the same codebook.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from segment import Codebook
from segment.survey.draft import draft_codebook, infer_codebook
from segment.survey.draft_answers import conventional_specials, ordinal_ranks, read_answers
from segment.survey.draft_domains import group_domains, name_prefixes
from segment.survey.draft_roles import find_id, find_weight, ignored_reason, profile_role

N = 40
RNG = np.random.default_rng(3)


def codes(values, n=N) -> list[str]:
    return [str(v) for v in RNG.choice(values, size=n)]


def battery(prefix: str = "q", k: int = 3, values=(1, 2, 3, 4)) -> dict[str, list[str]]:
    return {f"{prefix}{i}": codes(values) for i in range(1, k + 1)}


# ----------------------------------------------------------------------------- ids
@pytest.mark.parametrize("name", ["idno", "id", "respno", "caseid", "RESPID", "S006"])
def test_unique_id_named_column_is_the_id(name):
    frame = pd.DataFrame({name: [str(i) for i in range(100, 100 + N)], **battery()})
    assert find_id(frame)[0] == name
    assert infer_codebook(frame).id == name


@pytest.mark.parametrize("wave", ["year", "wave", "cntry", "essround"])
def test_ids_restarting_per_wave_give_a_composite_id(wave):
    half = N // 2
    frame = pd.DataFrame(
        {wave: ["2016"] * half + ["2018"] * half, "id": [str(i % half) for i in range(N)],
         **battery()}
    )  # fmt: skip
    cb = infer_codebook(frame)
    assert cb.id == (wave, "id")
    assert cb.check_data(frame) == []


def test_repeating_id_without_a_wave_column_is_no_id():
    frame = pd.DataFrame({"id": ["1", "1"] + [str(i) for i in range(2, N)], **battery()})
    assert infer_codebook(frame).id is None


# ----------------------------------------------------------------------------- weights
def _weights(n=N):
    return [f"{w:.4f}" for w in RNG.uniform(0.3, 3, size=n)]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["dweight", "pspwght", "pweight", "anweight"], "pspwght"),
        (["dweight", "pweight"], "dweight"),
        (["anweight", "pweight"], "anweight"),
        (["wtssall", "wtssps"], "wtssps"),
        (["withinwt"], "withinwt"),
        (["weight"], "weight"),
        (["pweight"], "pweight"),  # not an ESS file: Stata's sampling weight
    ],
)
def test_weight_preference(columns, expected):
    frame = pd.DataFrame({c: _weights() for c in columns} | battery())
    assert find_weight(frame)[0] == expected


def test_constant_column_is_never_the_weight():
    frame = pd.DataFrame({"weight": ["1.5"] * N, **battery()})
    weight, _why, rejected = find_weight(frame)
    assert weight is None
    assert "constant" in rejected["weight"]
    assert infer_codebook(frame)["weight"].role == "ignored"


def test_ess_pweight_never_the_weight_and_anweight_for_several_countries():
    frame = pd.DataFrame({"pweight": _weights(), "dweight": _weights(), **battery()})
    assert find_weight(frame)[0] == "dweight"
    several = pd.DataFrame(
        {"cntry": ["NO", "SE"] * (N // 2), "pspwght": _weights(), "anweight": _weights()}
    )
    assert find_weight(several)[0] == "anweight"


@pytest.mark.parametrize("bad", ["0", "-1", "", "x"])
def test_weight_with_a_non_positive_or_blank_cell_is_not_used(bad):
    w = _weights()
    w[3] = bad
    frame = pd.DataFrame({"weight": w, **battery()})
    assert infer_codebook(frame).weight is None


# ----------------------------------------------------------------------------- design
def test_strata_and_psu_found_and_lonely_strata_adjusted():
    strata = [str(i // 4) for i in range(N)]
    strata[-1] = "lonely"
    frame = pd.DataFrame({"stratum": strata, "psu": [str(i) for i in range(N)], **battery()})
    cb = infer_codebook(frame)
    assert cb.design_columns == {"strata": "stratum", "psu": "psu"}
    assert cb.lonely_psu == "adjust"
    assert cb.check_data(frame) == []


def test_psu_labels_restarting_per_stratum_are_nested():
    frame = pd.DataFrame(
        {"vstrat": [str(i // 10) for i in range(N)], "vpsu": [str(i % 2) for i in range(N)],
         **battery()}
    )  # fmt: skip
    cb = infer_codebook(frame)
    assert cb.design_columns == {"strata": "vstrat", "psu": "vpsu"}
    assert cb.nest is True
    assert cb.check_data(frame) == []


# ----------------------------------------------------------------------------- ignored
@pytest.mark.parametrize(
    ("column", "values", "word"),
    [
        ("rownames", [str(i) for i in range(1, N + 1)], "row names"),
        ("rownames", [str(3 * i + 2) for i in range(N)], "row names"),
        ("cntry", ["NO"] * N, "constant"),
        ("inwds", [f"2021-09-{i % 28 + 1:02d}T10:00:00Z" for i in range(N)], "date"),
        ("when", [f"2021-09-{i % 28 + 1:02d}" for i in range(N)], "date"),
        ("sumnat", [str(i % 9) for i in range(N)], "derived"),
    ],
)
def test_administrative_and_derived_columns_are_ignored(column, values, word):
    frame = pd.DataFrame({column: values, **battery("nat")})
    assert word in ignored_reason(frame, column, ["nat"])
    cb = infer_codebook(frame)
    assert cb[column].role == "ignored"
    assert cb.check_data(frame) == []


# ----------------------------------------------------------------------------- profile
@pytest.mark.parametrize(
    ("column", "domain"),
    [
        ("agea", "demographics"), ("gndr", "demographics"), ("eduyrs", "demographics"),
        ("hinctnta", "demographics"), ("brncntr", "demographics"), ("brnnorge", "demographics"),
        ("uempla", "demographics"), ("region", "demographics"), ("sex", "demographics"),
        ("degree", "demographics"), ("race", "demographics"), ("rincom16", "demographics"),
        ("income16", "demographics"), ("X003", "demographics"), ("Q260", "demographics"),
        ("IMD2002", "demographics"), ("faminc_new", "demographics"),
        ("partyid", "politics"), ("pid7", "politics"), ("prtvtcno", "politics"),
        ("vote", "politics"), ("polint", "politics"), ("polintr", "politics"),
        ("political.knowledge", "politics"), ("news", "background"),
        ("news_source", "background"), ("settlement", "demographics"),
    ],
)  # fmt: skip
def test_profile_variables_by_survey_names(column, domain):
    found = profile_role(column)
    assert found is not None and found.domain == domain


@pytest.mark.parametrize(
    "column",
    ["eu_vote", "brexit_vote", "natspac", "imbgeco", "trust_religious", "dem_engaged_ngos",
     "economic.cond.national", "economic.cond.household", "Blair", "MBSA2", "q17"],
)  # fmt: skip
def test_attitude_items_are_not_profile(column):
    assert profile_role(column) is None


def test_numeric_demographics_stay_numeric_and_say_what_they_measure():
    frame = pd.DataFrame({"agea": codes(range(18, 90)), "eduyrs": codes(range(0, 25)), **battery()})
    cb = infer_codebook(frame)
    assert (cb["agea"].type, cb["agea"].measures) == ("numeric", "age")
    assert cb["agea"].bands[0][2].endswith("-34")
    assert (cb["eduyrs"].type, cb["eduyrs"].measures) == ("numeric", "education")
    assert cb["eduyrs"].short == "years of full-time education"
    assert [it.column for it in cb.segmentation_items] == ["q1", "q2", "q3"]


@pytest.mark.parametrize(
    ("ideology", "values", "role"),
    [("lrscale", range(11), "segmentation"), ("polviews", range(1, 8), "profile")],
)
def test_ideology_joins_the_battery_only_in_its_answer_format(ideology, values, role):
    frame = pd.DataFrame({**battery("im", 3, range(11)), ideology: codes(list(values))})
    assert infer_codebook(frame)[ideology].role == role


# ----------------------------------------------------------------------------- answers
@pytest.mark.parametrize(
    ("texts", "order"),
    [
        (["Agree", "StronglyDisagree", "StronglyAgree", "Disagree"],
         ["StronglyDisagree", "Disagree", "Agree", "StronglyAgree"]),
        (["Too much", "Too little", "About right"], ["Too little", "About right", "Too much"]),
        (["Very good", "Poor", "Fair", "Good"], ["Poor", "Fair", "Good", "Very good"]),
        (["Never", "Always", "Sometimes", "Often"], ["Never", "Sometimes", "Often", "Always"]),
        (["Not at all interested", "Very interested", "Somewhat interested"],
         ["Not at all interested", "Somewhat interested", "Very interested"]),
    ],
)  # fmt: skip
def test_ordinal_words_ordered(texts, order):
    ranks, _ = ordinal_ranks(texts)
    assert sorted(texts, key=ranks.get) == order


@pytest.mark.parametrize("texts", [["Labour", "Conservative"], ["Yes", "No"], ["Oslo", "Bergen"]])
def test_unordered_texts_are_no_scale(texts):
    assert ordinal_ranks(texts) is None


def test_text_answers_become_codes_with_labels_and_values():
    frame = pd.DataFrame(
        {f"m{i}": codes(["StronglyAgree", "Agree", "Disagree", "StronglyDisagree"])
         for i in range(3)}
    )  # fmt: skip
    cb = infer_codebook(frame)
    item = cb["m0"]
    assert item.type == "ordinal"
    assert item.levels[0].label() == "Strongly disagree"
    assert item.levels[0].value == "StronglyDisagree"
    assert {it.scale for it in cb} == {item.scale}
    assert cb.check_data(frame) == []
    expected = frame["m0"].str.casefold().map(item.text_codes()).astype(float)
    np.testing.assert_array_equal(cb.validate(frame)["m0"].to_numpy(), expected.to_numpy())


@pytest.mark.parametrize(
    ("texts", "kind"),
    [
        ("Don't Know", "dont_know"), ("Can't choose", "dont_know"), ("DK", "dont_know"),
        ("Refuse to Answer", "refused"), ("Refused", "refused"), ("No answer", "refused"),
        ("Not Eligible", "missing"), ("Blank Ballot", "missing"), ("Wouldn't Vote", "missing"),
        ("Not applicable", "missing"),
    ],
)  # fmt: skip
def test_special_text_answers(texts, kind):
    cells = [*codes(["Join", "Stay out"]), texts]
    a = read_answers(pd.Series(cells), nominal=True)
    found = {
        "dont_know": [x.text for x in a.dont_know],
        "refused": [x.text for x in a.refused],
        "missing": list(a.missing_texts),
    }
    assert found[kind] == [texts]
    assert texts not in [x.text for x in a.levels]


def test_missing_texts_and_r_na_become_missing_text():
    frame = pd.DataFrame(
        {"eu_vote": codes(["Join EU", "Remain Outside", "Don't Know", "Not Eligible"]),
         "q1": codes(["1", "2", "3", "NA"]), "q2": codes(["1", "2", "3"]),
         "q3": codes(["1", "2", "3"])}
    )  # fmt: skip
    cb = infer_codebook(frame)
    assert set(cb.missing_text) == {"NA", "Not Eligible"}
    assert [lv.label() for lv in cb["eu_vote"].dont_know] == ["Don't Know"]
    assert cb.check_data(frame) == []
    assert cb.validate(frame)["q1"].isna().sum() == (frame["q1"] == "NA").sum()


@pytest.mark.parametrize(
    ("observed", "specials"),
    [
        ([1, 2, 3, 4, 5, 8, 9], {8: "dont_know", 9: "refused"}),
        ([1, 2, 3, 4, 7, 8, 9], {7: "refused", 8: "dont_know", 9: "refused"}),
        ([*list(range(11)), 77, 88, 99], {77: "refused", 88: "dont_know", 99: "refused"}),
        ([1, 2, 3, 4, 5, 98, 99], {98: "dont_know", 99: "refused"}),
        ([-9, -1, 1, 2, 3, 4], {-9: "missing", -1: "missing"}),
        ([-1, 0, 1], {}),  # a -1/0/1 scale
        ([-2, -1, 0, 1, 2], {}),
        (list(range(11)), {}),  # 0-10 with 7, 8, 9 answers
        (list(range(1, 12)), {}),
    ],
)
def test_conventional_special_codes(observed, specials):
    assert conventional_specials(observed) == specials


def test_labelled_codes_keep_labels_and_special_codes_by_label():
    a = read_answers(
        pd.Series([1.0, 2, 3, 4, 8, 9]),
        labels={1: "Not at all", 2: "Not very", 3: "Somewhat", 4: "Very", 8: "Don't know",
                9: "Refusal"},
    )  # fmt: skip
    assert a.type == "ordinal"
    assert [x.code for x in a.levels] == [1, 2, 3, 4]
    assert [x.code for x in a.dont_know] == [8]
    assert [x.code for x in a.refused] == [9]


def test_items_of_one_format_get_one_scale_with_every_code():
    frame = pd.DataFrame({"q1": codes([1, 2, 3, 4, 5]), "q2": codes([1, 2, 4, 5]),
                          "q3": codes([1, 2, 3, 5])})  # fmt: skip
    cb = infer_codebook(frame)
    assert {it.scale for it in cb} == {cb["q1"].scale}
    assert [lv.code for lv in cb["q2"].levels] == [1, 2, 3, 4, 5]
    assert {it.type for it in cb} == {"ordinal"}


# ----------------------------------------------------------------------------- domains
@pytest.mark.parametrize(
    ("columns", "prefix"),
    [
        (["natspac", "natenvir", "natheal"], "nat"),
        (["imbgeco", "imueclt", "imwbcnt"], "im"),
        (["cr_free_speech", "cr_assembly"], "cr"),
        (["economic.cond.national", "economic.cond.household"], "economic"),
        (["MBSA2", "MBSA7", "MBSA8"], "mbsa"),
    ],
)
def test_name_prefixes(columns, prefix):
    assert set(name_prefixes(columns).values()) == {prefix}


def test_domains_by_prefix_then_shared_scale_then_single_items():
    cols = ["imbgeco", "imueclt", "Blair", "Hague", "Europe"]
    formats = {"imbgeco": "a", "imueclt": "a", "Blair": "b", "Hague": "b", "Europe": "c"}
    domains = group_domains(cols, formats)
    assert [(d.name, d.columns) for d in domains] == [
        ("immigration", ("imbgeco", "imueclt")),
        ("blair_hague", ("Blair", "Hague")),
        ("europe", ("Europe",)),
    ]
    assert domains[1].label == "Blair and Hague"


# ----------------------------------------------------------------------------- the YAML
def test_yaml_has_comments_and_loads_as_the_same_codebook(tmp_path):
    frame = pd.DataFrame(
        {"idno": [str(i) for i in range(N)], "pspwght": _weights(), "pweight": ["0.3"] * N,
         "agea": codes(range(18, 90)), **battery("im", 3, range(11))}
    )  # fmt: skip
    draft = draft_codebook(frame, title="poll.csv")
    text = draft.to_yaml()
    assert "# weight: pspwght - ESS post-stratification weight" in text
    assert "# agea: profile - age" in text
    path = tmp_path / "cb.yaml"
    path.write_text(text)
    loaded = Codebook.load(path)
    assert loaded.to_dict() == Codebook.from_dict(yaml.safe_load(text)).to_dict()
    assert loaded.to_dict()["items"] == draft.codebook.to_dict()["items"]
    assert [d.name for d in loaded.domains] == ["immigration", "demographics", "administrative"]
    assert loaded.domain("demographics").role == "profile"
