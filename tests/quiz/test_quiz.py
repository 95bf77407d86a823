"""`segment quiz`: a typing tool as a self-contained web page (the browser test scores it in
Chromium; these checks need no browser)."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

import segment.quiz.builder as builder
from segment import read_survey
from segment.cards.typology import Typology
from segment.quiz import PROBABILITY_FLOOR, build_quiz, read_embedded
from segment.segments.fit import fit_segments
from segment.segments.model_file import load_model, save_model
from segment.segments.typing_tool import build_typing_tool

QUESTIONS = [
    "dem_engaged_parties",
    "gov_religious",
    "ext_threat_western_values",
    "cr_assembly",
    "trust_nur_otan",
    "ext_trust_russia",
]


@pytest.fixture(scope="module")
def setup(bundled_survey, tmp_path_factory):
    """A quick 4-segment model (two named after kz2020, two not) and a 6-question tool."""
    data, codebook, _ = bundled_survey
    frame, cb = read_survey(data, codebook)
    model = fit_segments(frame, cb, 4, typology=Typology.load("kz2020"), n_init=1)
    folder = tmp_path_factory.mktemp("quiz")
    model_path, tool_path = folder / "model.json", folder / "tool.json"
    save_model(model, model_path)
    tool = build_typing_tool(model, QUESTIONS, {"cv_accuracy": 0.8, "folds": 5})
    save_model(tool, tool_path)
    return {"data": data, "frame": frame, "model_path": model_path, "tool_path": tool_path}


@pytest.fixture(scope="module")
def page(setup, tmp_path_factory):
    from segment.cli import main

    out = tmp_path_factory.mktemp("out") / "quiz"
    with pytest.raises(SystemExit) as exc:
        main(["quiz", str(setup["tool_path"]), "-o", str(out)])
    assert exc.value.code == 0
    return out / "index.html"


class _Refs(HTMLParser):
    """Every tag and every src / href / action / srcset attribute of a page."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        for key in ("src", "href", "action", "srcset", "data", "poster", "formaction"):
            if attrs.get(key) is not None:
                self.refs.append((tag, key, attrs[key]))


# ----------------------------------------------------------------------------- the page
def test_cli_writes_one_self_contained_page(page):
    assert sorted(p.name for p in page.parent.iterdir()) == [".segment-output", "index.html"]
    text = page.read_text(encoding="utf-8")
    refs = _Refs()
    refs.feed(text)
    # nothing to load: no src / href at all, no stylesheet links, frames or objects
    assert refs.refs == []
    assert not {"link", "iframe", "object", "embed", "img", "base"} & set(refs.tags)
    assert all("src" not in s for s in refs.scripts)
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I)
    for call in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "EventSource", "sendBeacon",
                 "@import", "url("):  # fmt: skip
        assert call not in text, call
    # and the page forbids loading anything else (a Content Security Policy)
    assert "default-src 'none'" in text.replace("&#39;", "'")


def test_embedded_parameters_are_the_model_files(setup, page):
    doc = json.loads(setup["tool_path"].read_text(encoding="utf-8"))
    params = read_embedded(page.read_text(encoding="utf-8"))["parameters"]
    for key in ("items", "categories", "prior_shares", "item_probs"):
        assert params[key] == doc["model"][key], key  # exact: the file's own numbers
    assert params["checksum"] == doc["checksum"]
    assert params["probability_floor"] == PROBABILITY_FLOOR
    # refused is scored as missing in the bundled codebook; don't know is kept as an answer
    assert params["missing_codes"] == [[9]] * len(QUESTIONS)


def test_probability_floor_is_the_models():
    from segment.models import LatentClassModel

    table = LatentClassModel(1)._log_table(np.zeros((1, 1, 1)))
    assert table[0, 0, 0] == np.log(PROBABILITY_FLOOR)


