"""`segment describe`: a survey checked against its codebook and summarised."""

from __future__ import annotations

from pathlib import Path

import click

from segment._escape import terminal_text
from segment.resources import bundled_path

from ._common import (
    BUNDLED_CODEBOOK,
    BUNDLED_DATA,
    CODEBOOK,
    ENCODING,
    SYNTHETIC_BANNER,
    Table,
    cli,
    out,
    say,
)


@cli.command()
@click.argument("data", required=False, type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@ENCODING
def describe(data: Path | None, codebook_path: Path | None, encoding: str) -> None:
    """Validate a survey against its codebook and summarise it (default: the bundled one).

    Prints the weights' design effect, don't-know and missing shares by domain and the
    weighted composition, suppressing cells under 30 respondents.
    """
    from segment.survey.read import read_survey
    from segment.survey.summary import summarise_survey

    if data is None:
        data = bundled_path("data", BUNDLED_DATA)
        codebook_path = codebook_path or bundled_path("data", BUNDLED_CODEBOOK)
    frame, codebook = read_survey(data, codebook_path, encoding=encoding)
    _print_summary(summarise_survey(frame, codebook), data)


def _print_summary(s, data: Path) -> None:
    out.rule(f"[bold]{terminal_text(s.title)}")
    if s.synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_BANNER}")
    say(out, f"File: {data}")
    out.print(f"Valid against its codebook: {s.n:,} respondents.")
    if s.weighted:
        out.print(
            f"Weights: design effect {s.design_effect:.2f} (Kish), "
            f"effective sample size {s.effective_n:,.0f}."
        )
    table = Table(title="Attitude items by domain (weighted)")
    for col in ("domain", "items", "don't know", "missing"):
        table.add_column(col, justify="left" if col == "domain" else "right")
    for row in s.domains.itertuples():
        table.add_row(row.domain, str(row.items), f"{row.dont_know:.1%}", f"{row.missing:.1%}")
    out.print(table)
    comp = Table(
        title=f"Composition (weighted; cells under {s.min_cell} respondents suppressed, and "
        "cells that would reveal them withheld)"
    )
    for col in ("variable", "category", "n", "share"):
        comp.add_column(col, justify="left" if col in ("variable", "category") else "right")
    last = None
    for row in s.composition.itertuples():
        name = row.variable if row.variable != last else ""
        last = row.variable
        if row.withheld:
            comp.add_row(name, row.category, "–", "withheld")
        elif row.suppressed:
            comp.add_row(name, row.category, "<" + str(s.min_cell), "suppressed")
        else:
            comp.add_row(name, row.category, f"{int(row.n):,}", f"{row.share:.1%}")
    out.print(comp)
