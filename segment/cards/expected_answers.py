"""Expected answer distributions of a reference typology's segments.

A typology states, for each segment, an expected *level* per attitude item ("very important",
"divided", "unsure": :meth:`segment.cards.typology.Typology.expected_levels`). This module turns
a level into a distribution over the item's answer codes, the one the synthetic survey generator
(:mod:`segment.synth.survey`) draws answers from and the one a confirmatory fit
(:mod:`segment.segments.confirm`) starts from and shrinks towards:

- substantive answers come from a normal latent variable ``N(c, spread)`` on the item's 0..1
  "more" scale, cut at the midpoints between answer positions (an ordered-probit threshold
  model), with the centre ``c`` solved so that the mean position equals the level's position;
- a "divided" (polarised) level mixes two latent normals near both ends (:data:`POLAR_CENTRES`);
- an "unsure" level (no position) centres its answerers on the scale's middle
  (:data:`UNSURE_CENTRE`), so the don't-know share carries the claim;
- the don't-know share is the level's (:meth:`ExpectedLevel.dont_know`); an item that a segment's
  bullets do not describe gets the mean of the positions stated for the other segments.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from segment.survey.codebook import Item

from .typology import Typology

__all__ = [
    "DEFAULT_SPREAD",
    "POLAR_CENTRES",
    "UNSURE_CENTRE",
    "item_answer_probs",
    "latent_probs",
    "solve_centre",
    "substantive_distribution",
]

#: Centres of the two latent components of a "divided" answer distribution (0..1 scale).
POLAR_CENTRES = (0.08, 0.92)
#: Standard deviation of the latent answer variable on the 0..1 scale (the generator's default).
DEFAULT_SPREAD = 0.11
#: Mean position of the answerers of an item the segment is "unsure about" (no position of its
#: own): the middle of the scale, so the don't-know share carries the claim, not a lean.
UNSURE_CENTRE = 0.5


def latent_probs(centre: float, positions: np.ndarray, spread: float) -> np.ndarray:
    """P(answer at each position) when a N(centre, spread) latent is cut at the midpoints."""
    cuts = (positions[:-1] + positions[1:]) / 2
    cdf = norm.cdf((cuts - centre) / spread)
    return np.diff(np.concatenate([[0.0], cdf, [1.0]]))


def solve_centre(target: float, positions: np.ndarray, spread: float) -> float:
    """Latent centre whose discretised mean position equals ``target`` (bisection)."""
    lo, hi = -3.0, 4.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if latent_probs(mid, positions, spread) @ positions < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def substantive_distribution(
    position: float, polarised: bool, positions: np.ndarray, spread: float
) -> np.ndarray:
    """Answer distribution over substantive answers sorted by their 0..1 position."""
    if polarised:
        halves = [latent_probs(c, positions, spread * 0.6) for c in POLAR_CENTRES]
        return (halves[0] + halves[1]) / 2
    return latent_probs(solve_centre(position, positions, spread), positions, spread)


def item_answer_probs(
    typology: Typology, item: Item, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and (segments x codes) probabilities of one attitude item's model categories."""
    positions_by_code = item.position(item.substantive_codes)
    order = np.argsort(positions_by_code)
    positions = positions_by_code[order]
    expected = [typology.expected_levels(s.id).get(item.column) for s in typology.segments]
    stated = [e.level.position for e in expected if e is not None and e.level.position is not None]
    default = float(np.mean(stated)) if stated else 0.5
    dk_codes = item.dont_know_codes
    codes = np.concatenate([item.substantive_codes, dk_codes[:1]])
    probs = np.zeros((len(typology.segments), len(codes)))
    for k, exp in enumerate(expected):
        position, polarised, dk = default, False, typology.base_dont_know
        if exp is not None:
            # an unsure level (no position): answerers centred on the scale's middle, no lean
            position = exp.level.position if exp.level.position is not None else UNSURE_CENTRE
            polarised = exp.level.polarised
            dk = exp.dont_know(typology.base_dont_know, typology.unsure_dont_know)
        if not len(dk_codes):
            dk = 0.0
        sub = substantive_distribution(position, polarised, positions, spread)
        row = np.zeros(len(codes))
        row[order] = sub * (1 - dk)
        if len(dk_codes):
            row[-1] = dk
        probs[k] = row
    keep = slice(None) if len(dk_codes) else slice(0, len(item.substantive_codes))
    codes, probs = codes[keep], probs[:, keep]
    sort = np.argsort(codes)
    return codes[sort], probs[:, sort]
