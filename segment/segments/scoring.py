"""Scoring a respondent file with a saved model, chunk by chunk, to CSV or JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segment._files import atomic_path
from segment.survey.chunks import iter_chunks

from .model import DEFAULT_MIN_PROBABILITY, SegmentModel

__all__ = ["SCORE_FORMATS", "ScoredFile", "json_value", "score_file"]

#: Formats of a scored file: one CSV row or one JSON object per respondent.
SCORE_FORMATS = ("csv", "json")


@dataclass(frozen=True)
class ScoredFile:
    """What :func:`score_file` wrote: respondents scored, refused and low-confidence."""

    rows: int
    refused: int
    low_confidence: int


def json_value(v: Any) -> Any:
    """A cell of a scored frame as JSON has it (missing values as null, numpy as Python)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def score_file(
    model: SegmentModel,
    data: Path,
    output: Path,
    *,
    fmt: str = "csv",
    chunk_size: int = 100_000,
    encoding: str = "utf-8",
    min_probability: float = DEFAULT_MIN_PROBABILITY,
    progress: Callable[[int], None] | None = None,
) -> ScoredFile:
    """Score every respondent of ``data`` and write the scores to ``output``.

    CSV and Parquet files are read in chunks of ``chunk_size`` rows (:func:`iter_chunks`), so
    files larger than memory are scored; the columns are those of
    :meth:`SegmentModel.score_frame`. ``output`` is written beside its destination and moved
    into place when complete: a failure leaves no partial file.

    Parameters
    ----------
    fmt : {"csv", "json"}
        CSV, or JSON Lines (one object per respondent).
    progress : callable(rows), optional
        Called after each chunk with the number of rows scored so far.
    """
    if fmt not in SCORE_FORMATS:
        raise ValueError(f"fmt must be one of {list(SCORE_FORMATS)}, got {fmt!r}")
    n_rows = n_refused = n_low = 0
    with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        for i, chunk in enumerate(
            iter_chunks(data, chunk_size, encoding=encoding, items=model.items)
        ):
            scored = model.score_frame(chunk, min_probability=min_probability)
            if fmt == "csv":
                scored.to_csv(fh, index=False, header=(i == 0), lineterminator="\n")
            else:
                for rec in scored.to_dict(orient="records"):
                    fh.write(
                        json.dumps({k: json_value(v) for k, v in rec.items()}, ensure_ascii=False)
                        + "\n"
                    )
            n_rows += len(scored)
            n_refused += int((scored["refused"] != "").sum())
            n_low += int(scored["low_confidence"].fillna(False).sum())
            if progress:
                progress(n_rows)
    return ScoredFile(rows=n_rows, refused=n_refused, low_confidence=n_low)
