"""The ``segment`` command line. The only module that prints.

Every command exits 0 on success and 2 on bad input, printing one message that lists every
problem found (file, column or location, row, value, expected). Outputs are written atomically:
a failed command leaves no partial file, and existing files are only replaced with ``--force``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from . import __version__
from .codebook import Codebook
from .exceptions import InputError, Problem, SegmentError
from .io import read_survey, read_table
from .resources import bundled_path
from .summary import summarise_survey
from .typology import Typology

BUNDLED_DATA = "kz2020_synthetic.csv"
BUNDLED_CODEBOOK = "kz2020_synthetic_codebook.yaml"
SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these respondents were generated from the kz2020 typology; "
    "the real 2020 poll is not public."
)

# wide enough for the fit tables when output goes to a file or a pipe
out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _option_codebook(help_text: str = "Codebook YAML of DATA (default: drafted from the file)."):
    return click.option(
        "--codebook",
        "codebook_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


ENCODING = click.option(
    "--encoding", default="utf-8", show_default=True, help="Text encoding of CSV input."
)
FORCE = click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
CODEBOOK = _option_codebook()


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise click.UsageError(
            f"output exists and would be replaced: {', '.join(existing)}; pass --force to replace it"
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="segment")
def cli() -> None:
    """Attitude segmentation for opinion polls (see README.md)."""


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
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@ENCODING
@click.option("--quiet", is_flag=True, help="No progress bar.")
def select(data, codebook_path, k_text, items, n_init, n_boot, seed, fmt, encoding, quiet):
    """Compare numbers of segments: fit statistics, stability, a recommended k."""
    from .select import select_n_components

    ks = _parse_ks(k_text)
    X, weights, _ = _answers(data, codebook_path, items, encoding)
    bar, tick = _progress(len(ks) * (1 + n_boot), quiet or fmt == "json", "fitting")
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
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        if bar:
            bar.stop()
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, default=float))
        return
    table = Table(
        title=f"Number of segments: {data.name} ({len(X):,} respondents, {X.shape[1]} items)"
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
    for _, title in cols:
        table.add_column(title, justify="right")
    for row in result.table.to_dict(orient="records"):
        mark = " *" if row["k"] == result.recommended else ""
        table.add_row(
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
        )
    out.print(table)
    out.print(f"Recommended: k = {result.recommended}: {result.reason}.")
    out.print(
        "Stability: mean adjusted Rand index between the full-data segments and bootstrap refits.",
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
def fit(data, codebook_path, k, items, typology_path, n_init, seed, output, encoding, force):
    """Fit a k-segment latent class model, name its segments and save it as JSON."""
    from .fitting import fit_segments
    from .modelfile import save_model

    _refuse_existing([output], force)
    _warn_if_drafted(codebook_path)
    frame, cb = read_survey(data, codebook_path, encoding=encoding)
    typology = None if typology_path.lower() == "none" else Typology.load(typology_path)
    names = [c.strip() for c in items.split(",") if c.strip()] if items else None
    try:
        model = fit_segments(
            frame, cb, k, items=names, typology=typology, n_init=n_init, random_state=seed
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
@ENCODING
def profile(model_path, data, codebook_path, typology_path, fmt, explain, min_cell, encoding):
    """Print profile cards of a fitted model's segments on DATA, named after a typology."""
    from .modelfile import load_model
    from .naming import name_segments
    from .profile_stats import profile_segments
    from .profile_text import build_cards
    from .render import cards_to_dicts, cards_to_markdown

    model = load_model(model_path)
    cb = Codebook.load(codebook_path) if codebook_path is not None else model.codebook
    frame, cb = read_survey(data, cb, encoding=encoding)
    items = model.items
    missing = [c for c in items if c not in cb]
    if missing:
        raise click.UsageError(f"the model's items are not in the codebook: {', '.join(missing)}")
    X = cb.model_codes(frame, items)
    profiles = profile_segments(
        model.estimator.predict_proba(X), frame, cb, items=items, min_cell=min_cell
    )
    typology = Typology.load(typology_path)
    names = name_segments(profiles, typology)
    cards = build_cards(profiles, cb, names)
    if fmt == "json":
        payload = {
            "typology": typology.name,
            "synthetic": cb.synthetic,
            "min_cell": min_cell,
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


# ----------------------------------------------------------------------------- scoring
def _parse_answers(pairs: tuple[str, ...], model) -> pd.DataFrame:
    row = {}
    for pair in pairs:
        item, sep, value = pair.partition("=")
        item = item.strip()
        if not sep or not item:
            raise click.BadParameter(f"expected ITEM=CODE, got {pair!r}", param_hint="--answer")
        if item not in model.items:
            raise click.BadParameter(
                f"{item!r} is not an item of this model (items: {', '.join(model.items)})",
                param_hint="--answer",
            )
        row[item] = value.strip()
    return pd.DataFrame([row], dtype=object)


def _iter_chunks(path: Path, chunk_size: int, encoding: str):
    """Yield DataFrames of at most ``chunk_size`` rows (CSV and Parquet stream; others load)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        from .io import _sniff_delimiter

        with open(path, encoding=encoding, newline="") as fh:
            sep = _sniff_delimiter(fh.readline())
        yield from pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            chunksize=chunk_size,
            encoding=encoding,
        )
    elif suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    else:
        yield read_table(path, encoding=encoding)[0]


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scored file to write (CSV, or JSON Lines with --format json).",
)
@click.option(
    "--answer",
    "answers",
    multiple=True,
    metavar="ITEM=CODE",
    help="Score one person from these answers (repeat).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "text"]),
    default=None,
    help="Output format (default: csv for files, text for --answer).",
)
@click.option(
    "--min-probability",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Below this top probability a respondent is flagged low-confidence.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Rows per chunk when streaming CSV or Parquet.",
)
@ENCODING
@FORCE
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="dask: score a Parquet dataset on a Dask cluster; OUTPUT is a folder of Parquet files.",
)
@click.option("--scheduler", help="Dask scheduler address (default: a local cluster on 127.0.0.1).")
def score(
    model_path,
    data,
    output,
    answers,
    fmt,
    min_probability,
    chunk_size,
    encoding,
    force,
    quiet,
    engine,
    scheduler,
):
    """Score respondents with a saved model: segment, probabilities, confidence."""
    from ._files import atomic_path
    from .modelfile import load_model

    model = load_model(model_path)
    if answers:
        if data is not None:
            raise click.UsageError("give DATA or --answer, not both")
        frame = _parse_answers(answers, model)
        result = model.score_frame(frame, min_probability=min_probability, keep_id=False).iloc[0]
        record = _record(result, model)
        if (fmt or "text") == "json":
            click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        else:
            _print_one(record)
        if record["refused"]:
            sys.exit(2)
        return
    if data is None:
        raise click.UsageError("give DATA (a respondent file) or --answer ITEM=CODE")
    if output is None:
        raise click.UsageError("scoring a file needs -o OUTPUT")
    _refuse_existing([output], force)
    if engine == "dask":
        _score_dask(model, data, output, scheduler, min_probability)
        return
    if data.is_dir():
        raise click.UsageError(
            f"{data} is a folder: score a Parquet dataset folder with --engine dask"
        )
    fmt = fmt or "csv"
    if fmt == "text":
        raise click.UsageError("--format text is for --answer; use csv or json for files")
    if not data.is_file():
        raise InputError(f"data file {data}", [Problem(str(data), "", "file not found")])
    n_rows = n_refused = n_low = 0
    bar = None
    if not quiet:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        task = bar.add_task("scoring", total=None)
        bar.start()
    try:
        with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            for i, chunk in enumerate(_iter_chunks(data, chunk_size, encoding)):
                scored = model.score_frame(chunk, min_probability=min_probability)
                if fmt == "csv":
                    scored.to_csv(fh, index=False, header=(i == 0), lineterminator="\n")
                else:
                    for rec in scored.to_dict(orient="records"):
                        fh.write(
                            json.dumps(
                                {k: _json_value(v) for k, v in rec.items()}, ensure_ascii=False
                            )
                            + "\n"
                        )
                n_rows += len(scored)
                n_refused += int((scored["refused"] != "").sum())
                n_low += int(scored["low_confidence"].fillna(False).sum())
                if bar:
                    bar.update(task, description=f"scoring: {n_rows:,} rows")
    finally:
        if bar:
            bar.stop()
    err.print(
        f"Wrote {output}: {n_rows:,} respondents scored, {n_low:,} low-confidence "
        f"(top probability < {min_probability:g}), {n_refused:,} refused (see the 'refused' column).",
        markup=False,
    )


def _score_dask(
    model, data: Path, output: Path, scheduler: str | None, min_probability: float
) -> None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise click.UsageError("--engine dask needs Dask: pip install 'segment[dask]'") from None
    from .distributed import score_parquet_dask

    if not data.exists():
        raise InputError(f"data {data}", [Problem(str(data), "", "file or folder not found")])
    if scheduler:
        with Client(scheduler) as client:
            n = score_parquet_dask(
                model, data, output, client=client, min_probability=min_probability
            )
    else:
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            n = score_parquet_dask(
                model, data, output, client=client, min_probability=min_probability
            )
    err.print(f"Wrote {output}/: {n:,} respondents scored on Dask.", markup=False)


def _json_value(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _record(result: pd.Series, model) -> dict:
    probs = {name: _json_value(result[f"p_{name}"]) for name in model.names}
    return {
        "segment": _json_value(result["segment"]),
        "probabilities": probs,
        "max_probability": _json_value(result["max_probability"]),
        "low_confidence": _json_value(result["low_confidence"]),
        "items_used": int(result["items_used"]),
        "items_in_model": len(model.items),
        "refused": result["refused"] or None,
    }


def _print_one(record: dict) -> None:
    if record["refused"]:
        err.print(f"refused: {record['refused']}", markup=False)
        return
    flag = " (low confidence: fits no segment well)" if record["low_confidence"] else ""
    out.print(f"Segment: [bold]{record['segment']}[/bold]{flag}")
    out.print(f"Based on {record['items_used']} of {record['items_in_model']} items.")
    table = Table(show_header=True)
    table.add_column("segment")
    table.add_column("probability", justify="right")
    for name, p in sorted(record["probabilities"].items(), key=lambda kv: -kv[1]):
        table.add_row(name, f"{p:.1%}")
    out.print(table)


@cli.command("typing-tool")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--questions",
    "q_text",
    default="3-15",
    show_default=True,
    help="Numbers of questions to evaluate, e.g. 3-15.",
)
@click.option(
    "--size",
    type=click.IntRange(min=1),
    help="Questions in the saved tool (default: the fewest reaching 90% holdout accuracy, else the most evaluated).",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Cross-validation folds.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Typing tool (a model file) to write.",
)
@ENCODING
@FORCE
def typing_tool(model_path, data, q_text, size, folds, seed, output, encoding, force):
    """Choose golden questions that reproduce a model's segments; save a short typing tool."""
    from .modelfile import load_model, save_model
    from .typing_tool import build_typing_tool, select_questions

    _refuse_existing([output], force)
    model = load_model(model_path)
    sizes = _parse_ks(q_text)
    if size is not None and size not in sizes:
        sizes = sorted({*sizes, size})
    frame, _ = read_survey(data, model.codebook, encoding=encoding)
    try:
        result = select_questions(model, frame, sizes, n_folds=folds, random_state=seed)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if size is None:
        good = result.table[result.table["accuracy"] >= 0.9]
        size = int(good["questions"].min()) if len(good) else int(result.table["questions"].max())
    table = Table(
        title=f"Typing tool accuracy ({folds}-fold cross-validation, questions chosen inside each fold)"
    )
    for col in ("questions", "holdout accuracy", "sd", "in-sample"):
        table.add_column(col, justify="right")
    for row in result.table.itertuples():
        mark = " *" if row.questions == size else ""
        table.add_row(
            f"{row.questions}{mark}",
            f"{row.accuracy:.1%}",
            f"{row.accuracy_sd:.1%}",
            f"{row.train_accuracy:.1%}",
        )
    out.print(table)
    chosen = result.questions(size)
    row = result.table.set_index("questions").loc[size]
    tool = build_typing_tool(model, chosen, {"cv_accuracy": float(row["accuracy"]), "folds": folds})
    save_model(tool, output)
    out.print(
        f"Saved {output}: {size} questions ({', '.join(chosen)}), holdout accuracy {row['accuracy']:.1%}."
    )
    out.print(
        "Accuracy = share of respondents the tool puts in the same segment as the full model.",
        style="dim",
    )


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
    from .infer import infer_codebook

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
    from .synth import DEFAULT_SPREAD, generate_survey, write_survey

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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning input errors into exit code 2."""
    try:
        cli.main(args=argv, prog_name="segment", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except InputError as exc:
        err.print(str(exc), markup=False)
        sys.exit(2)
    except SegmentError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except SystemExit:
        raise
    sys.exit(0)


if __name__ == "__main__":
    main()
