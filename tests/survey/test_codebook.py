"""The codebook: load/save round trip, model codes, positions, malformed codebooks and
``segment codebook check`` listing every violation of a data file."""

from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import run_cli

from segment import Codebook, CodebookError, DataError
from segment.survey.read import read_survey


def small_doc() -> dict:
    """A valid codebook mapping exercising labels, names, special codes, numeric items."""
    return {
        "schema": "segment.codebook/1",
        "title": "Small test poll",
        "synthetic": True,
        "note": "for tests",
        "languages": ["en", "ru"],
        "id": "rid",
        "weight": "w",
        "design": {"strata": "region", "psu": None},
        "dont_know": "keep",
        "refused": "missing",
        "scales": {
            "agree3": {
                "type": "ordinal",
                "measures": "agreement",
                "higher_means_more": True,
                "levels": {
                    1: {"name": "disagree", "en": "Disagree", "ru": "Не согласен"},
                    2: "Neither",
                    3: {"name": "agree", "en": "Agree", "ru": "Согласен"},
                },
                "dont_know": {8: {"en": "Don't know", "ru": "Затрудняюсь ответить"}},
                "refused": {9: "Refused"},
            }
        },
        "items": [
            {"column": "q_trust", "question": "Trust?", "domain": "trust", "scale": "agree3"},
            {
                "column": "q_order",
                "question": {"en": "Order first?", "ru": "Сначала порядок?"},
                "domain": "governance",
                "short": "order",
                "type": "ordinal",
                "higher_means_more": False,
                "levels": {1: "A lot", 2: "Somewhat", 3: "Not at all"},
                "dont_know": {8: "Don't know"},
                "refused": {9: "Refused"},
                "missing": [99],
            },
            {
                "column": "sex",
                "question": "Sex",
                "domain": "demographics",
                "type": "nominal",
                "levels": {
                    1: {"name": "male", "en": "Male"},
                    2: {"name": "female", "en": "Female"},
                },
            },
            {
                "column": "age",
                "question": "Age",
                "domain": "demographics",
                "type": "numeric",
                "min": 18,
                "max": 100,
                "missing": [999],
                "bands": [[18, 34, "18-34"], [35, 100, "35+"]],
            },
        ],
    }


# ----------------------------------------------------------------------------- load / save
def test_bundled_codebook_load_save_load_gives_equal_codebook(tmp_path, bundled_survey):
    _, codebook_path, _ = bundled_survey
    original = Codebook.load(codebook_path)
    out = tmp_path / "copy.yaml"
    original.save(out)
    again = Codebook.load(out)
    assert again == original
    assert again.columns == original.columns
    assert again["cr_free_speech"].label_of(8, "ru") == "Затрудняюсь ответить"


def test_small_codebook_load_save_load_gives_equal_codebook(tmp_path):
    src = tmp_path / "small.yaml"
    src.write_text(yaml.safe_dump(small_doc(), allow_unicode=True), encoding="utf-8")
    original = Codebook.load(src)
    out = tmp_path / "saved.yaml"
    original.save(out)
    again = Codebook.load(out)
    assert again == original
    assert again["q_order"].higher_means_more is False
    assert again["q_order"].missing == (99.0,)
    assert again["age"].bands == ((18.0, 34.0, "18-34"), (35.0, 100.0, "35+"))
    assert again["sex"].code_of("female") == 2
    assert again.design == {"strata": "region", "psu": None}


def test_save_is_valid_utf8_yaml_with_cyrillic_kept(tmp_path):
    cb = Codebook.from_dict(small_doc())
    out = tmp_path / "cb.yaml"
    cb.save(out)
    text = out.read_text(encoding="utf-8")
    assert "Не согласен" in text  # not escaped as \u sequences
    assert yaml.safe_load(text)["schema"] == "segment.codebook/1"


# Regression: _item_to_yaml rebuilt a multilingual scale with languages ('en',) only, the rebuild
# failed, and the item's override was dropped on save (found against commit 7b80319).
def test_save_keeps_item_override_of_multilingual_scale(tmp_path):
    doc = small_doc()
    doc["items"].append(
        {"column": "q_rev", "domain": "trust", "scale": "agree3", "higher_means_more": False}
    )
    original = Codebook.from_dict(doc)
    assert original["q_rev"].higher_means_more is False
    out = tmp_path / "cb.yaml"
    original.save(out)
    again = Codebook.load(out)
    assert again["q_rev"].higher_means_more is False
    assert again == original


# Regression: _item_to_yaml dropped an item's own levels when its named scale has none, so the
# saved codebook did not load (found against commit 7b80319).
def test_save_keeps_item_levels_when_scale_has_none(tmp_path):
    doc = {
        "schema": "segment.codebook/1",
        "scales": {"base": {"type": "ordinal", "measures": "trust"}},
        "items": [
            {"column": "q1", "domain": "trust", "scale": "base", "levels": {1: "Low", 2: "High"}}
        ],
    }
    original = Codebook.from_dict(doc)
    out = tmp_path / "cb.yaml"
    original.save(out)
    again = Codebook.load(out)
    assert again == original


