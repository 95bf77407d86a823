"""Domains of a drafted codebook: the attitude battery grouped as the poll groups it.

Used by :mod:`segment.survey.draft`. Items whose names share a prefix form one domain (GSS
``nat*`` spending items, ESS ``im*`` immigration items, ``cr_*`` civic-rights items,
``MBSA2``, ``MBSA7``, ... of a questionnaire section); the items left over that share one answer
scale form one domain (BEPS's leader ratings ``Blair``, ``Hague``, ``Kennedy``); any other item
is a domain of its own. A prefix is the first word of a name with separators (``cr_free_speech``,
``economic.cond.national``), the letters before the number of a numbered name (``MBSA7``,
``q12``), or else the longest common start of the names sharing their first two letters
(``natspac``, ``natenvir``: ``nat``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["KNOWN_QUESTIONS", "KNOWN_SAY", "DraftDomain", "group_domains", "name_prefixes"]

#: Batteries of the big surveys by prefix: (domain name, label, source).
KNOWN_BATTERIES = {
    "nat": ("spending", "National spending", "GSS nat* items: spending too much, too little "
            "or about the right amount on ..."),
    "con": ("confidence", "Confidence in institutions", "GSS con* items (conbus, coneduc, ...)"),
    "ab": ("abortion", "Abortion", "GSS ab* items (abany, abdefect, ...)"),
    "im": ("immigration", "Immigration", "ESS im* items (imbgeco, imueclt, imwbcnt, imsmetn, "
           "imdfetn, impcntr)"),
    "trst": ("trust", "Trust in institutions", "ESS trst* items (trstprl, trstlgl, ...)"),
    "stf": ("satisfaction", "Satisfaction", "ESS stf* items (stfeco, stfgov, stfdem, ...)"),
    "ppl": ("social_trust", "Social trust", "ESS ppltrst, pplfair, pplhlp"),
    "trust": ("trust", "Trust", "trust_* items"),
}  # fmt: skip
#: Single items of the big surveys: (domain name, label, source).
KNOWN_ITEMS = {
    "lrscale": ("left_right", "Left-right self-placement", "ESS lrscale (0 left .. 10 right)"),
    "polviews": ("political_views", "Political views", "GSS polviews (liberal .. conservative)"),
}
#: Question wording and a short phrase of well-known items, from the GSS codebook ("We are faced
#: with many problems in this country ... are we spending too much money on it, too little
#: money, or about the right amount on ...") and the ESS round 10 source questionnaire.
_GSS_SPENDING = {
    "natspac": "the space exploration program", "natenvir": "improving and protecting the "
    "environment", "natheal": "improving and protecting the nation's health",
    "natcity": "solving the problems of the big cities", "natcrime": "halting the rising "
    "crime rate", "natdrug": "dealing with drug addiction", "nateduc": "improving the "
    "nation's education system", "natrace": "improving the conditions of Blacks",
    "natarms": "the military, armaments and defense", "nataid": "foreign aid",
    "natfare": "welfare", "natroad": "highways and bridges", "natsoc": "Social Security",
    "natmass": "mass transportation", "natpark": "parks and recreation",
    "natchld": "assistance for childcare", "natsci": "supporting scientific research",
    "natenrgy": "developing alternative energy sources",
}  # fmt: skip
KNOWN_QUESTIONS: dict[str, tuple[str, str]] = {
    k: (f"Are we spending too much, too little or about the right amount on {v}?", v)
    for k, v in _GSS_SPENDING.items()
}
KNOWN_QUESTIONS.update(
    {
        "imbgeco": ("Is it generally bad or good for the country's economy that people come "
                    "to live here from other countries?", "immigration good for the economy"),
        "imueclt": ("Is the country's cultural life generally undermined or enriched by people "
                    "coming to live here from other countries?", "immigrants enrich cultural life"),
        "imwbcnt": ("Is the country made a worse or a better place to live by people coming to "
                    "live here from other countries?", "immigrants make it a better place"),
        "lrscale": ("In politics people sometimes talk of 'left' and 'right'. Where would you "
                    "place yourself on this scale, where 0 means the left and 10 the right?",
                    "left-right self-placement"),
    }
)  # fmt: skip
#: Profile wording of known items whose direction the question itself fixes (ESS lrscale:
#: "0 means the left and 10 the right"; the im* items run from 0 bad / undermined / worse to
#: 10 good / enriched / better), as the codebook's ``say:`` (high and low ends).
KNOWN_SAY: dict[str, dict[str, str]] = {
    "imbgeco": {
        "high": "see immigration as good for the economy",
        "low": "see immigration as bad for the economy",
    },
    "imueclt": {
        "high": "think immigrants enrich cultural life",
        "low": "think immigrants undermine cultural life",
    },
    "imwbcnt": {
        "high": "think immigrants make the country a better place",
        "low": "think immigrants make the country a worse place",
    },
    "lrscale": {"high": "place themselves on the right", "low": "place themselves on the left"},
}
#: Names the drafted profile and ignored domains use.
RESERVED = ("demographics", "politics", "background", "administrative")
_ACRONYMS = {"eu", "un", "us", "uk", "nato", "ngo", "ngos", "tv"}
#: Headings of common English abbreviations used as name prefixes.
_ABBREVIATIONS = {
    "dem": "Democracy", "gov": "Government", "econ": "Economy", "pol": "Politics",
    "soc": "Society", "env": "Environment", "imm": "Immigration", "rel": "Religion",
}  # fmt: skip


@dataclass(frozen=True)
class DraftDomain:
    """A drafted domain: slug, heading, its items and why they belong together."""

    name: str
    label: str
    columns: tuple[str, ...]
    why: str


def _words(column: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", column)
    return [w for w in re.split(r"[^0-9A-Za-z]+", spaced) if w]


def _lcp(names: Sequence[str]) -> str:
    first, last = min(names), max(names)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def name_prefixes(columns: Sequence[str]) -> dict[str, str]:
    """The name prefix of each column that shares one with another column (see module doc)."""
    out: dict[str, str] = {}
    by_first: dict[str, list[str]] = {}
    single: list[str] = []
    for col in columns:
        words = _words(col)
        if len(words) >= 2:
            by_first.setdefault(words[0].lower(), []).append(col)
            continue
        m = re.match(r"^([A-Za-z]+)\d", col)
        if m:
            by_first.setdefault(m.group(1).lower(), []).append(col)
        else:
            single.append(col)
    for prefix, cols in by_first.items():
        if len(cols) >= 2:
            out.update(dict.fromkeys(cols, prefix))
    by_two: dict[str, list[str]] = {}
    for col in single:
        if len(col) >= 3 and col[:2].isalpha():
            by_two.setdefault(col[:2].lower(), []).append(col)
    for cols in by_two.values():
        if len(cols) >= 2:
            prefix = _lcp([c.lower() for c in cols])
            out.update(dict.fromkeys(cols, prefix))
    return out


def _slug(text: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"d_{slug}" if slug else "items"
    return slug[:60]


def _label(text: str) -> str:
    """A heading from a prefix or name: ``MBSA`` stays, ``economic`` -> ``Economic``."""
    if text.lower() in _ABBREVIATIONS:
        return _ABBREVIATIONS[text.lower()]
    words = _words(text)
    out = []
    for w in words:
        if w.isupper() or w.lower() in _ACRONYMS:
            out.append(w.upper())
        else:
            out.append(w.lower())
    label = " ".join(out) or text
    return label[:1].upper() + label[1:]


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def group_domains(
    columns: Sequence[str],
    formats: Mapping[str, Hashable],
    questions: Mapping[str, str] | None = None,
) -> list[DraftDomain]:
    """Domains of the segmentation items ``columns`` (in file order), see the module doc.

    ``formats`` is each column's answer format (equal for items of one answer scale);
    ``questions`` the variable labels, used as the heading of a single item's domain.
    """
    questions = questions or {}
    prefixes = name_prefixes(columns)
    groups: dict[str, list[str]] = {}
    for col in columns:
        if col in prefixes:
            groups.setdefault(f"prefix:{prefixes[col]}", []).append(col)
    rest = [c for c in columns if c not in prefixes]
    by_format: dict[Hashable, list[str]] = {}
    for col in rest:
        by_format.setdefault(formats[col], []).append(col)
    for fmt_cols in by_format.values():
        key = f"format:{fmt_cols[0]}" if len(fmt_cols) >= 2 else f"item:{fmt_cols[0]}"
        groups[key] = fmt_cols
    used: set[str] = set(RESERVED)
    out: list[DraftDomain] = []
    order = sorted(groups.items(), key=lambda kv: columns.index(kv[1][0]))
    for key, cols in order:
        kind, _, what = key.partition(":")
        if kind == "prefix":
            shown_prefix = cols[0][: len(what)]
            name, label, source = KNOWN_BATTERIES.get(what, (_slug(what), _label(shown_prefix), ""))
            why = f"{len(cols)} items named {what}*" + (f" ({source})" if source else "")
        elif kind == "format":
            shown = list(cols) if len(cols) <= 3 else [cols[0], "...", cols[-1]]
            name = _slug("_".join(cols) if len(cols) <= 3 else f"{cols[0]}_to_{cols[-1]}")
            label = _join(cols) if len(cols) <= 3 else f"{cols[0]} to {cols[-1]}"
            why = f"{len(cols)} items with one answer scale ({', '.join(shown)})"
        else:
            known = KNOWN_ITEMS.get(what.lower())
            if known is not None:
                name, label, source = known
                why = f"one item ({source})"
            else:
                name = _slug(what)
                question = questions.get(what)
                label = question if question and len(question) <= 60 else _label(what)
                why = "one item, no other with its name prefix or answer scale"
        base, n = name, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        out.append(DraftDomain(name, label, tuple(cols), why))
    return out
