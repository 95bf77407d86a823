"""Commands that score respondents: score, typing-tool."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from ..exceptions import DataError, InputError, Problem
from ..io import read_survey, read_table
from ..validate import duplicate_columns
from ._common import (
    ENCODING,
    FORCE,
    _refuse_existing,
    cli,
    err,
    out,
)
from .segments import _parse_ks


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


def _iter_chunks(path: Path, chunk_size: int, encoding: str, items: list[str]):
    """Yield DataFrames of at most ``chunk_size`` rows (CSV and Parquet stream; others load).

    The file is refused (:class:`DataError` naming the file, column, row and value) when it
    cannot be decoded or parsed, is empty, has no data rows, repeats or leaves out a column
    name, or holds none of the model's ``items``.
    """
    suffix = path.suffix.lower()
    name = str(path)
    if suffix in (".csv", ".tsv", ".txt"):
        chunks = _csv_chunks(path, chunk_size, encoding)
    elif suffix in (".parquet", ".pq"):
        chunks = _parquet_chunks(path, chunk_size)
    else:
        chunks = iter([read_table(path, encoding=encoding)[0]])
    n_rows = 0
    for i, chunk in enumerate(chunks):
        if i == 0:
            problems = duplicate_columns(list(chunk.columns), name)
            if not set(items) & set(chunk.columns):
                problems.append(
                    Problem(
                        name,
                        "",
                        "none of the model's items is a column of the file; expected some of "
                        f"{', '.join(items)} (data from another questionnaire, or another "
                        "delimiter?)",
                    )
                )
            if problems:
                raise DataError(f"data file {name}", problems)
        n_rows += len(chunk)
        yield chunk
    if n_rows == 0:
        raise DataError(
            f"data file {name}", [Problem(name, "", "file has a header but no data rows")]
        )


def _parquet_chunks(path: Path, chunk_size: int):
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types
        name = str(path)
        raise DataError(
            f"data file {name}", [Problem(name, "", f"cannot be read as Parquet: {exc}")]
        ) from None


def _csv_chunks(path: Path, chunk_size: int, encoding: str):
    """Stream a delimited file in chunks, with the header exactly as written."""
    from ..io import (
        _decode_problem,
        _extra_field_problems,
        _parse_problem,
        _sniff_delimiter,
    )

    name = str(path)
    options = dict(dtype=str, keep_default_na=False, encoding=encoding, index_col=False)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            sep = _sniff_delimiter(fh.readline().lstrip("\ufeff"))
        try:
            first = pd.read_csv(path, sep=sep, header=None, nrows=1, **options)
        except pd.errors.EmptyDataError:
            raise DataError(
                f"data file {name}",
                [Problem(name, "", "file is empty; expected a header row and data rows")],
            ) from None
        header = ["" if pd.isna(c) else str(c).lstrip("\ufeff") for c in first.iloc[0]]
        empty = [i + 1 for i, c in enumerate(header) if not c.strip()]
        if empty:
            raise DataError(
                f"data file {name}",
                [
                    Problem(name, "header", f"column {i} has an empty name; expected a column name")
                    for i in empty
                ],
            )
        # index_col=False: a trailing delimiter must not shift every column into the index
        with pd.read_csv(path, sep=sep, na_values=[""], chunksize=chunk_size, **options) as reader:
            scanned = False
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    chunk = next(reader, None)
                if chunk is None:
                    break
                if not scanned and any(
                    issubclass(w.category, pd.errors.ParserWarning) for w in caught
                ):
                    # pandas drops fields beyond the header: refuse rows where they hold values
                    scanned = True  # the scan covers the whole file
                    with open(path, encoding=encoding, newline="") as fh:
                        extra = _extra_field_problems(name, fh, sep, len(header))
                    if extra:
                        raise DataError(f"data file {name}", extra)
                if chunk.shape[1] == len(header):
                    chunk.columns = header  # pandas renames repeated names ("q1.1")
                yield chunk
    except UnicodeDecodeError:
        raw = path.read_bytes()
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"data file {name}", [_decode_problem(name, raw, encoding, exc)]
            ) from None
        raise
    except pd.errors.ParserError as exc:
        raise DataError(f"data file {name}", [_parse_problem(name, exc)]) from None


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
    from .._files import atomic_path
    from ..modelfile import load_model

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
            for i, chunk in enumerate(_iter_chunks(data, chunk_size, encoding, model.items)):
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
    from ..distributed import score_parquet_dask

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
    from ..modelfile import load_model, save_model
    from ..typing_tool import build_typing_tool, select_questions

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
