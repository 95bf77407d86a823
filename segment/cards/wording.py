"""Profile cards in the voice of the 2020 study: rules that turn statistics into bullets.

Every bullet comes from documented rules applied to
:class:`~segment.cards.profile_stats.SegmentProfiles` and keeps the numbers behind it
(``Bullet.numbers``; ``segment profile --explain`` prints them).

Rules for an attitude item of a segment (positions are on the item's 0..1 "more" scale):

1. **Unsure** when don't-know answers are at least ``UNSURE_DONT_KNOW`` (25%) of the segment's
   answers: "Unsure about {item}".
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

Rules for demographics: the category with the highest index against the sample (at least
``MORE_INDEX`` = 115, and at least 10% of the segment) gives "Mostly {category}" when it is
the majority of the segment, else "More {category}". Suppressed cells are never described.

The **tagline** lists the segment's most distinctive traits: the items with the largest absolute
standardised difference from the sample (at least 0.3) and the demographic with the highest
index, in the 2020 study's terse style ("Distrust Nur Otan, Value freedom of speech, Megapolis").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segment.survey.codebook import Codebook, Item

from .card import Bullet, ProfileCard
from .demographics import demographic_bullets
from .profile_stats import SegmentProfiles

__all__ = ["Bullet", "ProfileCard", "build_cards", "classify_level", "item_levels"]

UNSURE_DONT_KNOW = 0.25
DIVIDED_SHARE = 0.25
TAGLINE_EFFECT = 0.3
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
        "balanced": "Views {x} as somewhat important",
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
IMPORTANCE_WORDS = {
    "extremely_high": "extremely important",
    "very_high": "very important",
    "high": "important",
    "lean_high": "mostly important",
    "balanced": "somewhat important",
    "lean_low": "mostly not important",
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
    """The level word of rules 1-3 (module docstring)."""
    if dont_know == dont_know and dont_know >= UNSURE_DONT_KNOW:
        return "unsure"
    if low_share >= DIVIDED_SHARE and high_share >= DIVIDED_SHARE:
        return "divided"
    if position != position:
        return "unknown"
    for cut, level in CUTS:
        if position >= cut:
            return level
    return "very_low"


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


def item_levels(segment: int, profiles: SegmentProfiles, codebook: Codebook) -> dict[str, str]:
    """Level word (rules 1-3) of every reported attitude item of one segment."""
    items = profiles.items[(profiles.items["segment"] == segment) & ~profiles.items["suppressed"]]
    sides = _sides(profiles, codebook)
    out = {}
    for _, row in items.iterrows():
        key = (segment, row["item"])
        low, high = sides.loc[key] if key in sides.index else (0.0, 0.0)
        out[row["item"]] = classify_level(row["position"], row["dont_know"], low, high)
    return out


def attitude_bullets(segment: int, profiles: SegmentProfiles, codebook: Codebook) -> list[Bullet]:
    """Rules 1-5 for one segment, in domain order."""
    items = profiles.items[profiles.items["segment"] == segment].set_index("item")
    sides = _sides(profiles, codebook)
    out: list[Bullet] = []
    for domain in codebook.domain_titles:
        rows = items[items["domain"] == domain]
        if rows.empty:
            continue
        groups: dict[tuple[str, str], list[tuple[str, dict]]] = {}
        domain_items = []
        uncertain: set[str] = set()
        for item, row in rows.iterrows():
            if row["suppressed"]:
                continue
            it = codebook[item]
            low, high = sides.loc[(segment, item)] if (segment, item) in sides.index else (0.0, 0.0)
            level = classify_level(row["position"], row["dont_know"], low, high)
            if level == "unknown":
                continue
            numbers = {
                "mean position": f"{row['position']:.2f} (sample {row['sample_position']:.2f})",
                "don't know": float(row["dont_know"]),
                "effect size": f"{row['effect_size']:+.2f}",
            }
            if level == "divided":
                numbers["low side"], numbers["high side"] = float(low), float(high)
            domain_items.append((it, row))
            if level in ("unsure", "divided"):
                uncertain.add(it.column)
            if level in ("unsure", "divided") and not it.say.get(level):
                key = (level, "")
            elif it.say:
                key = (level, f"say:{it.column}")  # its own wording: never merged
            else:
                key = (level, it.measures or "")
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
                )
            )
        for (level, measures), members in groups.items():
            names = [_item_label(codebook[i]) for i, _ in members]
            if measures.startswith("say:"):
                text = say_text(codebook[members[0][0]], level)
            elif level == "unsure":
                text = f"Unsure about {_join(names)}"
            elif level == "divided":
                text = f"Divided on {_join(names)}"
            else:
                text = _templates(measures or None)[level].format(x=_join(names))
            numbers = (
                members[0][1] if len(members) == 1 else {i: n["mean position"] for i, n in members}
            )
            out.append(Bullet(domain, text, tuple(i for i, _ in members), level, numbers))
    return out


def tagline(segment: int, profiles: SegmentProfiles, codebook: Codebook, n_traits: int = 4) -> str:
    """The segment's most distinctive traits (module docstring)."""
    items = profiles.items[(profiles.items["segment"] == segment) & ~profiles.items["suppressed"]]
    items = items[items["effect_size"].abs() >= TAGLINE_EFFECT]
    items = items.reindex(items["effect_size"].abs().sort_values(ascending=False).index)
    traits = []
    for _, row in items.head(n_traits - 1).iterrows():
        it = codebook[row["item"]]
        positive = row["effect_size"] > 0
        word = {
            "trust": ("Trust", "Distrust"),
            "importance": ("Value", "Dismiss"),
        }.get(it.measures or "", ("High on", "Low on"))
        traits.append(f"{word[0] if positive else word[1]} {_item_label(it)}")
    demo = [b for b in demographic_bullets(segment, profiles, codebook) if "index" in b.numbers]
    if demo:
        best = max(demo, key=lambda b: b.numbers["index"])
        trait = best.text.replace("Mostly ", "").replace("More ", "")
        traits.append(trait[:1].upper() + trait[1:])
    return ", ".join(traits) if traits else "Close to the sample average"


def build_cards(
    profiles: SegmentProfiles, codebook: Codebook, names: pd.DataFrame | None = None
) -> list[ProfileCard]:
    """A profile card per segment, largest first; suppressed segments get no bullets."""
    cards = []
    for _, share in profiles.shares.iterrows():
        s = int(share["segment"])
        line = tagline(s, profiles, codebook) if not share["suppressed"] else ""
        match = {}
        name = line or f"Segment {s + 1}"
        if names is not None:
            row = names.set_index("segment").loc[s]
            match = {k: row[k] for k in ("reference_name", "distance", "score", "named")}
            name = row["name"] if row["named"] else (line or f"Segment {s + 1}")
        bullets = (
            ()
            if share["suppressed"]
            else tuple(
                attitude_bullets(s, profiles, codebook) + demographic_bullets(s, profiles, codebook)
            )
        )
        cards.append(
            ProfileCard(
                s,
                name,
                line,
                float(share["share"]),
                float(share["ci_low"]),
                float(share["ci_high"]),
                bullets,
                bool(share["suppressed"]),
                match,
                codebook.domain_titles,
            )
        )
    return cards
