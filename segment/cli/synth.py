"""`segment synth` and `segment synth-listexp`: SYNTHETIC surveys from a typology and from the
list-experiment memo."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (
    FORCE,
    MAX_SYNTHETIC_RESPONDENTS,
    SEED,
    FiniteFloatRange,
    cli,
    err,
    guard_file,
    say,
)


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
    "--n",
    "n",
    type=click.IntRange(min=1, max=MAX_SYNTHETIC_RESPONDENTS),
    default=1500,
    show_default=True,
    help="Respondents.",
)
@click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed.")
@click.option(
    "--shares",
    help="Segment shares replacing the typology's, e.g. angry_liberals=0.2,realists=0.1,...",
)
@click.option(
    "--spread",
    type=FiniteFloatRange(min=0, min_open=True),
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
    from segment.cards.typology import Typology
    from segment.synth.survey import DEFAULT_SPREAD, generate_survey, write_survey

    t = Typology.load(typology_path)
    stem = stem or f"{t.name}_synthetic"
    targets = [
        out_dir / f"{stem}.csv",
        out_dir / f"{stem}_codebook.yaml",
        out_dir / f"{stem}_truth.csv",
    ]
    targets = [guard_file(t, [typology_path], force) for t in targets]
    survey = generate_survey(
        t, n, seed=seed, shares=_parse_shares(shares), spread=spread or DEFAULT_SPREAD
    )
    paths = write_survey(survey, out_dir, stem)
    say(
        err,
        f"Wrote SYNTHETIC survey: {paths['data']} ({n:,} respondents), "
        f"{paths['codebook'].name}, {paths['truth'].name} (true segments; for tests only).",
    )


@cli.command("synth-listexp")
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=20, max=MAX_SYNTHETIC_RESPONDENTS),
    default=400,
    show_default=True,
    help="Respondents.",
)
@click.option("--seed", type=SEED, default=2022, show_default=True)
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
    """Generate the SYNTHETIC list-experiment survey reproducing Table 1 of Jones & Smyth (2022)."""
    from segment.synth.listexp import generate_table1_survey, write_table1_survey

    targets = [out_dir / "kz2022_listexp.csv", out_dir / "kz2022_listexp_truth.csv"]
    targets = [guard_file(t, [], force) for t in targets]
    data, truth = generate_table1_survey(n, seed=seed)
    write_table1_survey(data, truth, targets[0], targets[1])
    err.print(
        f"Wrote SYNTHETIC list experiment: {targets[0]} ({n:,} respondents), "
        f"{targets[1].name} (true segments; for tests only).",
        markup=False,
    )
