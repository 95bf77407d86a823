"""Fitting a segmentation end to end: answers -> latent class model -> named segments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segment._util import normalised_weights, plain_number
from segment.cards.naming import name_segments
from segment.cards.profile_stats import SegmentProfiles, profile_segments
from segment.cards.typology import Typology
from segment.cards.wording import tagline, unique_labels
from segment.disclosure import MIN_CELL_SIZE, protect_cells
from segment.exceptions import DataError, Problem
from segment.models import LatentClassModel, OrdinalLatentClassModel
from segment.survey.codebook import Codebook

from .model import SegmentModel
from .model_file import data_fingerprint

__all__ = [
    "MIN_ITEMS",
    "ModelInputs",
    "NamedSegments",
    "fit_estimator",
    "fit_segments",
    "measurement_estimator",
    "name_and_profile",
    "printed_shares",
    "segment_model",
    "segmentation_inputs",
    "segmentation_items",
    "segmenting_on",
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
        Weighted profile statistics (:func:`segment.cards.profile_stats.profile_segments`)
        under the threshold rule: what segments are named and described by.
    names : DataFrame
        One row per segment: ``segment, name, named, reference_name`` and, with a typology,
        the match columns of :func:`segment.cards.naming.name_segments`.
    segments : list of dict
        Per segment: ``index, name, named, reference, score, share`` (as a model file keeps).
    """

    profiles: SegmentProfiles
    names: pd.DataFrame
    segments: list[dict[str, Any]]
    published: SegmentProfiles | None = None
    """The same statistics as they may be printed (``protect=True``: complementary suppression,
    :mod:`segment.cards.publish`); every number of an output comes from these."""


#: Fewest segmentation items a model is fitted on.
MIN_ITEMS = 3


@dataclass(frozen=True)
class ModelInputs:
    """What a segmentation model is fitted on (:func:`segmentation_inputs`).

    Attributes
    ----------
    items : list of str
        The segmentation items.
    X : DataFrame
        Answer codes (NaN = missing) of the respondents who answered at least one item, with
        the survey frame's index.
    weights : (len(X),) array or None
        The codebook's weight column over those respondents, rescaled to mean 1 (None without
        one), so that BIC's n is the number of respondents in the model.
    asked : (n,) bool array
        Which rows of the survey frame are in ``X``.
    """

    items: list[str]
    X: pd.DataFrame
    weights: np.ndarray | None
    asked: np.ndarray

    @property
    def n_not_asked(self) -> int:
        """Respondents who answered none of the items (not asked the battery, e.g. a split
        ballot, or every answer missing): left out of the model and of every segment."""
        return int((~self.asked).sum())

    def describe(self) -> str:
        """The line every command that fits prints: ``Segmenting on 12 items: a, b, ...``."""
        return segmenting_on(self.items, self.n_not_asked)


def segmenting_on(items: list[str], n_not_asked: int = 0) -> str:
    """``Segmenting on 12 items: a, b, c, ...``, and how many respondents answered none."""
    line = f"Segmenting on {len(items)} item{'s' if len(items) != 1 else ''}: {', '.join(items)}"
    if n_not_asked:
        one = n_not_asked == 1
        line += (
            f" ({n_not_asked:,} respondent{'' if one else 's'} answered none of them and "
            f"{'is' if one else 'are'} in no segment)"
        )
    return line


def segmentation_inputs(
    frame: pd.DataFrame,
    codebook: Codebook,
    items: list[str] | None = None,
    *,
    file: str = "data",
) -> ModelInputs:
    """The segmentation items, the answer codes of the respondents asked them and their weights.

    Respondents who answered none of the items (a battery asked of part of the sample, or
    every answer missing) are left out: they carry no information about segments, and keeping
    them would put them in the largest segment (their posterior is the prior) and count them in
    the n of BIC and of the segment-size intervals. :attr:`ModelInputs.n_not_asked` counts them.

    Raises
    ------
    ValueError
        If ``items`` names columns the codebook does not have.
    DataError
        If an item has fewer than two different answers among the respondents (it cannot
        separate segments), or fewer than :data:`MIN_ITEMS` items are usable; every such item
        is named.
    """
    names = segmentation_items(codebook, items)
    codes = codebook.model_codes(frame, names)
    asked = codes.notna().any(axis=1).to_numpy()
    X = codes[asked]
    _check_items(X, names, file)
    w = None
    if codebook.weight is not None:
        w = normalised_weights(frame[codebook.weight].to_numpy(dtype=float)[asked])
    return ModelInputs(items=names, X=X, weights=w, asked=asked)


