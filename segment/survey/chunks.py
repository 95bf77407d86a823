"""Reading a large respondent file in chunks (CSV and Parquet stream; other formats load whole).

Used to score files that do not fit in memory: the same checks as :func:`.tables.read_table`
apply to the header and the cells of each chunk.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from segment.exceptions import DataError, Problem

from .check import duplicate_columns
from .tables import (
    check_encoding,
    decode_problem,
    extra_field_problems,
    header_fields,
    parse_problem,
    read_table,
    refuse_size,
    sniff_delimiter,
)

__all__ = ["iter_chunks"]


def iter_chunks(
    path: Path, chunk_size: int, *, encoding: str = "utf-8", items: list[str]
) -> Iterator[pd.DataFrame]:
    """Yield DataFrames of at most ``chunk_size`` rows (CSV and Parquet stream; others load).

    The file is refused (:class:`DataError` naming the file, column, row and value) when it
    cannot be decoded or parsed, is empty, has no data rows, repeats or leaves out a column
    name, or holds none of the model's ``items``.
    """
    suffix = path.suffix.lower()
    name = str(path)
    check_encoding(encoding, name)
    if suffix in (".csv", ".tsv", ".txt"):
        chunks = _csv_chunks(path, chunk_size, encoding)
    elif suffix in (".parquet", ".pq"):
        chunks = _parquet_chunks(path, chunk_size)
    else:
        chunks = iter([read_table(path, encoding=encoding)[0]])
    n_rows = 0
    for i, chunk in enumerate(chunks):
        if i == 0:
            problems = duplicate_columns(list(chunk.columns), name)
            if not set(items) & set(chunk.columns):
                problems.append(
                    Problem(
                        name,
                        "",
                        "none of the model's items is a column of the file; expected some of "
                        f"{', '.join(items)} (data from another questionnaire, or another "
                        "delimiter?)",
                    )
                )
            if problems:
                raise DataError(f"data file {name}", problems)
        n_rows += len(chunk)
        yield chunk
    if n_rows == 0:
        raise DataError(
            f"data file {name}", [Problem(name, "", "file has a header but no data rows")]
        )


def _parquet_chunks(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        n_columns = source.metadata.num_columns
    except Exception as exc:  # pyarrow raises several unrelated types
        name = str(path)
        raise DataError(
            f"data file {name}", [Problem(name, "", f"cannot be read as Parquet: {exc}")]
        ) from None
    refuse_size(str(path), None, n_columns, None, whole=False)
    try:
        for batch in source.iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types
        name = str(path)
        raise DataError(
            f"data file {name}", [Problem(name, "", f"cannot be read as Parquet: {exc}")]
        ) from None


def _csv_chunks(path: Path, chunk_size: int, encoding: str) -> Iterator[pd.DataFrame]:
    """Stream a delimited file in chunks, with the header exactly as written."""
    name = str(path)
    options = dict(dtype=str, keep_default_na=False, encoding=encoding, index_col=False)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            line = fh.readline().lstrip("\ufeff").rstrip("\r\n")
        sep = sniff_delimiter(line)
        refuse_size(name, None, header_fields(line, sep), None, whole=False)
        try:
            first = pd.read_csv(path, sep=sep, header=None, nrows=1, **options)
        except pd.errors.EmptyDataError:
            raise DataError(
                f"data file {name}",
                [Problem(name, "", "file is empty; expected a header row and data rows")],
            ) from None
        header = ["" if pd.isna(c) else str(c).lstrip("\ufeff") for c in first.iloc[0]]
        empty = [i + 1 for i, c in enumerate(header) if not c.strip()]
        if empty:
            raise DataError(
                f"data file {name}",
                [
                    Problem(name, "header", f"column {i} has an empty name; expected a column name")
                    for i in empty
                ],
            )
        # index_col=False: a trailing delimiter must not shift every column into the index
        with pd.read_csv(path, sep=sep, na_values=[""], chunksize=chunk_size, **options) as reader:
            scanned = False
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    chunk = next(reader, None)
                if chunk is None:
                    break
                if not scanned and any(
                    issubclass(w.category, pd.errors.ParserWarning) for w in caught
                ):
                    # pandas drops fields beyond the header: refuse rows where they hold values
                    scanned = True  # the scan covers the whole file
                    with open(path, encoding=encoding, newline="") as fh:
                        extra = extra_field_problems(name, fh, sep, len(header))
                    if extra:
                        raise DataError(f"data file {name}", extra)
                if chunk.shape[1] == len(header):
                    chunk.columns = header  # pandas renames repeated names ("q1.1")
                yield chunk
    except UnicodeDecodeError:
        raw = path.read_bytes()
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"data file {name}", [decode_problem(name, raw, encoding, exc)]
            ) from None
        raise
    except pd.errors.ParserError as exc:
        raise DataError(f"data file {name}", [parse_problem(name, exc)]) from None
