"""Profile cards as Markdown (the layout of the 2020 ICPA/PaperLab cards) and as JSON-ready data."""

from __future__ import annotations

import math

from segment._escape import markdown_text

from .wording import ProfileCard

__all__ = ["cards_to_dicts", "cards_to_markdown"]


def _share(card: ProfileCard) -> str:
    if not _shown(card):
        return "Share withheld (it would reveal a segment of fewer respondents)"
    return f"{card.share:.0%} of the sample (95% CI {card.ci_low:.0%} to {card.ci_high:.0%})"


def _shown(card: ProfileCard) -> bool:
    """Whether the card's share is published (not suppressed, not withheld as a complement)."""
    return not card.suppressed and math.isfinite(card.share)


def cards_to_markdown(
    cards: list[ProfileCard],
    *,
    explain: bool = False,
    min_cell: int = 30,
    synthetic: bool = False,
    title: str | None = None,
) -> str:
    """Profile cards as Markdown, one ``#`` section per segment, bullets under ``###`` domains.

    Every text from the codebook, typology or data (names, taglines, domain titles, bullets) is
    escaped with :func:`segment._escape.markdown_text`, so it prints as written and never as
    HTML or markup."""
    md = markdown_text
    lines: list[str] = []
    if title:
        lines += [f"# {md(title)}", ""]
    if synthetic:
        lines += ["> SYNTHETIC DATA: these respondents were generated, not interviewed.", ""]
    for card in cards:
        lines.append(f"{'##' if title else '#'} {md(card.name)}")
        lines.append("")
        if card.suppressed:
            lines += [f"Too small to describe: fewer than {min_cell} respondents.", ""]
            continue
        if card.tagline and card.tagline != card.name:
            lines += [f"*{md(card.tagline)}*", ""]
        if card.match.get("reference_tagline"):
            lines += [f"Reference study: *{md(card.match['reference_tagline'])}*", ""]
        meta = _share(card)
        if card.match.get("reference_name"):
            verb = "matches" if card.match.get("named") else "is closest to, but does not match,"
            meta += (
                f"; {verb} reference segment {md(card.match['reference_name'])} "
                f"(score {card.match['score']:.2f})"
            )
        lines += [meta, ""]
        groups = card.by_domain()
        for domain in groups:
            lines.append(f"{'####' if title else '###'} {md(card.domain_title(domain))}")
            lines.append("")
            for bullet in groups[domain]:
                text = f"- {md(bullet.text)}"
                if explain and bullet.numbers:
                    text += f" ({md(bullet.explain())})"
                lines.append(text)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def cards_to_dicts(cards: list[ProfileCard]) -> list[dict]:
    """Profile cards as plain data (``--format json``)."""
    out = []
    for card in cards:
        out.append(
            {
                "segment": card.segment,
                "name": card.name,
                "short_label": card.short_label,
                "tagline": card.tagline,
                "share": card.share if _shown(card) else None,
                "ci": [card.ci_low, card.ci_high] if _shown(card) else None,
                "suppressed": card.suppressed,
                "domains": {d: card.domain_title(d) for d in card.by_domain()},
                "match": {
                    k: (v.item() if hasattr(v, "item") else v) for k, v in card.match.items()
                },
                "bullets": [
                    {
                        "domain": b.domain,
                        "text": b.text,
                        "items": list(b.items),
                        "level": b.level,
                        "numbers": b.numbers,
                        "many_unsure": b.unsure,
                        "summary": b.summary,
                        "demographic": [
                            {"variable": v, "categories": list(c), "strength": st}
                            for v, c, st in b.says
                        ],
                    }
                    for b in card.bullets
                ],
            }
        )
    return out
