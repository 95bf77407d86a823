"""`segment compare`: one saved model applied to two waves of the same battery."""

from __future__ import annotations

from pathlib import Path

import click

from segment._util import format_p

from ._common import ENCODING, FORCE, _option_codebook, cli, echo, echo_json, err, guard_file, say


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("wave_1", metavar="WAVE1", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("wave_2", metavar="WAVE2", type=click.Path(dir_okay=False, path_type=Path))
@_option_codebook("Codebook of both waves (default: the one saved in MODEL).")
@click.option(
    "--labels",
    default=None,
    help="Names of the two waves, comma-separated (default: the file names).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the shares of both waves into this PNG file.",
)
@ENCODING
@FORCE
def compare(model_path, wave_1, wave_2, codebook_path, labels, fmt, plot_path, encoding, force):
    """Segment shares in two waves, scored with one saved MODEL: change, interval and test."""
    from segment.disclosure import published
    from segment.segments.model_file import load_model
    from segment.segments.waves import compare_waves
    from segment.survey.codebook import Codebook
    from segment.survey.read import read_survey

    if plot_path is not None:
        plot_path = guard_file(plot_path, [model_path, wave_1, wave_2, codebook_path], force)
    model = load_model(model_path)
    cb = Codebook.load(codebook_path) if codebook_path is not None else model.codebook
    names = tuple(x.strip() for x in labels.split(",")) if labels else (wave_1.stem, wave_2.stem)
    if len(names) != 2 or not all(names):
        raise click.UsageError(f"--labels needs two names separated by a comma, got {labels!r}")
    frames = []
    for path in (wave_1, wave_2):
        frame, wcb = read_survey(path, cb, encoding=encoding)
        weights = frame[wcb.weight].to_numpy(dtype=float) if wcb.weight else None
        frames.append((frame, weights))
    result = compare_waves(
        model,
        frames[0][0],
        frames[1][0],
        weights_1=frames[0][1],
        weights_2=frames[1][1],
        labels=names,
    )
    if plot_path is not None:
        from segment._files import atomic_write
        from segment.report.figures import compare_figure, segment_palette

        png = compare_figure(result.table, segment_palette(len(result.table)), names)

        def write_png(tmp: Path) -> None:
            tmp.write_bytes(png)

        atomic_write(plot_path, write_png)
        say(err, f"Wrote {plot_path}.")
    if fmt == "json":
        payload = {
            "labels": list(names),
            "n": list(result.n),
            "wald": {
                "hypothesis": "no change in any share",
                "statistic": published(result.statistic, "mean"),
                "df": result.df,
                "p_value": published(result.p_value, "p"),
            },
            "min_cell": result.min_cell,
            "segments": result.published_records(),
        }
        echo_json(payload)
    elif fmt == "markdown":
        from segment._escape import markdown_text

        a, b = (markdown_text(n) for n in names)
        lines = [
            f"| Segment | {a} | {b} | Change (points) | 95% CI | p (Holm) |",
            "|---|---:|---:|---:|---|---:|",
        ]
        for r in result.table.itertuples():
            if r.change != r.change:
                shares = [f"{x:.1%}" if x == x else "–" for x in (r.share_1, r.share_2)]
                lines.append(
                    f"| {markdown_text(r.name)} | {shares[0]} | {shares[1]} | withheld | | |"
                )
                continue
            lines.append(
                f"| {markdown_text(r.name)} | {r.share_1:.1%} | {r.share_2:.1%} | "
                f"{100 * r.change:+.1f} | "
                f"{100 * r.ci_low:+.1f} to {100 * r.ci_high:+.1f} | "
                f"{format_p(r.p_holm, prefix=False)} |"
            )
        lines += ["", result.test_text()]
        echo("\n".join(lines))
    else:
        echo(result.summary())
