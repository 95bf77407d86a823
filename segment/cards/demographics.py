"""Demographic bullets of profile cards: "More women", "Less educated and lower than average
income", "More urban, mostly regional-centre residents".

Rules (also in :mod:`segment.cards.wording`): ordered demographics (education, income, settlement
size, age bands) are described by the shift of the segment's mean position from the sample's, when
at least ``ORDERED_SHIFT``; other demographics name the category with the highest index against
the sample (at least ``MORE_INDEX``, and at least 10% of the segment), "Mostly" when it is the
majority. Suppressed cells are never described.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segment.survey.codebook import Codebook

from .card import Bullet
from .profile_stats import SegmentProfiles

MORE_INDEX = 115.0


#: Words for ordered demographics, by what they measure: (higher, lower).
ORDERED_DEMOGRAPHIC_WORDS = {
    "education": ("More educated", "Less educated"),
    "material situation": ("Higher than average income", "Lower than average income"),
    "income": ("Higher than average income", "Lower than average income"),
    "rurality": ("More rural", "More urban"),
    "age": ("Older", "Younger"),
}
ORDERED_SHIFT = 0.05


def _ordered_shift(profiles: SegmentProfiles, segment: int, variable: str) -> float:
    """Segment minus sample mean position (0..1) of an ordered demographic."""
    o = profiles.ordered
    row = o[(o["segment"] == segment) & (o["variable"] == variable)]
    if row.empty:
        return np.nan
    return float(row["position"].iloc[0] - row["sample_position"].iloc[0])


def demographic_bullets(
    segment: int, profiles: SegmentProfiles, codebook: Codebook
) -> list[Bullet]:
    """The demographic rules for one segment.

    Ordered demographics (education, income, settlement size, age bands) are described by the
    shift of the segment's mean position from the sample's, when at least ``ORDERED_SHIFT``
    ("Less educated", "More urban", "Older"), with a majority category added ("More urban,
    mostly regional-centre residents"); education and income shifts share one bullet ("Less
    educated and lower than average income"). Other demographics name the category with the
    highest index ("More women", "Mostly Kazakhs").
    """
    d = profiles.demographics
    if d.empty:
        return []
    seg = d[d["segment"] == segment]
    shown = seg[~seg["suppressed"]]
    out: list[Bullet] = []
    for variable in dict.fromkeys(seg["variable"]):
        it = codebook[variable]
        rows = shown[
            (shown["variable"] == variable)
            & (shown["share"] >= 0.10)
            & (shown["index"] >= MORE_INDEX)
        ]
        top = rows.loc[rows["index"].idxmax()] if not rows.empty else None
        measure = "age" if it.bands else it.measures
        if measure in ORDERED_DEMOGRAPHIC_WORDS and (it.bands or it.type == "ordinal"):
            shift = _ordered_shift(profiles, segment, variable)
            if shift == shift and abs(shift) >= ORDERED_SHIFT:
                higher, lower = ORDERED_DEMOGRAPHIC_WORDS[measure]
                text = higher if shift > 0 else lower
                numbers: dict[str, Any] = {"shift in mean position": f"{shift:+.2f}"}
                if top is not None and top["share"] >= 0.5 and not it.bands:
                    level = next(
                        lv for lv in it.levels if (lv.name or lv.label()) == top["category"]
                    )
                    end = it.position(np.array([level.code]))[0]
                    if not ((shift > 0 and end == 1.0) or (shift < 0 and end == 0.0)):
                        # "More urban, mostly regional-centre residents"; not "More rural,
                        # mostly rural"
                        text += f", mostly {level.phrase()}"
                        numbers["share"] = float(top["share"])
                out.append(
                    Bullet(
                        "demographics",
                        text,
                        (variable,),
                        "higher" if shift > 0 else "lower",
                        numbers,
                    )
                )
            continue
        if top is None:
            continue
        word = "Mostly" if top["share"] >= 0.5 else "More"
        level = next(lv for lv in it.levels if (lv.name or lv.label()) == top["category"])
        numbers = {
            "share": float(top["share"]),
            "in the sample": float(top["sample_share"]),
            "index": round(float(top["index"])),
        }
        out.append(
            Bullet("demographics", f"{word} {level.phrase()}", (variable,), word.lower(), numbers)
        )
    return _merge_education_income(out, codebook)


def _merge_education_income(bullets: list[Bullet], codebook: Codebook) -> list[Bullet]:
    def find(measures):
        for b in bullets:
            if codebook[b.items[0]].measures in measures and b.level in ("higher", "lower"):
                return b
        return None

    edu, inc = find({"education"}), find({"material situation", "income"})
    if edu is None or inc is None:
        return bullets
    merged = Bullet(
        "demographics",
        f"{edu.text} and {inc.text[0].lower()}{inc.text[1:]}",
        edu.items + inc.items,
        edu.level,
        {**edu.numbers, **{f"income {k}": v for k, v in inc.numbers.items()}},
    )
    return [merged if b is edu else b for b in bullets if b is not inc]
