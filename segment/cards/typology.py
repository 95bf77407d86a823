"""Reference typologies: named segments with taglines and profile bullets tied to items.

A typology (``profiles/kz2020.yaml`` encodes the six Kazakhstani segments of the 2020
ICPA/PaperLab segmentation) says,
for each segment, what every printed bullet claims about which items of an instrument (a
codebook), at which level of a small vocabulary ("very_high", "unsure", "divided", ...), and
which demographic groups the segment over-represents. The format is in ``docs/formats.md``;
:meth:`Typology.load` validates a file completely, so users can write their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from segment._files import load_yaml, schema_problems
from segment.exceptions import CodebookError, Problem, SegmentError, TypologyError
from segment.resources import bundled_path
from segment.survey.codebook import Codebook

__all__ = [
    "Claim",
    "ExpectedLevel",
    "LevelSpec",
    "Segment",
    "Typology",
    "typology_fits",
    "typology_for",
]

STRENGTHS = ("average", "slight", "moderate", "strong")


@dataclass(frozen=True)
class LevelSpec:
    """A word of the level vocabulary: where answers sit on the item's 0..1 "more" scale."""

    name: str
    position: float | None
    dont_know: float | None = None
    polarised: bool = False
    description: str | None = None


@dataclass(frozen=True)
class Claim:
    """One claim of a bullet: attitude items at a level, or a demographic tendency."""

    items: tuple[str, ...] = ()
    level: str | None = None
    also_unsure: bool = False
    variable: str | None = None
    categories: tuple[str, ...] = ()
    strength: str | None = None
    description: str | None = None

    @property
    def is_demographic(self) -> bool:
        return self.variable is not None


@dataclass(frozen=True)
class Bullet:
    domain: str
    text: str
    claims: tuple[Claim, ...]
    summary: bool = False


@dataclass(frozen=True)
class ExpectedLevel:
    """The level a typology expects for one item in one segment, after precedence."""

    item: str
    level: LevelSpec
    also_unsure: bool
    bullet: str

    def dont_know(self, base: float, unsure: float) -> float:
        """Expected don't-know share."""
        if self.also_unsure:
            return max(unsure, self.level.dont_know or 0.0)
        return self.level.dont_know if self.level.dont_know is not None else base


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    bullets: tuple[Bullet, ...]
    share: float | None = None
    tagline: str | None = None

    def bullets_by_domain(self) -> dict[str, list[Bullet]]:
        out: dict[str, list[Bullet]] = {}
        for b in self.bullets:
            out.setdefault(b.domain, []).append(b)
        return out

    @property
    def demographic_claims(self) -> list[Claim]:
        return [c for b in self.bullets for c in b.claims if c.is_demographic]


