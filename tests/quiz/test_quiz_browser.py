"""The quiz in a real browser: headless Chromium (Debian's package, as for the report) opens
the page from file:// with the network cut off; respondents of the bundled survey answer it by
clicking and by keyboard, and the page's segment and probabilities must equal `segment score`'s
to 1e-9. Screenshots go to reports/browser-test/quiz.png (a result) and quiz-phone.png."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import offline_page
from helpers import run_cli

from segment.resources import bundled_path
from segment.segments.model_file import load_model

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "reports" / "browser-test" / "quiz.png"
SCREENSHOT_PHONE = REPO / "reports" / "browser-test" / "quiz-phone.png"
N_QUESTIONS = 8
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
KAZAKH_LETTERS = re.compile(r"[ӘәҒғҚқҢңӨөҰұҮүҺһІі]")


#: OpenBLAS picks its kernels by CPU, so the last bits of a sum differ between machines; the
#: typing tool's cross-validated accuracy refits the model in each fold, where such bits can move
#: a respondent or two. Same machine: same bytes (tests/test_determinism.py).
_CROSS_MACHINE = {"cv_accuracy": 0.005, "cv_sd": 0.005}


def _assert_same_tool(ours, bundled, path="tool"):
    """The regenerated tool equals the bundled one: same keys, texts and integers; floats to
    1e-9 relative, cross-validated figures to half a percentage point; the checksum follows."""
    if isinstance(bundled, dict):
        assert ours.keys() == bundled.keys(), f"{path}: regenerate data/kz2020_typing_tool.json"
        for key in bundled:
            if key != "checksum":
                _assert_same_tool(ours[key], bundled[key], f"{path}.{key}")
    elif isinstance(bundled, list):
        assert len(ours) == len(bundled), f"{path}: regenerate data/kz2020_typing_tool.json"
        for i, (a, b) in enumerate(zip(ours, bundled, strict=True)):
            _assert_same_tool(a, b, f"{path}[{i}]")
    elif isinstance(bundled, float):
        tol = _CROSS_MACHINE.get(path.rsplit(".", 1)[-1])
        close = abs(ours - bundled) <= tol if tol else math.isclose(ours, bundled, rel_tol=1e-9)
        assert close, f"{path}: {ours} != {bundled}; regenerate data/kz2020_typing_tool.json"
    else:
        assert ours == bundled, f"{path}: {ours!r} != {bundled!r}"


@pytest.fixture(scope="module")
def tool(bundled_survey, tmp_path_factory):
    """`segment fit` then `segment typing-tool` (8 questions) then `segment quiz`, as in the
    README; the CLI's own commands, so the page is what a user gets."""
    from segment.cli import main

    data, codebook, _ = bundled_survey
    folder = tmp_path_factory.mktemp("quiz-browser")
    model, tool_path, quiz = folder / "model.json", folder / "tool.json", folder / "quiz"
    for args in (
        ["fit", data, "--codebook", codebook, "--k", "6", "-o", model],
        ["typing-tool", model, data, "--questions", str(N_QUESTIONS), "-o", tool_path],
        ["quiz", tool_path, "-o", quiz],
    ):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        assert exc.value.code == 0, args
    # the bundled tool is exactly what these documented commands write (see data/README.md)
    bundled = bundled_path("data", "kz2020_typing_tool.json")
    _assert_same_tool(json.loads(tool_path.read_text()), json.loads(bundled.read_text()))
    return {"folder": folder, "data": data, "tool": tool_path, "page": quiz / "index.html"}


def _respondents(tool_path: Path, data: Path) -> pd.DataFrame:
    """About ten respondents of the bundled survey, answers as strings ('' = skipped):
    don't-know answers, refused (9) and blank answers, extra questions skipped, an answer
    nobody gave at fit, and one person who skips everything."""
    model = load_model(tool_path)
    items = model.items
    raw = pd.read_csv(data, dtype=str, keep_default_na=False)[["resp_id", *items]]
    answers = raw[items]
    dk = raw[(answers == "8").sum(axis=1) >= 2].head(3)
    refused = raw[(answers == "9").any(axis=1)].head(1)
    blank = raw[(answers == "").any(axis=1)].head(1)
    plain = raw[~((answers == "") | (answers == "9") | (answers == "8")).any(axis=1)].head(4)
    rows = [r for part in (dk, refused, blank) for _, r in part.iterrows()]
    rows += [r for _, r in plain.iloc[:2].iterrows()]
    skipper = plain.iloc[2].copy()
    skipper[items[1]] = skipper[items[4]] = ""  # "prefer not to say" on two questions
    rows.append(skipper)
    unseen = plain.iloc[3].copy()
    unseen[items[0]] = "8"
    for j, col in enumerate(items[1:], start=1):  # an answer allowed but nobody gave at fit
        seen = set(model.estimator.categories_[j])
        codes = [lv.code for lv in model.codebook[col].levels if lv.code not in seen]
        if codes:
            unseen[col] = str(codes[0])
            break
    rows.append(unseen)
    nothing = plain.iloc[0].copy()
    nothing[items] = ""
    rows.append(nothing)
    out = pd.DataFrame(rows).reset_index(drop=True)
    out["resp_id"] = [f"quiz{i}" for i in range(len(out))]
    return out


