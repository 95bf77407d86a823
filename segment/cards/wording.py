"""Profile cards in the voice of the 2020 study: rules that turn statistics into bullets.

Every bullet comes from documented rules applied to
:class:`~segment.cards.profile_stats.SegmentProfiles` and keeps the numbers behind it
(``Bullet.numbers``; ``segment profile --explain`` prints them).

Rules for an attitude item of a segment (positions are on the item's 0..1 "more" scale):

1. **Many unsure** when don't-know answers are at least ``UNSURE_DONT_KNOW`` (25%) of the
   segment's answers: a leaning position (rule 3) is said with it, "Strongly trust Russia (but
   many unsure)"; answerers who lean neither way give "Unsure about {item}"; divided answerers
   (rule 2) "Unsure and divided on {item}".
2. **Divided** when at least ``DIVIDED_SHARE`` (25%) of the substantive answers lie in each
   outer quarter of the scale (positions <= 0.25 and >= 0.75; the end answers of a 4-point
   scale): "Divided on {item}".
3. Otherwise the mean position gives the **intensity**, with cut-points half-way between the
   reference vocabulary's positions (0.90 extremely, 0.80 very, 0.70, 0.60 on balance, 0.50,
   0.40 on balance not, 0.28 not, 0.15 very not): ``>= 0.85`` extremely_high, ``>= 0.75``
   very_high, ``>= 0.65`` high, ``>= 0.55`` lean_high, ``>= 0.45`` balanced, ``>= 0.34``
   lean_low, ``>= 0.215`` low, else very_low; the item's ``measures`` picks the words
   ("Views ... as extremely important", "Strongly trust ...", "On balance don't trust ...").
4. Items of one domain with the same words are **merged** into one bullet ("Views freedom of
   speech, right to associate and right to assembly as extremely important").
5. A domain whose items all measure importance opens with an **overall** bullet from the mean
   position of its items that are neither unsure nor divided ("Overall, views civic rights as
   extremely important").

6. **Binary** items (two substantive answers) are given in "% who say" terms: the answer the
   segment gives more often than the sample, "62% say yes to {item}, 41% overall" (a Yes/No
   item), otherwise '62% say "{answer}" on {item}, 41% overall'.
7. **Nominal** items (no order, e.g. a referendum vote) name the answer most over-represented
   against the sample when that is material (the demographic threshold,
   :data:`segment.cards.demographics.MIN_POINTS` and ``MIN_RATIO``) in the answer's ``short:``
   words, "40% would vote to join the EU, 24% overall", else '40% say "Join EU" on EU vote,
   24% overall'.

**Curation** (:func:`curated_items`): the study's cards say a few things a domain, not every
item. A card matched to a reference segment prints the items that reference card describes,
and any other item on which the segment differs from the sample by at least ``CURATE_EFFECT``
(0.5) sample SDs; an unmatched card prints, per domain, its ``MAX_DOMAIN_ITEMS`` (5) most
distinctive items and the items of its name. The "Overall" bullet still summarises every item.

Demographic bullets: :mod:`segment.cards.demographics` (a Holm-adjusted design-based test and a
materiality threshold).

**Names and short labels** come from the segmentation items only, never from
demographics, and from the same words as the card's bullets: a *trait* is the bullet text of one
item at the segment's level (rules 1-7, the codebook's ``say:`` and ``short:``), kept only when
the level leans the way the segment differs from the sample (a positive level for a segment
above the sample, a negative one below; never "balanced", "unsure" or "divided"), and the
difference is at least ``TAGLINE_EFFECT`` (0.3) sample standard deviations (Cohen's h for a
nominal answer). A segment with none (typically the largest, closest to the sample) takes its
traits of at least ``FALLBACK_EFFECT`` (0.1) instead, and one with none of those either its
clearest positions (farthest from the middle of the scale, in its bullets' words). Traits are
ranked by effect size. The **name** is the first two traits (traits worded alike are joined as
in rule 4; a repeated name is numbered, "... (2)"). The card's **tagline**
(:func:`card_tagline`) has four or five traits in the study's form ("Patriarchal, Want order,
Dogmatic, Lower education & income, TV watchers"), all from the card's own bullets: the
strongest printed trait of each of its three most distinctive domains, then its first two
demographic bullets that describe a difference; a matched card also shows the reference
segment's tagline. The **short label** (charts, column labels) is at most ``SHORT_LABEL_MAX``
(28) characters: the name if it fits, else its first trait, without its intensity words when
too long ("Strongly distrust China" -> "Distrust China"), else its first and last words around an
ellipsis ("Want more ... the environment"), else cut at a word; short labels are unique
within the segmentation (the next candidate, else a number).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from segment.survey.codebook import Codebook, Item

from .card import Bullet, ProfileCard
from .demographics import demographic_bullets, is_material
from .profile_stats import SegmentProfiles
from .typology import Segment, Typology

__all__ = [
    "SHORT_LABEL_MAX",
    "Bullet",
    "ProfileCard",
    "build_cards",
    "card_tagline",
    "classify_level",
    "curated_items",
    "item_levels",
    "segment_names",
    "segment_traits",
    "short_label",
    "short_labels",
    "tagline",
    "unique_labels",
]

UNSURE_DONT_KNOW = 0.25
DIVIDED_SHARE = 0.25
TAGLINE_EFFECT = 0.3
#: Longest short label (charts, legends, column labels), in characters.
SHORT_LABEL_MAX = 28
#: Levels that lean to the "more" or the "less" end of a scale.
POSITIVE = frozenset({"lean_high", "high", "very_high", "extremely_high"})
NEGATIVE = frozenset({"lean_low", "low", "very_low"})
#: Smallest effect size of a trait of a segment that has none of at least ``TAGLINE_EFFECT``.
FALLBACK_EFFECT = 0.1
#: A matched card also prints an item its reference card is silent on when the segment differs
#: from the sample on it by at least this many sample SDs (a "medium" effect, Cohen 1988).
CURATE_EFFECT = 0.5
#: An unmatched card prints at most this many items per domain, the most distinctive.
MAX_DOMAIN_ITEMS = 5
#: Levels that say the segment is uncertain rather than where it stands.
UNCERTAIN = frozenset({"unsure", "divided", "divided_unsure"})
CUTS = [
    (0.85, "extremely_high"),
    (0.75, "very_high"),
    (0.65, "high"),
    (0.55, "lean_high"),
    (0.45, "balanced"),
    (0.34, "lean_low"),
    (0.215, "low"),
    (-np.inf, "very_low"),
]
#: Words by what an item measures; {x} is the item's short name (several merged with "and").
TEMPLATES = {
    "importance": {
        "extremely_high": "Views {x} as extremely important",
        "very_high": "Views {x} as very important",
        "high": "Views {x} as important",
        "lean_high": "On balance, views {x} as important",
        "balanced": "Views {x} as neither important nor unimportant",
        "lean_low": "On balance, views {x} as not important",
        "low": "Views {x} as not important",
        "very_low": "Views {x} as not at all important",
    },
    "trust": {
        "extremely_high": "Trust {x} very highly",
        "very_high": "Strongly trust {x}",
        "high": "Trust {x}",
        "lean_high": "On balance trust {x}",
        "balanced": "Neither trust nor distrust {x}",
        "lean_low": "On balance don't trust {x}",
        "low": "Don't trust {x}",
        "very_low": "Strongly distrust {x}",
    },
    "_default": {
        "extremely_high": "Very strongly positive on {x}",
        "very_high": "Strongly positive on {x}",
        "high": "Positive on {x}",
        "lean_high": "On balance positive on {x}",
        "balanced": "Balanced on {x}",
        "lean_low": "On balance negative on {x}",
        "low": "Negative on {x}",
        "very_low": "Strongly negative on {x}",
    },
}
#: The reference vocabulary's words (``profiles/kz2020.yaml`` ``levels:``): "mostly important"
#: and "mostly not important" are ``high`` and ``low`` there, "somewhat important" ``lean_high``.
IMPORTANCE_WORDS = {
    "extremely_high": "extremely important",
    "very_high": "very important",
    "high": "important",
    "lean_high": "somewhat important",
    "balanced": "neither important nor unimportant",
    "lean_low": "not very important",
    "low": "not important",
    "very_low": "not at all important",
}
WORDS = {
    "agreement": ("agree on", "disagree on"),
    "support": ("support", "oppose"),
    "approval": ("approve of", "disapprove of"),
    "optimism": ("optimistic about", "pessimistic about"),
    "threat": ("see a threat in", "see no threat in"),
    "knowledge": ("know about", "know little about"),
}


def _templates(measures: str | None) -> dict[str, str]:
    if measures in TEMPLATES:
        return TEMPLATES[measures]
    if measures in WORDS:
        pos, neg = WORDS[measures]
        adjective = pos.endswith(" about")  # optimistic about / pessimistic about
        lean = "On balance" if adjective else "Tend to"
        return {
            "extremely_high": f"Very strongly {pos} {{x}}",
            "very_high": f"Strongly {pos} {{x}}",
            "high": f"Mostly {pos} {{x}}",
            "lean_high": f"{lean} {pos} {{x}}",
            "balanced": "Middle of the road on {x}",
            "lean_low": f"{lean} {neg} {{x}}",
            "low": f"Mostly {neg} {{x}}",
            "very_low": f"Strongly {neg} {{x}}",
        }
    return TEMPLATES["_default"]


def classify_level(position: float, dont_know: float, low_share: float, high_share: float) -> str:
    """The level word of rules 1-3 (module docstring): a position level, "divided", "unsure"
    (many don't know and the answerers lean neither way) or "divided_unsure"."""
    unsure = dont_know == dont_know and dont_know >= UNSURE_DONT_KNOW
    if low_share >= DIVIDED_SHARE and high_share >= DIVIDED_SHARE:
        return "divided_unsure" if unsure else "divided"
    if position != position:
        return "unsure" if unsure else "unknown"
    level = next(lv for cut, lv in CUTS if position >= cut)
    if unsure and level not in POSITIVE and level not in NEGATIVE:
        return "unsure"
    return level


def many_unsure(level: str, dont_know: float) -> bool:
    """A position said with "(but many unsure)": a leaning level with many don't knows."""
    return (level in POSITIVE or level in NEGATIVE) and dont_know >= UNSURE_DONT_KNOW


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sides(profiles: SegmentProfiles, codebook: Codebook) -> pd.DataFrame:
    """Share of substantive answers in the outer quarters of the scale, per segment and item."""
    d = profiles.distributions
    if d.empty:
        return pd.DataFrame(columns=["segment", "item", "low", "high"]).set_index(
            ["segment", "item"]
        )
    d = d[d["kind"] == "answer"].copy()
    positions = {}
    for item in d["item"].unique():
        it = codebook[item]
        positions[item] = dict(
            zip(it.substantive_codes, it.position(it.substantive_codes), strict=True)
        )
    d["pos"] = [positions[i].get(c, np.nan) for i, c in zip(d["item"], d["code"], strict=True)]
    total = d.groupby(["segment", "item"])["share"].transform("sum")
    d["share"] = d["share"] / total
    low = d[d["pos"] <= 0.25].groupby(["segment", "item"])["share"].sum()
    high = d[d["pos"] >= 0.75].groupby(["segment", "item"])["share"].sum()
    return pd.DataFrame({"low": low, "high": high}).fillna(0.0)


#: How a level word prefixes an item's own "more" (high) or "less" (low) phrase.
SAY_PREFIX = {
    "extremely_high": ("Very strongly ", "high"),
    "very_high": ("Strongly ", "high"),
    "high": ("", "high"),
    "lean_high": ("On balance ", "high"),
    "lean_low": ("On balance ", "low"),
    "low": ("", "low"),
    "very_low": ("Strongly ", "low"),
}


def say_text(it: Item, level: str) -> str:
    """Bullet text from an item's own wording (codebook ``say``), else the generic words."""
    if it.say.get(level):
        text = it.say[level]
    elif level == "unsure":
        text = f"Unsure about {_item_label(it)}"
    elif level == "divided":
        text = f"Divided on {_item_label(it)}"
    elif level == "divided_unsure":
        text = f"Unsure and divided on {_item_label(it)}"
    elif level == "balanced":
        text = f"Middle of the road on {_item_label(it)}"
    elif level in SAY_PREFIX and it.say.get(SAY_PREFIX[level][1]):
        prefix, end = SAY_PREFIX[level]
        text = prefix + it.say[end]
    else:
        text = _templates(it.measures)[level].format(x=_item_label(it))
    return text[:1].upper() + text[1:]


def _item_label(it: Item) -> str:
    return it.short or it.text()


def is_binary(it: Item) -> bool:
    """An ordinal item with two substantive answers (yes/no, 0/1)."""
    return it.type == "ordinal" and len(it.levels) == 2


def _level_of(it: Item, row, low: float, high: float) -> str:
    """Rules 1-3 for one item; a binary item is never "divided" (its answers are all ends)."""
    if is_binary(it):
        low = high = 0.0
    return classify_level(row["position"], row["dont_know"], low, high)


def _binary_said(it: Item, position: float, sample_position: float):
    """Rule 6: (what is said, share, overall share) of the answer the segment gives more often
    than the sample: ("say yes to having voted", 0.62, 0.41)."""
    more, less = (it.levels[-1], it.levels[0]) if it.higher_means_more else it.levels
    if position >= sample_position:
        level, share, overall = more, position, sample_position
    else:
        level, share, overall = less, 1 - position, 1 - sample_position
    label = level.label()
    if label.strip().casefold() in ("yes", "no"):
        said = f"say {label.strip().lower()} to {_item_label(it)}"
    elif level.short:
        said = level.short
    else:
        said = f'say "{label}" on {_item_label(it)}'
    return said, share, overall


def _binary_text(it: Item, position: float, sample_position: float) -> str:
    """Rule 6 in % who say: "62% say yes to having voted, 41% overall"."""
    said, share, overall = _binary_said(it, position, sample_position)
    return f"{share:.0%} {said}, {overall:.0%} overall"


def _binary_trait(it: Item, position: float, sample_position: float) -> str:
    """The trait of a binary item: the words of its bullet without the numbers."""
    said = _binary_said(it, position, sample_position)[0]
    return said[:1].upper() + said[1:]


def _nominal_pick(segment: int, it: Item, profiles: SegmentProfiles):
    """Rule 7: the most over-represented material answer of a nominal item, or None."""
    d = profiles.distributions
    if d.empty:
        return None
    rows = d[(d["segment"] == segment) & (d["item"] == it.column) & (d["kind"] == "answer")]
    rows = rows[is_material(rows["share"], rows["sample_share"])]
    if rows.empty:
        return None
    return rows.loc[(rows["share"] / rows["sample_share"]).idxmax()]


def _nominal_words(it: Item, row) -> tuple[str, str]:
    """(bullet, trait) of a nominal item's over-represented answer: with the answer's
    ``short:`` "40% would vote to join the EU, 24% overall" and "Would vote to join the EU",
    else '40% say "Join EU" on EU vote, 24% overall' and 'Say "Join EU" on EU vote'."""
    level = next((lv for lv in it.levels if lv.code == row["code"]), None)
    if level is not None and level.short:
        said = level.short
    else:
        label = it.label_of(row["code"]) or str(row["label"])
        said = f'say "{label}" on {_item_label(it)}'
    bullet = f"{row['share']:.0%} {said}, {row['sample_share']:.0%} overall"
    return bullet, said[:1].upper() + said[1:]


def _cohen_h(p1: float, p2: float) -> float:
    """Cohen's (1988) h, ``2 asin sqrt(p1) - 2 asin sqrt(p2)``: a difference of proportions on
    the scale of a standardised mean difference."""
    return float(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))


