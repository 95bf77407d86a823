"""Scoring a respondent file with a saved model, chunk by chunk, to CSV, JSON Lines, SPSS or Stata.

A scored file's columns have names every statistical package accepts (:func:`scored_table`):
``segment`` is the segment's number (1 to k), ``segment_label`` its name, ``p_seg1`` ...
``p_segk`` the probabilities of each segment, then ``max_probability``, ``low_confidence``,
``items_used``, ``no_segment`` (why a row has no segment, :data:`NO_SEGMENT_REASONS`) and
``refused``. The full names are labels: SPSS (``.sav``) and Stata (``.dta``) files carry them as
variable labels, and ``segment`` has the segment names as value labels; for CSV and JSON Lines
a labels file (:func:`write_labels`) holds the same. Text cells of CSV files that a spreadsheet
would read as a formula (an id or segment name beginning ``=``, ``+``, ``-``, ``@``) start with
``'`` (:func:`segment._escape.csv_cell`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segment._escape import csv_frame
from segment._files import atomic_path
from segment._util import json_ready, safe_variable_names
from segment.survey.chunks import iter_chunks

from .model import DEFAULT_MIN_PROBABILITY, NO_SEGMENT_REASONS, SegmentModel

__all__ = [
    "SCORE_FORMATS",
    "ScoredFile",
    "ScoredTable",
    "format_of",
    "json_value",
    "score_file",
    "scored_table",
    "write_labels",
]

#: Formats of a scored file: CSV, JSON Lines (one object per respondent), SPSS, Stata.
SCORE_FORMATS = ("csv", "json", "sav", "dta")

_SUFFIX_FORMATS = {".sav": "sav", ".zsav": "sav", ".dta": "dta", ".json": "json", ".jsonl": "json"}

#: Stata's limit on the length of a variable label.
_STATA_LABEL_LENGTH = 80


def format_of(path: Path) -> str:
    """The scored-file format a file name asks for: ``.sav`` SPSS, ``.dta`` Stata, ``.json`` /
    ``.jsonl`` JSON Lines, anything else CSV."""
    return _SUFFIX_FORMATS.get(Path(path).suffix.lower(), "csv")


@dataclass(frozen=True)
class ScoredTable:
    """Scores with file-safe column names and their labels.

    Attributes
    ----------
    frame : DataFrame
        The columns of a scored file (see the module docstring).
    labels : dict of str -> str
        Variable label of every column (the full segment names among them).
    value_labels : dict of str -> dict of int -> str
        Value labels of the coded columns (``segment``: number -> segment name).
    """

    frame: pd.DataFrame
    labels: dict[str, str]
    value_labels: dict[str, dict[int, str]]


def scored_table(
    model: SegmentModel,
    scored: pd.DataFrame,
    *,
    min_probability: float = DEFAULT_MIN_PROBABILITY,
) -> ScoredTable:
    """The columns of a scored file from :meth:`SegmentModel.score_frame`'s, with labels.

    Names are ASCII letters, digits and underscores, start with a letter, have at most 32
    characters and are unique (:func:`segment._util.safe_variable_names`; an id column whose
    name does not qualify is renamed, its name kept as its label).
    """
    k = len(model.names)
    fixed = [
        "segment",
        "segment_label",
        *(f"p_seg{s + 1}" for s in range(k)),
        "max_probability",
        "low_confidence",
        "items_used",
        "no_segment",
        "refused",
    ]
    ids = [c for c in model.codebook.id_columns if c in scored.columns]
    safe_ids = safe_variable_names(fixed + ids)[len(fixed) :]
    out: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for col, safe in zip(ids, safe_ids, strict=True):
        out[safe] = scored[col].to_numpy()
        labels[safe] = "Respondent id" + (f" ({col})" if safe != col else "")
    out["segment"] = scored["segment_index"] + 1
    labels["segment"] = "Most likely segment"
    out["segment_label"] = scored["segment"]
    labels["segment_label"] = "Most likely segment (name)"
    for s, name in enumerate(model.names):
        out[f"p_seg{s + 1}"] = scored[f"p_{name}"]
        labels[f"p_seg{s + 1}"] = f"Probability of segment {s + 1}: {name}"
    for col, label in (
        ("max_probability", "Probability of the most likely segment"),
        (
            "low_confidence",
            f"Fits no segment well: top probability below {min_probability:g}",
        ),
        ("items_used", f"Segmentation items answered (of {len(model.items)})"),
        (
            "no_segment",
            "Why no segment: "
            + "; ".join(f"{key} = {text}" for key, text in NO_SEGMENT_REASONS.items()),
        ),
        ("refused", "Why the row was refused (an answer outside the codebook)"),
    ):
        out[col] = _as_0_1(scored[col]) if col == "low_confidence" else scored[col]
        labels[col] = label
    frame = pd.DataFrame(out, index=scored.index)
    value_labels = {
        "segment": {s + 1: name for s, name in enumerate(model.names)},
        "low_confidence": {0: "no", 1: "yes"},
    }
    return ScoredTable(frame=frame, labels=labels, value_labels=value_labels)


@dataclass(frozen=True)
class ScoredFile:
    """What :func:`score_file` wrote: respondents scored, refused, with no answers and
    low-confidence, and the labels of the columns."""

    rows: int
    refused: int
    low_confidence: int
    no_answers: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[int, str]] = field(default_factory=dict)


def json_value(v: Any) -> Any:
    """A cell of a scored frame as JSON has it (missing values as null, numpy as Python)."""
    return json_ready(v)


def score_file(
    model: SegmentModel,
    data: Path,
    output: Path,
    *,
    fmt: str = "csv",
    chunk_size: int = 100_000,
    encoding: str = "utf-8",
    min_probability: float = DEFAULT_MIN_PROBABILITY,
    labels: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScoredFile:
    """Score every respondent of ``data`` and write the scores to ``output``.

    CSV and Parquet files are read in chunks of ``chunk_size`` rows (:func:`iter_chunks`), so
    files larger than memory are scored; the columns are those of :func:`scored_table`.
    ``output`` is written beside its destination and moved into place when complete: a failure
    leaves no partial file.

    Parameters
    ----------
    fmt : {"csv", "json", "sav", "dta"}
        CSV, JSON Lines (one object per respondent), SPSS or Stata. CSV and JSON Lines are
        written chunk by chunk; SPSS and Stata files in one go at the end (the scores, a few
        columns per respondent, are held in memory; the answers are still read in chunks), with
        variable labels and the segment names as value labels of ``segment``.
    labels : path, optional
        Also write the labels of the columns there (:func:`write_labels`).
    progress : callable(rows), optional
        Called after each chunk with the number of rows scored so far.
    """
    if fmt not in SCORE_FORMATS:
        raise ValueError(f"fmt must be one of {list(SCORE_FORMATS)}, got {fmt!r}")
    n_rows = n_refused = n_low = n_empty = 0
    table = None
    held: list[pd.DataFrame] = []
    with atomic_path(output) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            chunks = iter_chunks(data, chunk_size, encoding=encoding, items=model.items)
            for i, chunk in enumerate(chunks):
                scored = model.score_frame(chunk, min_probability=min_probability)
                table = scored_table(model, scored, min_probability=min_probability)
                if fmt == "csv":
                    csv_frame(table.frame).to_csv(
                        fh, index=False, header=(i == 0), lineterminator="\n"
                    )
                elif fmt == "json":
                    for rec in table.frame.to_dict(orient="records"):
                        fh.write(
                            json.dumps(json_ready(rec), ensure_ascii=False, allow_nan=False) + "\n"
                        )
                else:
                    held.append(table.frame)
                n_rows += len(scored)
                n_refused += int((scored["no_segment"] == "refused").sum())
                n_empty += int((scored["no_segment"] == "no_answers").sum())
                n_low += int(scored["low_confidence"].fillna(False).sum())
                if progress:
                    progress(n_rows)
        if table is None:  # no rows at all: the labels of an empty table
            table = scored_table(model, model.score_frame(pd.DataFrame(columns=model.items)))
        if fmt in ("sav", "dta"):
            frame = pd.concat(held) if held else table.frame
            _write_labelled(frame, table, tmp, fmt)
        if labels is not None:
            write_labels(labels, table)
    return ScoredFile(
        rows=n_rows,
        refused=n_refused,
        low_confidence=n_low,
        no_answers=n_empty,
        labels=table.labels,
        value_labels=table.value_labels,
    )


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns SPSS and Stata writers take: floats (NaN = missing) for numbers and flags, plain
    text (missing = empty) for strings."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str).to_numpy(dtype=object)
    return pd.DataFrame(out)


def _write_labelled(frame: pd.DataFrame, table: ScoredTable, path: Path, fmt: str) -> None:
    """Write ``frame`` as SPSS or Stata with the variable and value labels of ``table``."""
    plain = _plain_columns(frame.reset_index(drop=True))
    if fmt == "sav":
        import pyreadstat

        pyreadstat.write_sav(
            plain,
            str(path),
            column_labels=[table.labels[c] for c in plain.columns],
            variable_value_labels={
                col: {float(v): text for v, text in values.items()}
                for col, values in table.value_labels.items()
            },
        )
        return
    strings = [c for c in plain.columns if plain[c].dtype == object]
    long = [c for c in strings if plain[c].str.len().max() > 2045] if len(plain) else []
    plain.to_stata(
        path,
        write_index=False,
        version=118,
        variable_labels={c: _stata_label(table.labels[c]) for c in plain.columns},
        value_labels={
            col: {float(v): _stata_label(text) for v, text in values.items()}
            for col, values in table.value_labels.items()
        },
        convert_strl=long,
    )


def _stata_label(text: str) -> str:
    return text if len(text) <= _STATA_LABEL_LENGTH else text[: _STATA_LABEL_LENGTH - 3] + "..."


def write_labels(path: Path, table: ScoredTable) -> None:
    """Write the labels of a scored file as CSV: ``column, value, label``, one row per column
    (its variable label, ``value`` empty) and one per value label (``segment``'s numbers and
    names)."""
    rows = []
    for col, label in table.labels.items():
        rows.append({"column": col, "value": "", "label": label})
        for value, text in table.value_labels.get(col, {}).items():
            rows.append({"column": col, "value": str(value), "label": text})
    with atomic_path(path) as tmp:
        csv_frame(pd.DataFrame(rows, columns=["column", "value", "label"])).to_csv(
            tmp, index=False, lineterminator="\n", encoding="utf-8"
        )


def _as_0_1(flags: pd.Series) -> pd.Series:
    """A yes/no column as 1/0 (blank where unknown), as its value labels say."""
    return flags.map({True: 1, False: 0}).astype("Int64")
