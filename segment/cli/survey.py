"""Commands on survey files: run, codebook, typology, synth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from ..codebook import Codebook
from ..io import read_survey, read_table
from ..resources import bundled_path
from ..summary import summarise_survey
from ..typology import Typology
from ._common import (
    BUNDLED_CODEBOOK,
    BUNDLED_DATA,
    CODEBOOK,
    ENCODING,
    FORCE,
    SYNTHETIC_BANNER,
    _refuse_existing,
    cli,
    err,
    out,
)


# ----------------------------------------------------------------------------- run
@cli.command()
@click.argument("data", required=False, type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@ENCODING
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def run(data: Path | None, codebook_path: Path | None, encoding: str, quiet: bool) -> None:
    """Run the main job (default: the bundled synthetic survey).

    For now: validate the survey against its codebook and print a summary of it.
    """
    if data is None:
        data = bundled_path("data", BUNDLED_DATA)
        codebook_path = codebook_path or bundled_path("data", BUNDLED_CODEBOOK)
    frame, codebook = read_survey(data, codebook_path, encoding=encoding)
    if quiet:
        return
    summary = summarise_survey(frame, codebook)
    _print_summary(summary, data)


def _print_summary(s, data: Path) -> None:
    out.rule(f"[bold]{s.title}")
    if s.synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_BANNER}")
    out.print(f"File: {data}")
    out.print(f"Valid against its codebook: {s.n:,} respondents.")
    if s.weighted:
        out.print(
            f"Weights: design effect {s.design_effect:.2f} (Kish), effective sample size {s.effective_n:,.0f}."
        )
    table = Table(title="Attitude items by domain (weighted)")
    for col in ("domain", "items", "don't know", "missing"):
        table.add_column(col, justify="left" if col == "domain" else "right")
    for row in s.domains.itertuples():
        table.add_row(row.domain, str(row.items), f"{row.dont_know:.1%}", f"{row.missing:.1%}")
    out.print(table)
    comp = Table(title=f"Composition (weighted; cells under {s.min_cell} respondents suppressed)")
    for col in ("variable", "category", "n", "share"):
        comp.add_column(col, justify="left" if col in ("variable", "category") else "right")
    last = None
    for row in s.composition.itertuples():
        name = row.variable if row.variable != last else ""
        last = row.variable
        if row.suppressed:
            comp.add_row(name, row.category, "<" + str(s.min_cell), "suppressed")
        else:
            comp.add_row(name, row.category, f"{int(row.n):,}", f"{row.share:.1%}")
    out.print(comp)


# ----------------------------------------------------------------------------- codebook
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
    from ..infer import infer_codebook

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
            json.dumps(
                {
                    "file": str(data),
                    "codebook": str(codebook_path),
                    "rows": len(frame),
                    "problems": [p.to_dict() for p in problems],
                },
                indent=2,
            )
        )
    elif problems:
        click.echo(
            f"{data}: {len(problems)} problem{'s' if len(problems) != 1 else ''} against {codebook_path}"
        )
        for p in problems:
            click.echo(f"  - {p}")
    else:
        click.echo(f"{data}: OK against {codebook_path} ({len(frame):,} rows, {len(cb)} items)")
    if problems:
        sys.exit(2)


# ----------------------------------------------------------------------------- typology
@cli.group()
def typology() -> None:
    """Check reference typologies."""


@typology.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def typology_check(path: Path) -> None:
    """Validate a typology file and the instrument it names. Exit 0 when valid, 2 otherwise."""
    t = Typology.load(path)
    n_bullets = sum(len(s.bullets) for s in t.segments)
    click.echo(
        f"{path}: OK ({len(t.segments)} segments, {n_bullets} bullets, "
        f"{len(t.instrument.attitude_items)} attitude items in {Path(t.instrument.path or '').name})"
    )


# ----------------------------------------------------------------------------- synth
def _parse_shares(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    shares = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        try:
            shares[key.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(
                f"expected SEGMENT=SHARE pairs, got {part!r}", param_hint="--shares"
            ) from None
        if not sep:
            raise click.BadParameter(
                f"expected SEGMENT=SHARE pairs, got {part!r}", param_hint="--shares"
            )
    return shares


@cli.command()
@click.option(
    "--typology",
    "typology_path",
    default="kz2020",
    show_default=True,
    help="Typology YAML, or the name of a bundled one.",
)
@click.option(
    "--n", "n", type=click.IntRange(min=1), default=1500, show_default=True, help="Respondents."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--shares",
    help="Segment shares replacing the typology's, e.g. angry_liberals=0.2,realists=0.1,...",
)
@click.option(
    "--spread",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Latent answer spread (default 0.11; larger = more overlap).",
)
@click.option("--stem", help="File name stem (default: <typology>_synthetic).")
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.",
)
@click.option("--force", is_flag=True, help="Replace existing files.")
def synth(
    typology_path: str,
    n: int,
    seed: int,
    shares: str | None,
    spread: float | None,
    stem: str | None,
    out_dir: Path,
    force: bool,
) -> None:
    """Generate a SYNTHETIC survey (data, codebook, truth) from a typology."""
    from ..synth import DEFAULT_SPREAD, generate_survey, write_survey

    t = Typology.load(typology_path)
    stem = stem or f"{t.name}_synthetic"
    targets = [
        out_dir / f"{stem}.csv",
        out_dir / f"{stem}_codebook.yaml",
        out_dir / f"{stem}_truth.csv",
    ]
    _refuse_existing(targets, force)
    survey = generate_survey(
        t, n, seed=seed, shares=_parse_shares(shares), spread=spread or DEFAULT_SPREAD
    )
    paths = write_survey(survey, out_dir, stem)
    err.print(
        f"Wrote SYNTHETIC survey: {paths['data']} ({n:,} respondents), {paths['codebook'].name}, {paths['truth'].name} (true segments; for tests only)."
    )


@cli.command("synth-listexp")
@click.option(
    "--n", "n", type=click.IntRange(min=20), default=400, show_default=True, help="Respondents."
)
@click.option("--seed", type=int, default=2022, show_default=True)
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.",
)
@FORCE
def synth_listexp(n: int, seed: int, out_dir: Path, force: bool) -> None:
    """Generate the SYNTHETIC list-experiment survey reproducing seed 001's Table 1."""
    from .._files import atomic_write_text
    from ..listexp_synth import generate_table1_survey

    targets = [out_dir / "kz2022_listexp.csv", out_dir / "kz2022_listexp_truth.csv"]
    _refuse_existing(targets, force)
    data, truth = generate_table1_survey(n, seed=seed)
    atomic_write_text(targets[0], data.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(targets[1], truth.to_csv(index=False, lineterminator="\n"))
    err.print(
        f"Wrote SYNTHETIC list experiment: {targets[0]} ({n:,} respondents), {targets[1].name} (true segments; for tests only).",
        markup=False,
    )
