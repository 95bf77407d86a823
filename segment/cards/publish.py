"""What of a segmentation's description may be printed: the published profiles and cards.

Segments are named, matched to a typology, confirmed and described in words from their
statistics under the threshold rule alone (:func:`~segment.cards.profile_stats.profile_segments`
with ``protect=False``): a cell under ``min_cell`` respondents is never used. Every *number*
that leaves the package comes instead from the published statistics (``protect=True``), where
complementary suppression (:mod:`segment.disclosure`, rule 2) also hides the cells from which
a small cell would follow by subtraction: a segment's size beside the others, a category beside
its row and the whole sample's row, an answer beside a published mean.

A card keeps its words (a statement such as "More urban" says that a share is above the
sample's, not what it is), but a number behind a bullet, or a bullet that is a number ("62% say
yes to having voted, 41% overall"), is printed only when every cell it reads is published; a
segment withheld as a complement keeps its card without its share and interval.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from .card import ProfileCard
from .profile_stats import SegmentProfiles

__all__ = ["hidden_by_complement", "publish_cards", "withheld_segments"]

#: ``None`` in a key of :func:`hidden_by_complement`: the whole sample's cells of a variable.
WHOLE_SAMPLE = None


def withheld_segments(published: SegmentProfiles) -> list[int]:
    """The segments whose size is not published (under the threshold, or its complement)."""
    shares = published.shares
    return [int(s) for s in shares.loc[shares["suppressed"].astype(bool), "segment"]]


def hidden_by_complement(raw: SegmentProfiles, published: SegmentProfiles) -> set[tuple]:
    """``(segment, variable)`` pairs with a cell that ``raw`` shows and ``published`` hides.

    ``segment`` is :data:`WHOLE_SAMPLE` for the whole sample's cells of the variable (its
    distribution or composition, its mean position)."""
    touched: set[tuple] = set()
    _compare(raw.items, published.items, ["segment", "item"], ["position", "dont_know"], touched)
    _compare(
        raw.items,
        published.items,
        ["segment", "item"],
        ["sample_position", "sample_dont_know"],
        touched,
        whole=True,
    )
    keys = ["segment", "item", "code"]
    _compare(raw.distributions, published.distributions, keys, ["share"], touched)
    _compare(
        raw.distributions, published.distributions, keys, ["sample_share"], touched, whole=True
    )
    keys = ["segment", "variable", "category"]
    _compare(raw.demographics, published.demographics, keys, ["share"], touched)
    _compare(raw.demographics, published.demographics, keys, ["sample_share"], touched, whole=True)
    keys = ["segment", "variable"]
    _compare(raw.ordered, published.ordered, keys, ["position"], touched)
    _compare(raw.ordered, published.ordered, keys, ["sample_position"], touched, whole=True)
    return touched


def _compare(
    raw: pd.DataFrame,
    published: pd.DataFrame,
    keys: list[str],
    columns: list[str],
    touched: set[tuple],
    *,
    whole: bool = False,
) -> None:
    """Add to ``touched`` the ``(segment, variable)`` of every row whose ``columns`` are finite
    in ``raw`` but NaN, or the row absent, in ``published`` (``whole``: the whole-sample
    columns, keyed by :data:`WHOLE_SAMPLE`)."""
    if raw.empty or not set(keys + columns) <= set(raw.columns):
        return
    if whole:  # one whole-sample value per variable (and code or category), on every row
        keys = keys[1:]
        raw = raw.groupby(keys, sort=False)[columns].first().reset_index()
        if len(published) and set(keys + columns) <= set(published.columns):
            published = published.groupby(keys, sort=False)[columns].first().reset_index()
    present = [c for c in columns if c in published.columns]
    right = published[keys + present] if len(published) else pd.DataFrame(columns=keys + present)
    merged = raw[keys + columns].merge(right, on=keys, how="left", suffixes=("", "_pub"))
    for c in columns:
        pub = merged[f"{c}_pub"] if c in present else pd.Series(float("nan"), index=merged.index)
        shown = pd.to_numeric(merged[c], errors="coerce").notna()
        hidden = shown & pd.to_numeric(pub, errors="coerce").isna()
        variable = "variable" if "variable" in keys else "item"
        for row in merged.loc[hidden].itertuples(index=False):
            row = row._asdict()
            touched.add((WHOLE_SAMPLE if whole else int(row["segment"]), str(row[variable])))


def publish_cards(
    cards: list[ProfileCard], raw: SegmentProfiles, published: SegmentProfiles
) -> list[ProfileCard]:
    """``cards`` (built from ``raw``) as they may be printed beside ``published``.

    A bullet reading a cell that the published statistics hide loses its numbers; a bullet whose
    text is a number ("Race: 38% Black, 14% overall") is dropped. A segment withheld as a
    complement keeps its name and words but not its share or interval (NaN)."""
    touched = hidden_by_complement(raw, published)
    withheld = set(withheld_segments(published))
    out = []
    for card in cards:
        bullets = []
        for bullet in card.bullets:
            reads: set[tuple] = {(who, v) for v in bullet.items for who in (card.segment, None)}
            if card.segment in withheld or reads & touched:
                if "%" in bullet.text:
                    continue
                bullet = dataclasses.replace(bullet, numbers={})
            bullets.append(bullet)
        changes: dict = {"bullets": tuple(bullets)}
        if card.segment in withheld and not card.suppressed:
            changes.update(share=math.nan, ci_low=math.nan, ci_high=math.nan)
        out.append(dataclasses.replace(card, **changes))
    return out
