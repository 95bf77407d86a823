"""`segment fit`: fit k segments, name them and save the model file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from segment.exceptions import InputError, SegmentError

from ._common import (
    CODEBOOK,
    ENCODING,
    FORCE,
    MAX_REPLICATES,
    MAX_SEGMENTS,
    MAX_STARTS,
    MEASUREMENT,
    SEED,
    cli,
    err,
    guard_file,
    out,
    warn_if_drafted,
)

if TYPE_CHECKING:
    from segment.cards.typology import Typology


def inputs_to_segment(data: Path, codebook_path: Path | None, items: str | None, encoding: str):
    """The survey frame, its codebook and its :class:`~segment.segments.fit.ModelInputs`
    (``--items`` or the codebook's segmentation items): unknown ``--items`` are a usage error,
    unusable items an input error (exit 2 either way)."""
    from segment.segments.fit import segmentation_inputs
    from segment.survey.read import read_survey

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
@click.option(
    "--k",
    "k",
    type=click.IntRange(min=1, max=MAX_SEGMENTS),
    help="Number of segments (required without --confirm; with it, the free fit to compare).",
)
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
    type=click.IntRange(min=0, max=MAX_STARTS),
    default=10,
    show_default=True,
    help="Random starts (plus a k-means start).",
)
@click.option(
    "--confirm",
    "confirm_path",
    default=None,
    help="Confirmatory fit of a reference typology's segments (a bundled name such as kz2020, a "
    "file, or 'auto' for the codebook's typology: key): as many segments as it has, started "
    "from and weakly shrunk towards their expected answers, each tested against merging with "
    "its nearest neighbour; prints the support table and saves that model. Only for a survey "
    "that asks the typology's battery.",
)
@click.option(
    "--n-boot",
    type=click.IntRange(min=1, max=MAX_REPLICATES),
    default=None,
    help="Bootstrap samples of each merge test of --confirm (default 99).",
)
@MEASUREMENT
@click.option("--seed", type=SEED, default=1, show_default=True)
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
    confirm_path,
    n_boot,
    n_init,
    measurement,
    seed,
    output,
    encoding,
    force,
):
    """Fit a k-segment latent class model, name its segments and save it as JSON."""
    from segment.cards.typology import typology_for
    from segment.segments.fit import fit_segments, printed_shares
    from segment.segments.model_file import save_model

    if k is None and confirm_path is None:
        raise click.UsageError("give --k (the number of segments) or --confirm TYPOLOGY")
    if n_boot is not None and confirm_path is None:
        raise click.UsageError("--n-boot is the bootstrap of --confirm; give --confirm too")
    output = guard_file(output, [data, codebook_path, typology_path, confirm_path], force)
    frame, cb, inputs = inputs_to_segment(data, codebook_path, items, encoding)
    typology = typology_for(cb, typology_path)
    err.print(inputs.describe(), markup=False)
    if confirm_path is not None:
        reference = _confirm_typology(cb, confirm_path)
        _fit_confirm(frame, cb, inputs, reference, k, n_init, n_boot, seed, output)
        return
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
    shares = printed_shares(model, inputs.X)
    segs = ", ".join(
        f"{s['name']} {'share withheld' if p is None else f'{p:.0%}'}"
        for s, p in zip(model.segments, shares, strict=True)
    )
    n_out = model.n_not_asked
    note = ""
    if n_out:
        note = f"; {n_out:,} respondents answered none of the items and are in no segment"
    err.print(
        f"Wrote {output}: {k} segments ({segs}); log-likelihood {est.loglik_:,.2f}, "
        f"BIC {model.fit['bic']:,.1f}, entropy {est.entropy_:.3f}{note}.",
        markup=False,
    )


def _confirm_typology(cb, requested: str) -> Typology:
    """The typology of ``--confirm``: the named one, or the codebook's with 'auto'; refused
    (exit 2) when the survey does not ask its battery."""
    from segment.cards.typology import Typology, typology_fits, typology_for

    if requested.strip().lower() == "none":
        raise click.BadParameter("name a typology (or 'auto')", param_hint="--confirm")
    if requested.strip().lower() == "auto":
        typology = typology_for(cb, "auto")
        if typology is None:
            raise SegmentError(
                "--confirm auto: the codebook names no typology whose battery this survey asks "
                "(its typology: key); name one, e.g. --confirm kz2020"
            )
        return typology
    typology = Typology.load(requested)
    if not typology_fits(cb, typology):
        raise SegmentError(
            f"--confirm {requested}: this survey does not ask the {typology.name} typology's "
            "battery (fewer than half of the items its segments describe are segmentation "
            "items of the codebook), so its segments cannot be confirmed on it"
        )
    return typology


def _fit_confirm(frame, cb, inputs, typology, k, n_init, n_boot, seed, output) -> None:
    """``segment fit --confirm``: the support table, and the confirmatory model saved."""
    from segment.models import LatentClassModel
    from segment.segments.confirm import N_BOOT, confirm_typology
    from segment.segments.fit import name_and_profile, segment_model
    from segment.segments.model_file import save_model

    X, w = inputs.X, inputs.weights
    asked = frame[inputs.asked]
    k_free = k or len(typology.segments)
    free = LatentClassModel(k_free, n_init=n_init, random_state=seed).fit(X, sample_weight=w)
    result = confirm_typology(
        X,
        asked,
        cb,
        typology,
        sample_weight=w,
        free=free,
        n_boot=n_boot or N_BOOT,
        random_state=seed,
    )
    out.print(result.summary(), markup=False)
    for line in result.statements():
        out.print(line, markup=False)
    named = name_and_profile(result.estimator, X, asked, cb, sample_weight=w, typology=typology)
    model = segment_model(
        result.estimator,
        named,
        X,
        cb,
        sample_weight=w,
        typology=typology,
        n_not_asked=inputs.n_not_asked,
    )
    save_model(model, output)
    err.print(
        f"Wrote {output}: the confirmatory {result.k}-segment model of {typology.name} "
        f"(segments in the typology's order); log-likelihood {result.fit['loglik']:,.2f}, "
        f"BIC {result.fit['bic']:,.1f}.",
        markup=False,
    )
