"""Margins files: the population distributions that :func:`segment.weights.raking.rake`
calibrates weights to (``segment.margins/1``; format in ``docs/raking.md``).

Each margin is one variable (``region``) or a crossing of variables (``age x gender``) with a
target share (or count) per category; :func:`load_margins` reads and validates a file, listing
every problem with its location.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segment._files import load_yaml
from segment._util import plain_number
from segment.exceptions import InputError, Problem

__all__ = [
    "JOINT",
    "MARGINS_SCHEMA",
    "SUM_TOLERANCE",
    "Margin",
    "Margins",
    "MarginsError",
    "load_margins",
    "resolve_margins_path",
]

#: The ``schema`` value of a margins file.
MARGINS_SCHEMA = "segment.margins/1"
#: Shares of one margin must sum to 1 within this; counts of all margins must agree within this
#: fraction of their total. Margins inside the tolerance are rescaled to agree exactly.
SUM_TOLERANCE = 0.005
#: How the variables of a joint margin are written: ``age x gender``.
JOINT = " x "
_JOINT_SPLIT = re.compile(r"\s+x\s+")
_TOP_KEYS = ("schema", "name", "note", "source", "scale", "margins")


class MarginsError(InputError):
    """A margins file is malformed (every problem listed with its location in the file)."""


# ---------------------------------------------------------------------------------- margins
@dataclass(frozen=True)
class Margin:
    """One target distribution: of one variable, or of a crossing of variables.

    Attributes
    ----------
    variables : tuple of str
        The data columns; more than one for a joint margin (``age x gender``).
    categories : tuple of tuple of str
        The categories of each variable, in the order the file gives them.
    shares : tuple of float
        Target share of every cell of the grid ``categories[0] x categories[1] x ...`` (C order,
        last variable fastest); they sum to 1.
    where : str
        Location of the margin in its file, for messages (``margins.age x gender``).
    """

    variables: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    shares: tuple[float, ...]
    where: str = ""

    @property
    def name(self) -> str:
        """The margin as written in a margins file, e.g. ``age x gender``."""
        return JOINT.join(self.variables)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.categories)

    def grid(self) -> np.ndarray:
        """Target shares as an array of shape :attr:`shape`."""
        return np.asarray(self.shares, dtype=float).reshape(self.shape)

    def cells(self) -> Iterator[tuple[tuple[str, ...], float]]:
        """``(category per variable, target share)`` for every cell, in grid order."""
        return zip(itertools.product(*self.categories), self.shares, strict=True)


@dataclass(frozen=True)
class Margins:
    """Target margins for raking. Build with :func:`load_margins` or :meth:`from_dict`.

    Attributes
    ----------
    margins : tuple of Margin
        Raked in this order within each iteration.
    scale : {"shares", "counts"}
        How the file gave the targets. With shares the raked weights sum to the number of
        respondents raked (mean weight 1); with counts they sum to the population total.
    total : float or None
        The population total when ``scale == "counts"``.
    """

    margins: tuple[Margin, ...]
    scale: str = "shares"
    total: float | None = None
    name: str | None = None
    note: str | None = None
    source: str | None = None
    path: str | None = field(default=None, compare=False)

    def __iter__(self) -> Iterator[Margin]:
        return iter(self.margins)

    def __len__(self) -> int:
        return len(self.margins)

    @property
    def variables(self) -> list[str]:
        """Every variable raked on, in first-use order."""
        return list(dict.fromkeys(v for m in self.margins for v in m.variables))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], file: str = "<margins>") -> Margins:
        """Build margins from the mapping of a margins file (see ``docs/raking.md``).

        Raises
        ------
        MarginsError
            Listing every problem found, each with its location in the file.
        """
        if not isinstance(doc, Mapping):
            raise MarginsError(
                f"margins {file}", [Problem(file, "", "expected a mapping of margins")]
            )
        problems: list[Problem] = []
        scale = _check_header(doc, file, problems)
        raw = doc.get("margins")
        if not isinstance(raw, Mapping) or not raw:
            problems.append(
                Problem(
                    file,
                    "margins",
                    "expected a mapping from a variable (or 'var1 x var2') to its target "
                    "shares per category",
                )
            )
            raise MarginsError(f"margins {file}", problems)
        parsed: list[tuple[Margin, float]] = []
        for name, spec in raw.items():
            found = _parse_margin(name, spec, scale, file)
            if isinstance(found, list):
                problems.extend(found)
            else:
                parsed.append(found)
        total = _common_total(parsed, scale, file, problems)
        if problems:
            raise MarginsError(f"margins {file}", problems)
        return cls(
            margins=tuple(m for m, _ in parsed),
            scale=scale,
            total=total,
            name=doc.get("name"),
            note=doc.get("note"),
            source=doc.get("source"),
            path=file,
        )


def load_margins(path: str | os.PathLike) -> Margins:
    """Read and validate a margins file (``segment.margins/1``).

    Parameters
    ----------
    path : path-like
        A YAML file; see ``docs/raking.md`` for the format. ``profiles/kz_margins.yaml`` is an
        example (approximate adult margins of Kazakhstan).

    Returns
    -------
    Margins

    Raises
    ------
    MarginsError
        Naming the file and the location of every problem (``margins.region.astana``): not
        YAML, unknown keys, categories that are not names, targets that are not non-negative
        numbers, a joint margin with a missing cell, shares that do not sum to 1 (within
        :data:`SUM_TOLERANCE`), counts whose totals disagree.
    """
    doc = load_yaml(path, f"margins {path}", MarginsError)
    return Margins.from_dict(doc, file=str(path))


def _check_header(doc: Mapping[str, Any], file: str, problems: list[Problem]) -> str:
    """Check the keys, schema, scale and texts of a margins file; return its scale."""
    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(
                Problem(file, str(key), f"unknown key; expected one of {', '.join(_TOP_KEYS)}")
            )
    schema = doc.get("schema")
    if schema is not None and schema != MARGINS_SCHEMA:
        problems.append(Problem(file, "schema", f"expected {MARGINS_SCHEMA!r}", value=schema))
    scale = doc.get("scale", "shares")
    if scale not in ("shares", "counts"):
        problems.append(Problem(file, "scale", "expected 'shares' or 'counts'", value=scale))
        scale = "shares"
    for key in ("name", "note", "source"):
        if doc.get(key) is not None and not isinstance(doc[key], str):
            problems.append(Problem(file, key, "expected text", value=doc[key]))
    return scale


def _common_total(
    parsed: list[tuple[Margin, float]], scale: str, file: str, problems: list[Problem]
) -> float | None:
    """The population total of count margins (None for shares); every margin must agree."""
    total = None
    if scale == "counts" and parsed:
        totals = [t for _, t in parsed]
        total = totals[0]
        for margin, t in parsed[1:]:
            if abs(t - total) > SUM_TOLERANCE * total:
                problems.append(
                    Problem(
                        file,
                        margin.where,
                        f"counts add up to {plain_number(round(t, 6))}, but "
                        f"{parsed[0][0].where} adds up to {plain_number(round(total, 6))}; "
                        f"every margin must describe the same population total (within "
                        f"{SUM_TOLERANCE:.1%})",
                    )
                )
    return total


def _category(key: Any, file: str, where: str) -> str | Problem:
    """The category name a key of a margins file stands for, or the problem with it."""
    if isinstance(key, bool):
        return Problem(
            file,
            where,
            "category read as true/false (YAML reads yes/no/on/off so); put it in quotes",
            value=key,
        )
    if isinstance(key, int | float) and math.isfinite(key):
        return str(plain_number(key))
    if isinstance(key, str) and key.strip():
        return key.strip()
    return Problem(file, where, "expected a category name", value=key)


def _parse_margin(
    name: Any, spec: Any, scale: str, file: str
) -> tuple[Margin, float] | list[Problem]:
    """One margin of a margins file and its total, or every problem found in it."""
    where = f"margins.{name}"
    variables = _margin_variables(name, file, where)
    if isinstance(variables, list):
        return variables
    depth = len(variables)
    what = "shares" if scale == "shares" else "counts"
    problems: list[Problem] = []
    cells: dict[tuple[str, ...], float] = {}
    _walk_cells(spec, (), where, variables, what, file, cells, problems)
    if problems:
        return problems
    categories = tuple(tuple(dict.fromkeys(labels[i] for labels in cells)) for i in range(depth))
    shares = _grid_shares(cells, categories, file, where, problems)
    if problems:
        return problems
    total = float(sum(shares))
    if total <= 0:
        return [Problem(file, where, f"{what} add up to 0; expected a positive total")]
    if scale == "shares" and abs(total - 1.0) > SUM_TOLERANCE:
        return [
            Problem(
                file,
                where,
                f"shares add up to {plain_number(round(total, 6))}; expected 1 (within "
                f"{SUM_TOLERANCE}), or scale: counts for population counts",
            )
        ]
    margin = Margin(
        variables=variables,
        categories=categories,
        shares=tuple(s / total for s in shares),
        where=where,
    )
    return margin, total


def _margin_variables(name: Any, file: str, where: str) -> tuple[str, ...] | list[Problem]:
    """The variables of a margin's name (``age x gender``), or the problem with the name."""
    if not isinstance(name, str) or not name.strip():
        return [Problem(file, where, "expected a variable name or 'var1 x var2'", value=name)]
    variables = tuple(v.strip() for v in _JOINT_SPLIT.split(name.strip()))
    if any(not v for v in variables) or len(set(variables)) != len(variables):
        return [
            Problem(file, where, "expected distinct variable names joined by ' x '", value=name)
        ]
    return variables


