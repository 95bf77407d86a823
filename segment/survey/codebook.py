"""The codebook: what each column of a poll's respondent file means.

A codebook names the respondent id and weight columns (and, optionally, the sampling design's
strata, PSU and fpc columns) and describes every item: its question,
domain (civic rights, trust, ...), answer scale (ordered levels with labels, which end means
"more"), and its special codes: don't know (kept as its own answer by default, because "Unsure
about ..." is a finding), refused and other missing codes. The file format is documented in
``docs/formats.md``; :meth:`Codebook.check_data` lists every violation of a data file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from segment._files import atomic_write_text, load_yaml, schema_problems
from segment.exceptions import CodebookError, DataError, Problem

from ._codebook_yaml import _build_item, _index_in, _item_to_yaml, _key_in
from .cells import as_float
from .check import check_frame
from .items import ATTITUDE_DOMAINS, DOMAINS, Item, Level

__all__ = [
    "ATTITUDE_DOMAINS",
    "DOMAINS",
    "Codebook",
    "Item",
    "Level",
]


@dataclass(frozen=True)
class Codebook:
    """A poll's codebook. Build with :meth:`load` or :meth:`from_dict` (both validate)."""

    items: tuple[Item, ...]
    id: str | None = None
    weight: str | None = None
    title: str | None = None
    synthetic: bool = False
    note: str | None = None
    source: str | None = None
    languages: tuple[str, ...] = ("en",)
    design: Mapping[str, str | None] = field(default_factory=dict)
    dont_know_policy: str = "keep"
    refused_policy: str = "missing"
    scales: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    path: str | None = field(default=None, compare=False)

    # ------------------------------------------------------------------ access
    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, column: object) -> bool:
        return any(it.column == column for it in self.items)

    def __getitem__(self, column: str) -> Item:
        for it in self.items:
            if it.column == column:
                return it
        raise KeyError(f"codebook has no item {column!r}")

    # ------------------------------------------------------------------ design
    @property
    def strata(self) -> str | None:
        """Stratum column of the sampling design (``design: strata:``), or None."""
        return self.design.get("strata")

    @property
    def psu(self) -> str | None:
        """Primary sampling unit (cluster) column (``design: psu:``), or None."""
        return self.design.get("psu")

    @property
    def fpc(self) -> str | None:
        """Finite population correction column (``design: fpc:``), or None."""
        return self.design.get("fpc")

    @property
    def lonely_psu(self) -> str:
        """What the variance does with a single-PSU stratum (``fail`` unless the codebook says)."""
        return self.design.get("lonely_psu") or "fail"

    @property
    def nest(self) -> bool:
        """Whether PSU labels restart in each stratum (``design: nest:``, default false)."""
        return bool(self.design.get("nest", False))

    @property
    def has_design(self) -> bool:
        """Whether the codebook declares strata, PSUs or an fpc (a design-based variance)."""
        return any(getattr(self, role) is not None for role in ("strata", "psu", "fpc"))

    @property
    def design_columns(self) -> dict[str, str]:
        """Column of each sampling-design role the codebook declares (strata, psu, fpc)."""
        return {
            role: col
            for role, col in (("strata", self.strata), ("psu", self.psu), ("fpc", self.fpc))
            if col is not None
        }

    @property
    def columns(self) -> list[str]:
        """Item columns, in codebook order."""
        return [it.column for it in self.items]

    @property
    def attitude_items(self) -> list[Item]:
        """Items in attitude domains (the segmentation inputs)."""
        return [it for it in self.items if it.is_attitude]

    @property
    def demographic_items(self) -> list[Item]:
        return [it for it in self.items if it.domain == "demographics"]

    def by_domain(self) -> dict[str, list[Item]]:
        """Items grouped by domain, in :data:`DOMAINS` order (empty domains left out)."""
        out: dict[str, list[Item]] = {}
        for dom in DOMAINS:
            its = [it for it in self.items if it.domain == dom]
            if its:
                out[dom] = its
        return out

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | os.PathLike) -> Codebook:
        """Read and validate a codebook YAML file.

        Raises
        ------
        CodebookError
            Listing every problem found (location in the file, value, expected).
        """
        doc = load_yaml(path, f"codebook {path}", CodebookError)
        return cls.from_dict(doc, file=str(path))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], file: str = "<codebook>") -> Codebook:
        """Build a codebook from its YAML mapping, validating structure and consistency."""
        problems = schema_problems(dict(doc), "codebook.schema.json", file)
        # Structural problems inside one item or one scale do not stop the consistency checks
        # of the others, so that one error lists everything; anything else does.
        broken_items = {_index_in(p.where, "items") for p in problems} - {None}
        broken_scales = {_key_in(p.where, "scales") for p in problems} - {None}
        if any(
            _index_in(p.where, "items") is None and _key_in(p.where, "scales") is None
            for p in problems
        ):
            raise CodebookError(f"codebook {file}", problems)
        languages = tuple(doc.get("languages", ["en"]))
        if "en" not in languages:
            problems.append(Problem(file, "languages", "must include 'en'", value=list(languages)))
        scales = {
            name: dict(sc)
            for name, sc in (doc.get("scales") or {}).items()
            if name not in broken_scales
        }
        items = []
        for i, raw in enumerate(doc["items"]):
            if i in broken_items or raw.get("scale") in broken_scales:
                continue
            where = f"items[{i}]({raw['column']})"
            item, found = _build_item(raw, scales, languages, file, where)
            problems.extend(found)
            if item is not None:
                items.append(item)
        seen: dict[str, int] = {}
        for i, raw in enumerate(doc["items"]):
            col = raw.get("column") if isinstance(raw, Mapping) else None
            if not isinstance(col, str):
                continue
            if col in seen:
                problems.append(
                    Problem(
                        file, f"items[{i}].column", f"duplicate of items[{seen[col]}]", value=col
                    )
                )
            seen.setdefault(col, i)
        for key in ("id", "weight"):
            col = doc.get(key)
            if col is not None and col in seen:
                problems.append(
                    Problem(file, key, f"the {key} column cannot also be an item", value=col)
                )
        if doc.get("id") is not None and doc.get("id") == doc.get("weight"):
            problems.append(Problem(file, "weight", "same column as id", value=doc.get("weight")))
        design = doc.get("design") or {}
        roles = [r for r in ("strata", "psu", "fpc") if design.get(r) is not None]
        for i, role in enumerate(roles):
            col = design[role]
            for other in roles[:i]:
                if design[other] == col:
                    problems.append(
                        Problem(file, f"design.{role}", f"same column as design.{other}", value=col)
                    )
            if doc.get("weight") is not None and doc.get("weight") == col:
                problems.append(
                    Problem(
                        file,
                        f"design.{role}",
                        f"the {role} column cannot also be the weight column",
                        value=col,
                    )
                )
        if problems:
            raise CodebookError(f"codebook {file}", problems)
        return cls(
            items=tuple(items),
            id=doc.get("id"),
            weight=doc.get("weight"),
            title=doc.get("title"),
            synthetic=bool(doc.get("synthetic", False)),
            note=doc.get("note"),
            source=doc.get("source"),
            languages=languages,
            design=dict(doc.get("design") or {}),
            dont_know_policy=doc.get("dont_know", "keep"),
            refused_policy=doc.get("refused", "missing"),
            scales=scales,
            path=file,
        )

    # ------------------------------------------------------------------ writing
    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping of this codebook (named scales kept, overrides inlined)."""
        doc: dict[str, Any] = {"schema": "segment.codebook/1"}
        for key, value in (
            ("title", self.title),
            ("synthetic", self.synthetic or None),
            ("note", self.note),
            ("source", self.source),
        ):
            if value is not None:
                doc[key] = value
        doc["languages"] = list(self.languages)
        doc["id"] = self.id
        doc["weight"] = self.weight
        if self.design:
            doc["design"] = dict(self.design)
        doc["dont_know"] = self.dont_know_policy
        doc["refused"] = self.refused_policy
        if self.scales:
            doc["scales"] = {name: dict(sc) for name, sc in self.scales.items()}
        doc["items"] = [_item_to_yaml(it, self.scales) for it in self.items]
        return doc

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    def save(self, path: str | Path) -> None:
        """Write the codebook as YAML, atomically."""
        atomic_write_text(path, self.to_yaml())

    # ------------------------------------------------------------------ data
    def check_data(self, frame: pd.DataFrame, file: str = "<data>") -> list[Problem]:
        """Every violation of this codebook in ``frame`` (empty list when clean).

        Checks that every codebook column is present; ids are present and unique; weights are
        positive finite numbers; categorical answers are integer codes of the item (levels, don't
        know, refused or missing codes) or blank; numeric answers lie in ``[min, max]``; the
        sampling design's strata, PSU and fpc columns are complete and consistent (see
        :func:`segment.survey.design_columns.check_design`: a PSU in two strata, an fpc varying
        within a stratum, a stratum with a single PSU unless ``design: lonely_psu:`` says
        otherwise).
        """
        return check_frame(
            frame,
            self.items,
            file=file,
            id_column=self.id,
            weight_column=self.weight,
            design_columns=self.design_columns,
            lonely_psu=self.lonely_psu,
            nest=self.nest,
        )

    def validate(self, frame: pd.DataFrame, file: str = "<data>") -> pd.DataFrame:
        """Check ``frame`` and return it with every codebook column as numbers.

        Item, weight and fpc columns become float64 (codes; blank cells NaN); the id, strata
        and PSU columns and ``text`` items are left as they are; other columns are kept unchanged.

        Raises
        ------
        DataError
            Listing every violation (see :meth:`check_data`).
        """
        problems = self.check_data(frame, file)
        if problems:
            raise DataError(f"data file {file}", problems)
        out = frame.copy()
        numeric_cols = [it.column for it in self.items if it.type != "text"]
        if self.weight is not None:
            numeric_cols.append(self.weight)
        if self.fpc is not None:
            numeric_cols.append(self.fpc)
        for col in numeric_cols:
            out[col] = as_float(out[col])[0]
        return out

    def model_codes(self, frame: pd.DataFrame, items: Iterable[str] | None = None) -> pd.DataFrame:
        """Answer codes ready for a segmentation model, from a validated frame.

        Refused and missing codes become NaN; don't-know codes stay as answers unless the
        codebook says ``dont_know: missing`` (refused stays unless ``refused: missing``, the
        default).
        """
        cols = list(items) if items is not None else [it.column for it in self.attitude_items]
        out = {}
        for col in cols:
            it = self[col]
            values = as_float(frame[col])[0]
            drop = list(it.missing)
            if self.dont_know_policy == "missing":
                drop += list(it.dont_know_codes)
            if self.refused_policy == "missing":
                drop += list(it.refused_codes)
            values[np.isin(values, drop)] = np.nan
            out[col] = values
        return pd.DataFrame(out, index=frame.index)


# ---------------------------------------------------------------------- helpers
