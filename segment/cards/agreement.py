"""Do the printed cards say what the reference study says? A bullet-by-bullet judge.

:func:`card_agreement` reads the cards a user sees (:class:`~segment.cards.card.ProfileCard`,
after curation and wording) and compares every bullet of each matched reference segment with
them, claim by claim, by *direction and intensity*:

Attitude claims (one per item, after the typology's precedence rules: an item is judged under
the bullet whose claim wins it, a summary bullet "Overall, views civic rights as ..." against
the card's own "Overall" bullet of that domain):

- **same**: the card prints the item at the expected level word (``very_high`` for "Strongly
  trust Russia"), with "(but many unsure)" exactly when the reference says so; "Unsure about"
  for an unsure level, "Divided on" for divided, "Unsure and divided on" for both;
- **contradicted**: the card prints the opposite direction (a positive level where a negative
  one is expected, or the reverse);
- **changed**: any other printed level (another intensity in the same direction, a lean where
  "balanced" is expected, a position where "unsure" is expected, a missing "many unsure");
- **not said**: the card does not print the item.

Demographic claims (``variable``, ``categories``, ``strength``) against the card's demographic
statements (:attr:`Bullet.says`: the variable, the categories a statement names and its
strength: ``more`` for a comparative "More women", ``mostly`` for a majority "Mostly rural",
``average`` for "All ages"):

- a *strong* claim ("Mostly", "Majority", "Vast majority", "Live mostly in") is the same when
  the card says ``mostly`` of categories within the claimed ones; ``more`` of them is changed;
- a *moderate* or *slight* claim ("More", "Somewhat", "slightly more") is the same when the card
  says ``more`` or ``mostly`` of categories within the claimed ones (the cards have one
  comparative intensity; a majority implies over-representation for a claim on a minority);
- an *average* claim without categories ("All ages", "Average incomes") is the same when the
  card says ``average`` of the variable, changed when it describes a tilt; an *average* claim
  with categories ("some Russian") is the same unless the card describes those categories as
  over- or under-represented (it claims no tilt);
- **contradicted**: the card says ``more``/``mostly`` of categories disjoint from the claimed
  ones of an ordered comparison's opposite end, or of a nominal variable (e.g. "Mostly Russian
  speakers" against "Kazakh speakers").

A reference bullet is *contradicted* when any of its claims is, *same* when all are, *not said*
when none is printed, else *changed*. Printed statements that no claim of the reference card
covers are **invented** (counted per item or demographic variable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segment.survey.codebook import Codebook

from .card import ProfileCard
from .typology import Claim, ExpectedLevel, Typology

__all__ = ["VERDICTS", "CardAgreement", "card_agreement"]

POSITIVE = frozenset({"lean_high", "high", "very_high", "extremely_high"})
NEGATIVE = frozenset({"lean_low", "low", "very_low"})
#: Verdicts of a reference bullet, best first.
VERDICTS = ("same", "changed", "not said", "contradicted")


@dataclass(frozen=True)
class CardAgreement:
    """Bullet-by-bullet agreement of printed cards with a reference typology.

    ``bullets``: one row per reference bullet of every matched segment (``segment, name,
    reference, domain, bullet, verdict, detail``); ``invented``: one row per printed statement
    the reference card does not make (``segment, name, domain, text, about``).
    """

    bullets: pd.DataFrame
    invented: pd.DataFrame

    def tally(self) -> dict[str, int]:
        """Counts of each verdict, and of invented statements."""
        counts = self.bullets["verdict"].value_counts()
        out = {v: int(counts.get(v, 0)) for v in VERDICTS}
        out["invented"] = len(self.invented)
        return out

    def summary(self) -> str:
        t = self.tally()
        n = len(self.bullets)
        lines = [
            f"Agreement with the reference cards: {t['same']} of {n} bullets the same, "
            f"{t['changed']} changed, {t['not said']} not said, {t['contradicted']} "
            f"contradicted; {t['invented']} printed statements the reference does not make."
        ]
        for row in self.bullets[self.bullets["verdict"] != "same"].itertuples():
            lines.append(f"  {row.verdict:<12} {row.name}: {row.bullet} ({row.detail})")
        for row in self.invented.itertuples():
            lines.append(f"  {'invented':<12} {row.name}: {row.text}")
        return "\n".join(lines)


def _printed_levels(card: ProfileCard) -> tuple[dict[str, tuple[str, bool]], dict[str, str]]:
    """``item -> (level, many unsure)`` of the card's attitude bullets, and ``domain -> level``
    of its "Overall" bullets."""
    items: dict[str, tuple[str, bool]] = {}
    overall: dict[str, str] = {}
    for b in card.bullets:
        if b.says:
            continue
        if b.summary:
            overall[b.domain] = b.level
            continue
        for item in b.items:
            items[item] = (b.level, b.unsure)
    return items, overall


def _direction(level: str) -> str:
    return "positive" if level in POSITIVE else "negative" if level in NEGATIVE else level


def _judge_level(want: str, want_unsure: bool, got: str, got_unsure: bool) -> str:
    if got == want and got_unsure == want_unsure:
        return "same"
    wd, gd = _direction(want), _direction(got)
    if {wd, gd} == {"positive", "negative"}:
        return "contradicted"
    return "changed"


def _judge_item(exp: ExpectedLevel, printed: dict[str, tuple[str, bool]], item: str):
    if item not in printed:
        return "not said", f"{item}: not printed, expected {exp.level.name}"
    got, got_unsure = printed[item]
    verdict = _judge_level(exp.level.name, exp.also_unsure, got, got_unsure)
    want = exp.level.name + (" (many unsure)" if exp.also_unsure else "")
    shown = got + (" (many unsure)" if got_unsure else "")
    return verdict, f"{item}: printed {shown}, expected {want}"


def _statements(card: ProfileCard) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """``variable -> [(categories, strength), ...]`` of the card's demographic statements."""
    out: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for b in card.bullets:
        for variable, categories, strength in b.says:
            out.setdefault(variable, []).append((tuple(categories), strength))
    return out


