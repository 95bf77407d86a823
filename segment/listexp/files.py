"""List-experiment respondent files: the count, treatment and weight columns, checked, with
every problem reported against the file's own column names and rows."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd

from segment._util import plain_number
from segment.exceptions import InputError, Problem
from segment.survey.cells import as_float

from ._validate import _SOURCE, _check_list_data

__all__ = ["check_list_file", "column_of", "in_file", "numeric_values"]


def column_of(frame: pd.DataFrame, name: str, file: str, option: str) -> pd.Series:
    """Column ``name`` of ``frame``; an :class:`InputError` naming ``option`` when it is absent."""
    if name not in frame.columns:
        raise InputError(
            f"data file {file}",
            [
                Problem(
                    file,
                    name,
                    f"no such column (given by {option}); "
                    f"columns: {', '.join(map(str, frame.columns))}",
                )
            ],
        )
    return frame[name]


def numeric_values(series: pd.Series, file: str, expected: str = "a number") -> np.ndarray:
    """The numbers of a column (NaN for blanks); an :class:`InputError` listing every other cell."""
    values, bad = as_float(series)
    if bad.any():
        problems = [
            Problem(
                file,
                str(series.name),
                f"not a number; expected {expected}",
                row=int(r) + 1,
                value=series.iloc[r],
            )
            for r in np.flatnonzero(bad)
        ]
        raise InputError(f"data file {file}", problems)
    return values


@contextmanager
def in_file(file: str, columns: dict[str, str | None]):
    """Report the estimators' input problems against FILE and its column names.

    The estimators check arrays, so their problems name ``data`` and the argument (``y``,
    ``treat``, ``weights``, ``X[age]``); the rows are the file's rows.
    """
    try:
        yield
    except InputError as exc:
        if not any(p.file == _SOURCE for p in exc.problems):
            raise
        problems = []
        for p in exc.problems:
            if p.file != _SOURCE:
                problems.append(p)
                continue
            where = columns.get(p.where) or p.where
            if where.startswith("X[") and where.endswith("]"):
                where = where[2:-1]
            value = p.value
            if isinstance(value, (float, np.floating)):
                value = plain_number(float(value)) if np.isfinite(value) else None
            problems.append(Problem(file, where, p.message, row=p.row, value=value))
        raise InputError(f"list experiment file {file}", problems) from None


def check_list_file(
    frame: pd.DataFrame, file: str, count: str, treat: str, J: int, weights: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Counts, treatment and weights of a list-experiment file, checked.

    Raises
    ------
    InputError
        Naming the file, column, row and value of every problem: a missing column, a value that
        is not a number, a count outside 0..J (control) or 0..J+1 (treated), a treatment other
        than 0/1, a negative or missing weight, an arm with no respondents.
    """
    y = numeric_values(column_of(frame, count, file, "--count"), file, "a whole-number item count")
    t = numeric_values(
        column_of(frame, treat, file, "--treat"), file, "a binary treatment indicator: 0/1"
    )
    w = (
        numeric_values(column_of(frame, weights, file, "--weights"), file, "a weight >= 0")
        if weights
        else None
    )
    with in_file(file, {"y": count, "treat": treat, "weights": weights}):
        _check_list_data(y, t, J, w, what=f"list experiment file {file}")
    return y, t, w
