"""Build the quiz page from a model file (see :mod:`segment.quiz`).

Scoring is exported, not re-implemented per model: the page embeds the model file's own
``items``, ``categories``, ``prior_shares`` and ``item_probs`` (copied from
:func:`segment.segments.model_file.model_to_dict`, so the numbers are the file's, bit for bit)
together with the codes the codebook scores as missing, and one generic script computes, as
:meth:`SegmentModel.predict_proba` does,

    log P(segment | answers) = log prior
                               + sum over answered items of log max(P(answer | segment), 1e-300)

normalised in log space (subtract the largest, exponentiate, divide by the sum). An answer maps
to its category of the model; a skipped question ("prefer not to say"), a code the codebook
scores as missing (its ``missing`` codes, and don't-know or refused codes under a ``missing``
policy) and an answer nobody gave at fit drop out of the sum, exactly as in
:meth:`SegmentModel.answers`.

Profile cards: a segment named after the reference typology gets that typology's tagline and
bullets (the reference study's own words, and the page says so); other segments get a card
from ``segment profile --format json`` output when one is given, and none otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from segment._escape import html_value, script_json
from segment._files import atomic_directory, load_json, resolve_output
from segment._util import plain_number
from segment._version import __version__
from segment.cards.typology import Typology
from segment.disclosure import MIN_CELL_SIZE
from segment.exceptions import InputError, Problem
from segment.segments.model import SegmentModel
from segment.segments.model_file import model_to_dict

from ._text import ENDONYMS, UI_TEXT

__all__ = [
    "PROBABILITY_FLOOR",
    "Quiz",
    "QuizError",
    "build_quiz",
    "quiz_parameters",
    "read_embedded",
    "write_quiz",
]

#: Answer probabilities are floored here before the log, as ``LatentClassModel._log_table``
#: does (a test checks that the two agree).
PROBABILITY_FLOOR = 1e-300
#: ``<meta name="generator">`` of every quiz page: ``--force`` replaces only such folders.
GENERATOR = "segment quiz"
PARAMETERS_FORMAT = "segment.quiz.parameters"
PARAMETERS_VERSION = 1


class QuizError(InputError):
    """A model, profiles file or output folder cannot make a quiz."""


@dataclass(frozen=True)
class Quiz:
    """A built quiz page.

    Attributes
    ----------
    html : str
        The self-contained page.
    parameters : dict
        The scoring parameters embedded in the page (:func:`quiz_parameters`).
    languages : tuple of str
        Languages offered by the language switch (the codebook's, when every question and
        answer label of the quiz has them).
    language : str
        The language the page opens in.
    profile_sources : tuple
        Per segment: ``"typology"``, ``"profiles"`` or None (no card).
    notes : tuple of str
        What the builder left out and why (e.g. a language with missing labels).
    """

    html: str
    parameters: dict
    languages: tuple[str, ...]
    language: str
    profile_sources: tuple[str | None, ...]
    notes: tuple[str, ...]


# ----------------------------------------------------------------------------- parameters
def quiz_parameters(model: SegmentModel) -> dict[str, Any]:
    """The scoring parameters a quiz page embeds, taken from the model file's JSON form.

    Keys: ``format, version, items, categories, prior_shares, item_probs`` (the model file's
    ``model`` section, values identical), ``probability_floor``, ``missing_codes`` (per item,
    the answer codes scored as missing under the codebook's policies) and ``checksum`` (of the
    model file).
    """
    doc = model_to_dict(model)
    m = doc["model"]
    cb = model.codebook
    missing_codes = []
    for col in model.items:
        it = cb[col]
        drop = [float(v) for v in it.missing]
        if cb.dont_know_policy == "missing":
            drop += [float(v) for v in it.dont_know_codes]
        if cb.refused_policy == "missing":
            drop += [float(v) for v in it.refused_codes]
        missing_codes.append([plain_number(v) for v in sorted(set(drop))])
    return {
        "format": PARAMETERS_FORMAT,
        "version": PARAMETERS_VERSION,
        "items": m["items"],
        "categories": m["categories"],
        "prior_shares": m["prior_shares"],
        "item_probs": m["item_probs"],
        "probability_floor": PROBABILITY_FLOOR,
        "missing_codes": missing_codes,
        "checksum": doc["checksum"],
    }


# ----------------------------------------------------------------------------- content
def _check_items(model: SegmentModel, name: str) -> None:
    problems = []
    for col in model.items:
        it = model.codebook[col]
        if not it.is_categorical or not it.levels:
            problems.append(
                Problem(
                    name,
                    f"codebook item {col}",
                    f"has no labelled answers (type {it.type}); a quiz shows each answer's label",
                )
            )
    if problems:
        raise QuizError(f"model file {name}", problems)


def _check_sizes(model: SegmentModel, name: str, min_cell: int = MIN_CELL_SIZE) -> None:
    """Refuse a model with a segment of fewer than ``min_cell`` respondents (its share times
    the respondents it was fitted on): the page publishes every segment's share and answer
    probabilities (:mod:`segment.disclosure`, rule 1)."""
    est = model.estimator
    n = float(getattr(est, "n_samples_fit_", 0) or 0)
    sizes = np.asarray(est.weights_, dtype=float) * n
    problems = [
        Problem(
            name,
            f"segment {s + 1} ({model.names[s]})",
            f"describes about {sizes[s]:.0f} of the {n:.0f} respondents the model was fitted on, "
            f"fewer than {min_cell}: a quiz page publishes each segment's share and answer "
            "probabilities; refit with fewer segments",
        )
        for s in np.flatnonzero(sizes < min_cell)
    ]
    if problems:
        raise QuizError(f"model file {name}", problems)


def _languages(model: SegmentModel) -> tuple[list[str], list[str]]:
    """Languages in which every question and answer label of the quiz exists; notes."""
    offered, notes = [], []
    for lang in model.codebook.languages:
        if lang == "en":
            offered.append(lang)
            continue
        gaps = []
        for col in model.items:
            it = model.codebook[col]
            if not it.question.get(lang):
                gaps.append(f"{col} (question)")
            for lv in (*it.levels, *it.dont_know):
                if not lv.labels.get(lang):
                    gaps.append(f"{col}={lv.code}")
        if gaps:
            shown = ", ".join(gaps[:5]) + (f" and {len(gaps) - 5} more" if len(gaps) > 5 else "")
            notes.append(f"language {lang!r} left out: no {lang} text for {shown}")
        else:
            offered.append(lang)
    return offered, notes


def _questions(model: SegmentModel, languages: list[str]) -> list[dict]:
    out = []
    for col in model.items:
        it = model.codebook[col]
        options = [
            {
                "code": plain_number(lv.code),
                "kind": kind,
                "label": {lang: lv.label(lang) for lang in languages},
            }
            for kind, levels in (("level", it.levels), ("dont_know", it.dont_know))
            for lv in levels
        ]
        out.append(
            {"item": col, "text": {lang: it.text(lang) for lang in languages}, "options": options}
        )
    return out


def _domains(bullets: Sequence[tuple[str, str]], titles: Mapping[str, str]) -> list[dict]:
    groups: dict[str, list[str]] = {}
    for domain, text in bullets:
        groups.setdefault(domain, []).append(text)
    return [{"title": titles.get(d) or d, "bullets": groups[d]} for d in groups]


def _titles(card: Mapping[str, Any]) -> dict[str, str]:
    """Domain headings of a card of ``segment profile --format json`` (text only, else none)."""
    raw = card.get("domains")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v[:200] for k, v in raw.items() if isinstance(v, str)}


def _check_profiles(profiles: Any, model: SegmentModel, name: str) -> list[dict]:
    """The cards of ``segment profile --format json`` output, one per segment of the model."""

    def fail(where: str, message: str, value: Any = None) -> QuizError:
        return QuizError(f"profiles file {name}", [Problem(name, where, message, value=value)])

    if not isinstance(profiles, Mapping) or not isinstance(profiles.get("segments"), list):
        raise fail("", "expected the JSON of `segment profile MODEL DATA --format json`")
    cards = profiles["segments"]
    k = len(model.segments)
    if len(cards) != k:
        raise fail("segments", f"describes {len(cards)} segments; the model has {k}", len(cards))
    problems = []
    by_index: dict[int, dict] = {}
    for i, card in enumerate(cards):
        where = f"segments[{i}]"
        seg = card.get("segment") if isinstance(card, Mapping) else None
        if not isinstance(seg, int) or not 0 <= seg < k or seg in by_index:
            problems.append(
                Problem(name, f"{where}.segment", f"expected 0 to {k - 1}, once each", seg)
            )
            continue
        bullets = card.get("bullets")
        if not isinstance(bullets, list) or not all(
            isinstance(b, Mapping)
            and isinstance(b.get("text"), str)
            and isinstance(b.get("domain"), str)
            for b in bullets
        ):
            problems.append(Problem(name, f"{where}.bullets", "expected a list of {domain, text}"))
            continue
        mine = model.segments[seg]
        if mine.get("named") and card.get("name") != mine["name"]:
            problems.append(
                Problem(
                    name,
                    f"{where}.name",
                    f"segment {seg} is {mine['name']!r} in the model: these profiles describe "
                    "another model",
                    card.get("name"),
                )
            )
        by_index[seg] = dict(card)
    if problems:
        raise QuizError(f"profiles file {name}", problems)
    return [by_index[i] for i in range(k)]


def _cards(
    model: SegmentModel,
    typology: Typology | None,
    profiles: list[dict] | None,
    profiles_name: str | None,
) -> list[dict | None]:
    cards: list[dict | None] = []
    ids = {s.id for s in typology.segments} if typology is not None else set()
    for i, seg in enumerate(model.segments):
        ref = seg.get("reference")
        if typology is not None and seg.get("named") and ref in ids:
            r = typology[ref]
            score = seg.get("score")
            cards.append(
                {
                    "source": "typology",
                    "reference": r.name,
                    "typology": typology.title or typology.name,
                    "score": None if score is None else f"{score:.2f}",
                    "tagline": r.tagline or "",
                    "domains": _domains([(b.domain, b.text) for b in r.bullets], typology.domains),
                }
            )
        elif profiles is not None and not profiles[i].get("suppressed") and profiles[i]["bullets"]:
            p = profiles[i]
            tagline = p.get("tagline") or ""
            cards.append(
                {
                    "source": "profiles",
                    "file": profiles_name or "",
                    "tagline": "" if tagline == seg["name"] else tagline,
                    "domains": _domains(
                        [(b["domain"], b["text"]) for b in p["bullets"]], _titles(p)
                    ),
                }
            )
        else:
            cards.append(None)
    return cards


def _fill(text: str, **values: Any) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def _csp_hash(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def _asset(name: str) -> str:
    return resources.files("segment.quiz").joinpath(name).read_text("utf-8")


# ----------------------------------------------------------------------------- build
def read_profiles(path: str | Path) -> Any:
    """The JSON of a profiles file (``segment profile --format json``), not yet checked.

    Raises
    ------
    InputError
        When the file is missing or is not JSON.
    """
    return load_json(path, f"profiles file {path}", InputError)


def build_quiz(
    model: SegmentModel,
    *,
    typology: Typology | None = None,
    profiles: Mapping | None = None,
    profiles_name: str | None = None,
    language: str | None = None,
    title: str | None = None,
    source_name: str = "model.json",
) -> Quiz:
    """The quiz page of ``model`` (usually a typing tool).

    Parameters
    ----------
    model : SegmentModel
        A model file's model; its codebook gives the questions and answer labels.
    typology : Typology, optional
        Reference typology whose taglines and bullets become the cards of segments named after
        it (``segments[i]["named"]`` with a ``reference`` id of this typology).
    profiles : mapping, optional
        Output of ``segment profile MODEL DATA --format json`` for the same segments: cards for
        segments the typology does not describe.
    language : str, optional
        Language the page opens in (default: the codebook's first language).
    title : str, optional
        Page title in every language (default: a question in the page's languages).
    source_name : str
        File name of the model, shown in the page's footer.

    Raises
    ------
    QuizError
        An item without answer labels, an unknown ``language``, or ``profiles`` that do not fit.
    """
    _check_items(model, source_name)
    _check_sizes(model, source_name)
    languages, notes = _languages(model)
    language = _page_language(model, languages, language)
    profile_cards = (
        None if profiles is None else _check_profiles(profiles, model, profiles_name or "profiles")
    )
    cards = _cards(model, typology, profile_cards, profiles_name)
    params = quiz_parameters(model)
    content = _content(model, languages, language, title, cards, params, source_name)
    text = content["text"]
    script, style = _assets()
    ctx = _page_context(model, languages, language, title, text, content, params, script, style)
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, finalize=html_value
    )
    page = env.from_string(_asset("template.html.j2")).render(**ctx)
    return Quiz(
        html=page,
        parameters=params,
        languages=tuple(languages),
        language=language,
        profile_sources=tuple(None if c is None else c["source"] for c in cards),
        notes=tuple(notes),
    )


def _page_language(model: SegmentModel, languages: list[str], language: str | None) -> str:
    """The language the page opens in: ``language``, or the codebook's first, or English."""
    if language is None:
        first = model.codebook.languages[0]
        language = first if first in languages else "en"
    if language not in languages:
        raise QuizError(
            "quiz language",
            [
                Problem(
                    "--lang",
                    "",
                    f"not offered; the quiz can use {', '.join(languages)}",
                    value=language,
                )
            ],
        )
    return language


def _content(
    model: SegmentModel,
    languages: list[str],
    language: str,
    title: str | None,
    cards: list[dict | None],
    params: dict,
    source_name: str,
) -> dict[str, Any]:
    """The page's content JSON: questions, segments and their cards, facts and page strings."""
    tool = model.fit.get("typing_tool") or {}
    acc = tool.get("cv_accuracy")
    text = {lang: {**UI_TEXT["en"], **UI_TEXT.get(lang, {})} for lang in languages}
    for lang in languages:
        # a language without its own page strings gets the English ones
        text[lang]["_endonym"] = ENDONYMS.get(lang, lang)
    content: dict[str, Any] = {
        "languages": languages,
        "default_language": language,
        "title": title,
        "synthetic": bool(model.codebook.synthetic),
        "questions": _questions(model, languages),
        "segments": [
            {
                "name": s["name"],
                "share": s.get("share"),
                "card": card,
            }
            for s, card in zip(model.segments, cards, strict=True)
        ],
        "about": {
            "n": len(model.items),
            "k": len(model.segments),
            "accuracy": None if acc is None else f"{100 * acc:.0f}%",
            "of_items": tool.get("of_items"),
            "file": source_name,
            "version": __version__,
            "checksum": params["checksum"][:12],
        },
        "text": text,
    }
    return content


def _assets() -> tuple[str, str]:
    """The page's script and style, checked not to close their elements early."""
    script = _asset("quiz.js")
    style = _asset("quiz.css")
    for asset, tag in ((script, "</script"), (style, "</style")):
        if tag in asset.lower():
            raise RuntimeError(f"quiz asset contains {tag}")  # pragma: no cover - our own files
    return script, style


def _page_context(
    model: SegmentModel,
    languages: list[str],
    language: str,
    title: str | None,
    text: dict[str, dict[str, str]],
    content: dict[str, Any],
    params: dict,
    script: str,
    style: str,
) -> dict[str, Any]:
    """The template's variables: the page in ``language``, with the embedded JSON and assets."""
    t = text[language]
    n, k = len(model.items), len(model.segments)
    ctx = {
        "lang": language,
        "languages": [(lang, text[lang]["_endonym"]) for lang in languages],
        "title": title or t["title"],
        "t": t,
        "intro": _fill(t["intro"], n=n, k=k),
        "synthetic": content["synthetic"],
        "questions": [
            {
                "index": j,
                "item": q["item"],
                "number": _fill(t["question_n"], i=j + 1, n=n),
                "text": q["text"][language],
                "options": [
                    {"code": o["code"], "kind": o["kind"], "label": o["label"][language]}
                    for o in q["options"]
                ],
            }
            for j, q in enumerate(content["questions"])
        ],
        "generator": GENERATOR,
        "parameters_json": script_json(params),
        "content_json": script_json(content),
        "script": script,
        "style": style,
        "csp": (
            "default-src 'none'; "
            f"script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        ),
    }
    return ctx


_EMBEDDED = re.compile(
    r'<script type="application/json" id="quiz-(parameters|content)">(.*?)</script>', re.S
)


def read_embedded(page: str) -> dict[str, dict]:
    """The JSON blocks a quiz page embeds: ``{"parameters": ..., "content": ...}``."""
    return {name: json.loads(body) for name, body in _EMBEDDED.findall(page)}


# ----------------------------------------------------------------------------- write
def is_quiz_folder(path: Path) -> bool:
    """A quiz folder from before the ``.segment-output`` marker: empty, or its index.html
    written by `segment quiz`."""
    if not path.is_dir():
        return False
    entries = list(path.iterdir())
    if not entries:
        return True
    index = path / "index.html"
    if not index.is_file():
        return False
    head = index.read_text(encoding="utf-8", errors="replace")[:4000]
    return f'<meta name="generator" content="{html_lib.escape(GENERATOR)}">' in head


def write_quiz(quiz: Quiz, out_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Write ``out_dir/index.html`` atomically and return ``out_dir``.

    The folder is built under a temporary name beside ``out_dir`` and swapped in when
    complete, so a failure leaves an existing quiz as it was. An existing ``out_dir`` is
    replaced only with ``force``, and only if it is empty or holds a quiz written by
    ``segment quiz`` (its ``.segment-output`` marker; never another folder). A symbolic link is
    followed: the quiz replaces its target.
    """
    out_dir = resolve_output(out_dir)
    if out_dir.exists():
        if not force:
            raise QuizError(
                f"output {out_dir}",
                [Problem(str(out_dir), "", "exists; pass --force to replace it")],
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with atomic_directory(out_dir, "quiz", legacy=is_quiz_folder) as tmp:
        (tmp / "index.html").write_text(quiz.html, encoding="utf-8", newline="\n")
    return out_dir