def _walk_cells(
    node: Any,
    labels: tuple[str, ...],
    loc: str,
    variables: tuple[str, ...],
    what: str,
    file: str,
    cells: dict[tuple[str, ...], float],
    problems: list[Problem],
) -> None:
    """Put the target of every cell below ``node`` in ``cells``, each problem in ``problems``."""
    depth = len(variables)
    level = len(labels)
    if level == depth:
        if isinstance(node, bool) or not isinstance(node, int | float):
            problems.append(
                Problem(file, loc, f"expected a number (the target {what[:-1]})", value=node)
            )
        elif not math.isfinite(node) or node < 0:
            problems.append(Problem(file, loc, f"expected a non-negative {what[:-1]}", value=node))
        else:
            cells[labels] = float(node)
        return
    if not isinstance(node, Mapping) or not node:
        inner = "a number" if level == depth - 1 else "another mapping"
        problems.append(
            Problem(
                file,
                loc,
                f"expected a mapping from each category of {variables[level]!r} to {inner}",
                value=None if isinstance(node, Mapping) else node,
            )
        )
        return
    seen: set[str] = set()
    for key, sub in node.items():
        label = _category(key, file, f"{loc}.{key}")
        if isinstance(label, Problem):
            problems.append(label)
            continue
        if label in seen:
            problems.append(Problem(file, f"{loc}.{key}", "category given twice", value=key))
            continue
        seen.add(label)
        _walk_cells(sub, (*labels, label), f"{loc}.{label}", variables, what, file, cells, problems)


def _grid_shares(
    cells: dict[tuple[str, ...], float],
    categories: tuple[tuple[str, ...], ...],
    file: str,
    where: str,
    problems: list[Problem],
) -> list[float]:
    """The target of every cell of the grid in C order; a missing cell is a problem."""
    shares = []
    for combo in itertools.product(*categories):
        if combo not in cells:
            problems.append(
                Problem(
                    file,
                    f"{where}.{'.'.join(combo)}",
                    f"missing cell {JOINT.join(combo)}: a joint margin needs every "
                    f"combination of its categories (0 for an empty cell)",
                )
            )
            continue
        shares.append(cells[combo])
    return shares


def resolve_margins_path(spec: str | os.PathLike) -> Path:
    """A margins file path, or the bundled profile of that name (``kz_margins``)."""
    path = Path(spec)
    if path.exists() or len(path.parts) != 1:
        return path
    from segment.resources import bundled_path, list_bundled

    for name in (path.name, f"{path.name}.yaml"):
        if name in list_bundled("profiles"):
            return bundled_path("profiles", name)
    return path
