"""`segment codebook infer` and `segment codebook check`: draft a codebook, check a file against
one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import ENCODING, FORCE, cli, echo, echo_json, err, guard_file, say


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
    """Draft a codebook from DATA (CSV, Parquet, SPSS .sav, Stata .dta).

    The draft names the id, weight and design columns, gives every column a role
    (segmentation, profile, ignored) and a domain, and says in comments what it guessed and why.
    """
    from segment._files import atomic_write_text
    from segment.survey.draft import draft_codebook
    from segment.survey.tables import read_table

    output = guard_file(output, [data], force)
    frame, meta = read_table(data, encoding=encoding)
    draft = draft_codebook(frame, meta, title=data.name)
    atomic_write_text(output, draft.to_yaml())
    cb = draft.codebook
    ids = cb.id if isinstance(cb.id, str) or cb.id is None else f"[{', '.join(cb.id)}]"
    roles = f"id: {ids or 'none found'}; weight: {cb.weight or 'none found'}"
    seg = [it.column for it in cb.segmentation_items]
    say(err, f"Wrote {output}: {len(cb)} items ({roles}).")
    say(err, f"Segmentation items ({len(seg)}): {', '.join(seg) or 'none'}.")
    err.print("Review the comments in the file: they say what was guessed and why.")


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
    from segment.survey.codebook import Codebook
    from segment.survey.tables import read_table

    cb = Codebook.load(codebook_path)
    frame, _ = read_table(data, encoding=encoding)
    problems = cb.check_data(frame, file=str(data))
    if fmt == "json":
        echo_json(
            {
                "file": str(data),
                "codebook": str(codebook_path),
                "rows": len(frame),
                "problems": [p.to_dict() for p in problems],
            }
        )
    elif problems:
        echo(
            f"{data}: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
            f"against {codebook_path}"
        )
        for p in problems:
            echo(f"  - {p}")
    else:
        echo(f"{data}: OK against {codebook_path} ({len(frame):,} rows, {len(cb)} items)")
    if problems:
        sys.exit(2)