@dataclass(frozen=True)
class Typology:
    """A validated reference typology. Build with :meth:`load`."""

    name: str
    segments: tuple[Segment, ...]
    levels: Mapping[str, LevelSpec]
    instrument: Codebook
    title: str | None = None
    source: str | None = None
    base_dont_know: float = 0.04
    assumptions: tuple[str, ...] = ()
    domains: Mapping[str, str] = field(default_factory=dict)
    path: str | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: str | Path = "kz2020") -> Typology:
        """Read and validate a typology file, or a bundled one by name (``"kz2020"``).

        Raises
        ------
        TypologyError
            Listing every problem found, including items, levels and categories that the
            instrument does not define.
        """
        p = Path(path)
        if not p.suffix and not p.exists():
            p = bundled_path("profiles", f"{path}.yaml")
        doc = load_yaml(p, f"typology {p}", TypologyError)
        return cls.from_dict(doc, base_dir=p.parent, file=str(p))

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], base_dir: Path = Path("."), file: str = "<typology>"
    ) -> Typology:
        problems = schema_problems(dict(doc), "typology.schema.json", file)
        if problems:
            raise TypologyError(f"typology {file}", problems)
        inst_path = Path(base_dir) / doc["instrument"]
        try:
            instrument = Codebook.load(inst_path)
        except CodebookError as exc:
            raise TypologyError(
                f"typology {file}",
                [
                    Problem(file, "instrument", f"instrument codebook is invalid: {p}")
                    for p in exc.problems
                ],
            ) from None
        levels = {
            name: LevelSpec(
                name,
                spec["position"],
                spec.get("dont_know"),
                bool(spec.get("polarised", False)),
                spec.get("description"),
            )
            for name, spec in doc["levels"].items()
        }
        segments = []
        for s_idx, raw in enumerate(doc["segments"]):
            bullets = []
            for domain, blist in raw["bullets"].items():
                for b_idx, rb in enumerate(blist):
                    where = f"segments[{s_idx}]({raw['id']}).bullets.{domain}[{b_idx}]"
                    claims = tuple(_claim(c) for c in rb["claims"])
                    problems += _check_claims(claims, domain, instrument, levels, file, where)
                    bullets.append(
                        Bullet(domain, rb["text"], claims, bool(rb.get("summary", False)))
                    )
            segments.append(
                Segment(
                    raw["id"], raw["name"], tuple(bullets), raw.get("share"), raw.get("tagline")
                )
            )
        problems += _check_segments(doc["segments"], file)
        if problems:
            raise TypologyError(f"typology {file}", problems)
        return cls(
            name=doc["name"],
            segments=tuple(segments),
            levels=levels,
            instrument=instrument,
            title=doc.get("title"),
            source=doc.get("source"),
            base_dont_know=float(doc.get("base_dont_know", 0.04)),
            assumptions=tuple(doc.get("assumptions", [])),
            domains=dict(doc.get("domains") or {}),
            path=file,
        )

    # -------------------------------------------------------------- queries
    def __getitem__(self, segment_id: str) -> Segment:
        for s in self.segments:
            if s.id == segment_id:
                return s
        raise KeyError(f"typology {self.name!r} has no segment {segment_id!r}")

    @property
    def unsure_dont_know(self) -> float:
        """Don't-know share of the ``unsure`` level (used by ``also_unsure`` claims)."""
        spec = self.levels.get("unsure")
        return spec.dont_know if spec is not None and spec.dont_know is not None else 0.4

    def expected_levels(self, segment_id: str) -> dict[str, ExpectedLevel]:
        """Expected level of each attitude item the segment's bullets mention.

        When several claims cover one item, a non-summary bullet beats a summary bullet, then
        the claim naming fewer items wins, then the later claim.
        """
        seg = self[segment_id]
        ranked: dict[str, tuple[tuple[int, int, int], ExpectedLevel]] = {}
        order = 0
        for bullet in seg.bullets:
            for claim in bullet.claims:
                order += 1
                if claim.is_demographic:
                    continue
                key = (0 if bullet.summary else 1, -len(claim.items), order)
                for item in claim.items:
                    exp = ExpectedLevel(
                        item, self.levels[cast(str, claim.level)], claim.also_unsure, bullet.text
                    )
                    if item not in ranked or key > ranked[item][0]:
                        ranked[item] = (key, exp)
        return {item: exp for item, (_, exp) in ranked.items()}

    def expected_table(self) -> pd.DataFrame:
        """Segments x items table of expected level names (NaN where a segment is silent)."""
        rows = {
            s.id: {i: e.level.name for i, e in self.expected_levels(s.id).items()}
            for s in self.segments
        }
        cols = [it.column for it in self.instrument.attitude_items]
        return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=cols)


def _claim(raw: Mapping[str, Any]) -> Claim:
    return Claim(
        items=tuple(raw.get("items", ())),
        level=raw.get("level"),
        also_unsure=bool(raw.get("also_unsure", False)),
        variable=raw.get("variable"),
        categories=tuple(raw.get("categories", ())),
        strength=raw.get("strength"),
        description=raw.get("description"),
    )


