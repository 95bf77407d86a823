"""Scoring respondents with a fitted segmentation: segment, probabilities, confidence.

A :class:`SegmentModel` is what a model file holds: the fitted latent class model, the codebook
of the survey it was fitted on, its items, and the segments' names. Scoring a respondent uses
whatever items they answered (a missing answer drops out of the likelihood, so partial answers
are scored from what was answered and the number of items used is reported). A row with an
answer outside the codebook is refused, with the reason, while the other rows are still scored.
An answer the codebook allows but the model never saw at fit (e.g. nobody said "don't know") is
treated as missing for that item.

A respondent who answered none of the model's items gets no segment (their posterior would be
the prior, which would put everyone not asked the battery in the largest segment): the scores
say why in ``no_segment`` (:data:`NO_SEGMENT_REASONS`).

The low-confidence flag marks respondents whose most likely segment has a posterior probability
below ``min_probability`` (default 0.5): like Pew's typology, they "fit no group well".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segment._util import plain_number
from segment.survey.cells import item_codes
from segment.survey.check import describe_codes
from segment.survey.codebook import Codebook

if TYPE_CHECKING:
    from segment.models import LatentClassModel

__all__ = ["DEFAULT_MIN_PROBABILITY", "NO_SEGMENT_REASONS", "SegmentModel"]

DEFAULT_MIN_PROBABILITY = 0.5

#: Values of the ``no_segment`` score column and what they mean (empty: the row has a segment).
NO_SEGMENT_REASONS = {
    "no_answers": "no answer to any segmentation item",
    "refused": "an answer outside the codebook (the refused column says which)",
}


@dataclass
class SegmentModel:
    """A fitted segmentation ready to score new respondents.

    Attributes
    ----------
    estimator : LatentClassModel
    codebook : Codebook
    items : list of str
        The segmentation items, in the estimator's order.
    segments : list of dict
        Per segment: ``index, name, named, reference, score, share``.
    typology : str or None
        Name of the typology the segments were named against.
    fit : dict
        Fit statistics (log-likelihood, BIC, entropy, ...).
    training : dict or None
        Rows and SHA-256 fingerprint of the training answers.
    """

    estimator: LatentClassModel
    codebook: Codebook
    items: list[str]
    segments: list[dict[str, Any]]
    typology: str | None = None
    fit: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] | None = None

    @property
    def names(self) -> list[str]:
        return [s["name"] for s in self.segments]

    @property
    def n_not_asked(self) -> int:
        """Respondents of the training survey who answered none of the items and were left out
        of the fit (0 for model files written before this was recorded)."""
        return int((self.training or {}).get("n_not_asked", 0))

    # ------------------------------------------------------------------ answers
    def answers(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model codes of ``frame``'s answers, each row's refusal reason and items used.

        Returns
        -------
        codes : (n, items) float array, NaN where missing (or refused rows)
        reasons : (n,) object array, None for rows that can be scored
        items_used : (n,) int array
        """
        n = len(frame)
        codes = np.full((n, len(self.items)), np.nan)
        reasons = np.full(n, None, dtype=object)
        cb = self.codebook
        frame = cb.blank_missing_text(frame)
        for j, col in enumerate(self.items):
            it = cb[col]
            if col not in frame.columns:
                continue  # an item nobody was asked is missing for everyone
            values, bad = item_codes(frame[col], it)
            invalid = bad | (~np.isnan(values) & ~np.isin(values, it.valid_codes))
            expected = describe_codes(it) if it.is_categorical else "a number"
            for r in np.flatnonzero(invalid & (reasons == None)):  # noqa: E711 - elementwise
                raw = frame[col].iloc[r]
                shown = plain_number(values[r]) if not bad[r] else str(raw)
                reasons[r] = (
                    f"{col}={shown}: not an answer code of the codebook; expected {expected}"
                )
            drop = list(it.missing)
            if cb.dont_know_policy == "missing":
                drop += list(it.dont_know_codes)
            if cb.refused_policy == "missing":
                drop += list(it.refused_codes)
            values = np.where(np.isin(values, drop) | invalid, np.nan, values)
            seen = self.estimator.categories_[j]
            values = np.where(np.isin(values, seen), values, np.nan)
            codes[:, j] = values
        codes[reasons != None] = np.nan  # noqa: E711
        items_used = (~np.isnan(codes)).sum(axis=1)
        return codes, reasons, items_used

    # ------------------------------------------------------------------ scoring
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Posterior segment probabilities; NaN rows for refused rows.

        A row with no usable answer gets the prior shares (:meth:`predict` and
        :meth:`score_frame` give it no segment).
        """
        codes, reasons, _ = self.answers(frame)
        proba = self.proba_of_codes(codes)
        proba[reasons != None] = np.nan  # noqa: E711
        return proba

    def proba_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """Posterior segment probabilities of answer codes as :meth:`answers` returns them."""
        est = self.estimator
        return est.predict_proba_codes(est.encode(codes))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Most likely segment name of each row (None for refused rows and rows with no usable
        answer)."""
        codes, reasons, items_used = self.answers(frame)
        proba = self.proba_of_codes(codes)
        names = np.array(self.names, dtype=object)
        out = np.full(len(proba), None, dtype=object)
        ok = (reasons == None) & (items_used > 0)  # noqa: E711 - elementwise
        out[ok] = names[np.argmax(proba[ok], axis=1)]
        return out

    def score_frame(
        self,
        frame: pd.DataFrame,
        *,
        min_probability: float = DEFAULT_MIN_PROBABILITY,
        keep_id: bool = True,
    ) -> pd.DataFrame:
        """One row per respondent: segment, probabilities, confidence, items used, refusal.

        Columns: the codebook's id columns (when present and ``keep_id``), ``segment`` (name),
        ``segment_index``, ``p_<segment name>`` for every segment, ``max_probability``,
        ``low_confidence``, ``items_used``, ``no_segment`` (empty, or why the row has no
        segment: a key of :data:`NO_SEGMENT_REASONS`), ``refused`` (reason or empty). A row
        without a segment has missing probabilities and confidence.
        :func:`segment.segments.scoring.scored_table` gives the columns of a scored file.
        """
        codes, reasons, items_used = self.answers(frame)
        proba = self.proba_of_codes(codes)
        refused = reasons != None  # noqa: E711
        no_answers = ~refused & (items_used == 0)
        unscored = refused | no_answers
        proba[unscored] = np.nan
        out: dict[str, Any] = {}
        cb = self.codebook
        for col in cb.id_columns if keep_id else ():
            if col in frame.columns:
                out[col] = frame[col].to_numpy()
        best = np.where(unscored, -1, np.argmax(np.nan_to_num(proba, nan=-1.0), axis=1))
        names = np.array(self.names, dtype=object)
        out["segment"] = pd.array(
            np.where(unscored, np.array(None, dtype=object), names[np.maximum(best, 0)]),
            dtype="string",
        )
        out["segment_index"] = pd.array(np.where(unscored, pd.NA, best), dtype="Int64")
        for k, name in enumerate(self.names):
            out[f"p_{name}"] = proba[:, k]
        max_p = np.max(np.nan_to_num(proba, nan=0.0), axis=1)
        out["max_probability"] = np.where(unscored, np.nan, max_p)
        out["low_confidence"] = pd.array(
            np.where(unscored, pd.NA, max_p < min_probability), dtype="boolean"
        )
        out["items_used"] = items_used
        out["no_segment"] = pd.array(
            np.where(refused, "refused", np.where(no_answers, "no_answers", "")), dtype="string"
        )
        out["refused"] = pd.array(np.where(refused, reasons, ""), dtype="string")
        return pd.DataFrame(out, index=frame.index)