def _claim_direction(claim: Claim, instrument: Codebook) -> str | None:
    """ "higher" or "lower" when a claim names one end of an ordered variable (the mean of its
    categories' 0..1 positions at least 0.1 from the middle), else None."""
    variable = claim.variable or ""
    if variable not in instrument or not claim.categories:
        return None
    it = instrument[variable]
    if it.bands:
        names = [b[2] for b in it.bands]
        last = max(len(names) - 1, 1)
        pos = [names.index(c) / last for c in claim.categories if c in names]
    elif it.type == "ordinal":
        codes = [lv.code for lv in it.levels if (lv.name or lv.label()) in claim.categories]
        pos = list(it.position(np.array(codes, dtype=float))) if codes else []
    else:
        return None
    if not pos:
        return None
    mean = float(np.mean(pos))
    return "higher" if mean >= 0.6 else "lower" if mean <= 0.4 else None


def _judge_demographic(
    claim: Claim, said: dict[str, list[tuple[tuple[str, ...], str]]], instrument: Codebook
):
    variable = claim.variable or ""
    statements = said.get(variable, [])
    claimed = set(claim.categories)
    detail = f"{variable} {','.join(claim.categories) or '-'} ({claim.strength})"
    shown = ", ".join(f"{s} {'/'.join(c)}".strip() for c, s in statements) or "nothing"
    if claim.strength == "average":
        tilts = [(c, s) for c, s in statements if s in ("more", "mostly", "higher", "lower")]
        if claimed:
            over = [(c, s) for c, s in statements if s == "more" and set(c) <= claimed]
            return ("changed" if over else "same"), f"{detail}: printed {shown}"
        if any(s == "average" for _, s in statements):
            return "same", f"{detail}: printed {shown}"
        if tilts:
            return "changed", f"{detail}: printed {shown}"
        return "not said", f"{detail}: not printed"
    if not statements:
        return "not said", f"{detail}: not printed"
    direction = _claim_direction(claim, instrument)
    inside = [s for c, s in statements if c and set(c) <= claimed]
    along = [s for c, s in statements if not c and s == direction]
    against = [
        s
        for c, s in statements
        if not c and direction and s in ("higher", "lower") and s != direction
    ]
    if claim.strength == "strong":
        if "mostly" in inside:
            return "same", f"{detail}: printed {shown}"
    elif inside or along:
        return "same", f"{detail}: printed {shown}"
    if against:
        return "contradicted", f"{detail}: printed {shown}"
    disjoint = [s for c, s in statements if c and not set(c) & claimed and s in ("more", "mostly")]
    ordered = direction is not None or (variable in instrument and bool(instrument[variable].bands))
    if disjoint and ("mostly" in disjoint or ordered) and not inside and not along:
        return "contradicted", f"{detail}: printed {shown}"
    return "changed", f"{detail}: printed {shown}"


