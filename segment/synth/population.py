"""Population margins for generating synthetic demographics (``segment.population/1``).

A population file gives, for each demographic item of an instrument, the share of each category
(or, for a variable that depends on an earlier one, a table of shares per parent category), the
sample design's oversampling factors and the item non-response rates of the synthetic poll.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segment._files import load_yaml
from segment.exceptions import InputError, Problem
from segment.survey.codebook import Codebook, Item

__all__ = ["Population", "PopulationError", "categories"]


class PopulationError(InputError):
    """A population file is malformed or inconsistent with its instrument."""


@dataclass(frozen=True)
class Population:
    """Approximate population margins used to generate demographics.

    ``variables`` maps a demographic column to either ``{category: share}`` or, for a variable
    that depends on an earlier one, ``("given", parent, {parent_category: {category: share}})``.
    """

    variables: Mapping[str, Any]
    oversample: Mapping[str, Any]
    nonresponse: Mapping[str, float]
    path: str | None = None

    @classmethod
    def load(cls, path: str | Path, instrument: Codebook) -> Population:
        """Read a population file and check it against the instrument's demographic items.

        Raises
        ------
        PopulationError
            Listing every problem found, each with its location in the file.
        """
        path = Path(path)
        doc = load_yaml(path, f"population {path}", PopulationError)
        file = str(path)
        problems: list[Problem] = []
        variables = _load_variables(doc, instrument, file, problems)
        over = _load_oversample(doc, variables, instrument, file, problems)
        nonresp = _load_nonresponse(doc, file, problems)
        for item in instrument.demographic_items:
            if item.column not in variables:
                problems.append(
                    Problem(
                        file,
                        "variables",
                        "demographic item of the instrument has no distribution",
                        value=item.column,
                    )
                )
        if problems:
            raise PopulationError(f"population {file}", problems)
        return cls(variables, over, nonresp, file)


def _load_variables(
    doc: Any, instrument: Codebook, file: str, problems: list[Problem]
) -> dict[str, Any]:
    """The ``variables`` of a population file: a distribution, or a table given a parent."""
    variables: dict[str, Any] = {}
    raw_vars = doc.get("variables") or {}
    if not isinstance(raw_vars, dict):
        problems.append(Problem(file, "variables", "expected a mapping of variable to shares"))
        raw_vars = {}
    for var, spec in raw_vars.items():
        where = f"variables.{var}"
        if var not in instrument or instrument[var].domain != "demographics":
            problems.append(
                Problem(file, where, "not a demographic item of the instrument", value=var)
            )
            continue
        item = instrument[var]
        if isinstance(spec, dict) and "given" in spec:
            parent = spec["given"]
            if parent not in variables:
                problems.append(
                    Problem(
                        file,
                        f"{where}.given",
                        "must name a variable listed before this one",
                        value=parent,
                    )
                )
                continue
            table = {}
            for pcat, dist in (spec.get("table") or {}).items():
                table[str(pcat)] = _distribution(
                    dist, item, file, f"{where}.table.{pcat}", problems
                )
            parent_cats = categories(instrument[parent])
            for pcat in parent_cats:
                if pcat not in table:
                    problems.append(
                        Problem(file, f"{where}.table", f"no row for {parent} = {pcat!r}")
                    )
            variables[var] = ("given", parent, table)
        else:
            variables[var] = _distribution(spec, item, file, where, problems)
    return variables


def _load_oversample(
    doc: Any,
    variables: Mapping[str, Any],
    instrument: Codebook,
    file: str,
    problems: list[Problem],
) -> dict[str, Any]:
    """The ``oversample`` variable and factors of a population file (empty: none)."""
    over = doc.get("oversample") or {}
    if not isinstance(over, dict):
        problems.append(Problem(file, "oversample", "expected a mapping with variable and factors"))
        over = {}
    over = dict(over)
    if over:
        var: Any = over.get("variable")  # a YAML value; only a listed variable is looked up
        if var not in variables:
            problems.append(
                Problem(file, "oversample.variable", "must be one of the variables", value=var)
            )
        else:
            for cat, factor in (over.get("factors") or {}).items():
                if cat not in categories(instrument[var]):
                    problems.append(
                        Problem(file, "oversample.factors", f"not a category of {var}", value=cat)
                    )
                if not (isinstance(factor, (int, float)) and factor > 0):
                    problems.append(
                        Problem(
                            file,
                            f"oversample.factors.{cat}",
                            "expected a positive number",
                            value=factor,
                        )
                    )
    return over


def _load_nonresponse(doc: Any, file: str, problems: list[Problem]) -> dict[str, float]:
    """The ``nonresponse`` rates of a population file, each a probability in [0, 1)."""
    nonresp = {}
    raw_nonresp = doc.get("nonresponse") or {}
    if not isinstance(raw_nonresp, dict):
        problems.append(
            Problem(file, "nonresponse", "expected a mapping of rate name to probability")
        )
        raw_nonresp = {}
    for key, value in raw_nonresp.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            problems.append(
                Problem(file, f"nonresponse.{key}", "expected a probability in [0, 1)", value=value)
            )
        else:
            nonresp[key] = float(value)
    return nonresp


def categories(item: Item) -> list[str]:
    if item.bands:
        return [b[2] for b in item.bands]
    return [lv.name or str(lv.code) for lv in item.levels]


def _distribution(
    spec: Any, item: Item, file: str, where: str, problems: list[Problem]
) -> dict[str, float]:
    cats = categories(item)
    if not isinstance(spec, dict):
        problems.append(Problem(file, where, "expected a mapping of category to share"))
        return {}
    dist = {}
    for cat, share in spec.items():
        if str(cat) not in cats:
            problems.append(
                Problem(
                    file,
                    where,
                    f"not a category of {item.column} (known: {', '.join(cats)})",
                    value=cat,
                )
            )
        elif not (isinstance(share, (int, float)) and share >= 0):
            problems.append(
                Problem(file, f"{where}.{cat}", "expected a non-negative share", value=share)
            )
        else:
            dist[str(cat)] = float(share)
    total = sum(dist.values())
    if dist and not math.isclose(total, 1.0, abs_tol=0.01):
        problems.append(Problem(file, where, "shares must add up to 1", value=round(total, 4)))
    return {c: dist.get(c, 0.0) / total for c in cats} if total > 0 else {}