def _check_claims(
    claims: tuple[Claim, ...],
    domain: str,
    instrument: Codebook,
    levels: Mapping[str, LevelSpec],
    file: str,
    where: str,
) -> list[Problem]:
    problems = []
    for c_idx, claim in enumerate(claims):
        at = f"{where}.claims[{c_idx}]"
        if claim.is_demographic:
            if claim.variable not in instrument:
                problems.append(
                    Problem(file, at, "no such variable in the instrument", value=claim.variable)
                )
                continue
            var = instrument[cast(str, claim.variable)]  # is_demographic: a variable
            if var.domain != "demographics":
                problems.append(
                    Problem(
                        file,
                        at,
                        f"variable is in domain {var.domain!r}, expected 'demographics'",
                        value=claim.variable,
                    )
                )
            known = [lv.name for lv in var.levels if lv.name] + [b[2] for b in var.bands]
            for cat in claim.categories:
                if cat not in known:
                    problems.append(
                        Problem(
                            file,
                            at,
                            f"not a category of {claim.variable!r} (known: {', '.join(known)})",
                            value=cat,
                        )
                    )
            if claim.strength != "average" and not claim.categories:
                problems.append(Problem(file, at, f"strength {claim.strength!r} needs categories"))
            continue
        if claim.level not in levels:
            problems.append(
                Problem(
                    file,
                    at,
                    f"level not in the vocabulary ({', '.join(levels)})",
                    value=claim.level,
                )
            )
        for item in claim.items:
            if item not in instrument:
                problems.append(Problem(file, at, "no such item in the instrument", value=item))
            elif not instrument[item].is_attitude:
                problems.append(Problem(file, at, "item is not an attitude item", value=item))
            elif instrument[item].type != "ordinal":
                problems.append(Problem(file, at, "levels need an ordinal item", value=item))
    return problems


def _check_segments(raw_segments: list[Mapping[str, Any]], file: str) -> list[Problem]:
    problems = []
    for key in ("id", "name"):
        seen: set[str] = set()
        for i, s in enumerate(raw_segments):
            if s[key] in seen:
                problems.append(
                    Problem(file, f"segments[{i}].{key}", "used by two segments", value=s[key])
                )
            seen.add(s[key])
    given = [s.get("share") for s in raw_segments]
    shares = [float(x) for x in given if x is not None]
    if len(shares) == len(given) and not math.isclose(sum(shares), 1.0, abs_tol=0.01):
        problems.append(
            Problem(
                file, "segments[*].share", "shares must add up to 1", value=round(sum(shares), 4)
            )
        )
    return problems


def typology_fits(codebook: Codebook, typology: Typology) -> bool:
    """Whether ``codebook`` asks the battery ``typology`` describes: at least half of the
    attitude items its segments' claims name are segmentation items of the codebook."""
    claimed = {
        item
        for seg in typology.segments
        for bullet in seg.bullets
        for claim in bullet.claims
        if not claim.is_demographic
        for item in claim.items
    }
    if not claimed:
        return False
    asked = {it.column for it in codebook.segmentation_items}
    return 2 * len(claimed & asked) >= len(claimed)


def _declared_typology(codebook: Codebook) -> Path | None:
    """The typology file the codebook's ``typology:`` key names (a bundled name such as
    ``kz2020``, or a file relative to the codebook), or None when it names none that exists."""
    key = (codebook.typology or "").strip()
    if not key:
        return None
    p = Path(key)
    if p.suffix:
        if not p.is_absolute() and codebook.path and not codebook.path.startswith("<"):
            p = Path(codebook.path).parent / p
        return p if p.is_file() else None
    try:
        return bundled_path("profiles", f"{key}.yaml")
    except SegmentError:
        return None


def typology_for(
    codebook: Codebook, requested: Typology | str | Path | None = "auto"
) -> Typology | None:
    """The reference typology to name a survey's segments against (``--typology``).

    - ``"auto"`` (the default of ``segment run``, ``fit`` and ``profile``): the typology the
      codebook's ``typology:`` key names (the bundled kz2020 codebooks say ``kz2020``), when it
      exists and :func:`typology_fits` the codebook; otherwise none. A survey of another
      battery is never named after a typology it was not asked.
    - ``"none"`` or None: no typology.
    - a name or a path: that typology (:meth:`Typology.load`), as the analyst asked.

    Returns
    -------
    Typology or None
    """
    if requested is None or isinstance(requested, Typology):
        return requested
    text = str(requested).strip()
    if text.lower() == "none":
        return None
    if text.lower() != "auto":
        return Typology.load(text)
    path = _declared_typology(codebook)
    if path is None:
        return None
    typology = Typology.load(path)
    return typology if typology_fits(codebook, typology) else None