def _worst(verdicts: list[str]) -> str:
    if "contradicted" in verdicts:
        return "contradicted"
    if all(v == "same" for v in verdicts):
        return "same"
    if all(v == "not said" for v in verdicts):
        return "not said"
    return "changed"


def _reference_bullet_rows(card: ProfileCard, typology: Typology, ref_id: str) -> list[dict]:
    ref = typology[ref_id]
    expected = typology.expected_levels(ref_id)
    printed, overall = _printed_levels(card)
    said = _statements(card)
    rows = []
    for bullet in ref.bullets:
        verdicts, details = [], []
        judged: set[str] = set()
        for claim in bullet.claims:
            if claim.is_demographic:
                v, d = _judge_demographic(claim, said, typology.instrument)
                verdicts.append(v)
                details.append(d)
            elif bullet.summary:
                want = claim.level or ""
                if bullet.domain not in overall:
                    verdicts.append("not said")
                    details.append(f"overall {bullet.domain}: not printed, expected {want}")
                else:
                    got = overall[bullet.domain]
                    verdicts.append(_judge_level(want, claim.also_unsure, got, False))
                    details.append(f"overall {bullet.domain}: printed {got}, expected {want}")
            else:
                for item in claim.items:
                    exp = expected.get(item)
                    if exp is None or exp.bullet != bullet.text or item in judged:
                        continue  # judged under the bullet whose claim wins the item
                    judged.add(item)
                    v, d = _judge_item(exp, printed, item)
                    verdicts.append(v)
                    details.append(d)
        if not verdicts:
            continue
        rows.append(
            {
                "segment": card.segment,
                "name": card.name,
                "reference": ref_id,
                "domain": bullet.domain,
                "bullet": bullet.text,
                "verdict": _worst(verdicts),
                "detail": "; ".join(
                    d for v, d in zip(verdicts, details, strict=True) if v != "same"
                ),
            }
        )
    return rows


def _invented_rows(card: ProfileCard, typology: Typology, ref_id: str) -> list[dict]:
    ref = typology[ref_id]
    claimed_items = {i for b in ref.bullets for c in b.claims for i in c.items}
    summary_domains = {b.domain for b in ref.bullets if b.summary}
    claimed_vars = {c.variable for c in ref.demographic_claims}
    rows = []
    for b in card.bullets:
        about: list[str] = []
        if b.says:
            about = [v for v, _, _ in b.says if v not in claimed_vars]
        elif b.summary:
            about = [] if b.domain in summary_domains else [f"overall {b.domain}"]
        else:
            about = [i for i in b.items if i not in claimed_items]
        for a in about:
            rows.append(
                {"segment": card.segment, "name": card.name, "domain": b.domain, "text": b.text}
                | {"about": a}
            )
    return rows


def card_agreement(cards: list[ProfileCard], typology: Typology) -> CardAgreement:
    """Judge every card matched to a reference segment (``card.match``: ``named`` and
    ``reference``) against that segment's bullets (module docstring).

    Returns
    -------
    CardAgreement
    """
    rows: list[dict] = []
    invented: list[dict] = []
    for card in cards:
        ref_id = card.match.get("reference") if card.match else None
        if card.suppressed or not card.match.get("named") or ref_id is None:
            continue
        rows += _reference_bullet_rows(card, typology, str(ref_id))
        invented += _invented_rows(card, typology, str(ref_id))
    return CardAgreement(
        pd.DataFrame(
            rows, columns=["segment", "name", "reference", "domain", "bullet", "verdict", "detail"]
        ),
        pd.DataFrame(invented, columns=["segment", "name", "domain", "text", "about"]),
    )
