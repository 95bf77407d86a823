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

Wording, in the 2020 study's voice: numbers by what they measure (``measures:``, else the
variable's name): age as "Older" / "Younger", years of education as "More years of
education", income as "Higher income", any other number or ordered variable as "Higher
{label}" / "Lower {label}" in the codebook's words; ordered variables with known words keep the
study's ("Less educated", "More urban, mostly regional-centre residents", and "Mostly rural
residents" when the end category the segment leans to is its majority). Age bands (a numeric
variable with ``bands:``) are said by band: "More middle aged", "Younger", "Middle aged &
older" (the clear and material over-represented bands, adjacent ones together). A category
with a ``short:`` phrase is "More {short}" ("Mostly {short}" when the majority of the segment;
two over-represented categories that together are a majority, "Mostly readers of internet news
sites and social media news users"); one without reads "{Variable}: 31% Black, 14% overall",
keeping the codebook's label as written.

Two kinds of bullet are said without a difference from the sample:

- a **composition** (a variable with ``composition: true`` in the codebook, as the study states
  ethnicity and language on every card): "Mostly Kazakhs", "Vast majority Kazakhs" (at least
  ``VAST_MAJORITY``, 85%), when the largest group is a clear majority (its one-sided 95% lower
  bound above 50%), or the two largest together reach ``COMPOSITION_PAIR`` (55%);
- **average** ("All ages", "Average education", "Average incomes", or the variable's own
  ``say: {average: ...}``, "News equally from TV and internet"): only when an equivalence test
  (two one-sided tests, Schuirmann 1987) shows the segment is like the sample: the 90%
  interval of the mean's difference within ``MIN_EFFECT`` sample SDs, or of every category's
  within ``MIN_POINTS``.

Education and income share one bullet ("Less educated and lower than average income", "More
educated, but average incomes"), as do consecutive compositions ("Mostly Kazakhs and Kazakh
speakers"). Every bullet carries what it says as data (:attr:`Bullet.says`), which
:mod:`segment.cards.agreement` judges. Suppressed cells are never described. Demographics never
name a segment (:mod:`segment.cards.wording`); a tagline may end with them.

References
----------
Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed. Hillsdale,
NJ: Erlbaum.

Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
of Statistics* 6(2): 65-70.

Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the power
approach for assessing the equivalence of average bioavailability. *Journal of
Pharmacokinetics and Biopharmaceutics* 15(6): 657-680.
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
#: Normal quantile of the one-sided 95% bounds (majorities, equivalence).
ONE_SIDED_Z = 1.6448536269514722
#: Two categories that together are at least this share are a composition majority.
COMPOSITION_PAIR = 0.55
#: A composition majority of at least this share is a "vast majority".
VAST_MAJORITY = 0.85
#: "Average" words by what a demographic measures, said when an equivalence test shows it.
AVERAGE_WORDS = {
    "age": "All ages",
    "education": "Average education",
    "income": "Average incomes",
    "material situation": "Average incomes",
}
#: ... and for numbers (years, money).
NUMERIC_AVERAGE_WORDS = {
    "age": "All ages",
    "education": "Average years of education",
    "income": "Average income",
    "material situation": "Average income",
}

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


def _level_of_category(it: Item, name: str):
    return next((lv for lv in it.levels if (lv.name or lv.label()) == name), None)


def _mean_bullet(it: Item, row, cells: pd.DataFrame) -> Bullet | None:
    """The bullet of an ordered or numeric variable's mean, when clear and material: "More
    educated"; "More urban, mostly regional-centre residents" when a middle category is the
    segment's majority; "Mostly rural residents" when the end category it leans to is."""
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
    says: list[tuple[str, tuple[str, ...], str]] = [
        (it.column, (), "higher" if higher else "lower")
    ]
    numbers: dict[str, Any] = {
        "mean"
        if numeric
        else "mean position": f"{row['estimate']:.3g} (sample {row['sample']:.3g})",
        "effect size": f"{diff / sd:+.2f}",
        "p (Holm)": f"{row['p_adjusted']:.2g}",
    }
    if not numeric and not cells.empty:
        top = cells.loc[cells["estimate"].idxmax()]
        level = _level_of_category(it, top["category"])
        end = it.position(np.array([level.code]))[0] if level is not None else np.nan
        beyond = end > row["sample"] if higher else end < row["sample"]
        if level is not None and top["estimate"] >= 0.5 and level.short and beyond:
            # the majority lies the way the segment leans: never "Higher income, mostly
            # people who can afford food and clothes"
            if (higher and end == 1.0) or (not higher and end == 0.0):
                text = f"Mostly {level.short}"  # "Mostly rural residents", not "More rural, ..."
            else:
                text += f", mostly {level.short}"  # "More urban, mostly regional-centre ..."
            says.append((it.column, (str(top["category"]),), "mostly"))
            numbers["share"] = float(top["estimate"])
    return Bullet(
        "demographics",
        text,
        (it.column,),
        "higher" if higher else "lower",
        numbers,
        says=tuple(says),
    )


def _material_clear(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[
        is_material(cells["estimate"], cells["sample"])
        & (cells["p_adjusted"].to_numpy(dtype=float) <= ALPHA)
    ]


def _band_bullet(it: Item, cells: pd.DataFrame) -> Bullet | None:
    """Age bands in the study's words: "More middle aged", "Younger", "Middle aged & older":
    the clear and material over-represented bands (adjacent ones together)."""
    ok = _material_clear(cells)
    if ok.empty:
        return None
    names = [b[2] for b in it.bands]
    top = ok.loc[(ok["estimate"] / ok["sample"]).idxmax()]
    picked = {str(top["category"])}
    i = names.index(str(top["category"]))
    for j in (i - 1, i + 1):
        if 0 <= j < len(names) and names[j] in set(ok["category"].astype(str)):
            picked.add(names[j])
    idx = sorted(names.index(n) for n in picked)
    last = len(names) - 1

    def word(j: int) -> str:
        return "younger" if j == 0 else "older" if j == last else "middle aged"

    phrase = " & ".join(dict.fromkeys(word(j) for j in idx))
    text = ("More " + phrase) if phrase.startswith("middle") else phrase[:1].upper() + phrase[1:]
    chosen = ok[ok["category"].astype(str).isin(picked)]
    numbers = {
        "share": float(chosen["estimate"].sum()),
        "in the sample": float(chosen["sample"].sum()),
        "p (Holm)": f"{chosen['p_adjusted'].max():.2g}",
    }
    cats = tuple(names[j] for j in idx)
    return Bullet(
        "demographics", text, (it.column,), "more", numbers, says=((it.column, cats, "more"),)
    )


def _category_bullet(it: Item, cells: pd.DataFrame, skip: tuple[str, ...] = ()) -> Bullet | None:
    """The most over-represented clear and material category of a variable ("More women",
    "Mostly private sector employees"); when it is no majority but it and the next
    over-represented category together are, both ("Mostly readers of internet news sites and
    social media news users")."""
    ok = _material_clear(cells)
    ok = ok[~ok["category"].astype(str).isin(skip)]
    if ok.empty:
        return None
    top = ok.loc[(ok["estimate"] / ok["sample"]).idxmax()]
    share, sample = float(top["estimate"]), float(top["sample"])
    chosen = [top]
    over = cells[
        (cells["estimate"] > cells["sample"])
        & (cells["category"] != top["category"])
        & ~cells["category"].astype(str).isin(skip)
    ].sort_values("estimate", ascending=False, kind="stable")
    if share < 0.5 and len(over) and share + float(over["estimate"].iloc[0]) >= 0.5:
        chosen = [top, over.iloc[0]]  # with the next over-represented one, a majority
    levels = [_level_of_category(it, str(c["category"])) for c in chosen]
    total = float(sum(c["estimate"] for c in chosen))
    word = "Mostly" if total >= 0.5 else "More"
    if all(lv is not None and lv.short for lv in levels):
        text = f"{word} " + " and ".join(str(lv.short) for lv in levels if lv is not None)
    else:
        top_level = _level_of_category(it, str(top["category"]))
        label = top_level.label() if top_level is not None else str(top["category"])
        if re.fullmatch(r"-?\d+(\.\d+)?", label.strip()):
            label = f"code {label.strip()}"  # an unlabelled code: say so, never a bare number
        text = f"{_label(it)}: {share:.0%} {label}, {sample:.0%} overall"
        chosen, total, word = [top], share, "Mostly" if share >= 0.5 else "More"
    numbers = {
        "share": total,
        "in the sample": float(sum(c["sample"] for c in chosen)),
        "index": round(100 * share / sample),
        "p (Holm)": f"{max(c['p_adjusted'] for c in chosen):.2g}",
    }
    cats = tuple(str(c["category"]) for c in chosen)
    return Bullet(
        "demographics",
        text,
        (it.column,),
        word.lower(),
        numbers,
        says=((it.column, cats, word.lower()),),
    )


def _composition_bullet(it: Item, cells: pd.DataFrame) -> Bullet | None:
    """The majority group of a ``composition: true`` variable, said whether or not it differs
    from the sample ("Mostly Kazakhs", "Vast majority Kazakhs"): the largest category when it
    is a clear majority (its one-sided 95% lower bound above one half), else the two largest
    when together they are (at least ``COMPOSITION_PAIR``)."""
    ranked = cells.sort_values("estimate", ascending=False, kind="stable")
    if ranked.empty:
        return None
    first = ranked.iloc[0]
    if float(first["estimate"]) - ONE_SIDED_Z * float(first["se"]) > 0.5:
        chosen = [first]
    elif len(ranked) >= 2 and float(ranked["estimate"].iloc[:2].sum()) >= COMPOSITION_PAIR:
        chosen = [first, ranked.iloc[1]]
    else:
        return None
    levels = [_level_of_category(it, str(c["category"])) for c in chosen]
    names = [
        (lv.short or lv.label()) if lv is not None else str(c["category"])
        for lv, c in zip(levels, chosen, strict=True)
    ]
    total = float(sum(c["estimate"] for c in chosen))
    word = "Vast majority" if total >= VAST_MAJORITY else "Mostly"
    cats = tuple(str(c["category"]) for c in chosen)
    return Bullet(
        "demographics",
        f"{word} {' or '.join(names)}",
        (it.column,),
        "mostly",
        {"share": total, "in the sample": float(sum(c["sample"] for c in chosen))},
        says=((it.column, cats, "mostly"),),
    )


def _average_words(it: Item) -> str | None:
    if it.say.get("average"):
        return it.say["average"]
    words = NUMERIC_AVERAGE_WORDS if it.type == "numeric" else AVERAGE_WORDS
    return words.get(measure_of(it) or "")


def _average_bullet(it: Item, rows: pd.DataFrame, by_mean: bool) -> Bullet | None:
    """ "All ages", "Average education", "News equally from TV and internet": said only when
    the data show the segment is like the sample, an equivalence test (Schuirmann 1987): the
    90% interval of every difference lies within the materiality margin (``MIN_EFFECT``
    sample SDs for a mean, ``MIN_POINTS`` for every category of an unordered variable)."""
    words = _average_words(it)
    if words is None:
        return None
    if by_mean:
        mean = rows[rows["kind"] == "mean"]
        if mean.empty:
            return None
        r = mean.iloc[0]
        margin = MIN_EFFECT * float(r["sample_sd"])
        bound = abs(float(r["difference"])) + ONE_SIDED_Z * float(r["se"])
    else:
        cells = rows[rows["kind"] == "category"]
        if cells.empty:
            return None
        margin = MIN_POINTS
        bound = float(
            (cells["difference"].abs() + ONE_SIDED_Z * cells["se"]).to_numpy(dtype=float).max()
        )
    if not (bound <= margin):
        return None
    return Bullet(
        "demographics",
        words,
        (it.column,),
        "average",
        {"largest difference (90% bound)": f"{bound:.3g} (margin {margin:.3g})"},
        says=((it.column, (), "average"),),
    )


def demographic_bullets(
    segment: int, profiles: SegmentProfiles, codebook: Codebook
) -> list[Bullet]:
    """The demographic bullets of one segment (rules in the module docstring).

    Ordered variables with words for what they measure (education, income, settlement size)
    and numbers are described by their mean, age bands in the study's words, other variables
    by their most over-represented category; a ``composition: true`` variable by its majority
    group as well. With no clear and material difference, age, education, income and any
    variable with a ``say: average:`` phrase are said to be "average" when an equivalence test
    shows it. Education and income share one bullet ("Less educated and lower than average
    income", "More educated, but average incomes"), as do consecutive composition variables
    ("Mostly Kazakhs and Kazakh speakers"); two variables measuring the same thing in the same
    direction (years of education and highest degree) give one bullet, the first in codebook
    order.
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
        found: list[Bullet] = []
        skip: tuple[str, ...] = ()
        if it.composition and not cells.empty:
            comp = _composition_bullet(it, cells)
            if comp is not None:
                found.append(comp)
                skip = comp.says[0][1]
        bullet = None
        if it.bands and not cells.empty:
            bullet = _band_bullet(it, cells)
        if bullet is None and by_mean and not mean.empty:
            bullet = _mean_bullet(it, mean.iloc[0], cells)
        elif bullet is None and not by_mean and not cells.empty:
            bullet = _category_bullet(it, cells, skip)
        if bullet is None and not found:
            bullet = _average_bullet(it, rows, by_mean and not mean.empty)
        if bullet is not None:
            found.append(bullet)
        for b in found:
            if not _said(b, out, codebook):
                out.append(b)
    return _merge_compositions(_merge_education_income(out, codebook), codebook)


def _said(bullet: Bullet, bullets: list[Bullet], codebook: Codebook) -> bool:
    """Whether a bullet on a variable measuring the same thing (years of education and highest
    degree) already says the same direction: the card says it once."""
    measure = measure_of(codebook[bullet.items[0]])
    return measure is not None and any(
        measure_of(codebook[b.items[0]]) == measure
        and b.level == bullet.level
        and b.items[0] != bullet.items[0]
        for b in bullets
    )


def _joined(first: Bullet, second: Bullet, text: str) -> Bullet:
    return Bullet(
        "demographics",
        text,
        first.items + second.items,
        first.level,
        {**first.numbers, **{f"{second.items[0]} {k}": v for k, v in second.numbers.items()}},
        says=first.says + second.says,
    )


def _merge_education_income(bullets: list[Bullet], codebook: Codebook) -> list[Bullet]:
    """ "Less educated and lower than average income", "More educated, but average incomes"."""

    def find(measures):
        for b in bullets:
            it = codebook[b.items[0]]
            if it.measures in measures and it.type == "ordinal" and len(b.items) == 1:
                return b
        return None

    edu, inc = find({"education"}), find({"material situation", "income"})
    if edu is None or inc is None:
        return bullets
    link = " and " if (edu.level == "average") == (inc.level == "average") else ", but "
    second = inc.text if inc.text[:2].isupper() else inc.text[0].lower() + inc.text[1:]
    merged = _joined(edu, inc, f"{edu.text}{link}{second}")
    return [merged if b is edu else b for b in bullets if b is not inc]


def _merge_compositions(bullets: list[Bullet], codebook: Codebook) -> list[Bullet]:
    """Consecutive composition statements in one bullet: "Mostly Kazakhs and Kazakh speakers"."""
    out: list[Bullet] = []
    for b in bullets:
        prev = out[-1] if out else None
        if (
            prev is not None
            and b.level == "mostly"
            and prev.level == "mostly"
            and codebook[b.items[0]].composition
            and codebook[prev.items[-1]].composition
            and len(b.says) == 1
        ):
            word = "Vast majority" if prev.text.startswith("Vast majority") else "Mostly"
            rest = re.sub(r"^(Vast majority|Mostly) ", "", b.text)
            if b.text.startswith(("Vast majority", "Mostly")) and prev.text.startswith(word):
                out[-1] = _joined(
                    prev,
                    b,
                    f"{prev.text}; mostly {rest}"
                    if " or " in prev.text + b.text
                    else f"{prev.text} and {rest}",
                )
                continue
        out.append(b)
    return out
