"""Small helpers shared by the input-checking modules."""

from __future__ import annotations

from typing import Any

__all__ = ["duplicates", "plain_number"]


def plain_number(x: float) -> int | float:
    """A plain Python number for messages and YAML (never ``np.float64(...)``)."""
    return int(x) if float(x).is_integer() else float(x)


def duplicates(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    dups: list[Any] = []
    for v in values:
        if v in seen and v not in dups:
            dups.append(v)
        seen.add(v)
    return dups