def test_embedded_parameters_reproduce_predict_proba(setup, page):
    """The page's recipe, replayed in Python on its embedded JSON, gives `segment score`'s
    probabilities for every bundled respondent (the browser test runs the page's own script)."""
    params = read_embedded(page.read_text(encoding="utf-8"))["parameters"]
    tool = load_model(setup["tool_path"])
    raw = pd.read_csv(setup["data"], dtype=str, keep_default_na=False, na_values=[""])
    expected = tool.predict_proba(raw)
    log_prior = np.log(params["prior_shares"])
    got = np.empty_like(expected)
    for r, (_, row) in enumerate(raw[params["items"]].iterrows()):
        acc = log_prior.copy()
        for j, value in enumerate(row):
            if pd.isna(value) or float(value) in params["missing_codes"][j]:
                continue
            if float(value) not in params["categories"][j]:
                continue
            c = params["categories"][j].index(float(value))
            probs = np.array(params["item_probs"][j])[:, c]
            acc += np.log(np.maximum(probs, params["probability_floor"]))
        e = np.exp(acc - acc.max())
        got[r] = e / e.sum()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_questions_labels_and_languages_come_from_the_codebook(setup, page):
    content = read_embedded(page.read_text(encoding="utf-8"))["content"]
    cb = load_model(setup["tool_path"]).codebook
    assert content["languages"] == ["en", "ru", "kk"]
    assert content["default_language"] == "en"
    q = content["questions"][QUESTIONS.index("cr_assembly")]
    assert q["item"] == "cr_assembly"
    assert q["text"]["ru"] == cb["cr_assembly"].text("ru")
    assert [o["code"] for o in q["options"]] == [1, 2, 3, 4, 5, 8]
    assert q["options"][0]["label"] == {
        "en": "Not at all important",
        "ru": "Совсем не важно",
        "kk": "Мүлдем маңызды емес",
    }
    assert q["options"][-1]["kind"] == "dont_know"
    html = page.read_text(encoding="utf-8")
    # every answer is a labelled radio button; each question also offers "Prefer not to say"
    assert html.count('type="radio"') == sum(len(q["options"]) + 1 for q in content["questions"])
    assert html.count(">Prefer not to say</span>") == len(QUESTIONS)
    assert html.count("<fieldset") == html.count("<legend>") == len(QUESTIONS)
    assert '<select id="lang">' in html and '<label for="lang"' in html


def test_cards_named_from_the_typology_and_said_so(setup, page):
    content = read_embedded(page.read_text(encoding="utf-8"))["content"]
    model = load_model(setup["tool_path"])
    typology = Typology.load("kz2020")
    for seg, entry in zip(model.segments, content["segments"], strict=True):
        assert entry["name"] == seg["name"]
        if seg["named"]:
            ref = typology[seg["reference"]]
            card = entry["card"]
            assert card["source"] == "typology" and card["reference"] == ref.name
            assert card["tagline"] == ref.tagline
            shown = [b for d in card["domains"] for b in d["bullets"]]
            assert sorted(shown) == sorted(b.text for b in ref.bullets)  # all, verbatim
        else:
            assert entry["card"] is None
    assert "in the study's own words" in content["text"]["en"]["from_typology"]


def test_profiles_give_cards_to_unnamed_segments(setup, tmp_path, capsys):
    code, profiles_json, err = run_cli(
        ["profile", setup["model_path"], setup["data"], "--format", "json"], capsys
    )
    assert code == 0, err
    profiles = tmp_path / "profiles.json"
    profiles.write_text(profiles_json, encoding="utf-8")
    code, out, err = run_cli(
        ["quiz", setup["tool_path"], "-o", tmp_path / "q", "--profiles", profiles], capsys
    )
    assert code == 0, err
    assert "2 from profiles.json" in out
    content = read_embedded((tmp_path / "q" / "index.html").read_text(encoding="utf-8"))["content"]
    sources = [s["card"] and s["card"]["source"] for s in content["segments"]]
    assert sources.count("typology") == 2 and sources.count("profiles") == 2
    # profiles of another model are refused
    other = json.loads(profiles_json)
    other["segments"] = other["segments"][:2]
    profiles.write_text(json.dumps(other), encoding="utf-8")
    code, _, err = run_cli(
        ["quiz", setup["tool_path"], "-o", tmp_path / "q2", "--profiles", profiles], capsys
    )
    assert code == 2 and "describes 2 segments; the model has 4" in err
    assert not (tmp_path / "q2").exists()


