"""`segment typing-tool`: choose golden questions and save a short typing tool."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from segment.survey.read import read_survey

from ._common import ENCODING, FORCE, _refuse_existing, cli, out, parse_ks


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
    help=(
        "Questions in the saved tool (default: the fewest reaching 90% holdout accuracy, "
        "else the most evaluated)."
    ),
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
    from segment.segments.model_file import load_model, save_model
    from segment.segments.typing_tool import build_typing_tool, select_questions

    _refuse_existing([output], force)
    model = load_model(model_path)
    sizes = parse_ks(q_text)
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
        title=(
            f"Typing tool accuracy ({folds}-fold cross-validation: model refitted and "
            "questions chosen inside each fold)"
        )
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
    out.print(
        f"No-information baseline (everyone in the largest segment): "
        f"{result.table['baseline'].iloc[0]:.1%}.",
        markup=False,
    )
    chosen = result.questions(size)
    row = result.table.set_index("questions").loc[size]
    tool = build_typing_tool(
        model,
        chosen,
        {
            "cv_accuracy": float(row["accuracy"]),
            "baseline": float(row["baseline"]),
            "folds": folds,
        },
    )
    save_model(tool, output)
    out.print(
        f"Saved {output}: {size} questions ({', '.join(chosen)}), "
        f"holdout accuracy {row['accuracy']:.1%}."
    )
    out.print(
        "Holdout accuracy = share of held-out respondents the tool puts in the segment their "
        "full interview gives (under a model fitted without them).",
        style="dim",
    )