# ----------------------------------------------------------------------------- model codes
MODEL_FRAME = pd.DataFrame(
    {
        "q_trust": ["1", "3", "8", "9", None, "2"],
        "q_order": ["3", "8", "9", "99", "1", ""],
    }
)
NAN = np.nan


@pytest.mark.parametrize(
    ("dont_know", "refused", "expected_trust", "expected_order"),
    [
        # default: don't know kept as an answer, refused -> NaN; missing codes always NaN
        (None, None, [1, 3, 8, NAN, NAN, 2], [3, 8, NAN, NAN, 1, NAN]),
        ("missing", "missing", [1, 3, NAN, NAN, NAN, 2], [3, NAN, NAN, NAN, 1, NAN]),
        ("keep", "keep", [1, 3, 8, 9, NAN, 2], [3, 8, 9, NAN, 1, NAN]),
        ("missing", "keep", [1, 3, NAN, 9, NAN, 2], [3, NAN, 9, NAN, 1, NAN]),
    ],
)
def test_model_codes_apply_dont_know_and_refused_policies(
    dont_know, refused, expected_trust, expected_order
):
    doc = small_doc()
    for key, value in (("dont_know", dont_know), ("refused", refused)):
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    cb = Codebook.from_dict(doc)
    codes = cb.model_codes(MODEL_FRAME)
    assert list(codes.columns) == ["q_trust", "q_order"]  # attitude items only, codebook order
    np.testing.assert_array_equal(codes["q_trust"].to_numpy(), np.array(expected_trust, float))
    np.testing.assert_array_equal(codes["q_order"].to_numpy(), np.array(expected_order, float))


def test_model_codes_on_bundled_survey_keep_dk_and_drop_refused(bundled_survey):
    data, codebook_path, _ = bundled_survey
    frame, cb = read_survey(data, codebook_path)
    codes = cb.model_codes(frame)
    assert list(codes.columns) == [it.column for it in cb.attitude_items]
    raw = frame["cr_free_speech"].to_numpy()
    got = codes["cr_free_speech"].to_numpy()
    assert (raw == 8).any()
    assert np.all(got[raw == 8] == 8)
    assert np.all(np.isnan(got[raw == 9]))
    assert not np.isin(got, [9]).any()


