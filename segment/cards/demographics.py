"""Demographic bullets of profile cards: "More women", "Less educated and lower than average
income", "Older", "Race or ethnicity: 31% Black, 14% overall".

A demographic (any ``role: profile`` variable) is described only when the difference from the
whole sample is both **clear** and **material**:

- *clear*: the design-based test of the segment against the sample
  (:attr:`SegmentProfiles.demographic_tests`: linearised variance over the codebook's strata and
  PSUs, weights counted) is significant at ``ALPHA`` after Holm's adjustment over every
  demographic comparison of the card set (all variables, categories and segments), so the
  chance that any one printed demographic bullet is a fluke stays under 5%;
- *material*: for a category, the segment's share is at least ``MIN_POINTS`` (10 percentage
  points) above the sample's **and** at least ``MIN_RATIO`` (1.25) times it: a two-point
  difference (14% against 12%) is never printed however large the sample, nor a rare category
  doubling from 1% to 2%; for an ordered or numeric variable (age, years of education, income,
  settlement size), the segment's mean differs from the sample's by at least ``MIN_EFFECT``
  (0.2) sample standard deviations, Cohen's (1988) "small" effect (about 3.5 years of age for
  a sample SD of 17 years).

Wording: numbers by what they measure (``measures:``, else the variable's name): age as
"Older" / "Younger", years of education as "More years of education", income as "Higher
income", any other number or ordered variable as "Higher {label}" / "Lower {label}" in the
codebook's words; ordered variables with known words keep the 2020 study's ("Less educated",
"More urban, mostly regional-centre residents"). A category with a ``short:`` phrase is "More
{short}" ("Mostly {short}" when the majority of the segment); one without reads
"{Variable}: 31% Black, 14% overall", keeping the codebook's label as written. Suppressed cells
are never described. Demographics never name a segment (:mod:`segment.cards.wording`).

References
----------
Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed. Hillsdale,
NJ: Erlbaum.

Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
of Statistics* 6(2): 65-70.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from segment.survey.codebook import Codebook, Item

from .card import Bullet
from .profile_stats import SegmentProfiles

__all__ = [
    "ALPHA",
    "MIN_EFFECT",
    "MIN_POINTS",
    "MIN_RATIO",
    "demographic_bullets",
    "is_material",
    "measure_of",
]

#: Significance level of the Holm-adjusted design-based test ("clear").
ALPHA = 0.05
#: A category is material when its share is at least this many points above the sample's ...
MIN_POINTS = 0.10
#: ... and at least this many times it.
MIN_RATIO = 1.25
#: An ordered or numeric variable is material when its mean moves this many sample SDs.
MIN_EFFECT = 0.2

#: Words for ordered demographics by what they measure: (higher, lower). Ordinal variables.
ORDERED_DEMOGRAPHIC_WORDS = {
    "education": ("More educated", "Less educated"),
    "material situation": ("Higher than average income", "Lower than average income"),
    "income": ("Higher than average income", "Lower than average income"),
    "rurality": ("More rural", "More urban"),
    "age": ("Older", "Younger"),
}
#: ... and for numbers (years, money, counts): (higher, lower).
NUMERIC_DEMOGRAPHIC_WORDS = {
    "age": ("Older", "Younger"),
    "education": ("More years of education", "Fewer years of education"),
    "income": ("Higher income", "Lower income"),
    "material situation": ("Higher income", "Lower income"),
    "rurality": ("More rural", "More urban"),
}
_AGE = re.compile(r"^(age|agea|age_years|ageyrs)$|\bage\b", re.IGNORECASE)


def measure_of(it: Item) -> str | None:
    """What a demographic measures: its ``measures:``, else "age" for a variable named age."""
    if it.measures:
        return it.measures
    if _AGE.search(it.column) or _AGE.search(it.short or ""):
        return "age"
    return None


def is_material(share, sample) -> np.ndarray:
    """Whether a category share is materially above the sample's (module docstring)."""
    share, sample = np.asarray(share, dtype=float), np.asarray(sample, dtype=float)
    with np.errstate(invalid="ignore"):
        return (share - sample >= MIN_POINTS - 1e-12) & (share >= MIN_RATIO * sample - 1e-12)


def _label(it: Item) -> str:
    text = it.short or it.text()
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """``text`` with its first letter lower-cased unless the word is a name or acronym."""
    word = text.split(" ")[0]
    if len(word) > 1 and (word[1:].lower() != word[1:] or word.isupper()):
        return text
    return text[:1].lower() + text[1:]


def _tests(profiles: SegmentProfiles, segment: int) -> pd.DataFrame:
    t = profiles.demographic_tests
    if t is None or t.empty:
        return pd.DataFrame(columns=t.columns if t is not None else [])
    return t[t["segment"] == segment]


def _clear(row) -> bool:
    p = row["p_adjusted"]
    return bool(p == p and p <= ALPHA)