def item_levels(segment: int, profiles: SegmentProfiles, codebook: Codebook) -> dict[str, str]:
    """Level word (rules 1-3) of every reported attitude item of one segment."""
    items = profiles.items[(profiles.items["segment"] == segment) & ~profiles.items["suppressed"]]
    sides = _sides(profiles, codebook)
    out = {}
    for _, row in items.iterrows():
        key = (segment, row["item"])
        low, high = sides.loc[key] if key in sides.index else (0.0, 0.0)
        out[row["item"]] = _level_of(codebook[row["item"]], row, low, high)
    return out


def attitude_bullets(
    segment: int,
    profiles: SegmentProfiles,
    codebook: Codebook,
    keep: frozenset[str] | None = None,
) -> list[Bullet]:
    """Rules 1-5 for one segment, in domain order; only the items in ``keep`` when given (the
    "Overall" bullet still summarises every item of its domain)."""
    items = profiles.items[profiles.items["segment"] == segment].set_index("item")
    sides = _sides(profiles, codebook)
    out: list[Bullet] = []
    for domain in codebook.domain_titles:
        rows = items[items["domain"] == domain]
        if rows.empty:
            continue
        groups: dict[tuple[str, bool, str], list[tuple[str, dict]]] = {}
        domain_items = []
        nominal: list[Bullet] = []
        uncertain: set[str] = set()
        for item, row in rows.iterrows():
            if row["suppressed"]:
                continue
            it = codebook[item]
            if it.type == "nominal":
                top = _nominal_pick(segment, it, profiles)
                if top is not None and (keep is None or item in keep):
                    text, _ = _nominal_words(it, top)
                    numbers: dict[str, Any] = {
                        "share": float(top["share"]),
                        "in the sample": float(top["sample_share"]),
                    }
                    nominal.append(Bullet(domain, text, (item,), "more", numbers))
                continue
            low, high = sides.loc[(segment, item)] if (segment, item) in sides.index else (0.0, 0.0)
            level = _level_of(it, row, low, high)
            if level == "unknown":
                continue
            domain_items.append((it, row))
            if level in UNCERTAIN:
                uncertain.add(it.column)
            if keep is not None and item not in keep:
                continue
            numbers = {
                "mean position": f"{row['position']:.2f} (sample {row['sample_position']:.2f})",
                "don't know": float(row["dont_know"]),
                "effect size": f"{row['effect_size']:+.2f}",
            }
            if level in ("divided", "divided_unsure"):
                numbers["low side"], numbers["high side"] = float(low), float(high)
            unsure = many_unsure(level, float(row["dont_know"]))
            if is_binary(it) and level != "unsure":
                key = (level, unsure, f"binary:{it.column}")  # in % who say: never merged
            elif level in UNCERTAIN and not it.say.get(level):
                key = (level, False, "")
            elif it.say:
                key = (level, unsure, f"say:{it.column}")  # its own wording: never merged
            else:
                key = (level, unsure, it.measures or "")
            groups.setdefault(key, []).append((item, numbers))
        if (
            domain_items
            and all(it.measures == "importance" for it, _ in domain_items)
            and len(domain_items) > 1
        ):
            # answers of unsure or divided items say little about importance: leave them out
            clear = [row["position"] for it, row in domain_items if it.column not in uncertain]
            pos = float(np.nanmean(clear or [row["position"] for _, row in domain_items]))
            level = classify_level(pos, 0.0, 0.0, 0.0)
            title = codebook.domain_titles[domain].lower()
            text = f"Overall, views {title} as {IMPORTANCE_WORDS[level]}"
            out.append(
                Bullet(
                    domain,
                    text,
                    tuple(it.column for it, _ in domain_items),
                    level,
                    {"mean position": f"{pos:.2f}"},
                    summary=True,
                )
            )
        for (level, unsure, measures), members in groups.items():
            names = [_item_label(codebook[i]) for i, _ in members]
            if measures.startswith("binary:"):
                row = rows.loc[members[0][0]]
                text = _binary_text(
                    codebook[members[0][0]], row["position"], row["sample_position"]
                )
            elif measures.startswith("say:"):
                text = say_text(codebook[members[0][0]], level)
            elif level == "unsure":
                text = f"Unsure about {_join(names)}"
            elif level == "divided":
                text = f"Divided on {_join(names)}"
            elif level == "divided_unsure":
                text = f"Unsure and divided on {_join(names)}"
            else:
                text = _templates(measures or None)[level].format(x=_join(names))
            if unsure:
                text += " (but many unsure)"
            numbers = (
                members[0][1] if len(members) == 1 else {i: n["mean position"] for i, n in members}
            )
            out.append(
                Bullet(domain, text, tuple(i for i, _ in members), level, numbers, unsure=unsure)
            )
        out += nominal
    return out


