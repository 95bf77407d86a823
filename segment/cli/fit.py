"""`segment fit`: fit k segments, name them and save the model file."""

from __future__ import annotations

from pathlib import Path

import click

from segment.cards.typology import typology_for
from segment.exceptions import InputError
from segment.survey.read import read_survey

from ._common import (
    CODEBOOK,
    ENCODING,
    FORCE,
    MEASUREMENT,
    _refuse_existing,
    cli,
    err,
    warn_if_drafted,
)


def inputs_to_segment(data: Path, codebook_path: Path | None, items: str | None, encoding: str):
    """The survey frame, its codebook and its :class:`~segment.segments.fit.ModelInputs`
    (``--items`` or the codebook's segmentation items): unknown ``--items`` are a usage error,
    unusable items an input error (exit 2 either way)."""
    from segment.segments.fit import segmentation_inputs

    warn_if_drafted(codebook_path)
    frame, cb = read_survey(data, codebook_path, encoding=encoding)
    names = [c.strip() for c in items.split(",") if c.strip()] if items else None
    if items is not None and not names:
        raise click.BadParameter("name at least three items, e.g. a,b,c", param_hint="--items")
    try:
        return frame, cb, segmentation_inputs(frame, cb, names, file=str(data))
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise click.BadParameter(str(exc), param_hint="--items") from None


@cli.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@click.option("--k", "k", type=click.IntRange(min=1), required=True, help="Number of segments.")
@click.option("--items", help="Comma-separated items to segment on (default: the attitude items).")
@click.option(
    "--typology",
    "typology_path",
    default="auto",
    show_default=True,
    help="Reference typology to name segments against: a bundled name or a file; 'auto' uses "
    "the codebook's typology: key when the survey asks that typology's battery; 'none' for none.",
)
@click.option(
    "--n-init",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Random starts (plus a k-means start).",
)
@MEASUREMENT
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file (JSON) to write.",
)
@ENCODING
@FORCE
def fit(
    data,
    codebook_path,
    k,
    items,
    typology_path,
    n_init,
    measurement,
    seed,
    output,
    encoding,
    force,
):
    """Fit a k-segment latent class model, name its segments and save it as JSON."""
    from segment.segments.fit import fit_segments
    from segment.segments.model_file import save_model

    _refuse_existing([output], force)
    frame, cb, inputs = inputs_to_segment(data, codebook_path, items, encoding)
    typology = typology_for(cb, typology_path)
    err.print(inputs.describe(), markup=False)
    try:
        model = fit_segments(
            frame,
            cb,
            k,
            typology=typology,
            n_init=n_init,
            random_state=seed,
            measurement=measurement,
            inputs=inputs,
        )
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise click.UsageError(str(exc)) from None
    save_model(model, output)
    est = model.estimator
    segs = ", ".join(f"{s['name']} {s['share']:.0%}" for s in model.segments)
    n_out = model.n_not_asked
    note = ""
    if n_out:
        note = f"; {n_out:,} respondents answered none of the items and are in no segment"
    err.print(
        f"Wrote {output}: {k} segments ({segs}); log-likelihood {est.loglik_:,.2f}, "
        f"BIC {model.fit['bic']:,.1f}, entropy {est.entropy_:.3f}{note}.",
        markup=False,
    )
