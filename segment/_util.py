"""Small helpers shared across the package: plain numbers, duplicates, normalised weights and
the normal critical value of a confidence level."""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import InputError, Problem

__all__ = ["duplicates", "normalised_weights", "plain_number", "z_critical"]


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


def z_critical(level: float) -> float:
    """Two-sided normal critical value of a confidence level, ``Phi^-1(1/2 + level/2)``.

    Raises
    ------
    InputError
        Unless ``0 < level < 1``.
    """
    if not 0 < level < 1:
        raise InputError(
            "level",
            [
                Problem(
                    "data",
                    "level",
                    "expected a confidence level strictly between 0 and 1",
                    value=level,
                )
            ],
        )
    from scipy.stats import norm  # imported here: scipy.stats is slow to import

    return float(norm.ppf(0.5 + level / 2))