# ----------------------------------------------------------------------------- position
@pytest.mark.parametrize(
    ("higher_means_more", "expected"),
    [
        (True, [0.0, 0.25, 0.5, 0.75, 1.0, NAN, NAN, NAN]),
        (False, [1.0, 0.75, 0.5, 0.25, 0.0, NAN, NAN, NAN]),
    ],
)
def test_item_position_maps_codes_to_unit_interval(higher_means_more, expected):
    doc = {
        "schema": "segment.codebook/1",
        "items": [
            {
                "column": "q",
                "domain": "trust",
                "type": "ordinal",
                "higher_means_more": higher_means_more,
                "levels": {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"},
                "dont_know": {8: "Don't know"},
                "refused": {9: "Refused"},
            }
        ],
    }
    item = Codebook.from_dict(doc)["q"]
    got = item.position(np.array([1, 2, 3, 4, 5, 8, 9, NAN]))
    np.testing.assert_allclose(got, expected)


def test_item_position_follows_codebook_level_order_not_code_order():
    doc = {
        "schema": "segment.codebook/1",
        "items": [{"column": "q", "domain": "trust", "levels": {3: "Low", 1: "Middle", 2: "High"}}],
    }
    item = Codebook.from_dict(doc)["q"]
    np.testing.assert_allclose(item.position(np.array([3, 1, 2])), [0.0, 0.5, 1.0])


# ----------------------------------------------------------------------------- malformed
def _write_doc(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _bad_unknown_domain(doc):
    # a codebook that declares its domains may use no other
    doc["domains"] = [{"name": d} for d in dict.fromkeys(it["domain"] for it in doc["items"])]
    doc["items"][0]["domain"] = "politics"
    return r"items\[0\]\(q_trust\)\.domain: value 'politics': domain not declared"


def _bad_undefined_scale(doc):
    doc["items"][0]["scale"] = "agree7"
    return r"items\[0\]\(q_trust\)\.scale: value 'agree7': no such scale"


def _bad_overlapping_codes(doc):
    doc["items"][1]["dont_know"] = {3: "Don't know"}
    return r"items\[1\]\(q_order\): value 3: code used twice"


def _bad_ordinal_without_levels(doc):
    del doc["items"][1]["levels"]
    return r"items\[1\]\(q_order\)\.levels: a ordinal item needs its answer levels"


def _bad_duplicate_column(doc):
    doc["items"].append(copy.deepcopy(doc["items"][2]))
    return r"items\[4\]\.column: value 'sex': duplicate of items\[2\]"


@pytest.mark.parametrize(
    "breaker",
    [
        _bad_unknown_domain,
        _bad_undefined_scale,
        _bad_overlapping_codes,
        _bad_ordinal_without_levels,
        _bad_duplicate_column,
    ],
    ids=lambda f: f.__name__.removeprefix("_bad_"),
)
def test_malformed_codebook_is_refused_by_check_with_exit_2(
    tmp_path, capsys, bundled_survey, breaker
):
    doc = small_doc()
    pattern = breaker(doc)
    path = _write_doc(tmp_path / "bad.yaml", doc)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(CodebookError) as exc:
        Codebook.load(path)
    assert len(exc.value.problems) == 1
    code, out, err = run_cli(["codebook", "check", path, bundled_survey[0]], capsys)
    assert code == 2
    assert f"codebook {path}: 1 problem found" in err
    assert re.search(pattern, err), err
    assert "OK" not in out
    assert sorted(tmp_path.iterdir()) == before  # no output file written


def test_invalid_yaml_codebook_is_refused_naming_file_and_line(tmp_path, capsys, bundled_survey):
    path = tmp_path / "broken.yaml"
    path.write_text("schema: segment.codebook/1\nitems:\n  - column: [q1\n    domain: trust\n")
    with pytest.raises(CodebookError) as exc:
        Codebook.load(path)
    assert len(exc.value.problems) == 1
    code, out, err = run_cli(["codebook", "check", path, bundled_survey[0]], capsys)
    assert code == 2
    assert str(path) in err
    assert "not valid YAML" in err
    assert re.search(r"line \d+, column \d+", err)
    assert out == ""


def test_malformed_codebook_lists_every_consistency_problem_in_one_error(
    tmp_path, capsys, bundled_survey
):
    doc = small_doc()
    patterns = [
        _bad_undefined_scale(doc),
        _bad_overlapping_codes(doc),
        _bad_duplicate_column(doc),
    ]
    doc["items"].append({"column": "q_new", "domain": "trust", "type": "ordinal"})
    patterns.append(r"items\[5\]\(q_new\)\.levels: a ordinal item needs its answer levels")
    path = _write_doc(tmp_path / "bad.yaml", doc)
    with pytest.raises(CodebookError) as exc:
        Codebook.load(path)
    assert len(exc.value.problems) == 4
    code, _, err = run_cli(["codebook", "check", path, bundled_survey[0]], capsys)
    assert code == 2
    assert "4 problems found" in err
    for pattern in patterns:
        assert re.search(pattern, err), pattern


# Regression: from_dict stopped at the JSON-schema stage (e.g. an unknown domain) and hid the
# consistency problems of other items (found against commit 7b80319).
def test_malformed_codebook_lists_schema_and_consistency_problems_together(tmp_path):
    doc = small_doc()
    _bad_unknown_domain(doc)
    _bad_overlapping_codes(doc)
    _bad_duplicate_column(doc)
    path = _write_doc(tmp_path / "bad.yaml", doc)
    with pytest.raises(CodebookError) as exc:
        Codebook.load(path)
    text = str(exc.value)
    assert "'politics'" in text
    assert "code used twice" in text
    assert "duplicate of items[2]" in text
    assert len(exc.value.problems) == 3


# ----------------------------------------------------------------------------- check
def _read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _inject_violations(rows: list[list[str]]) -> list[tuple[str, int | None, str | None]]:
    """Edit ``rows`` (header + data) in place; return the expected (column, row, value) list."""
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}

    def put(row: int, column: str, value: str) -> None:
        rows[row][col[column]] = value  # data row r is rows[r] (header is rows[0])

    original_id_row2 = rows[2][col["resp_id"]]
    put(3, "cr_free_speech", "7")
    put(5, "trust_army", "abc")
    put(8, "resp_id", original_id_row2)
    put(10, "weight", "-1.5")
    put(11, "weight", "0")
    put(12, "weight", "")
    put(15, "age", "150")
    drop = col["news_source"]
    for r in rows:
        del r[drop]
    return [
        ("cr_free_speech", 3, "7"),
        ("trust_army", 5, "abc"),
        ("resp_id", 8, original_id_row2),
        ("weight", 10, "-1.5"),
        ("weight", 11, "0"),
        ("weight", 12, None),
        ("age", 15, "150"),
        ("news_source", None, None),
    ]


@pytest.fixture
def violated(tmp_path, bundled_survey):
    data, codebook_path, _ = bundled_survey
    rows = _read_rows(data)
    expected = _inject_violations(rows)
    return _write_rows(tmp_path / "violated.csv", rows), codebook_path, expected


def test_check_bundled_survey_is_clean_exit_0(capsys, bundled_survey):
    data, codebook_path, _ = bundled_survey
    code, out, _ = run_cli(["codebook", "check", codebook_path, data], capsys)
    assert code == 0
    assert "OK against" in out
    assert "1,500 rows" in out


def test_check_lists_every_injected_violation_as_json(capsys, violated):
    data, codebook_path, expected = violated
    code, out, _ = run_cli(["codebook", "check", codebook_path, data, "--format", "json"], capsys)
    assert code == 2
    doc = json.loads(out)
    assert set(doc) == {"file", "codebook", "rows", "problems"}
    assert doc["file"] == str(data)
    assert doc["codebook"] == str(codebook_path)
    assert doc["rows"] == 1500
    for p in doc["problems"]:
        assert set(p) == {"file", "where", "row", "value", "message"}
        assert p["file"] == str(data)
    found = sorted(((p["where"], p["row"], p["value"]) for p in doc["problems"]), key=str)
    assert found == sorted(expected, key=str)


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        (
            "cr_free_speech",
            3,
            "7",
            "code not in the codebook; expected one of 1-5; 8 (don't know); 9 (refused) or blank",
        ),
        ("trust_army", 5, "'abc'", "not a number; expected one of 1-4"),
        ("resp_id", 8, "'100002'", "duplicate respondent id (first seen in row 2)"),
        # regression: non-integer values printed as np.float64(-1.5) (found against 7b80319)
        ("weight", 10, "-1.5", "expected a positive, finite weight"),
        ("weight", 11, "0", "expected a positive, finite weight"),
        ("age", 15, "150", "out of range; expected a number in [18, 90]"),
    ],
)
def test_check_text_output_names_file_column_row_value_expected(
    capsys, violated, column, row, value, message
):
    data, codebook_path, _ = violated
    code, out, _ = run_cli(["codebook", "check", codebook_path, data], capsys)
    assert code == 2
    line = f"  - {data}, {column}, row {row}: value {value}: {message}"
    assert any(ln.startswith(line) for ln in out.splitlines()), out


