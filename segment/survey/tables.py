"""Read respondent files as tables: CSV, Parquet, SPSS ``.sav`` and Stata ``.dta``.

:func:`read_table` returns the cells as read and the file's labels. SPSS and Stata value labels,
variable labels and SPSS user-missing codes are read with pyreadstat (``user_missing=True``) so
that a drafted codebook keeps them. :func:`segment.survey.read.read_survey` adds the codebook.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segment._escape import csv_frame
from segment._files import atomic_write
from segment.exceptions import DataError, Problem

__all__ = [
    "MAX_COLUMNS",
    "MAX_MEMORY",
    "MAX_ROWS",
    "SUPPORTED",
    "WRITABLE",
    "FileMeta",
    "check_encoding",
    "read_table",
    "write_table",
]

SUPPORTED = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".sav", ".zsav", ".dta")
#: Formats :func:`write_table` writes, by suffix: the delimiter of a text file, or Parquet.
_CSV_SEP = {".csv": ",", ".txt": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")
WRITABLE = (*_CSV_SEP, *_PARQUET)

# Limits on a data file (README and docs/formats.md, "Limits: data files"). They are checked
# from the header, the line count or the Parquet / SPSS / Stata metadata, before the cells are
# decoded, so that a small file cannot ask for gigabytes (a 1 MB Parquet file of repeated
# values can declare 35 million rows).
#: Columns of a data file (header fields), also for files streamed by ``segment score``.
MAX_COLUMNS = 10_000
#: Data rows of a file read whole (``segment score`` streams a longer file in chunks).
MAX_ROWS = 10_000_000
#: Estimated memory of the cells of a file read whole, in bytes (4 GiB); the estimate must also
#: fit in the memory available when the file is read (Linux's ``MemAvailable``).
MAX_MEMORY = 4 * 2**30
#: Bytes per cell in the estimate: a number or code (float64), and a text cell (an object
#: pointer and a short Python ``str``: 8 + 50 bytes, plus its length); CSV cells are read as text.
NUMBER_CELL_BYTES = 8
TEXT_CELL_BYTES = 58


@dataclass
class FileMeta:
    """Labels read from a statistical file (empty for CSV and Parquet)."""

    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    user_missing: dict[str, list[float]] = field(default_factory=dict)
    file_format: str = "csv"


def check_encoding(encoding: str, file: str = "") -> str:
    """``encoding`` if Python can decode text with it, else :class:`DataError`.

    A codec name such as ``utf-8``, ``cp1251`` or ``utf-16`` (any of Python's standard text
    encodings); byte-to-byte codecs (``hex``, ``zlib``) are refused too.
    """
    try:
        codecs.lookup(encoding)
        "a".encode(encoding)  # LookupError for a byte-to-byte codec ("hex", "zlib")
    except (LookupError, ValueError, TypeError):
        shown = repr(encoding) if len(str(encoding)) <= 40 else repr(str(encoding)[:40]) + "..."
        raise DataError(
            f"data file {file}" if file else "encoding",
            [
                Problem(
                    file or "--encoding",
                    "encoding",
                    f"unknown text encoding {shown}; expected a codec name such as utf-8, "
                    "cp1251, utf-16 or latin-1 (Python's standard encodings)",
                )
            ],
        ) from None
    return encoding


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def size_problems(
    name: str, n_rows: int | None, n_columns: int, memory: float | None, *, whole: bool = True
) -> list[Problem]:
    """The limits of a data file (:data:`MAX_COLUMNS`, :data:`MAX_ROWS`, :data:`MAX_MEMORY` and
    the memory available) that ``n_rows`` x ``n_columns`` cells of an estimated ``memory``
    bytes break; only the column limit when the file is streamed (``whole=False``)."""
    limits = 'README, "Limits: data files"'
    problems = []
    if n_columns > MAX_COLUMNS:
        problems.append(
            Problem(
                name,
                "header",
                f"{n_columns:,} columns; expected at most {MAX_COLUMNS:,} columns in a data "
                f"file ({limits})",
            )
        )
    if not whole:
        return problems
    if n_rows is not None and n_rows > MAX_ROWS:
        problems.append(
            Problem(
                name,
                "",
                f"{n_rows:,} data rows; expected at most {MAX_ROWS:,} rows in a file read whole "
                f"(segment score streams longer files; {limits})",
            )
        )
    if memory is not None and not problems:
        shape = (
            f" ({n_rows:,} rows x {n_columns:,} columns)" if n_rows is not None else " (file size)"
        )
        available = available_memory()
        if memory > MAX_MEMORY:
            problems.append(
                Problem(
                    name,
                    "",
                    f"needs about {_gib(memory)} of memory to read{shape}; expected at most "
                    f"{_gib(MAX_MEMORY)} for a file read whole ({limits})",
                )
            )
        elif available is not None and memory > available:
            problems.append(
                Problem(
                    name,
                    "",
                    f"needs about {_gib(memory)} of memory to read{shape}, and "
                    f"{_gib(available)} is available; expected a file that fits in memory",
                )
            )
    return problems


def refuse_size(name: str, *args, **kwargs) -> None:
    problems = size_problems(name, *args, **kwargs)
    if problems:
        raise DataError(f"data file {name}", problems)


def parquet_size(path: Path) -> tuple[int, int, float]:
    """Rows, columns and estimated memory of a Parquet file, from its metadata alone.

    Fixed-width values take their width (at least :data:`NUMBER_CELL_BYTES`: pandas widens small
    integers); text and binary values :data:`TEXT_CELL_BYTES` each plus their uncompressed
    bytes. Leaf values are counted, so list columns count every element.
    """
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    memory = 0.0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for j in range(group.num_columns):
            chunk = group.column(j)
            values = max(int(chunk.num_values), int(group.num_rows))
            kind = chunk.physical_type
            if kind in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
                memory += values * TEXT_CELL_BYTES + int(chunk.total_uncompressed_size)
            else:
                width = 12 if kind == "INT96" else NUMBER_CELL_BYTES
                memory += values * width
    return int(meta.num_rows), int(meta.num_columns), memory


def header_fields(first_line: str, sep: str) -> int:
    """Number of fields of a header line (quoted delimiters counted as the CSV reader does)."""
    try:
        return len(next(csv.reader([first_line], delimiter=sep), []))
    except csv.Error:
        return first_line.count(sep) + 1


def sniff_delimiter(head: str) -> str:
    first = head.splitlines()[0] if head else ""
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_problem(name: str, raw: bytes, encoding: str, exc: UnicodeDecodeError) -> Problem:
    """The cell of ``raw`` that cannot be decoded: its column, 1-based data row and bytes."""
    if raw[:2] in _UTF16_BOMS:
        return Problem(
            name,
            "header",
            f"cannot be decoded as {encoding}. The file looks like UTF-16: pass "
            "encoding='utf-16' (--encoding utf-16).",
        )
    start = exc.start
    line = raw.count(b"\n", 0, start)  # 0: the header line
    line_start = raw.rfind(b"\n", 0, start) + 1
    line_end = raw.find(b"\n", start)
    line_end = len(raw) if line_end < 0 else line_end
    first_end = raw.find(b"\n")
    header_text = raw[: len(raw) if first_end < 0 else first_end].decode(encoding, "replace")
    sep = sniff_delimiter(header_text.lstrip("\ufeff"))
    bsep = sep.encode("ascii")
    cell_start = raw.rfind(bsep, line_start, start) + 1 or line_start
    cell_end = raw.find(bsep, start, line_end)
    cell = raw[cell_start : line_end if cell_end < 0 else cell_end].rstrip(b"\r")[:40]
    hint = (
        " If it was saved in a Windows Cyrillic encoding, pass encoding='cp1251'"
        " (--encoding cp1251) or save it as UTF-8."
    )
    if line == 0:
        return Problem(name, "header", f"cannot be decoded as {encoding}.{hint}", value=cell)
    header = next(csv.reader([header_text.lstrip("\ufeff").rstrip("\r")], delimiter=sep), [])
    index = raw.count(bsep, line_start, start)
    where = (
        header[index] if index < len(header) and header[index].strip() else f"column {index + 1}"
    )
    return Problem(name, where, f"cannot be decoded as {encoding}.{hint}", row=line, value=cell)


def parse_problem(name: str, exc: Exception) -> Problem:
    """A pandas tokenizer error as a problem at its data row (the header is line 1)."""
    text = str(exc)
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        expected, line, saw = (int(g) for g in m.groups())
        return Problem(
            name,
            "",
            f"cannot be parsed as delimited text: expected {expected} fields, saw {saw} "
            "(an unquoted delimiter inside a value, or a missing or extra column?)",
            row=line - 1,
        )
    m = re.search(r"EOF inside string starting at row (\d+)", text)
    if m:
        return Problem(
            name,
            "",
            "cannot be parsed as delimited text: a quoted value starting here is never closed",
            row=int(m.group(1)),
        )
    return Problem(name, "", f"cannot be parsed as delimited text: {text.strip()}")


def extra_field_problems(name: str, lines, sep: str, n_header: int) -> list[Problem]:
    """Rows with more non-blank fields than the header has names (pandas would drop them)."""
    problems = []
    row = 0
    try:
        for fields in csv.reader(lines, delimiter=sep):
            if not fields:
                continue  # blank lines are skipped, as pandas does
            if row > 0 and len(fields) > n_header and any(f.strip() for f in fields[n_header:]):
                problems.append(
                    Problem(
                        name,
                        "",
                        f"{len(fields)} fields but the header names {n_header} columns; expected "
                        "one value per column (is a column name missing from the header?)",
                        row=row,
                        value=sep.join(fields[n_header:])[:40],
                    )
                )
            row += 1
    except csv.Error as exc:
        problems.append(Problem(name, "", f"cannot be parsed as delimited text: {exc}"))
    return problems


def _one_field_problems(name: str, frame: pd.DataFrame, sep: str) -> list[Problem]:
    """Rows read as a single field holding another delimiter (e.g. ';' rows under a ',' header)."""
    if frame.shape[1] < 2:
        return []
    first = frame.iloc[:, 0].astype("string")
    others = [d for d in (",", ";", "\t", "|") if d != sep]
    holds = first.str.contains("|".join(map(re.escape, others)), regex=True).fillna(False)
    rows = np.flatnonzero(holds.to_numpy(dtype=bool))
    if rows.size:  # only the rows holding another delimiter: a big file is not scanned twice
        rows = rows[frame.iloc[rows, 1:].isna().all(axis=1).to_numpy()]
    shown = "tab" if sep == "\t" else repr(sep)
    return [
        Problem(
            name,
            "",
            f"the row is one field, but the header has {frame.shape[1]} columns separated by "
            f"{shown}; expected the same delimiter in every row",
            row=int(r) + 1,
            value=str(first.iloc[r])[:40],
        )
        for r in rows
    ]


def _csv_size(name: str, raw: bytes, encoding: str) -> None:
    """Refuse a delimited file over the limits, from its first line and line count."""
    first_end = raw.find(b"\n")
    first = raw[: len(raw) if first_end < 0 else first_end].decode(encoding, "replace")
    first = first.lstrip("\ufeff").rstrip("\r")
    n_columns = header_fields(first, sniff_delimiter(first[:65536]))
    n_rows = max(raw.count(b"\n") - (0 if raw.endswith(b"\n") else -1) - 1, 0)
    memory = n_rows * n_columns * TEXT_CELL_BYTES + 3 * len(raw)
    refuse_size(name, n_rows, n_columns, memory)


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    name = str(path)
    size = path.stat().st_size
    if size > MAX_MEMORY:
        refuse_size(name, None, 0, size)
    raw = path.read_bytes()
    _csv_size(name, raw, encoding)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"data file {name}", [decode_problem(name, raw, encoding, exc)]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataError(
            f"data file {name}",
            [Problem(name, "", "file is empty; expected a header row and data rows")],
        )
    sep = sniff_delimiter(text[:65536])
    options = dict(sep=sep, dtype=str, keep_default_na=False, index_col=False)
    try:
        # the header exactly as written: pandas renames repeated names ("q1.1")
        header = [
            "" if pd.isna(c) else str(c)
            for c in pd.read_csv(io.StringIO(text), header=None, nrows=1, **options).iloc[0]
        ]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: a trailing delimiter must not shift every column into the index
            frame = pd.read_csv(io.StringIO(text), na_values=[""], **options)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise DataError(f"data file {name}", [parse_problem(name, exc)]) from None
    empty = [i + 1 for i, c in enumerate(header) if not c.strip()]
    if empty:
        raise DataError(
            f"data file {name}",
            [
                Problem(name, "header", f"column {i} has an empty name; expected a column name")
                for i in empty
            ],
        )
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        extra = extra_field_problems(name, io.StringIO(text), sep, len(header))
        if extra:
            raise DataError(f"data file {name}", extra)
    # keep the names as written so that the codebook check reports a repeated name together
    # with every other problem
    if len(header) == frame.shape[1]:
        frame.columns = header
    if frame.empty:
        raise DataError(
            f"data file {name}", [Problem(name, "", "file has a header but no data rows")]
        )
    misread = _one_field_problems(name, frame, sep)
    if misread:
        raise DataError(f"data file {name}", misread)
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
        If the file is missing, empty, not decodable, not parseable (a row with more fields
        than the header, an unclosed quote, rows under another delimiter) or of an unsupported
        type.
    """
    path = Path(path)
    name = str(path)
    check_encoding(encoding, name)
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
            size = parquet_size(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(
                f"data file {name}", [Problem(name, "", f"cannot be read as Parquet: {exc}")]
            ) from None
        refuse_size(name, *size)
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
        _, head = reader(str(path), metadataonly=True)
        rows = head.number_rows if isinstance(head.number_rows, int) else None
        cols = int(head.number_columns or 0)
        refuse_size(name, rows, cols, (rows or 0) * cols * NUMBER_CELL_BYTES)
        frame, meta = reader(str(path), user_missing=True)
    except DataError:
        raise
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


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` as CSV, tab-separated text or Parquet (by the suffix), atomically.

    Text files are UTF-8 with ``\n`` line ends and floats to 10 significant digits, their text
    cells spreadsheet-safe (:func:`segment._escape.csv_frame`: a cell beginning ``=``, ``+``,
    ``-``, ``@`` starts with ``'``); the file appears only when complete.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE:
        raise ValueError(f"cannot write {path}: expected one of {', '.join(WRITABLE)}")

    def write(tmp: Path) -> None:
        if suffix in _PARQUET:
            frame.to_parquet(tmp, index=False)
        else:
            text = csv_frame(frame).to_csv(
                index=False, sep=_CSV_SEP[suffix], lineterminator="\n", float_format="%.10g"
            )
            tmp.write_text(text, encoding="utf-8", newline="\n")

    atomic_write(path, write)