def segment_traits(
    segment: int, profiles: SegmentProfiles, codebook: Codebook
) -> list[tuple[float, str, str]]:
    """``(effect size, trait, item)`` of the segment's distinctive segmentation items, most
    distinctive first (module docstring)."""
    traits = _traits(segment, profiles, codebook)
    strong = [t for t in traits if t[0] >= TAGLINE_EFFECT]
    return (
        strong
        or [t for t in traits if t[0] >= FALLBACK_EFFECT]
        or _absolute_traits(segment, profiles, codebook)
    )


def _absolute_traits(
    segment: int, profiles: SegmentProfiles, codebook: Codebook
) -> list[tuple[float, str, str]]:
    """Traits of a segment that is like the sample on every item: its clearest positions
    (farthest from the middle of the scale, never balanced, unsure or divided), ranked by
    distance from the middle; the effect size slot holds that distance."""
    items = profiles.items
    items = items[(items["segment"] == segment) & ~items["suppressed"].astype(bool)]
    sides = _sides(profiles, codebook)
    out = []
    for _, row in items.iterrows():
        it = codebook[row["item"]]
        if it.type == "nominal" or not (row["position"] == row["position"]):
            continue
        key = (segment, row["item"])
        low, high = sides.loc[key] if key in sides.index else (0.0, 0.0)
        level = _level_of(it, row, low, high)
        if level in POSITIVE or level in NEGATIVE:
            out.append((float(abs(row["position"] - 0.5)), _trait_words(it, level, row), it.column))
    out.sort(key=lambda t: -t[0])
    return out