def test_check_text_output_reports_blank_weight_and_missing_column_and_exact_count(
    capsys, violated
):
    data, codebook_path, _ = violated
    code, out, _ = run_cli(["codebook", "check", codebook_path, data], capsys)
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == f"{data}: 8 problems against {codebook_path}"
    assert len([ln for ln in lines if ln.startswith("  - ")]) == 8
    assert f"  - {data}, weight, row 12: weight is blank; expected a positive number" in lines
    assert f"  - {data}, news_source: item column named in the codebook is missing" in lines


def test_check_reports_duplicated_header_column(tmp_path, capsys, bundled_survey):
    data, codebook_path, _ = bundled_survey
    rows = _read_rows(data)
    gender = rows[0].index("gender")
    for r in rows:
        r.append(r[gender])
    path = _write_rows(tmp_path / "dup.csv", rows)
    code, out, err = run_cli(["codebook", "check", codebook_path, path], capsys)
    assert code == 2
    assert f"{path}, gender: column name appears more than once in the header" in out + err


# Regression: _read_csv refused a duplicated header before check_data ran, hiding every other
# violation (found against commit 7b80319).
def test_check_lists_duplicated_header_together_with_other_violations(
    tmp_path, capsys, bundled_survey
):
    data, codebook_path, _ = bundled_survey
    rows = _read_rows(data)
    expected = _inject_violations(rows)
    gender = rows[0].index("gender")
    for r in rows:
        r.append(r[gender])
    path = _write_rows(tmp_path / "dup.csv", rows)
    code, out, err = run_cli(["codebook", "check", codebook_path, path, "--format", "json"], capsys)
    assert code == 2
    assert out.strip(), f"no JSON report of violations; stderr was: {err}"
    problems = json.loads(out)["problems"]
    found = {(p["where"], p["row"], p["value"]) for p in problems}
    assert set(expected) | {("gender", None, None)} <= found
    assert len(problems) == len(expected) + 1


def test_check_json_of_clean_file_has_empty_problem_list(capsys, bundled_survey):
    data, codebook_path, _ = bundled_survey
    code, out, _ = run_cli(["codebook", "check", codebook_path, data, "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["problems"] == []
    assert doc["rows"] == 1500


def test_check_data_api_matches_cli_and_validate_raises_listing_all(violated):
    data, codebook_path, expected = violated
    cb = Codebook.load(codebook_path)
    with pytest.raises(DataError) as exc:
        read_survey(data, cb)
    assert len(exc.value.problems) == len(expected)
    assert "8 problems found" in str(exc.value)
    rows = {(p.where, p.row) for p in exc.value.problems}
    assert rows == {(c, r) for c, r, _ in expected}
