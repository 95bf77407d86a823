"""`segment typology check`: validate a reference typology and its instrument."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import cli, echo


@cli.group()
def typology() -> None:
    """Check reference typologies."""


@typology.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def typology_check(path: Path) -> None:
    """Validate a typology file and the instrument it names. Exit 0 when valid, 2 otherwise."""
    from segment.cards.typology import Typology

    t = Typology.load(path)
    n_bullets = sum(len(s.bullets) for s in t.segments)
    echo(
        f"{path}: OK ({len(t.segments)} segments, {n_bullets} bullets, "
        f"{len(t.instrument.attitude_items)} attitude items in "
        f"{Path(t.instrument.path or '').name})"
    )
