"""`segment codebook infer` and `segment codebook check`: draft a codebook, check a file against
one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from segment._util import json_text
from segment.survey.codebook import Codebook
from segment.survey.tables import read_table

from ._common import ENCODING, FORCE, _refuse_existing, cli, err


@cli.group()
def codebook() -> None:
    """Draft and check codebooks."""


@codebook.command("infer")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Codebook YAML to write.",
)
@ENCODING
@FORCE
def codebook_infer(data: Path, output: Path, encoding: str, force: bool) -> None:
    """Draft a codebook from DATA (CSV, Parquet, SPSS .sav, Stata .dta)."""
    from segment.survey.draft import infer_codebook

    _refuse_existing([output], force)
    frame, meta = read_table(data, encoding=encoding)
    cb = infer_codebook(frame, meta, title=data.name)
    cb.save(output)
    roles = f"id column: {cb.id or 'none found'}; weight column: {cb.weight or 'none found'}"
    err.print(
        f"Wrote {output}: {len(cb)} items ({roles}). Review domains, types and special codes."
    )


@codebook.command("check")
@click.argument(
    "codebook_path", metavar="CODEBOOK", type=click.Path(dir_okay=False, path_type=Path)
)
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@ENCODING
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def codebook_check(codebook_path: Path, data: Path, encoding: str, fmt: str) -> None:
    """List every violation of CODEBOOK in DATA. Exit 0 when clean, 2 otherwise."""
    cb = Codebook.load(codebook_path)
    frame, _ = read_table(data, encoding=encoding)
    problems = cb.check_data(frame, file=str(data))
    if fmt == "json":
        click.echo(
            json_text(
                {
                    "file": str(data),
                    "codebook": str(codebook_path),
                    "rows": len(frame),
                    "problems": [p.to_dict() for p in problems],
                }
            )
        )
    elif problems:
        click.echo(
            f"{data}: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
            f"against {codebook_path}"
        )
        for p in problems:
            click.echo(f"  - {p}")
    else:
        click.echo(f"{data}: OK against {codebook_path} ({len(frame):,} rows, {len(cb)} items)")
    if problems:
        sys.exit(2)
