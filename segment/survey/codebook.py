"""The codebook: what each column of a poll's respondent file means.

A codebook names the respondent id and weight columns (and, optionally, the sampling design's
strata, PSU and fpc columns), declares its domains (the headings its items are grouped under,
in print order) and describes every item: its question, domain, role (``segmentation``: the
attitude battery the model uses; ``profile``: variables that describe the segments; ``ignored``),
answer scale (ordered levels with labels, which end means
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
from segment._util import duplicates
from segment.exceptions import CodebookError, DataError, Problem

from ._codebook_yaml import _build_item, _domains, _index_in, _item_to_yaml, _key_in
from .cells import item_codes
from .check import check_frame
from .items import MAX_ITEMS, ROLES, Domain, Item, Level, default_role, domain_label

__all__ = ["ROLES", "Codebook", "Domain", "Item", "Level"]


@dataclass(frozen=True)
class Codebook:
    """A poll's codebook. Build with :meth:`load` or :meth:`from_dict` (both validate)."""

    items: tuple[Item, ...]
    id: str | tuple[str, ...] | None = None
    weight: str | None = None
    title: str | None = None
    synthetic: bool = False
    note: str | None = None
    source: str | None = None
    languages: tuple[str, ...] = ("en",)
    design: Mapping[str, str | None] = field(default_factory=dict)
    dont_know_policy: str = "keep"
    refused_policy: str = "missing"
    #: Cell texts that mean a blank cell, e.g. ``NA`` in files written by R's ``write.csv``.
    missing_text: tuple[str, ...] = ()
    scales: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    domains: tuple[Domain, ...] = ()
    typology: str | None = None
    population: str | None = None
    path: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # domains the items use but the codebook does not declare (codebooks written before
        # domains were declared, or built in code) get a heading from their name
        declared = {d.name for d in self.domains}
        extra: list[Domain] = []
        for it in self.items:
            if it.domain not in declared:
                declared.add(it.domain)
                extra.append(Domain(it.domain, domain_label(it.domain), default_role(it.domain)))
        if extra:
            object.__setattr__(self, "domains", (*self.domains, *extra))

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
    def id_columns(self) -> tuple[str, ...]:
        """The respondent id column, or the columns of a composite id (``id: [year, id]``)."""
        if self.id is None:
            return ()
        return (self.id,) if isinstance(self.id, str) else tuple(self.id)

    @property
    def columns(self) -> list[str]:
        """Item columns, in codebook order."""
        return [it.column for it in self.items]

    @property
    def segmentation_items(self) -> list[Item]:
        """Items with ``role: segmentation``: the battery the model segments on."""
        return [it for it in self.items if it.is_segmentation]

    @property
    def attitude_items(self) -> list[Item]:
        """Same as :attr:`segmentation_items` (the segmentation inputs)."""
        return self.segmentation_items

    @property
    def profile_items(self) -> list[Item]:
        """Items with ``role: profile``: demographics and other variables describing segments."""
        return [it for it in self.items if it.is_profile]

    @property
    def demographic_items(self) -> list[Item]:
        """Same as :attr:`profile_items`."""
        return self.profile_items

    def domain(self, name: str) -> Domain:
        """The domain called ``name`` (KeyError if no item or declaration uses it)."""
        for d in self.domains:
            if d.name == name:
                return d
        raise KeyError(f"codebook has no domain {name!r}")

    @property
    def domain_titles(self) -> dict[str, str]:
        """Heading of each domain, in the codebook's print order."""
        return {d.name: d.label for d in self.domains}

    def by_domain(self) -> dict[str, list[Item]]:
        """Items grouped by domain, in the codebook's domain order (empty domains left out)."""
        out: dict[str, list[Item]] = {}
        for dom in self.domains:
            its = [it for it in self.items if it.domain == dom.name]
            if its:
                out[dom.name] = its
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
        n_items = len(doc.get("items") or ())
        if n_items > MAX_ITEMS:
            raise CodebookError(
                f"codebook {file}",
                [
                    Problem(
                        file,
                        "items",
                        f"{n_items:,} items; expected at most {MAX_ITEMS:,} (docs/formats.md, "
                        "Limits)",
                    )
                ],
            )
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
        domains, found = _domains(doc, file)
        problems.extend(found)
        items = []
        for i, raw in enumerate(doc["items"]):
            if i in broken_items or raw.get("scale") in broken_scales:
                continue
            where = f"items[{i}]({raw['column']})"
            item, found = _build_item(raw, scales, languages, file, where, domains)
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
        id_cols = doc.get("id")
        id_cols = [id_cols] if isinstance(id_cols, str) else list(id_cols or [])
        for key, cols in (("id", id_cols), ("weight", [doc.get("weight")])):
            for col in cols:
                if col is not None and col in seen:
                    problems.append(
                        Problem(file, key, f"the {key} column cannot also be an item", value=col)
                    )
        for col in duplicates(id_cols):
            problems.append(Problem(file, "id", "column listed twice in a composite id", value=col))
        if doc.get("weight") is not None and doc.get("weight") in id_cols:
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
        raw_id = doc.get("id")
        return cls(
            items=tuple(items),
            id=raw_id if raw_id is None or isinstance(raw_id, str) else tuple(raw_id),
            weight=doc.get("weight"),
            title=doc.get("title"),
            synthetic=bool(doc.get("synthetic", False)),
            note=doc.get("note"),
            source=doc.get("source"),
            languages=languages,
            design=dict(doc.get("design") or {}),
            dont_know_policy=doc.get("dont_know", "keep"),
            missing_text=tuple(doc.get("missing_text") or ()),
            refused_policy=doc.get("refused", "missing"),
            scales=scales,
            domains=tuple((domains or {}).values()),
            typology=doc.get("typology"),
            population=doc.get("population"),
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
            ("typology", self.typology),
            ("population", self.population),
        ):
            if value is not None:
                doc[key] = value
        doc["languages"] = list(self.languages)
        doc["id"] = self.id if self.id is None or isinstance(self.id, str) else list(self.id)
        doc["weight"] = self.weight
        if self.design:
            doc["design"] = dict(self.design)
        doc["dont_know"] = self.dont_know_policy
        doc["refused"] = self.refused_policy
        if self.missing_text:
            doc["missing_text"] = list(self.missing_text)
        doc["domains"] = [d.to_yaml() for d in self.domains]
        if self.scales:
            doc["scales"] = {name: dict(sc) for name, sc in self.scales.items()}
        roles = {d.name: d.role for d in self.domains}
        doc["items"] = [_item_to_yaml(it, self.scales, roles) for it in self.items]
        return doc

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    def save(self, path: str | Path) -> None:
        """Write the codebook as YAML, atomically."""
        atomic_write_text(path, self.to_yaml())

    # ------------------------------------------------------------------ data
    def blank_missing_text(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with cells of the codebook's columns that read as ``missing_text`` blanked.

        The input frame is not changed; without ``missing_text`` it is returned as it is.
        """
        if not self.missing_text:
            return frame
        marks = {t.strip() for t in self.missing_text}
        columns = [
            c
            for c in (*self.columns, self.weight, *self.design_columns.values())
            if c is not None and c in frame.columns
        ]
        out = frame.copy()
        for col in dict.fromkeys(columns):
            s = out[col]
            if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
                hit = s.astype("string").str.strip().isin(marks).fillna(False).to_numpy(bool)
                if hit.any():
                    out[col] = s.mask(hit)
        return out

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
            self.blank_missing_text(frame),
            self.items,
            file=file,
            id_column=self.id_columns or None,
            weight_column=self.weight,
            design_columns=self.design_columns,
            lonely_psu=self.lonely_psu,
            nest=self.nest,
        )

    def validate(self, frame: pd.DataFrame, file: str = "<data>") -> pd.DataFrame:
        """Check ``frame`` and return it with every codebook column as numbers.

        Item, weight and fpc columns become float64 (codes; blank cells NaN; answer texts
        mapped to their codes, see :meth:`Item.text_codes`); the id, strata and PSU columns and
        ``text`` items are left as they are; other columns are kept unchanged.

        Raises
        ------
        DataError
            Listing every violation (see :meth:`check_data`).
        """
        problems = self.check_data(frame, file)
        if problems:
            raise DataError(f"data file {file}", problems)
        out = self.blank_missing_text(frame).copy()
        for it in self.items:
            if it.type != "text":
                out[it.column] = item_codes(out[it.column], it)[0]
        for col in (self.weight, self.fpc):
            if col is not None:
                out[col] = item_codes(out[col])[0]
        return out

    def model_codes(self, frame: pd.DataFrame, items: Iterable[str] | None = None) -> pd.DataFrame:
        """Answer codes ready for a segmentation model, from a validated frame.

        Refused and missing codes become NaN; don't-know codes stay as answers unless the
        codebook says ``dont_know: missing`` (refused stays unless ``refused: missing``, the
        default).
        """
        cols = list(items) if items is not None else [it.column for it in self.segmentation_items]
        out = {}
        for col in cols:
            it = self[col]
            values = item_codes(frame[col], it)[0]
            drop = list(it.missing)
            if self.dont_know_policy == "missing":
                drop += list(it.dont_know_codes)
            if self.refused_policy == "missing":
                drop += list(it.refused_codes)
            values[np.isin(values, drop)] = np.nan
            out[col] = values
        return pd.DataFrame(out, index=frame.index)


# ---------------------------------------------------------------------- helpers
