"""Small helpers shared across the package: plain numbers, duplicates, normalised weights."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["duplicates", "normalised_weights", "plain_number"]


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


def normalised_weights(weights) -> np.ndarray:
    """Survey weights rescaled to mean 1, so that they sum to the number of respondents."""
    w = np.asarray(weights, dtype=float)
    return w / w.mean()
