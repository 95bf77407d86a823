"""A first look at a survey: size, weights, answer quality by domain, composition.

Library functions return data; :mod:`segment.cli` prints them. Cells describing fewer than
``min_cell`` respondents (unweighted) are suppressed, never shown, and so is one more category
when a suppressed one would follow from the number of respondents minus the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segment._util import normalised_weights
from segment.disclosure import MIN_CELL_SIZE, protect_cells

from .codebook import Codebook

__all__ = ["MIN_CELL_SIZE", "SurveySummary", "kish_design_effect", "summarise_survey"]


def kish_design_effect(weights: np.ndarray) -> float:
    """Kish's design effect due to unequal weighting, ``n * sum(w^2) / sum(w)^2``.

    Kish, L. (1965). *Survey Sampling*. Wiley, section 11.7.
    """
    w = np.asarray(weights, dtype=float)
    if w.size and not 1e-150 < w.max() < 1e150:  # scale-free; keeps w**2 finite and non-zero
        w = w / w.max()
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


@dataclass(frozen=True)
class SurveySummary:
    """What :func:`summarise_survey` found.

    Attributes
    ----------
    n : int
        Respondents.
    design_effect : float
        Kish design effect of the weights (1.0 without weights).
    effective_n : float
        ``n / design_effect``.
    domains : DataFrame
        One row per domain: items, mean don't-know share, mean missing share (weighted).
    composition : DataFrame
        Weighted share of each demographic category, with the unweighted count; shares of
        cells under ``min_cell`` respondents, and of their complements, are NaN and
        ``suppressed`` is True; ``withheld`` is True for a complement (``min_cell`` or more).
    """

    title: str
    synthetic: bool
    n: int
    weighted: bool
    design_effect: float
    effective_n: float
    domains: pd.DataFrame
    composition: pd.DataFrame
    min_cell: int


def summarise_survey(
    frame: pd.DataFrame, codebook: Codebook, min_cell: int = MIN_CELL_SIZE
) -> SurveySummary:
    """Summarise a validated survey (``frame`` as returned by :func:`segment.read_survey`)."""
    n = len(frame)
    w = frame[codebook.weight].to_numpy(dtype=float) if codebook.weight else np.ones(n)
    w = normalised_weights(w) if w.size and w.max() > 1e150 else w
    wsum = w.sum()
    rows = []
    for domain, items in codebook.by_domain().items():
        cats = [it for it in items if it.is_categorical]
        if domain == "demographics" or not cats:
            continue
        dk, miss = [], []
        for it in cats:
            v = frame[it.column].to_numpy(dtype=float)
            is_dk = np.isin(v, it.dont_know_codes)
            is_miss = np.isnan(v) | np.isin(v, it.refused_codes) | np.isin(v, it.missing)
            dk.append((w * is_dk).sum() / wsum)
            miss.append((w * is_miss).sum() / wsum)
        rows.append(
            {
                "domain": domain,
                "items": len(cats),
                "dont_know": float(np.mean(dk)),
                "missing": float(np.mean(miss)),
            }
        )
    domains = pd.DataFrame(rows, columns=["domain", "items", "dont_know", "missing"])
    comp = []
    for it in codebook.demographic_items:
        v = frame[it.column].to_numpy(dtype=float)
        if it.bands:
            labels = it.band_labels(v)
            categories = [(b[2], labels == b[2]) for b in it.bands]
        elif it.is_categorical:
            categories = [(lv.label(), v == lv.code) for lv in it.levels]
        else:
            continue
        counts = np.array([int(mask.sum()) for _, mask in categories] + [0])
        counts[-1] = n - counts[:-1].sum()  # no answer or a code without a level: never shown
        # the categories and the rest add up to the n printed: a lone hidden category would be
        # n minus the others, so complements are hidden with it (segment.disclosure, rule 2)
        unshown = np.zeros(counts.size, dtype=bool)
        unshown[-1] = True
        hidden = protect_cells(counts, [np.arange(counts.size)], min_cell=min_cell, hidden=unshown)
        for (label, mask), count, suppressed in zip(
            categories, counts[:-1].tolist(), hidden[:-1].tolist(), strict=True
        ):
            comp.append(
                {
                    "variable": it.column,
                    "category": label,
                    "n": None if suppressed else count,
                    "share": np.nan if suppressed else float((w * mask).sum() / wsum),
                    "suppressed": suppressed,
                    "withheld": suppressed and count >= min_cell,
                }
            )
    columns = ["variable", "category", "n", "share", "suppressed", "withheld"]
    composition = pd.DataFrame(comp, columns=columns)
    deff = kish_design_effect(w)
    return SurveySummary(
        title=codebook.title or "survey",
        synthetic=codebook.synthetic,
        n=n,
        weighted=codebook.weight is not None,
        design_effect=deff,
        effective_n=n / deff,
        domains=domains,
        composition=composition,
        min_cell=min_cell,
    )
