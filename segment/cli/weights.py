"""Commands on survey weights: ``segment weights rake``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import ENCODING, FORCE, SYNTHETIC_BANNER, FiniteFloatRange, cli, err, guard_file, out

if TYPE_CHECKING:
    import pandas as pd

    from segment.survey.codebook import Codebook
    from segment.weights.raking import Margins, RakingResult


def _parse_trim(text: str | None) -> tuple[float, float] | None:
    if text is None or text.strip().lower() == "none":
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(
            f"expected LO,HI (bounds relative to the mean weight), e.g. 0.3,3; got {text!r}",
            param_hint="--trim",
        ) from None
    if not (0 <= lo < 1 < hi) or math.isnan(lo) or math.isnan(hi):
        raise click.BadParameter(
            f"expected 0 <= LO < 1 < HI (HI may be inf), e.g. 0.3,3; got {text!r}",
            param_hint="--trim",
        )
    return lo, hi


@cli.group()
def weights() -> None:
    """Survey weights: rake to population margins (docs/raking.md)."""


@weights.command("rake")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--margins",
    "margins_spec",
    required=True,
    help="Margins YAML (docs/raking.md), or the name of a bundled one (kz_margins).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Weighted file to write: DATA with the new weight column (.csv, .tsv or .parquet).",
)
@click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Codebook of DATA: matches codes to the margins' category names and numeric items to "
    "their bands, and names the base weight column (default: values as written, weight 1).",
)
@click.option(
    "--base-weight",
    "base_weight",
    help="Column of base (design) weights, or 'none' for 1 "
    "(default: the codebook's weight column, else 1).",
)
@click.option(
    "--column",
    default="weight_raked",
    show_default=True,
    help="Name of the new weight column.",
)
@click.option(
    "--trim",
    "trim_text",
    metavar="LO,HI",
    help="Trim weights to LO..HI times the mean weight (e.g. 0.3,3), re-raking after trimming "
    "in every iteration.",
)
@click.option(
    "--max-iter",
    type=click.IntRange(min=1),
    default=None,
    help="Maximum raking iterations [default: 200].",
)
@click.option(
    "--tol",
    type=FiniteFloatRange(min=0, max=1, min_open=True, max_open=True),
    default=None,
    help="Convergence tolerance on shares [default: 1e-06].",
)
@click.option(
    "--missing",
    type=click.Choice(["error", "keep"]),
    default="error",
    show_default=True,
    help="A respondent with no category on a raking variable: stop with an error naming the "
    "rows, or keep their base weight unchanged and rake the others.",
)
@ENCODING
@FORCE
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def rake(
    data,
    margins_spec,
    output,
    codebook_path,
    base_weight,
    column,
    trim_text,
    max_iter,
    tol,
    missing,
    encoding,
    force,
    quiet,
):
    """Rake the weights of DATA to population margins and write DATA with a new weight column.

    Iterative proportional fitting (Deming & Stephan 1940) from the base weights; prints the
    convergence, the Kish design effect and effective sample size, and achieved against target
    shares for every category. Every other column is written as it was read.
    """
    from segment.survey.codebook import Codebook
    from segment.survey.tables import read_table, write_table
    from segment.weights.raking import (
        DEFAULT_MAX_ITER,
        DEFAULT_TOL,
        load_margins,
        resolve_margins_path,
    )
    from segment.weights.raking import rake as rake_weights

    trim = _parse_trim(trim_text)
    output = _check_output(data, output, force, [codebook_path, margins_spec])

    margins = load_margins(resolve_margins_path(margins_spec))
    codebook = Codebook.load(codebook_path) if codebook_path is not None else None
    frame, _meta = read_table(data, encoding=encoding)
    if column in frame.columns:
        raise click.BadParameter(
            f"DATA already has a column {column!r}; choose another name", param_hint="--column"
        )
    base, base_text = _base_weights(base_weight, codebook, frame)

    result = rake_weights(
        frame,
        margins,
        base_weights=base,
        max_iter=max_iter or DEFAULT_MAX_ITER,
        tol=tol or DEFAULT_TOL,
        trim=trim,
        codebook=codebook,
        missing=missing,
        file=str(data),
    )

    weighted = frame.copy()
    weighted[column] = result.weights.to_numpy()

    write_table(weighted, output)
    if quiet:
        return
    _print_rake(data, output, column, codebook, margins, base_text, result)


def _check_output(data: Path, output: Path, force: bool, inputs: list) -> Path:
    """Refuse an output of an unwritable type, DATA itself (or another input), or an existing
    file unless forced; the path to write."""
    from segment.survey.tables import WRITABLE

    suffix = output.suffix.lower()
    if suffix not in WRITABLE:
        raise click.BadParameter(
            f"unsupported output type {suffix or '(none)'!r}; expected .csv, .tsv or .parquet",
            param_hint="-o/--output",
        )
    if output.exists() and data.exists() and output.resolve() == data.resolve():
        raise click.UsageError("OUTPUT is DATA itself; write the weighted file elsewhere")
    return guard_file(output, [data, *inputs], force)


def _base_weights(
    base_weight: str | None, codebook: Codebook | None, frame: pd.DataFrame
) -> tuple[str | None, str]:
    """The base weight column (None for weight 1) and how it was chosen, for the printout."""
    if base_weight is not None and base_weight.strip().lower() == "none":
        base, base_text = None, "1 (--base-weight none)"
    elif base_weight is not None:
        base, base_text = base_weight, f"column {base_weight!r}"
    elif codebook is not None and codebook.weight is not None and codebook.weight in frame:
        base, base_text = codebook.weight, f"column {codebook.weight!r} (the codebook's weight)"
    else:
        base, base_text = None, "1 (no codebook weight column)"
    return base, base_text


def _print_rake(
    data: Path,
    output: Path,
    column: str,
    codebook: Codebook | None,
    margins: Margins,
    base_text: str,
    result: RakingResult,
) -> None:
    """Print the data, margins and base weights used, the raking summary and the file written."""
    if codebook is not None and codebook.synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_BANNER}")
    out.print(f"Data: {data} ({result.n:,} respondents)", markup=False)
    what = f"{margins.name} " if margins.name else ""
    out.print(f"Margins: {what}({margins.path}; {margins.scale})", markup=False)
    if margins.note:
        out.print(f"  {margins.note}", markup=False)
    out.print(f"Base weights: {base_text}", markup=False)
    out.print(result.summary(), markup=False)
    err.print(f"wrote {output} (new column {column!r})", markup=False)