def _traits(
    segment: int, profiles: SegmentProfiles, codebook: Codebook
) -> list[tuple[float, str, str]]:
    """``(effect size, trait, item)`` of the segment's distinctive segmentation items, most
    distinctive first (module docstring: the words of the item's bullet, at the segment's level,
    leaning the way the segment differs from the sample)."""
    items = profiles.items
    if items.empty:
        return []
    items = items[(items["segment"] == segment) & ~items["suppressed"].astype(bool)]
    sides = _sides(profiles, codebook)
    out: list[tuple[float, str, str]] = []
    for _, row in items.iterrows():
        it = codebook[row["item"]]  # profiles.items are the model's items, never demographics
        if it.type == "nominal":
            top = _nominal_pick(segment, it, profiles)
            if top is not None:
                h = _cohen_h(float(top["share"]), float(top["sample_share"]))
                out.append((h, _nominal_words(it, top)[1], it.column))
            continue
        effect = row["effect_size"]
        if not (effect == effect):
            continue
        key = (segment, row["item"])
        low, high = sides.loc[key] if key in sides.index else (0.0, 0.0)
        level = _level_of(it, row, low, high)
        if (level in POSITIVE and effect > 0) or (level in NEGATIVE and effect < 0):
            out.append((float(abs(effect)), _trait_words(it, level, row), it.column))
    out.sort(key=lambda t: -t[0])
    return out


