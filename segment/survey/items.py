"""Items of a codebook: answer levels and the fully resolved item (scale fields merged in)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MAX_CODE",
    "MAX_ITEMS",
    "MAX_LEVELS",
    "ROLES",
    "Domain",
    "Item",
    "Level",
    "default_role",
    "domain_label",
]

#: Limits of a codebook (docs/formats.md, "Limits"), checked before anything is sized by them.
#: Largest answer code either side of zero: nine digits (survey codes such as CSES's 9999999 or
#: a 9-digit region code fit; a code of 10^9 or a 23-digit code is refused).
MAX_CODE = 999_999_999
#: Most answer codes of one item (levels, don't know and refused together).
MAX_LEVELS = 10_000
#: Most items in one codebook.
MAX_ITEMS = 20_000

#: What an item is for: the attitude battery the model segments on, variables that describe
#: the segments, or neither. (The id, weight and sampling-design columns are named at the top
#: of the codebook, not as items.)
ROLES = ("segmentation", "profile", "ignored")
#: Role of an item whose codebook declares no ``domains:`` and whose item says no ``role:``
#: (codebooks written before domains were declared): ``demographics`` and ``other`` describe,
#: every other domain is segmented on.
_LEGACY_PROFILE_DOMAINS = ("demographics", "other")

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


def default_role(domain: str) -> str:
    """Role of an item of ``domain`` in a codebook that declares neither domains nor roles."""
    return "profile" if domain in _LEGACY_PROFILE_DOMAINS else "segmentation"


def domain_label(name: str) -> str:
    """Heading of an undeclared domain, from its name ("public_spending": "Public spending")."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Domain:
    """A group of items printed under one heading (``domains:`` of a codebook).

    ``role`` is the default role of the domain's items; ``label`` the heading of card sections,
    chart bands and report text ("Civic Rights", "Government spending").
    """

    name: str
    label: str
    role: str = "segmentation"
    description: str | None = None

    def to_yaml(self) -> dict:
        out: dict = {"name": self.name, "label": self.label, "role": self.role}
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Level:
    """One answer code with its label(s) and optional ``name`` slug."""

    code: int
    labels: Mapping[str, str]
    name: str | None = None
    short: str | None = None
    value: str | None = None

    def label(self, lang: str = "en") -> str:
        """Label in ``lang``, falling back to English."""
        return self.labels.get(lang) or self.labels.get("en") or next(iter(self.labels.values()))

    def to_yaml(self) -> str | dict:
        if (
            self.name is None
            and self.short is None
            and self.value is None
            and set(self.labels) == {"en"}
        ):
            return self.labels["en"]
        out: dict[str, str] = {}
        if self.name is not None:
            out["name"] = self.name
        out.update(self.labels)
        if self.short is not None:
            out["short"] = self.short
        if self.value is not None:
            out["value"] = self.value
        return out

    def text_values(self) -> tuple[str, ...]:
        """Cell texts that mean this code: its ``value:``, else its English label."""
        return (self.value,) if self.value is not None else (self.label("en"),)

    def phrase(self) -> str:
        """English phrase for profile text ("women"), else the lower-cased label."""
        return self.short or self.label().split(" (")[0].lower()


@dataclass(frozen=True)
class Item:
    """One column of the respondent file, fully resolved (scale fields merged in)."""

    column: str
    domain: str
    type: str = "ordinal"
    role: str = "segmentation"
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
    #: A profile variable whose majority group a card always states ("Mostly Kazakhs").
    composition: bool = False

    @property
    def is_categorical(self) -> bool:
        return self.type in ("ordinal", "nominal")

    @property
    def is_attitude(self) -> bool:
        """Whether the model segments on this item (``role: segmentation``)."""
        return self.role == "segmentation"

    @property
    def is_segmentation(self) -> bool:
        """Whether the model segments on this item (``role: segmentation``)."""
        return self.role == "segmentation"

    @property
    def is_profile(self) -> bool:
        """Whether this item describes segments (``role: profile``: demographics and the like)."""
        return self.role == "profile"

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

    def text_codes(self) -> dict[str, int]:
        """Code of each answer text (case-folded, trimmed): how text cells become codes.

        A file exported from R or a spreadsheet may hold "Female" or "Strongly agree" where the
        codebook has codes; a cell matches the level whose ``value:`` (or, without one, English
        label) it equals, ignoring case and surrounding spaces.
        """
        out: dict[str, int] = {}
        for lv in (*self.levels, *self.dont_know, *self.refused):
            for text in lv.text_values():
                out.setdefault(text.strip().casefold(), lv.code)
        return out

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