def _option_id(j: int, value: str) -> str:
    # blank and refused (9) are not offered: the person says "Prefer not to say"
    return f"#q{j}-skip" if value in ("", "9") else f"#q{j}-{value}"


@pytest.fixture(scope="module")
def run(tool):
    playwright = pytest.importorskip("playwright.sync_api")
    tool_model = load_model(tool["tool"])
    items = tool_model.items
    people = _respondents(tool["tool"], tool["data"])
    keyboard_person = 1
    with playwright.sync_playwright() as p:
        view = offline_page(p, width=1000)  # the quiz must need nothing from outside its file
        page = view.page
        page.goto(tool["page"].as_uri(), wait_until="load")
        unlabelled = page.evaluate(
            "Array.from(document.querySelectorAll('input, select, button'))"
            ".filter(e => e.tagName === 'BUTTON' ? !e.textContent.trim() : e.labels.length === 0)"
            ".map(e => e.id || e.name)"
        )
        results, focus_trail = [], []
        for i, person in people.iterrows():
            if i == keyboard_person:
                page.focus("#lang")
                for j, col in enumerate(items):
                    page.keyboard.press("Tab")  # into question j's radio group
                    focus_trail.append(page.evaluate("document.activeElement.name"))
                    target = _option_id(j, person[col]).lstrip("#")
                    ids = page.eval_on_selector_all(f"#q{j} input", "els => els.map(e => e.id)")
                    steps = ids.index(target)
                    if steps == 0:
                        page.keyboard.press("Space")
                    for _ in range(steps):
                        page.keyboard.press("ArrowDown")
                page.keyboard.press("Tab")
                focus_trail.append(page.evaluate("document.activeElement.id"))
                page.keyboard.press("Enter")
            else:
                for j, col in enumerate(items):
                    page.click(f"label:has({_option_id(j, person[col])})")
                page.click("#submit")
            page.wait_for_selector("#result:not([hidden])")
            results.append(
                {
                    "segment": page.get_attribute("#result", "data-segment"),
                    "probabilities": page.evaluate(
                        "JSON.parse(document.getElementById('result').dataset.probabilities)"
                    ),
                    "items_used": int(page.get_attribute("#result", "data-items-used")),
                    "focus": page.evaluate("document.activeElement.id"),
                    "name_shown": page.inner_text("#r-name"),
                    "bullets": page.eval_on_selector_all("#r-domains li", "els => els.length"),
                    "source": page.inner_text("#r-source") if page.is_visible("#r-source") else "",
                }
            )
            if i == 0:
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)
            if i < len(people) - 1:
                page.click("#again")
                assert page.is_visible("#quiz") and page.is_hidden("#result")
        # the page's own script on every bundled respondent, without the form
        raw = pd.read_csv(tool["data"], dtype=str, keep_default_na=False)
        values = [
            [v if v != "" else None for v in row] for row in raw[items].itertuples(index=False)
        ]
        bulk = page.evaluate(
            "rows => rows.map(r => window.segmentQuiz.score(r).probabilities)", values
        )
        # languages: switch to Russian on the result page, then Kazakh
        page.select_option("#lang", "ru")
        russian = {
            "lang": page.evaluate("document.documentElement.lang"),
            "question": page.evaluate("document.querySelector('#q0 .qtext').textContent"),
            "labels": page.evaluate(
                "Array.from(document.querySelectorAll('#q0 .olabel')).map(e => e.textContent)"
            ),
            "heading": page.inner_text("#result-heading"),
            "probability": page.inner_text("#r-probability"),
        }
        page.set_viewport_size({"width": 360, "height": 740})
        phone_width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(SCREENSHOT_PHONE), full_page=True)
        page.select_option("#lang", "kk")
        kazakh = page.evaluate("document.querySelector('#q0 .qtext').textContent")
        page.click("#change")  # back to the questions, answers kept, focus on the first
        change_focus = page.evaluate("document.activeElement.name")
        phone_form_width = page.evaluate("document.documentElement.scrollWidth")
        page.context.browser.close()
    return {
        "people": people,
        "results": results,
        "bulk": np.array(bulk),
        "raw": raw,
        "messages": view.messages,
        "errors": view.errors,
        "requests": view.requests,
        "unlabelled": unlabelled,
        "focus_trail": focus_trail,
        "change_focus": change_focus,
        "russian": russian,
        "kazakh": kazakh,
        "phone_width": (phone_width, phone_form_width),
        "items": items,
    }