def _trait_words(it: Item, level: str, row) -> str:
    """The words of an item's trait: its bullet's words (without numbers for a binary item)."""
    if is_binary(it):
        return _binary_trait(it, row["position"], row["sample_position"])
    return say_text(it, level)


def tagline(segment: int, profiles: SegmentProfiles, codebook: Codebook, n_traits: int = 3) -> str:
    """The segment's ``n_traits`` most distinctive traits (module docstring); with
    ``n_traits=2`` its name."""
    found = segment_traits(segment, profiles, codebook)[:n_traits]
    if not found:
        return "Close to the sample average"
    return ", ".join(_merge_traits([(t, codebook[i]) for _, t, i in found]))


def _merge_traits(traits: list[tuple[str, Item]]) -> list[str]:
    """Traits worded alike joined as the bullets are (rule 4): "Views critical media and
    freedom of speech as very important", "Strongly want more spent on Social Security and
    childcare" (the same words around the items' short names)."""
    groups: dict[str, list[str]] = {}
    for text, it in traits:
        label = _item_label(it)
        if label and label in text:
            groups.setdefault(text.replace(label, "\0", 1), []).append(label)
        else:
            groups.setdefault(text, [])
    return [t.replace("\0", _join(labels)) if labels else t for t, labels in groups.items()]


