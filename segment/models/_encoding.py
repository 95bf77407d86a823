"""Answers to the latent class model's small integer codes, column by column (numba).

The model's data are one small code per answer (``0 .. C_j - 1`` for the sorted categories of
item j, ``missing`` for no answer), usually one byte. This module reads the columns of a
DataFrame (or of a numeric array) straight into a preallocated code array: each value is
converted to float64 in the compiled loop, so no float copy of the table, no boolean mask of it
and no per-column temporary of the rows' size is ever made (a pandas nullable column is the
exception: it is read through one float column at a time).

A value means what it meant to the numpy encoder that came before (``searchsorted`` on the
float64 categories): its float64 value is looked up among the categories, NaN is missing. Three
ways of looking up, chosen per item from its categories:

* consecutive integers ``lo .. lo + C - 1`` (the usual answer codes): the code is ``v - lo``;
* other integers within ``LUT_SPAN`` of each other (say 1-5 and 97-99): a lookup table;
* anything else: binary search among the categories.

A value that is no category (an unseen answer, infinity) is counted, not encoded; the caller
then hands the data to the general path, which names the item, row and value as before.

The categories of a fit come from one scan per column (range, integrality, NaN and infinity
counts) and one presence pass over integer codes in a bounded range; other columns fall back
to ``np.unique`` of their observed values, as before.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np
import pandas as pd

__all__ = [
    "LUT_SPAN",
    "AnswerTable",
    "answer_table",
    "encode_table",
    "informative_rows",
    "lookup",
    "scan_categories",
]

#: Widest range ``max - min`` of integer categories looked up through a table.
LUT_SPAN = 1 << 16
#: Integers beyond this are not all exact in float64: such data take the general path.
EXACT_INT = float(2**53)
#: Rows per block of the two-dimensional passes (a block of a C-ordered input stays in cache
#: while its columns are read one by one).
BLOCK_ROWS = 4096

_MODE_RANGE, _MODE_TABLE, _MODE_SEARCH = 0, 1, 2
_NUMPY_KINDS = "iuf"


class AnswerTable(NamedTuple):
    """Numeric answers as the encoder reads them: a 2-D numpy array, or one 1-D array per
    column (numpy, or pandas nullable: read as float64 one column at a time)."""

    n_rows: int
    n_columns: int
    array: np.ndarray | None
    columns: list | None

    def blocks(self):
        """``(first column, 2-D numpy array of one or more columns)`` pairs covering the
        table."""
        if self.array is not None:
            yield 0, self.array
            return
        assert self.columns is not None
        for j in range(self.n_columns):
            yield j, self.column(j)[:, None]

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` as a 1-D numpy array (float64 for a pandas nullable column)."""
        if self.array is not None:
            return self.array[:, j]
        assert self.columns is not None
        values = self.columns[j]
        if isinstance(values, np.ndarray):
            return values
        return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _readable(dtype) -> bool:
    """A numpy dtype the compiled loops read: integers and float32/float64."""
    return (
        isinstance(dtype, np.dtype)
        and dtype.kind in _NUMPY_KINDS
        and not (dtype.kind == "f" and dtype.itemsize not in (4, 8))
    )


def answer_table(X) -> AnswerTable | None:
    """``X`` as an :class:`AnswerTable`, or None when only the general path can read it.

    Read here: a 2-D numpy array of integers or float32/64, and a DataFrame whose columns are
    numpy integers or floats or pandas nullable (masked) integers or floats, with at least one
    row and one column. Anything else (booleans, objects, strings, float16, sparse, lists) is
    None.
    """
    if isinstance(X, pd.DataFrame):
        n, m = X.shape
        if n == 0 or m == 0:
            return None
        columns = []
        for j in range(m):
            series = X.iloc[:, j]
            if isinstance(series.dtype, np.dtype):
                if not _readable(series.dtype):
                    return None
                columns.append(series.to_numpy())
            elif _masked_numeric(series.array):
                columns.append(series.array)
            else:
                return None
        return AnswerTable(n, m, None, columns)
    if isinstance(X, np.ndarray) and not isinstance(X, np.matrix):
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0 or not _readable(X.dtype):
            return None
        return AnswerTable(X.shape[0], X.shape[1], np.asarray(X), None)
    return None


