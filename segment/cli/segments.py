"""Commands that fit and describe segments: select, fit, profile."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..codebook import Codebook
from ..io import read_survey
from ..typology import Typology
from ._common import (
    CODEBOOK,
    ENCODING,
    FORCE,
    _option_codebook,
    _refuse_existing,
    cli,
    err,
    out,
)


# ----------------------------------------------------------------------------- fitting
def _warn_if_drafted(codebook_path: Path | None) -> None:
    if codebook_path is None:
        err.print(
            "warning: no --codebook: using a codebook drafted from the file. Every unlabelled "
            "code counts as an answer on an ordered scale, so don't-know or refused codes such as "
            "8, 9 or 99 would be read as the top of the scale; write a codebook for real work "
            "(segment codebook infer DATA -o codebook.yaml, then review it).",
            markup=False,
        )


def _parse_ks(text: str) -> list[int]:
    ks: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.partition("-")
        try:
            ks.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
        except ValueError:
            raise click.BadParameter(
                f"expected numbers like 2-10 or 3,4,6, got {text!r}", param_hint="--k"
            ) from None
    if not ks or min(ks) < 1:
        raise click.BadParameter(f"k must be positive, got {text!r}", param_hint="--k")
    return sorted(set(ks))


def _answers(data: Path, codebook_path: Path | None, items: str | None, encoding: str):
    """Answer codes of the segmentation items, survey weights (mean 1) and the codebook."""
    _warn_if_drafted(codebook_path)
    frame, cb = read_survey(data, codebook_path, encoding=encoding)
    if items:
        names = [c.strip() for c in items.split(",") if c.strip()]
        unknown = [c for c in names if c not in cb]
        if unknown:
            raise click.BadParameter(
                f"not items of the codebook: {', '.join(unknown)}", param_hint="--items"
            )
    else:
        names = [it.column for it in cb.attitude_items] or [
            it.column for it in cb if it.is_categorical and it.domain != "demographics"
        ]
    if not names:
        raise click.UsageError("no categorical items to segment on; name them with --items")
    X = cb.model_codes(frame, names)
    weights = None
    if cb.weight is not None:
        weights = frame[cb.weight].to_numpy(dtype=float)
        weights = weights / weights.mean()
    return X, weights, cb


MEASUREMENT = click.option(
    "--measurement",
    type=click.Choice(["nominal", "ordinal", "cumulative"]),
    default="nominal",
    show_default=True,
    help="Item model: nominal (free answer probabilities), or the codebook's ordinal items as "
    "adjacent-category (ordinal) or cumulative logits (far fewer parameters).",
)


def _measurement_model(cb, items: list[str], measurement: str):
    """The estimator template for ``--measurement`` (None: the nominal model)."""
    if measurement == "nominal":
        return None
    from ..models import OrdinalLatentClassModel

    return OrdinalLatentClassModel.from_codebook(cb, items=items, ordinal_type=measurement)


def _progress(total: int, quiet: bool, label: str):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet:
        return None, None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=total)
    return bar, (lambda message: bar.update(task, advance=1, description=message))


@cli.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@click.option(
    "--k",
    "k_text",
    default="2-8",
    show_default=True,
    help="Numbers of segments to compare, e.g. 2-10 or 3,4,6.",
)
@click.option("--items", help="Comma-separated items to segment on (default: the attitude items).")
@click.option(
    "--n-init",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Random starts per fit (plus a k-means start).",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Bootstrap refits per k for stability (0 = none).",
)
@click.option(
    "--blrt",
    "n_blrt",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Bootstrap samples of the likelihood ratio test of each k against k-1 (0 = none; slow).",
)
@click.option(
    "--bvr",
    "show_bvr",
    is_flag=True,
    help="Show the item pairs with the largest bivariate residuals for the recommended k.",
)
@MEASUREMENT
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@ENCODING
@click.option("--quiet", is_flag=True, help="No progress bar.")
def select(
    data,
    codebook_path,
    k_text,
    items,
    n_init,
    n_boot,
    n_blrt,
    show_bvr,
    measurement,
    seed,
    fmt,
    encoding,
    quiet,
):
    """Compare numbers of segments: fit statistics, stability, a recommended k."""
    from ..select import select_n_components

    ks = _parse_ks(k_text)
    X, weights, cb = _answers(data, codebook_path, items, encoding)
    n_ticks = len(ks) * (1 + n_boot) + n_blrt * sum(k >= 2 for k in ks)
    bar, tick = _progress(n_ticks, quiet or fmt == "json", "fitting")
    if bar:
        bar.start()
    try:
        result = select_n_components(
            X,
            ks,
            sample_weight=weights,
            n_init=n_init,
            n_boot=n_boot,
            random_state=seed,
            progress=tick,
            blrt=n_blrt,
            estimator=_measurement_model(cb, list(X.columns), measurement),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        if bar:
            bar.stop()
    bvr = None
    if show_bvr:
        from ..diagnostics import bivariate_residuals

        bvr = bivariate_residuals(result.models[result.recommended], X, weights)
    if fmt == "json":
        doc = result.to_dict()
        if bvr is not None:
            doc["bvr"] = {
                "k": result.recommended,
                "pairs": bvr.head(BVR_TOP).to_dict(orient="records"),
                "n_pairs": len(bvr),
            }
        click.echo(json.dumps(doc, indent=2, default=float))
        return
    table = Table(
        title=f"Number of segments: {data.name} ({len(X):,} respondents, {X.shape[1]} items, "
        f"{measurement} items)"
    )
    cols = [
        ("k", "k"),
        ("loglik", "log-lik"),
        ("n_parameters", "params"),
        ("bic", "BIC"),
        ("aic", "AIC"),
        ("sabic", "SABIC"),
        ("entropy", "entropy"),
        ("smallest_share", "smallest"),
        ("smallest_n", "its n"),
        ("stability", "stability"),
    ]
    if n_blrt:
        cols.append(("blrt_p", "BLRT p"))
    for _, title in cols:
        table.add_column(title, justify="right")
    for row in result.table.to_dict(orient="records"):
        mark = " *" if row["k"] == result.recommended else ""
        cells = [
            f"{row['k']}{mark}",
            f"{row['loglik']:,.1f}",
            str(row["n_parameters"]),
            f"{row['bic']:,.1f}",
            f"{row['aic']:,.1f}",
            f"{row['sabic']:,.1f}",
            f"{row['entropy']:.3f}",
            f"{row['smallest_share']:.1%}",
            f"{row['smallest_n']:,.0f}",
            "-" if n_boot == 0 else f"{row['stability']:.2f}",
        ]
        if n_blrt:
            cells.append("-" if row["blrt_p"] != row["blrt_p"] else f"{row['blrt_p']:.3f}")
        table.add_row(*cells)
    out.print(table)
    out.print(f"Recommended: k = {result.recommended}: {result.reason}.")
    out.print(
        "Stability: mean adjusted Rand index between the full-data segments and bootstrap refits.",
        style="dim",
    )
    if n_blrt:
        out.print(
            f"BLRT p: bootstrap likelihood ratio test of k against k-1 segments ({n_blrt} "
            "samples simulated from the k-1 model; the smallest possible p is "
            f"{1 / (n_blrt + 1):.3f}).",
            style="dim",
        )
    if bvr is not None:
        _print_bvr(bvr, result.recommended)


#: ``segment select --bvr`` shows this many item pairs.
BVR_TOP = 10


def _print_bvr(bvr, k: int) -> None:
    top = bvr.head(BVR_TOP)
    table = Table(title=f"Bivariate residuals, k = {k} (largest {len(top)} of {len(bvr)} pairs)")
    for title in ("item", "item", "BVR", "df", "n", "> 3.84"):
        table.add_column(title, justify="left" if title == "item" else "right")
    for row in top.to_dict(orient="records"):
        table.add_row(
            str(row["item_a"]),
            str(row["item_b"]),
            "-" if row["bvr"] != row["bvr"] else f"{row['bvr']:.2f}",
            str(row["df"]),
            f"{row['n']:,.0f}",
            "yes" if row["flagged"] else "",
        )
    out.print(table)
    out.print(
        "BVR: Pearson chi-square of the pair's two-way table against the model's, divided by its "
        "df. Values well above 1 mean the segments do not explain the pair's association (local "
        "dependence); 3.84 is a rule of thumb only, as BVRs are not chi-square distributed, and "
        "among many pairs a few pass it by chance.",
        style="dim",
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
    from ..fitting import fit_segments
    from ..modelfile import save_model

    _refuse_existing([output], force)
    _warn_if_drafted(codebook_path)
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


# ----------------------------------------------------------------------------- profiles
@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@_option_codebook("Codebook of DATA (default: the one saved in MODEL).")
@click.option(
    "--typology",
    "typology_path",
    default="kz2020",
    show_default=True,
    help="Reference typology to name segments against (a file or a bundled name).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option("--explain", is_flag=True, help="Show the numbers behind every bullet.")
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Smallest number of respondents a reported cell may describe.",
)
@click.option(
    "--variance",
    type=click.Choice(["linearization", "bootstrap"]),
    default="linearization",
    show_default=True,
    help="Design-based variance when the codebook declares a design (strata, PSUs): Taylor "
    "linearisation or the Rao-Wu bootstrap of PSUs.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=10),
    default=500,
    show_default=True,
    help="Bootstrap replicates for --variance bootstrap.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@ENCODING
def profile(
    model_path,
    data,
    codebook_path,
    typology_path,
    fmt,
    explain,
    min_cell,
    variance,
    n_boot,
    seed,
    encoding,
):
    """Print profile cards of a fitted model's segments on DATA, named after a typology.

    When the codebook declares a design (``design:`` strata, PSU, fpc), the shares, the item
    tests and the demographic shares get design-based standard errors (``--variance``).
    """
    from ..modelfile import load_model
    from ..naming import name_segments
    from ..profile_stats import profile_segments
    from ..profile_text import build_cards
    from ..render import cards_to_dicts, cards_to_markdown

    model = load_model(model_path)
    cb = Codebook.load(codebook_path) if codebook_path is not None else model.codebook
    frame, cb = read_survey(data, cb, encoding=encoding)
    items = model.items
    missing = [c for c in items if c not in cb]
    if missing:
        raise click.UsageError(f"the model's items are not in the codebook: {', '.join(missing)}")
    X = cb.model_codes(frame, items)
    if variance != "linearization" and not cb.has_design:
        err.print(
            f"note: --variance {variance} has no effect: the codebook declares no design "
            "(strata, PSU), so respondents are treated as independent draws.",
            markup=False,
        )
    profiles = profile_segments(
        model.estimator.predict_proba(X),
        frame,
        cb,
        items=items,
        min_cell=min_cell,
        variance=variance,
        n_boot=n_boot,
        random_state=seed,
    )
    typology = Typology.load(typology_path)
    names = name_segments(profiles, typology)
    cards = build_cards(profiles, cb, names)
    if fmt == "json":
        payload = {
            "typology": typology.name,
            "synthetic": cb.synthetic,
            "min_cell": min_cell,
            "design": profiles.design,
            "segments": cards_to_dicts(cards),
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=float))
        return
    text = cards_to_markdown(cards, explain=explain, min_cell=min_cell, synthetic=cb.synthetic)
    if fmt == "markdown":
        click.echo(text, nl=False)
    else:
        from rich.markdown import Markdown

        out.print(Markdown(text))