_INTENSITY = re.compile(
    r"^(very strongly|strongly|on balance,?|overall,|mostly|tend to|weakly)\s+", re.IGNORECASE
)


def _squeeze(text: str, max_len: int) -> str | None:
    """``text`` as its first words, an ellipsis and its last words ("Want more ... the
    environment"), within ``max_len`` characters; None when two words do not fit."""
    words = text.split()
    for head in (3, 2, 1):
        if len(words) <= head:
            continue
        start = " ".join(words[:head]) + " \u2026"
        tail: list[str] = []
        for word in reversed(words[head:]):
            if len(start) + 1 + len(" ".join([word, *tail])) > max_len:
                break
            tail.insert(0, word)
        if len(tail) >= (1 if head == 3 else 2) and len(tail) < len(words) - head:
            return f"{start} {' '.join(tail)}"
    return None


def _short_candidates(text: str, max_len: int) -> list[str]:
    """Ways of saying ``text`` in at most ``max_len`` characters, most faithful first."""
    first = text.split(", ")[0]
    bare = _INTENSITY.sub("", first)
    bare = bare[:1].upper() + bare[1:]
    out = [text, first, bare]
    out += [c for c in (_squeeze(bare, max_len), _squeeze(first, max_len)) if c]
    words, cut = bare.split(), ""
    for word in words:
        if len(cut) + len(word) + (1 if cut else 0) > max_len - 1:
            break
        cut = f"{cut} {word}" if cut else word
    out.append((cut or bare[: max_len - 1]).rstrip(",;:") + "\u2026")
    return [c for c in dict.fromkeys(out) if len(c) <= max_len]


