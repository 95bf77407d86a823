"""Read respondent files: CSV, Parquet, SPSS ``.sav`` and Stata ``.dta``.

:func:`read_survey` returns the data and its codebook. SPSS and Stata value labels, variable
labels and SPSS user-missing codes are read with pyreadstat (``user_missing=True``) so that a
drafted codebook keeps them.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .codebook import Codebook
from .exceptions import DataError, Problem

__all__ = ["FileMeta", "read_survey", "read_table"]

SUPPORTED = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".sav", ".zsav", ".dta")


@dataclass
class FileMeta:
    """Labels read from a statistical file (empty for CSV and Parquet)."""

    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    user_missing: dict[str, list[float]] = field(default_factory=dict)
    file_format: str = "csv"


def _sniff_delimiter(head: str) -> str:
    first = head.splitlines()[0] if head else ""
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    name = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        hint = ""
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = " The file looks like UTF-16: pass encoding='utf-16' (--encoding utf-16)."
        else:
            hint = (
                " If it was saved in a Windows Cyrillic encoding, pass encoding='cp1251'"
                " (--encoding cp1251) or save it as UTF-8."
            )
        raise DataError(
            f"data file {name}",
            [Problem(name, f"byte {exc.start}", f"cannot be decoded as {encoding}.{hint}")],
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataError(
            f"data file {name}",
            [Problem(name, "", "file is empty; expected a header row and data rows")],
        )
    sep = _sniff_delimiter(text[:65536])
    header = next(csv.reader(io.StringIO(text.splitlines()[0]), delimiter=sep))
    if any(not c.strip() for c in header):
        raise DataError(
            f"data file {name}", [Problem(name, "header", "a column has an empty name")]
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            index_col=False,  # a trailing delimiter must not shift every column into the index
        )
    except pd.errors.ParserError as exc:
        raise DataError(
            f"data file {name}", [Problem(name, "", f"cannot be parsed as delimited text: {exc}")]
        ) from None
    # pandas renames repeated header names ("q1.1"); keep the names as written so that the
    # codebook check reports the repetition together with every other problem.
    frame.columns = header
    if frame.empty:
        raise DataError(
            f"data file {name}", [Problem(name, "", "file has a header but no data rows")]
        )
    return frame


def read_table(
    path: str | os.PathLike, *, encoding: str = "utf-8"
) -> tuple[pd.DataFrame, FileMeta]:
    """Read a respondent file as it is, with whatever labels the format carries.

    CSV cells are returned as strings (blank cells as missing) so that a validator can report
    non-numeric values exactly as written; other formats keep their column types.

    Raises
    ------
    DataError
        If the file is missing, empty, not decodable or of an unsupported type.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError(f"data file {name}", [Problem(name, "", "file not found")])
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DataError(
            f"data file {name}",
            [
                Problem(
                    name,
                    "",
                    f"unsupported file type {suffix!r}; expected one of {', '.join(SUPPORTED)}",
                )
            ],
        )
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_csv(path, encoding), FileMeta(file_format="csv")
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(
                f"data file {name}", [Problem(name, "", f"cannot be read as Parquet: {exc}")]
            ) from None
        return frame, FileMeta(file_format="parquet")
    import pyreadstat

    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    try:
        frame, meta = reader(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and others
        raise DataError(
            f"data file {name}", [Problem(name, "", f"cannot be read as {suffix}: {exc}")]
        ) from None
    user_missing: dict[str, list[float]] = {}
    for col, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        codes = []
        for rng in ranges:
            lo, hi = rng.get("lo"), rng.get("hi")
            if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float))):
                continue
            if lo == hi:
                codes.append(float(lo))
            elif float(lo).is_integer() and float(hi).is_integer() and 0 < hi - lo <= 1000:
                # a declared range such as "97 THRU 99": every integer code in it is missing
                codes.extend(float(c) for c in range(int(lo), int(hi) + 1))
        if codes:
            user_missing[col] = codes
    value_labels = {
        col: {float(k): str(v) for k, v in labels.items() if isinstance(k, (int, float))}
        for col, labels in (meta.variable_value_labels or {}).items()
    }
    var_labels = {c: lab for c, lab in (meta.column_names_to_labels or {}).items() if lab}
    return frame, FileMeta(var_labels, value_labels, user_missing, suffix.lstrip("."))


def read_survey(
    path: str | os.PathLike,
    codebook: Codebook | str | os.PathLike | None = None,
    *,
    encoding: str = "utf-8",
) -> tuple[pd.DataFrame, Codebook]:
    """Read a respondent file and its codebook.

    Parameters
    ----------
    path : path-like
        CSV (comma, semicolon or tab separated), Parquet, SPSS ``.sav`` or Stata ``.dta``.
    codebook : Codebook or path-like, optional
        The file's codebook. When given, the data are validated against it. When omitted, a
        draft codebook is inferred from the file (value labels and user-missing codes of SPSS
        and Stata files are used); review it before relying on it.
    encoding : str
        Text encoding of CSV files.

    Returns
    -------
    frame : DataFrame
        The data, with item and weight columns as float codes (blank = NaN).
    codebook : Codebook

    Raises
    ------
    DataError
        Listing every violation of the codebook (file, column, row, value, expected).
    """
    frame, meta = read_table(path, encoding=encoding)
    if codebook is None:
        from .infer import infer_codebook

        codebook = infer_codebook(frame, meta, title=Path(path).name)
    elif not isinstance(codebook, Codebook):
        codebook = Codebook.load(codebook)
    return codebook.validate(frame, file=str(path)), codebook