def _masked_numeric(values) -> bool:
    """A pandas nullable integer or float array (``Int64``, ``Float64``, ...)."""
    return isinstance(values, pd.arrays.IntegerArray | pd.arrays.FloatingArray)


# ---------------------------------------------------------------------------- categories


def scan_categories(table: AnswerTable) -> list[np.ndarray] | None:
    """The sorted distinct observed values (float64) of each column of ``table``.

    None when the data hold infinity or integers beyond 2**53 (the general path then reports
    or encodes them as before).
    """
    m = table.n_columns
    n_nan = np.zeros(m, dtype=np.int64)
    n_inf = np.zeros(m, dtype=np.int64)
    integral = np.ones(m, dtype=np.bool_)
    lo = np.full(m, np.inf)
    hi = np.full(m, -np.inf)
    for first, block in table.blocks():
        width = block.shape[1]
        _scan(
            block,
            n_nan[first : first + width],
            n_inf[first : first + width],
            integral[first : first + width],
            lo[first : first + width],
            hi[first : first + width],
            BLOCK_ROWS,
        )
    if n_inf.any():
        return None
    observed = n_nan < table.n_rows
    if np.any(observed & (np.maximum(np.abs(lo), np.abs(hi)) >= EXACT_INT)):
        return None
    cats: list[np.ndarray | None] = [None] * m
    counted = observed & integral & (hi - lo <= LUT_SPAN)
    for j in np.flatnonzero(~observed):
        cats[j] = np.empty(0)
    if counted.any():
        index = np.flatnonzero(counted)
        width = int(np.max(hi[index] - lo[index])) + 1
        seen = np.zeros((m, width), dtype=np.bool_)
        offsets = np.where(counted, lo, 0.0)
        for first, block in table.blocks():
            stop = first + block.shape[1]
            if counted[first:stop].any():
                _presence(block, counted[first:stop], offsets[first:stop], seen[first:stop])
        for j in index:
            cats[j] = np.flatnonzero(seen[j]).astype(np.float64) + float(lo[j])
    for j in np.flatnonzero(observed & ~counted):
        col = np.asarray(table.column(int(j)), dtype=np.float64)
        cats[j] = np.unique(col[~np.isnan(col)])
    return [np.asarray(c, dtype=np.float64) for c in cats]


@nb.njit(cache=True, nogil=True)
def _scan(X, n_nan, n_inf, integral, lo, hi, block_rows):
    """Per column: NaN and infinity counts, whether every finite value is an integer, and the
    range of the finite values."""
    n, m = X.shape
    for b0 in range(0, n, block_rows):
        b1 = min(n, b0 + block_rows)
        for j in range(m):
            nans = 0
            infs = 0
            whole = True
            low = lo[j]
            high = hi[j]
            for i in range(b0, b1):
                v = np.float64(X[i, j])
                if v != v:
                    nans += 1
                elif v == np.inf or v == -np.inf:
                    infs += 1
                else:
                    whole &= np.floor(v) == v
                    low = min(low, v)
                    high = max(high, v)
            n_nan[j] += nans
            n_inf[j] += infs
            integral[j] &= whole
            lo[j] = low
            hi[j] = high


@nb.njit(cache=True, nogil=True)
def _presence(X, counted, lo, seen):
    """``seen[j, v - lo[j]] = True`` for every observed value ``v`` of each counted column."""
    n, m = X.shape
    for j in range(m):
        if not counted[j]:
            continue
        low = lo[j]
        for i in range(n):
            v = np.float64(X[i, j])
            if v == v:
                seen[j, np.int64(v - low)] = True


# ---------------------------------------------------------------------------- encoding


class _Lookup(NamedTuple):
    """Per column: how its values are looked up among its categories (see the module doc)."""

    mode: np.ndarray  # (m,) int64
    lo: np.ndarray  # (m,) float64: smallest category of a range or table column
    span: np.ndarray  # (m,) float64: largest category - lo
    table: np.ndarray  # (m, width) int64: code of lo + t, -1 if none
    cats: np.ndarray  # (m, n_max) float64: the categories, padded with +inf
    n_cats: np.ndarray  # (m,) int64