def short_label(text: str, max_len: int = SHORT_LABEL_MAX) -> str:
    """A label of at most ``max_len`` characters from a trait or name (module docstring)."""
    return _short_candidates(text, max_len)[0]


def short_labels(names: list[str], max_len: int = SHORT_LABEL_MAX) -> list[str]:
    """A unique short label for each name: the most faithful candidate not already taken,
    numbered ("... (2)") only when every candidate is."""
    taken: set[str] = set()
    out = []
    for name in names:
        label = next((c for c in _short_candidates(name, max_len) if c not in taken), None)
        if label is None:
            base = short_label(name, max_len - 4)
            n = 2
            while f"{base} ({n})" in taken:
                n += 1
            label = f"{base} ({n})"
        taken.add(label)
        out.append(label)
    return out


def unique_labels(labels: list[str], max_len: int | None = None) -> list[str]:
    """Labels made unique by numbering repeats ("... (2)"), within ``max_len`` characters."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        if seen[label] == 1:
            out.append(label)
            continue
        suffix = f" ({seen[label]})"
        base = label if max_len is None else short_label(label, max_len - len(suffix))
        out.append(base + suffix)
    return out


def segment_names(profiles: SegmentProfiles, codebook: Codebook) -> list[str]:
    """The name of every segment: its two most distinctive traits, unique within the
    segmentation (as :func:`segment.segments.fit.name_and_profile` labels segments)."""
    return unique_labels(
        [tagline(s, profiles, codebook, n_traits=2) for s in range(profiles.n_segments)]
    )


def _demographic_trait(bullet: Bullet) -> str:
    """A demographic bullet as a tagline trait: its first clause ("More urban")."""
    return bullet.text.split(", ")[0]


def card_tagline(
    segment: int,
    profiles: SegmentProfiles,
    codebook: Codebook,
    bullets: tuple[Bullet, ...],
    n_attitudes: int = 3,
    n_demographics: int = 2,
) -> str:
    """A tagline of four or five traits in the study's form ("Patriarchal, Want order, ...,
    TV watchers") drawn from the card's own bullets: the most distinctive printed attitude
    trait (:func:`segment_traits`; an item the card prints at a leaning level, without "(but
    many unsure)") of each of its ``n_attitudes`` most distinctive domains (more domains when
    there are too few demographic traits for four, further traits of those domains when it has
    fewer domains), then its first ``n_demographics`` demographic bullets that describe a
    difference (never "average", never a composition, never a number)."""
    printed = {i for b in bullets if not b.says and not b.summary and not b.unsure for i in b.items}
    demographic = [
        _demographic_trait(b)
        for b in bullets
        if b.says
        and b.level != "average"
        and "%" not in b.text  # "Race: 38% Black, 14% overall" is a bullet, not a trait
        and not _is_composition(b, codebook)
    ][:n_demographics]
    wanted = max(n_attitudes, 4 - len(demographic))
    attitude: list[str] = []
    domains: set[str] = set()
    ranked = [(t, i) for _, t, i in segment_traits(segment, profiles, codebook) if i in printed]
    for trait, item in ranked:
        domain = codebook[item].domain
        if domain not in domains and len(attitude) < wanted:
            attitude.append(trait)
            domains.add(domain)  # one trait a domain first, as the study's taglines
    for trait, _ in ranked:
        if len(attitude) < wanted and trait not in attitude:
            attitude.append(trait)
    found = [t.replace(",", "") for t in attitude + demographic]  # commas separate the traits
    return ", ".join(found) if found else "Close to the sample average"


def _is_composition(bullet: Bullet, codebook: Codebook) -> bool:
    return all(codebook[i].composition for i in bullet.items if i in codebook)


def curated_items(
    segment: int,
    profiles: SegmentProfiles,
    codebook: Codebook,
    reference: Segment | None = None,
) -> frozenset[str]:
    """The attitude items a segment's card prints (module docstring, "Curation"): for a segment
    matched to a reference segment, the items the reference card describes and any other item
    on which the segment differs from the sample by at least ``CURATE_EFFECT`` sample SDs;
    otherwise, per domain, its ``MAX_DOMAIN_ITEMS`` most distinctive items, and the items of
    its first four traits (which name it)."""
    items = profiles.items[profiles.items["segment"] == segment]
    effect = items["effect_size"].abs().fillna(0.0)
    if reference is not None:
        claimed = {i for b in reference.bullets for c in b.claims for i in c.items}
        keep = items["item"].isin(claimed) | (effect >= CURATE_EFFECT)
        return frozenset(items.loc[keep, "item"])
    ranked = items.assign(_effect=effect).sort_values("_effect", ascending=False, kind="stable")
    top = ranked.groupby("domain", sort=False).head(MAX_DOMAIN_ITEMS)
    traits = [i for _, _, i in segment_traits(segment, profiles, codebook)[:4]]
    return frozenset(top["item"]) | frozenset(traits)  # the name's and tagline's items too


def build_cards(
    profiles: SegmentProfiles,
    codebook: Codebook,
    names: pd.DataFrame | None = None,
    typology: Typology | None = None,
) -> list[ProfileCard]:
    """A profile card per segment, largest first; suppressed segments get no bullets.

    Attitude bullets are curated (:func:`curated_items`): a segment named after a segment of
    ``typology`` prints what that reference card describes, and what clearly distinguishes it.

    A segment matched to a reference typology (``names``, :func:`~segment.cards.naming.
    name_segments`) takes the reference name; every other segment is named by its two most
    distinctive traits and has a tagline of three (module docstring). Names and short labels
    are unique within the segmentation.
    """
    own = segment_names(profiles, codebook)
    table = names.set_index("segment") if names is not None else None
    drafts = []
    for _, share in profiles.shares.iterrows():
        s = int(share["segment"])
        suppressed = bool(share["suppressed"])
        line = "" if suppressed else tagline(s, profiles, codebook)
        name = f"Segment {s + 1}" if suppressed else own[s]
        match = {}
        if table is not None and s in table.index:
            row = table.loc[s]
            match = {
                k: row[k] for k in ("reference", "reference_name", "distance", "score", "named")
            }
            if row["named"] or bool(row.get("merged", False)):
                name = row["name"]  # a reference name, or "A + B" for a merged segment
        reference = None
        if typology is not None and match.get("named") and match.get("reference") is not None:
            reference = typology[str(match["reference"])]
        keep = curated_items(s, profiles, codebook, reference)
        bullets = (
            ()
            if suppressed
            else tuple(
                attitude_bullets(s, profiles, codebook, keep)
                + demographic_bullets(s, profiles, codebook)
            )
        )
        if not suppressed:
            line = card_tagline(s, profiles, codebook, bullets)
        if reference is not None and reference.tagline:
            match["reference_tagline"] = reference.tagline
        drafts.append((s, name, line, share, bullets, suppressed, match))
    full = unique_labels([d[1] for d in drafts])
    shorts = short_labels(full)
    cards = []
    for (s, _, line, share, bullets, suppressed, match), name, short in zip(
        drafts, full, shorts, strict=True
    ):
        cards.append(
            ProfileCard(
                s,
                name,
                line,
                float(share["share"]),
                float(share["ci_low"]),
                float(share["ci_high"]),
                bullets,
                suppressed,
                match,
                codebook.domain_titles,
                short_label=short,
            )
        )
    return cards
