"""Small helpers shared across the package: plain numbers, duplicates, normalised weights, the
normal critical value of a confidence level, valid JSON text, p-values as printed and variable
names statistical packages accept."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

import numpy as np

from .exceptions import InputError, Problem

__all__ = [
    "duplicates",
    "format_p",
    "json_ready",
    "json_text",
    "normalised_weights",
    "plain_number",
    "safe_variable_names",
    "z_critical",
]


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


#: Weights above this are rescaled before summing (their sum, or squares, could overflow).
_HUGE = 1e150


def normalised_weights(weights) -> np.ndarray:
    """Survey weights rescaled to mean 1, so that they sum to the number of respondents.

    Weights beyond 1e150 are divided by the largest first, so that weights near the float limit
    (1e308) cannot overflow the mean (ordinary weights keep their exact arithmetic, and bytes).
    """
    w = np.asarray(weights, dtype=float)
    if w.size and w.max() > _HUGE:
        w = w / w.max()
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


def json_ready(obj: Any) -> Any:
    """``obj`` with every number JSON can hold: NaN and infinities become None (JSON ``null``),
    numpy scalars and arrays plain Python, pandas' missing values None, mapping keys strings.

    Containers (dict, list, tuple, numpy arrays) are converted recursively; other objects are
    left for :func:`json.dumps` to refuse.
    """
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [json_ready(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        return json_ready(obj.item())
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    import pandas as pd  # imported here: only pandas' missing values (NA, NaT) get this far

    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return obj


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """Valid JSON text of ``obj`` (see :func:`json_ready`): ``null`` for NaN and infinities,
    never the ``NaN`` / ``Infinity`` that :func:`json.dumps` writes by default; non-ASCII text as
    it is."""
    return json.dumps(json_ready(obj), indent=indent, ensure_ascii=False, allow_nan=False)


def format_p(p: float, *, prefix: bool = True) -> str:
    """A p-value as a report prints it: ``p < 0.0001`` below 0.0001, four decimals below 0.001,
    else three (``p = 0.042``); ``-`` when undefined. Without ``prefix``: ``<0.0001``, ``0.042``.
    """
    if p is None or not math.isfinite(p):
        return "-"
    if p < 0.0001:
        return "p < 0.0001" if prefix else "<0.0001"
    text = f"{p:.4f}" if p < 0.001 else f"{p:.3f}"
    return f"p = {text}" if prefix else text


#: Words SPSS or Stata reserve, which no variable may be called (compared in lower case).
_RESERVED_NAMES = frozenset(
    "all and by eq ge gt le lt ne not or to with if in using byte int long float double str "
    "strl".split()
)


def safe_variable_names(names: list[str], *, max_length: int = 32) -> list[str]:
    """Variable names SPSS, Stata, SAS and R all accept, one per name, in order.

    Each is ASCII letters, digits and underscores, starts with a letter, has at most
    ``max_length`` characters (Stata's limit is 32) and is unique ignoring case (SPSS ignores
    it). A name that already qualifies is kept; others are transliterated (accents dropped),
    other characters become ``_``, a leading digit or underscore gets a ``v`` prefix, a reserved
    word (``by``, ``if``, ``all``, ...) a trailing ``_``, and a repeated name ``_2``, ``_3``...
    """
    out: list[str] = []
    taken: set[str] = set()
    for i, name in enumerate(names):
        ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
        base = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name).strip("_")
        if base and not base[0].isalpha():
            base = f"v{base}"
        base = (base or f"v{i + 1}")[:max_length]
        if base.lower() in _RESERVED_NAMES:
            base = f"{base}_"
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: max_length - len(suffix)] + suffix
        taken.add(candidate.lower())
        out.append(candidate)
    return out
