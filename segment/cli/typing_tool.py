"""`segment typing-tool`: choose golden questions and save a short typing tool."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import ENCODING, FORCE, SEED, Table, cli, guard_file, out, parse_ks, say


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
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A synthetic survey's truth file (id and true 'segment' per respondent): also print "
    "how often the tool finds the true segment.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Typing tool (a model file) to write.",
)
@ENCODING
@FORCE
def typing_tool(model_path, data, q_text, size, folds, seed, truth_path, output, encoding, force):
    """Choose golden questions that reproduce a model's segments; save a short typing tool."""
    from segment.segments.model_file import load_model, save_model
    from segment.segments.typing_tool import (
        build_typing_tool,
        read_true_segments,
        select_questions,
    )
    from segment.survey.read import read_survey

    output = guard_file(output, [model_path, data, truth_path], force)
    model = load_model(model_path)
    sizes = parse_ks(q_text)
    if size is not None and size not in sizes:
        sizes = sorted({*sizes, size})
    frame, cb = read_survey(data, model.codebook, encoding=encoding)
    truth = None
    if truth_path is not None:
        truth = read_true_segments(truth_path, frame, cb.id_columns)
    try:
        result = select_questions(
            model, frame, sizes, n_folds=folds, random_state=seed, true_segments=truth
        )
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
    columns = ["questions", "holdout accuracy", "sd", "in-sample"]
    if truth is not None:
        columns.append("true segment")
    for col in columns:
        table.add_column(col, justify="right")
    for row in result.table.itertuples():
        mark = " *" if row.questions == size else ""
        cells = [
            f"{row.questions}{mark}",
            f"{row.accuracy:.1%}",
            f"{row.accuracy_sd:.1%}",
            f"{row.train_accuracy:.1%}",
        ]
        if truth is not None:
            cells.append(f"{row.truth_accuracy:.1%}")
        table.add_row(*cells)
    out.print(table)
    if truth is not None:
        out.print(
            "True segment = held-out share the tool puts in its generating segment; the model "
            f"with every answer: {result.table['full_truth_accuracy'].iloc[0]:.1%}.",
            markup=False,
        )
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
    say(
        out,
        f"Saved {output}: {size} questions ({', '.join(chosen)}), "
        f"holdout accuracy {row['accuracy']:.1%}.",
    )
    out.print(
        "Holdout accuracy = share of held-out respondents the tool puts in the segment their "
        "full interview gives (under a model fitted without them).",
        style="dim",
    )