def _check_items(X: pd.DataFrame, names: list[str], file: str) -> None:
    """Refuse items that cannot separate segments (fewer than two answers) and too few items."""
    problems = []
    usable = []
    for col in names:
        values = X[col].dropna()
        observed = np.unique(values.to_numpy(dtype=float))
        if observed.size == 0:
            problems.append(
                Problem(file, col, "no respondent answered this item; leave it out of the model")
            )
        elif observed.size == 1:
            problems.append(
                Problem(
                    file,
                    col,
                    f"every one of the {len(values):,} respondents who answered gave the same "
                    f"answer (code {plain_number(observed[0])}), so it cannot separate segments; "
                    "leave it out of the model",
                )
            )
        else:
            usable.append(col)
    if len(usable) < MIN_ITEMS:
        shown = ", ".join(usable) if usable else "none"
        problems.append(
            Problem(
                file,
                "segmentation items",
                f"{len(usable)} usable segmentation item{'s' if len(usable) != 1 else ''} "
                f"({shown}) of {len(names)}; a latent class model needs at least {MIN_ITEMS} "
                "items with two or more different answers (name them with --items, or give "
                "more items role: segmentation in the codebook)",
            )
        )
    if problems:
        raise DataError(f"segmentation items of {file}", problems)


def measurement_estimator(
    codebook: Codebook, items: list[str], measurement: str, n_components: int = 2, **params
) -> LatentClassModel:
    """The unfitted latent class model of ``measurement`` (see :func:`fit_segments`): also the
    template :func:`segment.models.selection.select_n_components` clones for every k."""
    if measurement == "nominal":
        return LatentClassModel(n_components, **params)
    if measurement in ("ordinal", "cumulative"):
        return OrdinalLatentClassModel.from_codebook(
            codebook, n_components, items=items, ordinal_type=measurement, **params
        )
    raise ValueError(
        f"measurement must be 'nominal', 'ordinal' or 'cumulative', got {measurement!r}"
    )


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
    est = measurement_estimator(
        codebook,
        list(X.columns),
        measurement,
        n_segments,
        n_init=n_init,
        random_state=random_state,
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
    resp = estimator.predict_proba(X)
    profiles, published = (
        profile_segments(
            resp,
            frame,
            codebook,
            items=items,
            sample_weight=sample_weight,
            min_cell=min_cell,
            protect=protect,
        )
        for protect in (False, True)
    )
    labels = [tagline(s, profiles, codebook, n_traits=2) for s in range(n_segments)]
    labels = [label if label else f"Segment {s + 1}" for s, label in enumerate(labels)]
    labels = unique_labels(labels)
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
    return NamedSegments(profiles=profiles, names=names, segments=segments, published=published)


def segment_model(
    estimator: LatentClassModel,
    named: NamedSegments,
    X: pd.DataFrame,
    codebook: Codebook,
    *,
    sample_weight: np.ndarray | None = None,
    typology: Typology | None = None,
    measurement: str = "nominal",
    n_not_asked: int = 0,
) -> SegmentModel:
    """The :class:`SegmentModel` of a fitted estimator and its named segments.

    ``n_not_asked`` is the number of respondents left out because they answered none of the
    items (:attr:`ModelInputs.n_not_asked`); the model file keeps it in ``training_data``.
    """
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
        training={
            "rows": len(X),
            "n_not_asked": int(n_not_asked),
            "sha256": data_fingerprint(X, sample_weight),
        },
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
    inputs: ModelInputs | None = None,
) -> SegmentModel:
    """Fit a latent class model on a validated survey and name its segments.

    The steps, each a function of its own: :func:`segmentation_inputs` (the respondents who
    answered at least one item, survey weights from the codebook's weight column rescaled to
    mean 1; an item with fewer than two different answers, or fewer than three usable items,
    is refused), :func:`fit_estimator`,
    :func:`name_and_profile` (segments are named after ``typology`` when they match it,
    :func:`segment.cards.naming.name_segments`; otherwise labelled with their tagline) and
    :func:`segment_model`.

    ``measurement`` is the item model: ``"nominal"`` (:class:`LatentClassModel`, free answer
    probabilities per segment) or ``"ordinal"`` / ``"cumulative"``
    (:class:`~segment.models.OrdinalLatentClassModel` on the codebook's ordinal items, with
    adjacent-category or cumulative logits; don't-know stays a category of its own). The saved
    model keeps the fitted answer probabilities, so it scores the same way either way.

    ``inputs``, when the caller already has them (:func:`segmentation_inputs` of ``frame``),
    replaces the first step (and ``items``).
    """
    if inputs is None:
        inputs = segmentation_inputs(frame, codebook, items)
    X, w = inputs.X, inputs.weights
    frame = frame[inputs.asked]
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
        est,
        named,
        X,
        codebook,
        sample_weight=w,
        typology=typology,
        measurement=measurement,
        n_not_asked=inputs.n_not_asked,
    )


def printed_shares(model: SegmentModel, X: pd.DataFrame, min_cell: int = MIN_CELL_SIZE) -> list:
    """Each segment's share as a message may print it: None for a segment of fewer than
    ``min_cell`` posterior respondents in ``X`` (the answers it was fitted on), and for the
    complement that keeps it from being 100% minus the others
    (:func:`segment.disclosure.protect_cells`)."""
    counts = model.estimator.predict_proba(X).sum(axis=0)
    hidden = protect_cells(counts, [np.arange(counts.size)], min_cell=min_cell)
    return [None if h else float(s["share"]) for s, h in zip(model.segments, hidden, strict=True)]
