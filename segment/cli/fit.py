"""`segment fit`: fit k segments, name them and save the model file."""

from __future__ import annotations

from pathlib import Path

import click

from segment.cards.typology import Typology
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


@cli.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@click.option("--k", "k", type=click.IntRange(min=1), required=True, help="Number of segments.")
@click.option("--items", help="Comma-separated items to segment on (default: the attitude items).")
@click.option(
    "--typology",
    "typology_path",
    default="kz2020",
    show_default=True,
    help="Typology to name segments against ('none' to skip).",
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
    warn_if_drafted(codebook_path)
    frame, cb = read_survey(data, codebook_path, encoding=encoding)
    typology = None if typology_path.lower() == "none" else Typology.load(typology_path)
    names = [c.strip() for c in items.split(",") if c.strip()] if items else None
    try:
        model = fit_segments(
            frame,
            cb,
            k,
            items=names,
            typology=typology,
            n_init=n_init,
            random_state=seed,
            measurement=measurement,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    save_model(model, output)
    est = model.estimator
    segs = ", ".join(f"{s['name']} {s['share']:.0%}" for s in model.segments)
    note = f"; {est.n_empty_} respondents with no answers excluded" if est.n_empty_ else ""
    err.print(
        f"Wrote {output}: {k} segments ({segs}); log-likelihood {est.loglik_:,.2f}, "
        f"BIC {model.fit['bic']:,.1f}, entropy {est.entropy_:.3f}{note}.",
        markup=False,
    )
