"""Profile cards as data: bullets with the numbers behind them, one card per segment."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Bullet", "ProfileCard"]


@dataclass(frozen=True)
class Bullet:
    """One printed line of a profile card, with the statistics behind it."""

    domain: str
    text: str
    items: tuple[str, ...]
    level: str
    numbers: dict = field(default_factory=dict)
    #: An "Overall, views ... as ..." bullet summarising its domain's items.
    summary: bool = False
    #: A position said together with a large don't-know share: "... (but many unsure)".
    unsure: bool = False
    #: Demographic statements: ``(variable, categories named, strength)``, strength ``more``
    #: (over-represented), ``mostly`` (a majority) or ``average`` (like the sample).
    says: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    def explain(self) -> str:
        parts = []
        for key, value in self.numbers.items():
            parts.append(f"{key} {value:.0%}" if isinstance(value, float) else f"{key} {value}")
        return "; ".join(parts)


@dataclass(frozen=True)
class ProfileCard:
    segment: int
    name: str
    tagline: str
    share: float
    ci_low: float
    ci_high: float
    bullets: tuple[Bullet, ...]
    suppressed: bool = False
    match: dict = field(default_factory=dict)
    #: Heading of each domain in the codebook's print order (from :attr:`Codebook.domain_titles`).
    domain_titles: dict = field(default_factory=dict)
    #: A label of a few words for charts, legends and column labels (the full name when empty).
    short_label: str = ""

    def __post_init__(self) -> None:
        if not self.short_label:
            object.__setattr__(self, "short_label", self.name)

    def by_domain(self) -> dict[str, list[Bullet]]:
        """Bullets grouped by domain, in the codebook's domain order."""
        groups: dict[str, list[Bullet]] = {}
        for b in self.bullets:
            groups.setdefault(b.domain, []).append(b)
        order = [d for d in self.domain_titles if d in groups]
        return {d: groups[d] for d in (*order, *(d for d in groups if d not in order))}

    def domain_title(self, domain: str) -> str:
        """Heading of ``domain`` on this card."""
        return self.domain_titles.get(domain) or domain