def lookup(categories: list[np.ndarray]) -> _Lookup:
    """The lookup of each item's categories (computed once per model and kept)."""
    m = len(categories)
    n_max = max(len(c) for c in categories)
    mode = np.full(m, _MODE_SEARCH, dtype=np.int64)
    lo = np.zeros(m)
    span = np.zeros(m)
    cats = np.full((m, n_max), np.inf)
    n_cats = np.array([len(c) for c in categories], dtype=np.int64)
    tables = {}
    for j, c in enumerate(categories):
        c = np.asarray(c, dtype=np.float64)
        cats[j, : len(c)] = c
        if len(c) == 0 or not np.all(np.isfinite(c)) or np.any(np.abs(c) >= EXACT_INT):
            continue
        if not (np.all(np.floor(c) == c) and np.all(np.diff(c) > 0)) or c[-1] - c[0] > LUT_SPAN:
            continue
        lo[j], span[j] = c[0], c[-1] - c[0]
        if np.array_equal(c, c[0] + np.arange(len(c))):
            mode[j] = _MODE_RANGE
        else:
            mode[j] = _MODE_TABLE
            tables[j] = (c - c[0]).astype(np.int64)
    width = 1 + max((int(span[j]) for j in tables), default=0)
    table = np.full((m, width), -1, dtype=np.int64)
    for j, offsets in tables.items():
        table[j, offsets] = np.arange(len(offsets))
    return _Lookup(mode, lo, span, table, cats, n_cats)


def encode_table(table: AnswerTable, look: _Lookup, missing: int, dtype) -> np.ndarray | None:
    """The (n, m) C-ordered code array of ``table``, or None if a value is no category."""
    codes = np.empty((table.n_rows, table.n_columns), dtype=dtype)
    for first, block in table.blocks():
        stop = first + block.shape[1]
        bad = _encode(
            block,
            look.mode[first:stop],
            look.lo[first:stop],
            look.span[first:stop],
            look.table[first:stop],
            look.cats[first:stop],
            look.n_cats[first:stop],
            missing,
            codes[:, first:stop],
            BLOCK_ROWS,
        )
        if bad:
            return None
    return codes


@nb.njit(cache=True, nogil=True)
def _encode(X, mode, lo, span, table, cats, n_cats, missing, out, block_rows):
    """``out[i, j]`` = code of ``X[i, j]``; returns how many values are no category."""
    n, m = X.shape
    bad = 0
    for b0 in range(0, n, block_rows):
        b1 = min(n, b0 + block_rows)
        for j in range(m):
            low = lo[j]
            top = span[j]
            if mode[j] == _MODE_RANGE:
                for i in range(b0, b1):
                    v = np.float64(X[i, j])
                    t = v - low
                    inside = (t >= 0.0) & (t <= top)
                    t = t if inside else 0.0
                    k = np.int64(t)
                    ok = inside & (k == t)
                    bad += (not ok) & (v == v)
                    out[i, j] = k if ok else missing
            elif mode[j] == _MODE_TABLE:
                for i in range(b0, b1):
                    v = np.float64(X[i, j])
                    t = v - low
                    inside = (t >= 0.0) & (t <= top)
                    t = t if inside else 0.0
                    k = np.int64(t)
                    code = table[j, k] if inside & (k == t) else -1
                    ok = code >= 0
                    bad += (not ok) & (v == v)
                    out[i, j] = code if ok else missing
            else:
                c = n_cats[j]
                for i in range(b0, b1):
                    v = np.float64(X[i, j])
                    if v != v:
                        out[i, j] = missing
                        continue
                    left = 0
                    right = c
                    while left < right:  # first category >= v
                        mid = (left + right) >> 1
                        if cats[j, mid] < v:
                            left = mid + 1
                        else:
                            right = mid
                    if left < c and cats[j, left] == v:
                        out[i, j] = left
                    else:
                        bad += 1
                        out[i, j] = missing
    return bad


# ---------------------------------------------------------------------------- rows


def informative_rows(codes: np.ndarray, missing: int, chunk: int = 65_536) -> np.ndarray:
    """Boolean mask of the rows of ``codes`` with at least one answer (chunked: no (n, m)
    temporary)."""
    n = codes.shape[0]
    out = np.empty(n, dtype=bool)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        np.any(codes[start:stop] != missing, axis=1, out=out[start:stop])
    return out
