"""`segment select`: compare numbers of segments (fit statistics, stability, BLRT, BVR)."""

from __future__ import annotations

from pathlib import Path

import click

from segment._defaults import SELECT_N_BOOT
from segment.disclosure import MIN_CELL_SIZE

from ._common import (
    CODEBOOK,
    ENCODING,
    JOBS,
    MAX_REPLICATES,
    MAX_STARTS,
    MEASUREMENT,
    SEED,
    Table,
    cli,
    echo_json,
    err,
    out,
    parse_ks,
    progress_bar,
    say,
)


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
    type=click.IntRange(min=0, max=MAX_STARTS),
    default=10,
    show_default=True,
    help="Random starts per fit (plus a k-means start).",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=0, max=MAX_REPLICATES),
    default=SELECT_N_BOOT,
    show_default=True,
    help="Bootstrap refits per k for stability (0 = none; the default is segment run's).",
)
@click.option(
    "--blrt",
    "n_blrt",
    type=click.IntRange(min=0, max=MAX_REPLICATES),
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
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@ENCODING
@JOBS
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
    jobs,
    quiet,
):
    """Compare numbers of segments: fit statistics, stability, a recommended k.

    With the same data, seed and defaults it gives the table `segment run` computes, with any
    --jobs.
    """
    from segment.models.selection import select_n_components
    from segment.segments.fit import measurement_estimator

    from .fit import inputs_to_segment

    ks = parse_ks(k_text)
    _, cb, inputs = inputs_to_segment(data, codebook_path, items, encoding)
    X, weights = inputs.X, inputs.weights
    err.print(inputs.describe(), markup=False)
    n_ticks = len(ks) * (1 + n_boot) + n_blrt * sum(k >= 2 for k in ks)
    bar, tick = progress_bar(n_ticks, quiet or fmt == "json", "fitting")
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
            estimator=measurement_estimator(cb, inputs.items, measurement),
            n_jobs=jobs,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        if bar:
            bar.stop()
    bvr = None
    if show_bvr:
        from segment.models.diagnostics import bivariate_residuals

        bvr = bivariate_residuals(result.models[result.recommended], X, weights)
    if fmt == "json":
        _print_json(result, bvr)
        return
    _print_table(result, data, X, measurement, n_boot, n_blrt)
    if bvr is not None:
        _print_bvr(bvr, result.recommended)


def _print_json(result, bvr) -> None:
    """Print the selection (and the top bivariate residuals, when computed) as JSON."""
    doc = result.to_dict()
    if bvr is not None:
        doc["bvr"] = {
            "k": result.recommended,
            "pairs": bvr.head(BVR_TOP).to_dict(orient="records"),
            "n_pairs": len(bvr),
        }
    echo_json(doc)


def _print_table(result, data: Path, X, measurement: str, n_boot: int, n_blrt: int) -> None:
    """Print the table of fit statistics by k, the recommendation and the notes on it."""
    out.print(_selection_table(result, data, X, measurement, n_boot, n_blrt))
    say(out, f"Recommended: k = {result.recommended}: {result.reason}.")
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


def _selection_table(result, data: Path, X, measurement: str, n_boot: int, n_blrt: int) -> Table:
    """The table of fit statistics by number of segments, the recommended k marked."""
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
            *(
                ("<30 resp.", "<30")
                if row["smallest_respondents"] < MIN_CELL_SIZE
                else (f"{row['smallest_share']:.1%}", f"{row['smallest_n']:,.0f}")
            ),
            "-" if n_boot == 0 else f"{row['stability']:.2f}",
        ]
        if n_blrt:
            cells.append("-" if row["blrt_p"] != row["blrt_p"] else f"{row['blrt_p']:.3f}")
        table.add_row(*cells)
    return table


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
