"""Exceptions raised by ``segment``.

Every error a user can act on is a :class:`SegmentError`. Input errors carry the full list of
:class:`Problem` records found (file, location, row, value, expected) so that one message reports
everything wrong with a file at once, instead of stopping at the first problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CodebookError",
    "DataError",
    "InputError",
    "OutputError",
    "Problem",
    "SegmentError",
    "TypologyError",
]

#: Input errors print at most this many problems; ``segment codebook check`` prints all.
MAX_PROBLEMS_SHOWN = 50

#: :func:`problems_at_rows` lists at most this many rows of one problem, then counts the rest.
MAX_ROWS_LISTED = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Attributes
    ----------
    file : str
        The file the problem is in.
    where : str
        Column name (data files) or location path (YAML files, e.g. ``items[3].scale``).
    message : str
        What is wrong and what was expected.
    row : int or None
        1-based data row (the header is not counted), when the problem is in one row.
    value : object
        The offending value, when there is one.
    """

    file: str
    where: str
    message: str
    row: int | None = None
    value: object = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.where:
            parts.append(self.where)
        if self.row is not None:
            parts.append(f"row {self.row}")
        text = ", ".join(parts) + ": "
        if self.value is not None:
            text += f"value {self.value!r}: "
        return text + self.message

    def to_dict(self) -> dict:
        """Plain mapping, for ``--format json`` outputs."""
        return {
            "file": self.file,
            "where": self.where,
            "row": self.row,
            "value": None if self.value is None else str(self.value),
            "message": self.message,
        }


class SegmentError(Exception):
    """Base class of all errors raised by ``segment`` on purpose."""


class InputError(SegmentError, ValueError):
    """An input file (data, codebook, typology, model) has one or more problems.

    Parameters
    ----------
    what : str
        Short description of the input, e.g. ``"codebook data/kz.yaml"``.
    problems : iterable of Problem
        Every problem found.
    """

    def __init__(self, what: str, problems: Iterable[Problem]):
        self.what = what
        self.problems = list(problems)
        super().__init__(self._render())

    def _render(self, limit: int = MAX_PROBLEMS_SHOWN) -> str:
        n = len(self.problems)
        head = f"{self.what}: {n} problem{'s' if n != 1 else ''} found"
        lines = [head] + [f"  - {p}" for p in self.problems[:limit]]
        if n > limit:
            lines.append(f"  ... and {n - limit} more")
        return "\n".join(lines)


class OutputError(SegmentError):
    """An output location is refused: an input, a folder segment did not make, not writable,
    or being written by another segment command."""


class CodebookError(InputError):
    """A codebook file is malformed or inconsistent."""


class TypologyError(InputError):
    """A typology file is malformed or refers to unknown items, levels or categories."""


class DataError(InputError):
    """A respondent data file violates its codebook or cannot be read."""


def problems_at_rows(
    file: str, where: str, bad, values, message: str, limit: int = MAX_ROWS_LISTED
) -> list[Problem]:
    """One :class:`Problem` per row where ``bad`` holds (1-based rows, with that row's value from
    ``values`` when given), the first ``limit`` of them, then one line counting the rest."""
    import numpy as np

    idx = np.flatnonzero(bad)
    out = []
    for i in idx[:limit]:
        v: Any = values[i] if values is not None else None
        v = v.item() if hasattr(v, "item") else v
        out.append(Problem(file, where, message, row=int(i) + 1, value=v))
    if idx.size > limit:
        out.append(Problem(file, where, f"... and {idx.size - limit} more rows: {message}"))
    return out