def _mean_bullet(it: Item, row, cells: pd.DataFrame) -> Bullet | None:
    """The bullet of an ordered or numeric variable's mean, when clear and material."""
    sd = float(row["sample_sd"])
    diff = float(row["difference"])
    if not (sd > 0) or not _clear(row) or abs(diff) / sd < MIN_EFFECT:
        return None
    measure = measure_of(it)
    numeric = it.type == "numeric"
    words = (NUMERIC_DEMOGRAPHIC_WORDS if numeric else ORDERED_DEMOGRAPHIC_WORDS).get(measure or "")
    if words is None:
        words = (f"Higher {_lower_first(_label(it))}", f"Lower {_lower_first(_label(it))}")
    higher = diff > 0
    text = words[0] if higher else words[1]
    numbers: dict[str, Any] = {
        "mean"
        if numeric
        else "mean position": f"{row['estimate']:.3g} (sample {row['sample']:.3g})",
        "effect size": f"{diff / sd:+.2f}",
        "p (Holm)": f"{row['p_adjusted']:.2g}",
    }
    if not numeric and not cells.empty:
        top = cells.loc[cells["estimate"].idxmax()]
        level = next((lv for lv in it.levels if (lv.name or lv.label()) == top["category"]), None)
        if level is not None and top["estimate"] >= 0.5 and level.short:
            end = it.position(np.array([level.code]))[0]
            if not ((higher and end == 1.0) or (not higher and end == 0.0)):
                # "More urban, mostly regional-centre residents"; not "More rural, mostly rural"
                text += f", mostly {level.short}"
                numbers["share"] = float(top["estimate"])
    return Bullet("demographics", text, (it.column,), "higher" if higher else "lower", numbers)


def _category_bullet(it: Item, cells: pd.DataFrame) -> Bullet | None:
    """The most over-represented clear and material category of a variable."""
    ok = cells[
        is_material(cells["estimate"], cells["sample"])
        & (cells["p_adjusted"].to_numpy(dtype=float) <= ALPHA)
    ]
    if ok.empty:
        return None
    top = ok.loc[(ok["estimate"] / ok["sample"]).idxmax()]
    level = next((lv for lv in it.levels if (lv.name or lv.label()) == top["category"]), None)
    share, sample = float(top["estimate"]), float(top["sample"])
    word = "Mostly" if share >= 0.5 else "More"
    if level is not None and level.short:
        text = f"{word} {level.short}"
    else:
        label = level.label() if level is not None else str(top["category"])
        if re.fullmatch(r"-?\d+(\.\d+)?", label.strip()):
            label = f"code {label.strip()}"  # an unlabelled code: say so, never a bare number
        text = f"{_label(it)}: {share:.0%} {label}, {sample:.0%} overall"
    numbers = {
        "share": share,
        "in the sample": sample,
        "index": round(100 * share / sample),
        "p (Holm)": f"{top['p_adjusted']:.2g}",
    }
    return Bullet("demographics", text, (it.column,), word.lower(), numbers)


def demographic_bullets(
    segment: int, profiles: SegmentProfiles, codebook: Codebook
) -> list[Bullet]:
    """The demographic bullets of one segment (rules in the module docstring).

    Ordered variables with words for what they measure (education, income, settlement size)
    and numbers are described by their mean; other variables by their most over-represented
    category. Education and income shifts share one bullet ("Less educated and lower than
    average income"); two variables measuring the same thing in the same direction (years of
    education and highest degree) give one bullet, the first in codebook order.
    """
    tests = _tests(profiles, segment)
    if tests.empty:
        return []
    out: list[Bullet] = []
    for variable in dict.fromkeys(tests["variable"]):
        it = codebook[variable]
        rows = tests[tests["variable"] == variable]
        cells = rows[rows["kind"] == "category"]
        mean = rows[rows["kind"] == "mean"]
        by_mean = it.type == "numeric" or (
            it.type == "ordinal" and measure_of(it) in ORDERED_DEMOGRAPHIC_WORDS
        )
        bullet = None
        if by_mean and not mean.empty:
            bullet = _mean_bullet(it, mean.iloc[0], cells)
        elif not cells.empty:
            bullet = _category_bullet(it, cells)
        if bullet is not None and not _said(bullet, out, codebook):
            out.append(bullet)
    return _merge_education_income(out, codebook)


def _said(bullet: Bullet, bullets: list[Bullet], codebook: Codebook) -> bool:
    """Whether a bullet on a variable measuring the same thing (years of education and highest
    degree) already says the same direction: the card says it once."""
    measure = measure_of(codebook[bullet.items[0]])
    return measure is not None and any(
        measure_of(codebook[b.items[0]]) == measure and b.level == bullet.level for b in bullets
    )


def _merge_education_income(bullets: list[Bullet], codebook: Codebook) -> list[Bullet]:
    def find(measures):
        for b in bullets:
            it = codebook[b.items[0]]
            if it.measures in measures and it.type == "ordinal" and b.level in ("higher", "lower"):
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
