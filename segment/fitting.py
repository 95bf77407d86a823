"""Fitting a segmentation end to end: answers -> latent class model -> named segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .codebook import Codebook
from .modelfile import data_fingerprint
from .models import LatentClassModel, OrdinalLatentClassModel
from .naming import name_segments
from .profile_stats import profile_segments
from .profile_text import tagline
from .scoring import SegmentModel
from .typology import Typology

__all__ = ["fit_segments", "segmentation_items"]


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

    Survey weights (the codebook's weight column) are rescaled to mean 1. Segments are named
    after ``typology`` when they match it (:func:`segment.naming.name_segments`); otherwise
    they are labelled with their tagline.

    ``measurement`` is the item model: ``"nominal"`` (:class:`LatentClassModel`, free answer
    probabilities per segment) or ``"ordinal"`` / ``"cumulative"``
    (:class:`~segment.models.OrdinalLatentClassModel` on the codebook's ordinal items, with
    adjacent-category or cumulative logits; don't-know stays a category of its own). The saved
    model keeps the fitted answer probabilities, so it scores the same way either way.
    """
    names = segmentation_items(codebook, items)
    X = codebook.model_codes(frame, names)
    w = None
    if codebook.weight is not None:
        w = frame[codebook.weight].to_numpy(dtype=float)
        w = w / w.mean()
    if measurement == "nominal":
        est = LatentClassModel(n_segments, n_init=n_init, random_state=random_state)
    elif measurement in ("ordinal", "cumulative"):
        est = OrdinalLatentClassModel.from_codebook(
            codebook,
            n_segments,
            items=names,
            ordinal_type=measurement,
            n_init=n_init,
            random_state=random_state,
        )
    else:
        raise ValueError(
            f"measurement must be 'nominal', 'ordinal' or 'cumulative', got {measurement!r}"
        )
    est.fit(X, sample_weight=w)
    profiles = profile_segments(
        est.predict_proba(X), frame, codebook, items=names, sample_weight=w, min_cell=min_cell
    )
    labels = [tagline(s, profiles, codebook, n_traits=2) for s in range(n_segments)]
    labels = [label if label else f"Segment {s + 1}" for s, label in enumerate(labels)]
    labels = _unique(labels)
    segments = []
    if typology is not None:
        table = name_segments(profiles, typology, fallback=labels).set_index("segment")
    for s in range(n_segments):
        entry = {
            "index": s,
            "name": labels[s],
            "named": False,
            "reference": None,
            "score": None,
            "share": float(est.weights_[s]),
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
    fit = {
        "measurement": measurement,
        "bic": est.bic(X, sample_weight=w),
        "aic": est.aic(X, sample_weight=w),
        "sabic": est.sabic(X, sample_weight=w),
    }
    return SegmentModel(
        estimator=est,
        codebook=codebook,
        items=names,
        segments=segments,
        typology=None if typology is None else typology.name,
        fit=fit,
        training={"rows": int(len(X)), "sha256": data_fingerprint(X, w)},
    )


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
