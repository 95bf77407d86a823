"""`segment score`: score respondents (a file, a Parquet dataset on Dask, or one person) with a
saved model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.text import Text

from segment._escape import visible_controls
from segment.exceptions import InputError, Problem

from ._common import (
    ENCODING,
    FORCE,
    FiniteFloatRange,
    Table,
    cli,
    echo_json,
    err,
    guard_file,
    guard_folder,
    out,
)

if TYPE_CHECKING:
    import pandas as pd


# ----------------------------------------------------------------------------- scoring
def _parse_answers(pairs: tuple[str, ...], model) -> pd.DataFrame:
    import pandas as pd

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


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scored file to write: CSV, JSON Lines (.json, .jsonl), SPSS (.sav) or Stata (.dta), "
    "by its suffix or --format.",
)
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the labels of the scored file's columns (column, value, label: the full "
    "segment names) to this CSV file.",
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
    type=click.Choice(["csv", "json", "sav", "dta", "text"]),
    default=None,
    help="Output format (default: by OUTPUT's suffix, else csv, for files; text for --answer).",
)
@click.option(
    "--min-probability",
    type=FiniteFloatRange(0, 1),
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
    labels_path,
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
    """Score respondents with a saved model: segment, probabilities, confidence.

    A scored file has the columns segment (the segment's number), segment_label (its name),
    p_seg1 ... p_segK (the probability of each segment), max_probability, low_confidence,
    items_used, no_segment (no_answers: no answer to any segmentation item; refused: an answer
    outside the codebook) and refused (which answer). SPSS and Stata files label every column
    and the segment numbers; --labels writes the labels for any format.
    """
    from segment.segments.model_file import load_model

    model = load_model(model_path, scoring_only=bool(answers))
    if answers:
        if data is not None:
            raise click.UsageError("give DATA or --answer, not both")
        _score_answers(model, answers, fmt, min_probability)
        return
    if data is None:
        raise click.UsageError("give DATA (a respondent file) or --answer ITEM=CODE")
    if output is None:
        raise click.UsageError("scoring a file needs -o OUTPUT")
    if engine == "dask":
        if labels_path is not None:
            raise click.UsageError("--labels is for a scored file, not --engine dask")
        output = guard_folder(output, "score", [model_path, data], force)
        _score_dask(model, data, output, scheduler, min_probability)
        return
    if data.is_dir():
        raise click.UsageError(
            f"{data} is a folder: score a Parquet dataset folder with --engine dask"
        )
    from segment.segments.scoring import format_of

    fmt = fmt or format_of(output)
    if fmt == "text":
        raise click.UsageError("--format text is for --answer; use csv, json, sav or dta for files")
    if not data.is_file():
        raise InputError(f"data file {data}", [Problem(str(data), "", "file not found")])
    need = data.stat().st_size
    output = guard_file(output, [model_path, data, labels_path], force, need_bytes=need)
    if labels_path is not None:
        labels_path = guard_file(labels_path, [model_path, data, output], force)
    _score_local(
        model, data, output, fmt, chunk_size, encoding, min_probability, quiet, labels_path
    )


def _score_answers(
    model, answers: tuple[str, ...], fmt: str | None, min_probability: float
) -> None:
    """Score one person from ``--answer`` pairs and print the result; exit 2 when refused or
    when no answer is usable (no segment)."""
    if fmt not in (None, "text", "json"):
        raise click.UsageError(f"--format {fmt} is for files; use text or json with --answer")
    frame = _parse_answers(answers, model)
    result = model.score_frame(frame, min_probability=min_probability, keep_id=False).iloc[0]
    record = _record(result, model)
    if fmt == "json":
        echo_json(record)
    else:
        _print_one(record)
    if record["no_segment"]:
        sys.exit(2)


def _score_local(
    model,
    data: Path,
    output: Path,
    fmt: str,
    chunk_size: int,
    encoding: str,
    min_probability: float,
    quiet: bool,
    labels_path: Path | None = None,
) -> None:
    """Score a respondent file in chunks, with a progress display unless ``quiet``; report."""
    from segment.segments.scoring import score_file

    bar = task = None
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

    def tick(rows: int) -> None:
        if bar is not None and task is not None:
            bar.update(task, description=f"scoring: {rows:,} rows")

    try:
        counts = score_file(
            model,
            data,
            output,
            fmt=fmt,
            chunk_size=chunk_size,
            encoding=encoding,
            min_probability=min_probability,
            labels=labels_path,
            progress=tick,
        )
    finally:
        if bar:
            bar.stop()
    n_rows, n_refused, n_low = counts.rows, counts.refused, counts.low_confidence
    err.print(
        f"Wrote {output}: {n_rows:,} respondents scored, {n_low:,} low-confidence "
        f"(top probability < {min_probability:g}), {counts.no_answers:,} with no answer to any "
        f"segmentation item (no segment; no_segment = no_answers), {n_refused:,} refused "
        "(see the 'refused' column).",
        markup=False,
    )
    names = counts.value_labels.get("segment", {})
    err.print(
        "Columns: segment = "
        + "; ".join(f"{code} {name}" for code, name in names.items())
        + f"; p_seg1..p_seg{len(names)} = the probability of each"
        + (
            f" (labels in {labels_path})."
            if labels_path
            else " (labelled in the file)."
            if fmt in ("sav", "dta")
            else " (--labels FILE writes these labels)."
        ),
        markup=False,
    )


def _score_dask(
    model, data: Path, output: Path, scheduler: str | None, min_probability: float
) -> None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise click.UsageError("--engine dask needs Dask: pip install 'segment[dask]'") from None
    from segment.segments.dask_scoring import score_parquet_dask

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


def _record(result: pd.Series, model) -> dict:
    from segment.segments.model import NO_SEGMENT_REASONS
    from segment.segments.scoring import json_value

    probs = {name: json_value(result[f"p_{name}"]) for name in model.names}
    reason = result["no_segment"] or None
    return {
        "segment": json_value(result["segment"]),
        "probabilities": probs,
        "max_probability": json_value(result["max_probability"]),
        "low_confidence": json_value(result["low_confidence"]),
        "items_used": int(result["items_used"]),
        "items_in_model": len(model.items),
        "no_segment": reason,
        "no_segment_reason": NO_SEGMENT_REASONS[reason] if reason else None,
        "refused": result["refused"] or None,
    }


def _print_one(record: dict) -> None:
    if record["refused"]:
        err.print(f"refused: {record['refused']}", markup=False)
        return
    if record["no_segment"]:
        err.print(
            f"no segment: {record['no_segment_reason']} (answers to items the model never saw "
            "answered that way, and missing codes, do not count)",
            markup=False,
        )
        return
    flag = " (low confidence: fits no segment well)" if record["low_confidence"] else ""
    out.print(Text.assemble("Segment: ", (visible_controls(record["segment"]), "bold"), flag))
    out.print(f"Based on {record['items_used']} of {record['items_in_model']} items.")
    table = Table(show_header=True)
    table.add_column("segment")
    table.add_column("probability", justify="right")
    for name, p in sorted(record["probabilities"].items(), key=lambda kv: -kv[1]):
        table.add_row(name, f"{p:.1%}")
    out.print(table)
