"""Naming fitted segments after a reference typology.

Each fitted segment is compared with each reference segment on the items the reference segment's
bullets describe: the distance is the root mean square, over those items, of the differences
between the fitted segment's mean position (0..1 "more" scale) and the level's expected position,
and between its don't-know share and the expected don't-know share (positions are skipped for
"unsure" levels, which fix only the don't-know share). Segments and reference segments are then
matched one-to-one by the Hungarian algorithm (:mod:`segment.models.align`) on these distances,
which works whether the model has fewer, as many or more segments than the typology. A fitted
segment takes the reference name only when its matched distance is at most ``max_distance`` and at
most ``max_ratio`` times its distance to the next-nearest reference segment (it must be clearly
that segment, not a merger of two similar ones); otherwise it keeps an honest label of its own.

The match score reported is ``1 - distance / 0.5`` (clipped to 0..1): 1 is a perfect match, and
0.5 apart on every item (e.g. "extremely important" against "not important") scores 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segment.models.align import match_classes

from .profile_stats import SegmentProfiles
from .typology import Typology

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "DEFAULT_MAX_RATIO",
    "name_segments",
    "typology_distances",
]

#: Largest matched distance at which a fitted segment takes the reference segment's name.
DEFAULT_MAX_DISTANCE = 0.06
#: ... and at most this fraction of its distance to the next-nearest reference segment.
DEFAULT_MAX_RATIO = 0.5


def typology_distances(profiles: SegmentProfiles, typology: Typology) -> pd.DataFrame:
    """(fitted segments x reference segments) distance matrix (see the module docstring)."""
    items = profiles.items.set_index(["segment", "item"])
    k = profiles.n_segments
    out = np.full((k, len(typology.segments)), np.nan)
    for r, ref in enumerate(typology.segments):
        expected = typology.expected_levels(ref.id)
        for s in range(k):
            terms = []
            for item, exp in expected.items():
                if (s, item) not in items.index:
                    continue
                row = items.loc[(s, item)]
                if row["suppressed"]:
                    continue
                if exp.level.position is not None and not np.isnan(row["position"]):
                    terms.append((row["position"] - exp.level.position) ** 2)
                want_dk = exp.dont_know(typology.base_dont_know, typology.unsure_dont_know)
                if not np.isnan(row["dont_know"]):
                    terms.append((row["dont_know"] - want_dk) ** 2)
            out[s, r] = np.sqrt(np.mean(terms)) if terms else np.nan
    return pd.DataFrame(
        out, index=pd.RangeIndex(k, name="segment"), columns=[s.id for s in typology.segments]
    )


def name_segments(
    profiles: SegmentProfiles,
    typology: Typology,
    *,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    max_ratio: float = DEFAULT_MAX_RATIO,
    fallback: list[str] | None = None,
) -> pd.DataFrame:
    """Match fitted segments to a reference typology.

    Parameters
    ----------
    profiles : SegmentProfiles
    typology : Typology
    max_distance : float
        A matched segment farther than this from its reference keeps its own label.
    max_ratio : float
        ... as does one whose distance is above this fraction of its distance to the
        next-nearest reference segment.
    fallback : list of str, optional
        Labels for unmatched segments (e.g. their taglines); default "Segment 1", ...

    Returns
    -------
    DataFrame
        One row per fitted segment: ``segment, name, reference, reference_name, distance,
        score, runner_up_distance, named, merged, references`` (``reference`` is the matched
        reference id even when not ``named``).

    Notes
    -----
    A segment that is not clearly one reference segment but lies close to two of them (both
    of its two nearest reference segments at most ``max_distance`` away, and neither the name
    of another segment) is a merger of the two: it is named after both, nearest first, joined
    by " + " ("Conflicted Optimists + Realists"), with ``merged`` true and ``references`` the
    two reference ids (a tuple; a named segment's is its one reference, others' is empty). Such
    a segment is not ``named``: its card is not compared with either reference card.
    """
    dist = typology_distances(profiles, typology)
    k = profiles.n_segments
    fallback = fallback or [f"Segment {s + 1}" for s in range(k)]
    matrix = dist.to_numpy()
    similarity = -np.where(np.isnan(matrix), 10.0, matrix)
    match = match_classes(similarity)
    rows = []
    for s in range(k):
        r = int(match[s])
        if r >= 0 and np.isnan(matrix[s, r]):
            r = -1  # no item in common with any reference segment: nothing to compare
        d = float(matrix[s, r]) if r >= 0 else np.nan
        ref = typology.segments[r] if r >= 0 else None
        others = np.delete(matrix[s], r) if r >= 0 else matrix[s]
        runner_up = float(np.nanmin(others)) if np.isfinite(others).any() else np.nan
        named = (
            ref is not None
            and d == d
            and d <= max_distance
            and not (runner_up == runner_up and d > max_ratio * runner_up)
        )
        rows.append(
            {
                "segment": s,
                "name": ref.name if named and ref is not None else fallback[s],
                "reference": ref.id if ref is not None else None,
                "reference_name": ref.name if ref is not None else None,
                "distance": d,
                "score": float(np.clip(1 - d / 0.5, 0, 1)) if d == d else np.nan,
                "runner_up_distance": runner_up,
                "named": bool(named),
                "merged": False,
                "references": (ref.id,) if named and ref is not None else (),
            }
        )
    taken = {row["reference"] for row in rows if row["named"]}
    for s, row in enumerate(rows):
        pair = _merged_pair(matrix[s], max_distance) if not row["named"] else None
        if pair is None or {typology.segments[r].id for r in pair} & taken:
            continue
        refs = [typology.segments[r] for r in pair]
        taken |= {ref.id for ref in refs}  # a second segment between the same two keeps its label
        row.update(
            name=" + ".join(ref.name for ref in refs),
            merged=True,
            references=tuple(ref.id for ref in refs),
        )
    return pd.DataFrame(rows)


def _merged_pair(distances: np.ndarray, max_distance: float) -> tuple[int, int] | None:
    """The two nearest reference segments when both are at most ``max_distance`` away."""
    finite = np.flatnonzero(np.isfinite(distances))
    if len(finite) < 2:
        return None
    first, second = finite[np.argsort(distances[finite], kind="stable")[:2]]
    if distances[second] <= max_distance:
        return int(first), int(second)
    return None
