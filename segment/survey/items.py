"""Items of a codebook: answer levels and the fully resolved item (scale fields merged in)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ATTITUDE_DOMAINS", "DOMAINS", "Item", "Level"]

#: Domains of the 2020 study's profile cards, in print order, plus ``other``.
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
