"""The codebook: what each column of a poll's respondent file means.

A codebook names the respondent id and weight columns and describes every item: its question,
domain (civic rights, trust, ...), answer scale (ordered levels with labels, which end means
"more"), and its special codes: don't know (kept as its own answer by default, because "Unsure
about ..." is a finding), refused and other missing codes. The file format is documented in
``docs/formats.md``; :meth:`Codebook.check_data` lists every violation of a data file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ._files import atomic_write_text, load_yaml, schema_problems
from ._util import duplicates, plain_number
from .exceptions import CodebookError, DataError, Problem
from .validate import as_float, check_frame

__all__ = [
    "ATTITUDE_DOMAINS",
    "DOMAINS",
    "Codebook",
    "Item",
    "Level",
]

#: Domains of the seed's profile cards, in print order, plus ``other``.
DOMAINS = (
    "civic_rights",
    "democracy",
    "trust",
    "demographics",
    "civic_sector",
    "governance",
    "external",
    "optimism",
    "other",
)
#: Domains whose items are attitudes (segmentation inputs).
ATTITUDE_DOMAINS = tuple(d for d in DOMAINS if d not in ("demographics", "other"))

_SCALE_FIELDS = (
    "type",
    "measures",
    "higher_means_more",
    "levels",
    "dont_know",
    "refused",
    "missing",
    "min",
    "max",
    "bands",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-+]*$")


@dataclass(frozen=True)
class Level:
    """One answer code with its label(s) and optional ``name`` slug."""

    code: int
    labels: Mapping[str, str]
    name: str | None = None
    short: str | None = None

    def label(self, lang: str = "en") -> str:
        """Label in ``lang``, falling back to English."""
        return self.labels.get(lang) or self.labels.get("en") or next(iter(self.labels.values()))

    def to_yaml(self) -> str | dict:
        if self.name is None and self.short is None and set(self.labels) == {"en"}:
            return self.labels["en"]
        out: dict[str, str] = {}
        if self.name is not None:
            out["name"] = self.name
        out.update(self.labels)
        if self.short is not None:
            out["short"] = self.short
        return out

    def phrase(self) -> str:
        """English phrase for profile text ("women"), else the lower-cased label."""
        return self.short or self.label().split(" (")[0].lower()


@dataclass(frozen=True)
class Item:
    """One column of the respondent file, fully resolved (scale fields merged in)."""

    column: str
    domain: str
    type: str = "ordinal"
    question: Mapping[str, str] = field(default_factory=dict)
    short: str | None = None
    measures: str | None = None
    higher_means_more: bool = True
    levels: tuple[Level, ...] = ()
    dont_know: tuple[Level, ...] = ()
    refused: tuple[Level, ...] = ()
    missing: tuple[float, ...] = ()
    min: float | None = None
    max: float | None = None
    bands: tuple[tuple[float, float, str], ...] = ()
    scale: str | None = None
    note: str | None = None
    say: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_categorical(self) -> bool:
        return self.type in ("ordinal", "nominal")

    @property
    def is_attitude(self) -> bool:
        return self.domain in ATTITUDE_DOMAINS

    @property
    def substantive_codes(self) -> np.ndarray:
        return np.array([lv.code for lv in self.levels], dtype=float)

    @property
    def dont_know_codes(self) -> np.ndarray:
        return np.array([lv.code for lv in self.dont_know], dtype=float)

    @property
    def refused_codes(self) -> np.ndarray:
        return np.array([lv.code for lv in self.refused], dtype=float)

    @property
    def valid_codes(self) -> np.ndarray:
        """Every code allowed in the data (blank cells are always allowed)."""
        codes = [lv.code for lv in (*self.levels, *self.dont_know, *self.refused)]
        return np.array(codes + list(self.missing), dtype=float)

    def text(self, lang: str = "en") -> str:
        """Question wording in ``lang`` (falls back to English, then the column name)."""
        return self.question.get(lang) or self.question.get("en") or self.column

    def label_of(self, code: float, lang: str = "en") -> str | None:
        for lv in (*self.levels, *self.dont_know, *self.refused):
            if lv.code == code:
                return lv.label(lang)
        return None

    def code_of(self, name: str) -> int:
        """The code whose level ``name`` slug is ``name``."""
        for lv in (*self.levels, *self.dont_know, *self.refused):
            if lv.name == name:
                return lv.code
        names = [lv.name for lv in self.levels if lv.name]
        raise KeyError(f"item {self.column!r} has no level named {name!r}; names: {names}")

    def position(self, codes: np.ndarray) -> np.ndarray:
        """Map substantive codes of an ordinal item to 0..1, where 1 is the "more" end.

        Codes that are not substantive levels map to NaN. The levels' order in the codebook is
        the scale order; positions are equally spaced.
        """
        codes = np.asarray(codes, dtype=float)
        subs = self.substantive_codes
        out = np.full(codes.shape, np.nan)
        if len(subs) < 2:
            return out
        ranks = np.linspace(0.0, 1.0, len(subs))
        if not self.higher_means_more:
            ranks = ranks[::-1]
        for code, rank in zip(subs, ranks, strict=True):
            out[codes == code] = rank
        return out

    def band_labels(self, values: np.ndarray) -> np.ndarray:
        """Band label of each numeric value (``None`` outside every band or missing)."""
        values = np.asarray(values, dtype=float)
        out = np.full(values.shape, None, dtype=object)
        for lo, hi, label in self.bands:
            out[(values >= lo) & (values <= hi)] = label
        return out


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
    def load(cls, path: str | Path) -> Codebook:
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
            col = raw.get("column")
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
        know, refused or missing codes) or blank; numeric answers lie in ``[min, max]``.
        """
        return check_frame(self, frame, file)

    def validate(self, frame: pd.DataFrame, file: str = "<data>") -> pd.DataFrame:
        """Check ``frame`` and return it with every codebook column as numbers.

        Item and weight columns become float64 (codes; blank cells NaN); the id column and
        ``text`` items are left as they are; other columns are kept unchanged.

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
def _index_in(where: str, key: str) -> int | None:
    """``3`` for a location like ``items[3](q1).scale`` when ``key`` is ``items``."""
    m = re.match(rf"^{key}\[(\d+)\]", where)
    return int(m.group(1)) if m else None


def _key_in(where: str, key: str) -> str | None:
    """``agree5`` for a location like ``scales.agree5.levels`` when ``key`` is ``scales``."""
    m = re.match(rf"^{key}\.([A-Za-z0-9_]+)", where)
    return m.group(1) if m else None


def _text(value: Any) -> tuple[dict[str, str], str | None, str | None]:
    """(labels by language, name slug, short English phrase) of a label."""
    if isinstance(value, str):
        return {"en": value}, None, None
    value = dict(value)
    name = value.pop("name", None)
    short = value.pop("short", None)
    return value, name, short


def _levels(
    codes: Mapping[Any, Any] | None, file: str, where: str, languages: tuple[str, ...]
) -> tuple[tuple[Level, ...], list[Problem]]:
    problems: list[Problem] = []
    out = []
    for code, raw in (codes or {}).items():
        labels, name, short = _text(raw)
        if name is not None and not _SLUG.match(name):
            problems.append(
                Problem(
                    file, f"{where}.{code}.name", "expected a lower_snake_case slug", value=name
                )
            )
        if "en" not in labels:
            problems.append(Problem(file, f"{where}.{code}", "label has no English ('en') text"))
        for lang in labels:
            if lang not in languages:
                problems.append(
                    Problem(
                        file,
                        f"{where}.{code}",
                        f"language not listed in `languages` {list(languages)}",
                        value=lang,
                    )
                )
        out.append(Level(code=int(code), labels=labels, name=name, short=short))
    return tuple(out), problems


def _build_item(
    raw: Mapping[str, Any],
    scales: Mapping[str, Mapping[str, Any]],
    languages: tuple[str, ...],
    file: str,
    where: str,
) -> tuple[Item | None, list[Problem]]:
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    scale_name = raw.get("scale")
    if scale_name is not None:
        if scale_name not in scales:
            known = ", ".join(sorted(scales)) or "none defined"
            problems.append(
                Problem(
                    file, f"{where}.scale", f"no such scale (defined: {known})", value=scale_name
                )
            )
            return None, problems
        fields.update(scales[scale_name])
    fields.update({k: raw[k] for k in _SCALE_FIELDS if k in raw})
    kind = fields.get("type", "ordinal")
    levels, p1 = _levels(fields.get("levels"), file, f"{where}.levels", languages)
    dk, p2 = _levels(fields.get("dont_know"), file, f"{where}.dont_know", languages)
    ref, p3 = _levels(fields.get("refused"), file, f"{where}.refused", languages)
    problems += p1 + p2 + p3
    if kind in ("ordinal", "nominal") and not levels:
        problems.append(Problem(file, f"{where}.levels", f"a {kind} item needs its answer levels"))
    if kind in ("numeric", "text") and levels:
        problems.append(Problem(file, f"{where}.levels", f"a {kind} item has no answer levels"))
    all_codes = [lv.code for lv in (*levels, *dk, *ref)] + [c for c in fields.get("missing", [])]
    for code in duplicates(all_codes):
        problems.append(
            Problem(
                file,
                where,
                "code used twice (levels, dont_know, refused and missing must not overlap)",
                value=code,
            )
        )
    names = [lv.name for lv in (*levels, *dk, *ref) if lv.name is not None]
    for name in duplicates(names):
        problems.append(Problem(file, where, "level name used twice", value=name))
    lo, hi = fields.get("min"), fields.get("max")
    if lo is not None and hi is not None and lo > hi:
        problems.append(Problem(file, f"{where}.min", f"min is above max ({hi})", value=lo))
    bands = tuple((float(a), float(b), str(c)) for a, b, c in fields.get("bands", []))
    for a, b, label in bands:
        if a > b:
            problems.append(
                Problem(
                    file, f"{where}.bands", f"band {label!r}: lower bound above upper", value=[a, b]
                )
            )
    for label in duplicates([b[2] for b in bands]):
        problems.append(Problem(file, f"{where}.bands", "band label used twice", value=label))
    question = _text(raw["question"])[0] if "question" in raw else {}
    if problems:
        return None, problems
    item = Item(
        column=raw["column"],
        domain=raw["domain"],
        type=kind,
        question=question,
        short=raw.get("short"),
        measures=fields.get("measures"),
        higher_means_more=bool(fields.get("higher_means_more", True)),
        levels=levels,
        dont_know=dk,
        refused=ref,
        missing=tuple(float(c) for c in fields.get("missing", [])),
        min=lo,
        max=hi,
        bands=bands,
        scale=scale_name,
        note=raw.get("note"),
        say=dict(raw.get("say") or {}),
    )
    return item, problems


def _item_yaml_fields(it: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"type": it.type}
    if it.measures is not None:
        out["measures"] = it.measures
    if it.type == "ordinal":
        out["higher_means_more"] = it.higher_means_more
    if it.levels:
        out["levels"] = {lv.code: lv.to_yaml() for lv in it.levels}
    if it.dont_know:
        out["dont_know"] = {lv.code: lv.to_yaml() for lv in it.dont_know}
    if it.refused:
        out["refused"] = {lv.code: lv.to_yaml() for lv in it.refused}
    if it.missing:
        out["missing"] = [int(c) if float(c).is_integer() else c for c in it.missing]
    if it.min is not None:
        out["min"] = it.min
    if it.max is not None:
        out["max"] = it.max
    if it.bands:
        out["bands"] = [[plain_number(a), plain_number(b), c] for a, b, c in it.bands]
    return out


def _unchecked_item(fields: Mapping[str, Any]) -> Item:
    """An item built from scale fields alone, without validation (for comparing fields)."""
    langs = ("en", "ru", "kk", "name")

    def lv(key: str) -> tuple[Level, ...]:
        return _levels(fields.get(key), "", "", langs)[0]

    return Item(
        column="_",
        domain="other",
        type=fields.get("type", "ordinal"),
        measures=fields.get("measures"),
        higher_means_more=bool(fields.get("higher_means_more", True)),
        levels=lv("levels"),
        dont_know=lv("dont_know"),
        refused=lv("refused"),
        missing=tuple(float(c) for c in fields.get("missing", [])),
        min=fields.get("min"),
        max=fields.get("max"),
        bands=tuple((float(a), float(b), str(c)) for a, b, c in fields.get("bands", [])),
    )


def _item_to_yaml(it: Item, scales: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"column": it.column}
    if it.question:
        q = dict(it.question)
        out["question"] = q["en"] if set(q) == {"en"} else q
    out["domain"] = it.domain
    if it.short is not None:
        out["short"] = it.short
    fields = _item_yaml_fields(it)
    if it.scale is not None:
        out["scale"] = it.scale
        scale_fields = _item_yaml_fields(_unchecked_item(scales.get(it.scale, {})))
        fields = {k: v for k, v in fields.items() if scale_fields.get(k) != v}
    out.update(fields)
    if it.say:
        out["say"] = dict(it.say)
    if it.note is not None:
        out["note"] = it.note
    return out