def _score_cli(tool_path: Path, frame: pd.DataFrame, path: Path, capsys) -> pd.DataFrame:
    frame.to_csv(path, index=False)
    out = path.with_name(path.stem + "_scored.csv")
    code, _, err = run_cli(["score", tool_path, path, "-o", out, "--quiet", "--force"], capsys)
    assert code == 0, err
    return pd.read_csv(out, keep_default_na=False, na_values=[""])


def test_page_equals_segment_score_for_respondents_who_answer_it(tool, run, tmp_path, capsys):
    model = load_model(tool["tool"])
    people = run["people"]
    scored = _score_cli(tool["tool"], people, tmp_path / "people.csv", capsys)
    # segment score gives no segment to a respondent who answered nothing (the last one)
    assert list(scored["no_segment"].fillna("")) == [""] * (len(people) - 1) + ["no_answers"]
    answered = scored.iloc[:-1]
    expected = answered[[f"p_seg{s + 1}" for s in range(len(model.names))]].to_numpy()
    got = np.array([r["probabilities"] for r in run["results"][:-1]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert [r["segment"] for r in run["results"][:-1]] == list(answered["segment_label"])
    assert [r["name_shown"] for r in run["results"][:-1]] == list(answered["segment_label"])
    assert [r["items_used"] for r in run["results"]] == list(scored["items_used"])
    # the cases the respondents were chosen for
    assert len(people) >= 10
    assert (people[run["items"]] == "8").any(axis=1).sum() >= 3
    assert (people[run["items"]] == "9").any(axis=1).sum() >= 1
    assert (people[run["items"]] == "").any(axis=1).sum() >= 3
    assert run["results"][-2]["items_used"] == N_QUESTIONS - 1  # the answer nobody gave at fit
    assert run["results"][-1]["items_used"] == 0  # skipped everything: the prior shares
    np.testing.assert_allclose(
        run["results"][-1]["probabilities"], model.estimator.prior_shares_, rtol=0, atol=1e-12
    )
    assert min(r["items_used"] for r in run["results"][:-1]) < N_QUESTIONS


def test_page_script_equals_segment_score_on_the_whole_survey(tool, run, tmp_path, capsys):
    model = load_model(tool["tool"])
    scored = _score_cli(tool["tool"], run["raw"], tmp_path / "all.csv", capsys)
    answered = scored["no_segment"].isna().to_numpy()
    expected = scored[[f"p_seg{s + 1}" for s in range(len(model.names))]].to_numpy()
    np.testing.assert_allclose(run["bulk"][answered], expected[answered], rtol=0, atol=1e-9)
    segment = scored["segment"].to_numpy()[answered]
    assert (np.argmax(run["bulk"][answered], axis=1) + 1 == segment).all()


def test_named_segments_show_the_reference_typologys_card(run):
    for r in run["results"]:
        assert r["bullets"] > 5, r["segment"]  # all six segments are named at k = 6
        assert "in the study's own words" in r["source"]


def test_keyboard_only(run):
    assert run["unlabelled"] == []  # every control has a label
    assert run["focus_trail"] == [*run["items"], "submit"]  # Tab visits the questions in order
    assert all(r["focus"] == "result-heading" for r in run["results"])  # focus moves to the result
    assert run["change_focus"] == run["items"][0]


def test_language_switch_to_russian_and_kazakh(tool, run):
    cb = load_model(tool["tool"]).codebook
    ru = run["russian"]
    assert ru["lang"] == "ru"
    assert CYRILLIC.search(ru["question"]) and ru["question"] == cb[run["items"][0]].text("ru")
    first = cb[run["items"][0]].levels[0]
    assert ru["labels"][0] == first.label("ru") and CYRILLIC.search(ru["labels"][0])
    assert ru["heading"] == "Ваш результат" and ru["probability"].startswith("Вероятность")
    assert KAZAKH_LETTERS.search(run["kazakh"]) and run["kazakh"] == cb[run["items"][0]].text("kk")


def test_readable_at_phone_width(run):
    assert run["phone_width"] == (360, 360)  # nothing wider than the screen, result or form
    from PIL import Image

    with Image.open(SCREENSHOT_PHONE) as im:
        assert im.size[0] == 360


def test_no_network_and_no_console_errors(run):
    assert run["requests"] == []
    assert run["errors"] == []
    assert [m for m in run["messages"] if m[0] in ("error", "warning")] == []


def test_screenshot_of_a_result_is_saved(run):
    from PIL import Image

    with Image.open(SCREENSHOT) as im:
        width, height = im.size
    assert width == 1000 and height > 900
