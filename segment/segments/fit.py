"""Fitting a segmentation end to end: answers -> latent class model -> named segments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segment._util import normalised_weights
from segment.cards.naming import name_segments
from segment.cards.profile_stats import SegmentProfiles, profile_segments
from segment.cards.typology import Typology
from segment.cards.wording import tagline
from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.survey.codebook import Codebook

from .model import SegmentModel
from .model_file import data_fingerprint

__all__ = [
    "NamedSegments",
    "fit_estimator",
    "fit_segments",
    "model_inputs",
    "name_and_profile",
    "segment_model",
    "segmentation_items",
]


def segmentation_items(codebook: Codebook, items: list[str] | None = None) -> list[str]:
    """The items to segment on: ``items``, else the attitude items, else every categorical
    non-demographic item."""
    if items:
        unknown = [c for c in items if c not in codebook]
        if unknown:
            raise ValueError(f"not items of the codebook: {', '.join(unknown)}")
        return list(items)
    names = [it.column for it in codebook.attitude_items]
    return names or [
        it.column for it in codebook if it.is_categorical and it.domain != "demographics"
    ]


@dataclass(frozen=True)
class NamedSegments:
    """The fitted segments described: profile statistics and names.

    Attributes
    ----------
    profiles : SegmentProfiles
        Weighted profile statistics (:func:`segment.cards.profile_stats.profile_segments`).
    names : DataFrame
        One row per segment: ``segment, name, named, reference_name`` and, with a typology,
        the match columns of :func:`segment.cards.naming.name_segments`.
    segments : list of dict
        Per segment: ``index, name, named, reference, score, share`` (as a model file keeps).
    """

    profiles: SegmentProfiles
    names: pd.DataFrame
    segments: list[dict[str, Any]]


def model_inputs(
    frame: pd.DataFrame, codebook: Codebook, items: list[str] | None = None
) -> tuple[list[str], pd.DataFrame, np.ndarray | None]:
    """The segmentation items, their answer codes and the normalised survey weights.

    Weights are the codebook's weight column rescaled to mean 1 (None without one).
    """
    names = segmentation_items(codebook, items)
    X = codebook.model_codes(frame, names)
    w = None
    if codebook.weight is not None:
        w = normalised_weights(frame[codebook.weight].to_numpy(dtype=float))
    return names, X, w


def fit_estimator(
    X: pd.DataFrame,
    codebook: Codebook,
    n_segments: int,
    *,
    sample_weight: np.ndarray | None = None,
    n_init: int = 10,
    random_state: int | None = 1,
    measurement: str = "nominal",
) -> LatentClassModel:
    """Fit the latent class model of ``measurement`` on answer codes ``X`` (see
    :func:`fit_segments`)."""
    if measurement == "nominal":
        est = LatentClassModel(n_segments, n_init=n_init, random_state=random_state)
    elif measurement in ("ordinal", "cumulative"):
        est = OrdinalLatentClassModel.from_codebook(
            codebook,
            n_segments,
            items=list(X.columns),
            ordinal_type=measurement,
            n_init=n_init,
            random_state=random_state,
        )
    else:
        raise ValueError(
            f"measurement must be 'nominal', 'ordinal' or 'cumulative', got {measurement!r}"
        )
    return est.fit(X, sample_weight=sample_weight)


def name_and_profile(
    estimator: LatentClassModel,
    X: pd.DataFrame,
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    sample_weight: np.ndarray | None = None,
    typology: Typology | None = None,
    min_cell: int = 30,
) -> NamedSegments:
    """Profile the fitted segments and name them after ``typology`` where they match it.

    Segments that match no reference segment (or all of them, without a typology) are
    labelled with their two-trait tagline (:func:`segment.cards.wording.tagline`), made
    unique.
    """
    n_segments = estimator.n_components
    items = list(X.columns)
    profiles = profile_segments(
        estimator.predict_proba(X),
        frame,
        codebook,
        items=items,
        sample_weight=sample_weight,
        min_cell=min_cell,
    )
    labels = [tagline(s, profiles, codebook, n_traits=2) for s in range(n_segments)]
    labels = [label if label else f"Segment {s + 1}" for s, label in enumerate(labels)]
    labels = _unique(labels)
    if typology is not None:
        names = name_segments(profiles, typology, fallback=labels)
    else:
        names = pd.DataFrame(
            {"segment": range(n_segments), "name": labels, "named": False, "reference_name": None}
        )
    table = names.set_index("segment")
    segments = []
    for s in range(n_segments):
        entry = {
            "index": s,
            "name": labels[s],
            "named": False,
            "reference": None,
            "score": None,
            "share": float(estimator.weights_[s]),
        }
        if typology is not None:
            row = table.loc[s]
            entry.update(
                name=row["name"],
                named=bool(row["named"]),
                reference=row["reference"] if row["named"] else None,
                score=None if not np.isfinite(row["score"]) else float(row["score"]),
            )
        segments.append(entry)
    return NamedSegments(profiles=profiles, names=names, segments=segments)


def segment_model(
    estimator: LatentClassModel,
    named: NamedSegments,
    X: pd.DataFrame,
    codebook: Codebook,
    *,
    sample_weight: np.ndarray | None = None,
    typology: Typology | None = None,
    measurement: str = "nominal",
) -> SegmentModel:
    """The :class:`SegmentModel` of a fitted estimator and its named segments."""
    fit = {
        "measurement": measurement,
        "bic": estimator.bic(X, sample_weight=sample_weight),
        "aic": estimator.aic(X, sample_weight=sample_weight),
        "sabic": estimator.sabic(X, sample_weight=sample_weight),
    }
    return SegmentModel(
        estimator=estimator,
        codebook=codebook,
        items=list(X.columns),
        segments=named.segments,
        typology=None if typology is None else typology.name,
        fit=fit,
        training={"rows": len(X), "sha256": data_fingerprint(X, sample_weight)},
    )


def fit_segments(
    frame: pd.DataFrame,
    codebook: Codebook,
    n_segments: int,
    *,
    items: list[str] | None = None,
    typology: Typology | None = None,
    n_init: int = 10,
    random_state: int | None = 1,
    min_cell: int = 30,
    measurement: str = "nominal",
) -> SegmentModel:
    """Fit a latent class model on a validated survey and name its segments.

    The steps, each a function of its own: :func:`model_inputs` (survey weights, the
    codebook's weight column, rescaled to mean 1), :func:`fit_estimator`,
    :func:`name_and_profile` (segments are named after ``typology`` when they match it,
    :func:`segment.cards.naming.name_segments`; otherwise labelled with their tagline) and
    :func:`segment_model`.

    ``measurement`` is the item model: ``"nominal"`` (:class:`LatentClassModel`, free answer
    probabilities per segment) or ``"ordinal"`` / ``"cumulative"``
    (:class:`~segment.models.OrdinalLatentClassModel` on the codebook's ordinal items, with
    adjacent-category or cumulative logits; don't-know stays a category of its own). The saved
    model keeps the fitted answer probabilities, so it scores the same way either way.
    """
    _, X, w = model_inputs(frame, codebook, items)
    est = fit_estimator(
        X,
        codebook,
        n_segments,
        sample_weight=w,
        n_init=n_init,
        random_state=random_state,
        measurement=measurement,
    )
    named = name_and_profile(
        est, X, frame, codebook, sample_weight=w, typology=typology, min_cell=min_cell
    )
    return segment_model(
        est, named, X, codebook, sample_weight=w, typology=typology, measurement=measurement
    )


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