def test_lang_option(setup, tmp_path, capsys):
    code, _, err = run_cli(
        ["quiz", setup["tool_path"], "-o", tmp_path / "ru", "--lang", "ru"], capsys
    )
    assert code == 0, err
    html = (tmp_path / "ru" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in html and "Совсем не важно" in html
    code, _, err = run_cli(
        ["quiz", setup["tool_path"], "-o", tmp_path / "fr", "--lang", "fr"], capsys
    )
    assert code == 2 and "'fr'" in err and "en, ru, kk" in err
    assert not (tmp_path / "fr").exists()


def test_language_without_labels_is_left_out(setup):
    import dataclasses

    model = load_model(setup["tool_path"])
    cb = model.codebook
    item = cb["gov_religious"]
    bare = dataclasses.replace(
        item,
        levels=tuple(
            dataclasses.replace(lv, labels={k: v for k, v in lv.labels.items() if k != "kk"})
            for lv in item.levels
        ),
    )
    model.codebook = dataclasses.replace(
        cb, items=tuple(bare if it.column == "gov_religious" else it for it in cb.items)
    )
    quiz = build_quiz(model)
    assert quiz.languages == ("en", "ru")
    assert any("'kk' left out" in note and "gov_religious=1" in note for note in quiz.notes)


def test_text_in_the_codebook_cannot_break_out_of_the_page(setup):
    import dataclasses

    model = load_model(setup["tool_path"])
    cb = model.codebook
    evil = "</script><script>alert(1)</script><b>&amp;"
    item = dataclasses.replace(cb["gov_religious"], question={"en": evil, "ru": evil, "kk": evil})
    model.codebook = dataclasses.replace(
        cb, items=tuple(item if it.column == "gov_religious" else it for it in cb.items)
    )
    html = build_quiz(model).html
    assert "<script>alert(1)" not in html and "<b>&amp;" not in html
    assert html.count("<script") == 3  # two JSON blocks and the page's script
    content = read_embedded(html)["content"]
    assert content["questions"][1]["text"]["en"] == evil


# ----------------------------------------------------------------------------- writing
def test_refuses_to_overwrite_without_force(setup, tmp_path, capsys):
    out = tmp_path / "quiz"
    assert run_cli(["quiz", setup["tool_path"], "-o", out], capsys)[0] == 0
    before = (out / "index.html").read_bytes()
    (out / "index.html").write_text("edited", encoding="utf-8")
    code, _, err = run_cli(["quiz", setup["tool_path"], "-o", out], capsys)
    assert code == 2 and "--force" in err
    assert (out / "index.html").read_text(encoding="utf-8") == "edited"
    (out / "index.html").write_bytes(before)
    assert run_cli(["quiz", setup["tool_path"], "-o", out, "--force"], capsys)[0] == 0
    assert (out / "index.html").read_bytes() == before  # the same tool gives the same bytes


def test_force_never_replaces_a_folder_that_is_not_a_quiz(setup, tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work", encoding="utf-8")
    code, _, err = run_cli(["quiz", setup["tool_path"], "-o", out, "--force"], capsys)
    assert code == 2 and "not a folder segment made" in err
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]


@pytest.mark.parametrize("fail_at", ["writing", "swapping"])
def test_output_is_atomic(setup, tmp_path, capsys, monkeypatch, fail_at):
    out = tmp_path / "quiz"
    assert run_cli(["quiz", setup["tool_path"], "-o", out], capsys)[0] == 0
    before = (out / "index.html").read_bytes()
    real_replace, real_chmod = os.replace, os.chmod

    def failing_replace(src, dst):
        if Path(dst) == out and not Path(src).name.endswith(".old"):
            raise OSError("disk full")
        return real_replace(src, dst)

    def failing_chmod(path, mode):
        if Path(path).name == "index.html":
            raise OSError("disk full")
        return real_chmod(path, mode)

    if fail_at == "swapping":
        monkeypatch.setattr(builder.os, "replace", failing_replace)
    else:
        monkeypatch.setattr(builder.os, "chmod", failing_chmod)
    from segment.cli import main

    with pytest.raises(OSError, match="disk full"):
        main(["quiz", str(setup["tool_path"]), "-o", str(out), "--force", "--lang", "ru"])
    monkeypatch.undo()
    assert (out / "index.html").read_bytes() == before  # the previous quiz is as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quiz"]  # no temporary folder left


def test_bad_tool_file_exits_2_with_a_clear_message(tmp_path, capsys):
    cases = {
        "truncated.json": '{"format": "segment.model", "format_ver',
        "other.json": '{"format": "something else"}',
        "notes.txt": "not a model",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, _, err = run_cli(["quiz", path, "-o", tmp_path / "quiz"], capsys)
        assert code == 2, name
        assert f"model file {path}" in err, err
    assert (
        "truncated or damaged"
        in run_cli(["quiz", tmp_path / "truncated.json", "-o", tmp_path / "q"], capsys)[2]
    )
    assert (
        "not a segment model file"
        in run_cli(["quiz", tmp_path / "other.json", "-o", tmp_path / "q"], capsys)[2]
    )
    code, _, err = run_cli(["quiz", tmp_path / "missing.json", "-o", tmp_path / "q"], capsys)
    assert code == 2 and "file not found" in err
    assert not (tmp_path / "quiz").exists() and not (tmp_path / "q").exists()


def test_quiz_without_a_tool_uses_the_bundled_one(tmp_path, capsys):
    from helpers import run_cli

    code, _, err = run_cli(["quiz", "-o", tmp_path / "q"], capsys)
    assert code == 0, err
    html = (tmp_path / "q" / "index.html").read_text("utf-8")
    assert "kz2020_typing_tool.json" in html
    assert "SYNTHETIC" in html
