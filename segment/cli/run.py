"""`segment run`: the main job on a survey, written as a report folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from segment._escape import terminal_text
from segment.exceptions import InputError
from segment.resources import bundled_path

from ._common import (
    BUNDLED_CODEBOOK,
    BUNDLED_DATA,
    CODEBOOK,
    ENCODING,
    FORCE,
    JOBS,
    MAX_CONTROL_ITEMS,
    MAX_SEGMENTS,
    MEASUREMENT,
    SEED,
    SYNTHETIC_BANNER,
    Table,
    cli,
    err,
    guard_folder,
    out,
    parse_ks,
    say,
)

if TYPE_CHECKING:
    from segment.pipeline import ListExperiment

BUNDLED_LISTEXP = "kz2022_listexp.csv"
#: Free space a report folder needs at most (the bundled survey's report is about 1.5 MB).
REPORT_BYTES = 8 * 2**20


@cli.command()
@click.argument("data", required=False, type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@click.option(
    "--k",
    "k",
    type=click.IntRange(min=1, max=MAX_SEGMENTS),
    help="Number of segments (default: chosen).",
)
@click.option(
    "--ks",
    "k_text",
    default=None,
    help="Numbers of segments to compare, e.g. 2-8 or 3,5,6 ('none' to skip the comparison). "
    "Default: 2-8, or no comparison when --k is given.",
)
@MEASUREMENT
@click.option(
    "--typology",
    "typology_path",
    default="auto",
    show_default=True,
    help="Reference typology to name segments against: a bundled name or a file; 'auto' uses "
    "the codebook's typology: key when the survey asks that typology's battery; 'none' for none.",
)
@click.option(
    "--listexp",
    "listexp_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="List-experiment respondent file to join (default: the bundled one with the bundled "
    "survey; 'none' to skip).",
)
@click.option("--count", "count_col", default="y", show_default=True, help="List count column.")
@click.option(
    "--treat", "treat_col", default="treat", show_default=True, help="List treatment column."
)
@click.option(
    "--J",
    "J",
    type=click.IntRange(min=1, max=MAX_CONTROL_ITEMS),
    default=4,
    show_default=True,
    help="Control items.",
)
@click.option(
    "--by",
    default="gender,education,ethnicity,region",
    show_default=True,
    help="List-experiment subgroups (columns of the list file that exist are used).",
)
@click.option(
    "--listexp-label",
    default=None,
    help="What the sensitive item measures, for the report (default: 'support for CSTO "
    "membership' for the bundled list experiment, else 'the sensitive item').",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default: reports/<data file name>).",
)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Smallest number of respondents any reported cell may describe.",
)
@click.option("--no-map", is_flag=True, help="Skip the UMAP map (faster).")
@ENCODING
@FORCE
@JOBS
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def run(
    data,
    codebook_path,
    k,
    k_text,
    measurement,
    typology_path,
    listexp_path,
    count_col,
    treat_col,
    J,
    by,
    listexp_label,
    output,
    seed,
    min_cell,
    no_map,
    encoding,
    force,
    jobs,
    quiet,
):
    """Run the main job: segments, names, profiles, list experiment and an HTML report.

    With no DATA it runs on the bundled synthetic survey and list experiment and writes
    reports/kz2020_synthetic/. An earlier report of `segment run` in the output folder is
    replaced; no other folder is (README, "Where outputs go").
    """
    import time

    from segment.pipeline import run_analysis
    from segment.report import write_report
    from segment.report.writer import is_report_folder

    start = time.perf_counter()
    bundled = data is None
    if bundled:
        data = bundled_path("data", BUNDLED_DATA)
        codebook_path = codebook_path or bundled_path("data", BUNDLED_CODEBOOK)
    output = output or Path("reports") / data.stem
    inputs = [data, codebook_path, listexp_path, typology_path]
    output = guard_folder(
        output,
        "run",
        inputs,
        force,
        replace_own=True,
        legacy=is_report_folder,
        need_bytes=REPORT_BYTES,
    )
    listexp = _list_experiment(listexp_path, bundled, count_col, treat_col, J, by, listexp_label)
    ks = None if k_text is None else [] if k_text.lower() == "none" else parse_ks(k_text)
    progress = _progress(quiet)

    try:
        analysis = run_analysis(
            data,
            codebook_path,
            k=k,
            ks=ks,
            measurement=measurement,
            typology=typology_path,
            listexp=listexp,
            embed=not no_map,
            random_state=seed,
            min_cell=min_cell,
            encoding=encoding,
            progress=progress,
            n_jobs=jobs,
        )
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise click.UsageError(str(exc)) from None
    folder = write_report(analysis, output)
    if quiet:
        return
    _print_run(analysis, folder, time.perf_counter() - start)


def _list_experiment(
    listexp_path: Path | None,
    bundled: bool,
    count_col: str,
    treat_col: str,
    J: int,
    by: str,
    listexp_label: str | None,
) -> ListExperiment | None:
    """The list experiment to analyse: the given file, the bundled one, or none."""
    from segment.pipeline import ListExperiment

    listexp = None
    if listexp_path is None and bundled:
        listexp_path = bundled_path("data", BUNDLED_LISTEXP)
    if listexp_path is not None and str(listexp_path).lower() != "none":
        synthetic = bundled and Path(listexp_path).name == BUNDLED_LISTEXP
        if listexp_label is None:
            listexp_label = "support for CSTO membership" if synthetic else "the sensitive item"
        published = None
        if Path(listexp_path).name == BUNDLED_LISTEXP:
            from segment.listexp.published import MEMO_TABLE1

            published = bundled_path("profiles", MEMO_TABLE1)
        listexp = ListExperiment(
            path=Path(listexp_path),
            published=published,
            count=count_col,
            treat=treat_col,
            J=J,
            by=tuple(c.strip() for c in by.split(",") if c.strip()),
            label=listexp_label,
            synthetic=synthetic,
        )
    return listexp


def _progress(quiet: bool) -> Callable[[str, str], None]:
    """The progress callback of the run: a line as each step starts and ends, none if quiet."""
    import time

    from segment.pipeline import STEPS

    marks: dict[str, float] = {}
    skipped: set[str] = set()

    def progress(step: str, message: str) -> None:
        if quiet:
            return
        if message == "skipped":
            skipped.add(step)
            why = " (--k given: no comparison of k)" if step == "choose k" else ""
            err.print(f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step}: skipped{why}", markup=False)
        elif step in skipped:
            return
        elif message == "start":
            marks[step] = time.perf_counter()
            err.print(f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step} ...", markup=False)
        elif message == "done":
            err.print(
                f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step}: done in "
                f"{time.perf_counter() - marks[step]:.1f} s",
                markup=False,
            )
        elif message.startswith("Segmenting on"):
            err.print(message, markup=False)

    return progress


def _print_listexp_notes(le) -> None:
    """The whole-sample estimate, the flagged segments and subgroups, and the published
    table's inconsistent rows."""
    o = le.overall
    star = "*" if o["flag"] else ""
    out.print(
        f"List experiment ({le.n} respondents): {le.spec.label} {o['headline']:.0%}{star} "
        f"(95% CI {o['headline_ci_low']:.0%} to {o['headline_ci_high']:.0%}).",
        markup=False,
    )
    lines = []
    if o["flag"]:
        lines.append(
            f"* whole sample: the difference in means {o['estimate']:.1%} is {o['flag']}; "
            f"shown: the constrained ML estimate."
        )
    for r in le.support.table.itertuples():
        if isinstance(r.flag, str):
            lines.append(
                f"* {r.name}: the BCH difference in means {r.estimate:.1%} is {r.flag}; "
                f"shown, as for every segment: the ML three-step estimate {r.bounded:.0%} "
                f"({r.bounded_ci_low:.0%} to {r.bounded_ci_high:.0%})."
            )
    for g in le.groups:
        if not g["suppressed"] and g["flag"]:
            lines.append(
                f"* {g['variable']} {g['group']}: the difference in means {g['estimate']:.1%} "
                f"is {g['flag']}; shown in the report: the constrained ML estimate "
                f"{g['bounded']:.0%} ({g['bounded_ci_low']:.0%} to {g['bounded_ci_high']:.0%})."
            )
    if le.published is not None:
        lines += [f"† {n}" for n in le.published["notes"]]
    for line in lines:
        out.print(line, markup=False)


def _print_run(a, folder: Path, seconds: float) -> None:
    from segment.report.writer import model_withheld

    out.rule(f"[bold]{terminal_text(a.title)}")
    if a.synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_BANNER}")
    n_in = a.summary.n - a.n_not_asked
    table = Table(title=f"{a.k} segments ({n_in:,} respondents)")
    table.add_column("segment")
    table.add_column("share", justify="right")
    table.add_column("95% CI", justify="right")
    if a.typology is not None:
        table.add_column("reference")
    support = None
    if a.listexp is not None:
        support = a.listexp.support.table.set_index("segment")
        table.add_column(a.listexp.spec.label, justify="right")
    match = a.names.set_index("segment")
    for r in a.printed.shares.sort_values("share", ascending=False).itertuples():
        s = int(r.segment)
        ref = match.loc[s, "reference_name"] if "reference_name" in match else None
        row = [
            str(match.loc[s, "name"]),
            "withheld" if r.share != r.share else f"{r.share:.0%}",
            "" if r.ci_low != r.ci_low else f"{r.ci_low:.0%}-{r.ci_high:.0%}",
        ]
        if a.typology is not None:
            if "merged" in match and match.loc[s, "merged"]:
                row.append("joins " + " and ".join(_reference_names(a, match.loc[s, "references"])))
            else:
                row.append(("= " if match.loc[s, "named"] else "~ ") + ref if ref else "")
        if support is not None:
            e = support.loc[s, "headline"]
            flagged = isinstance(support.loc[s, "flag"], str)
            row.append("too few" if e != e else f"{e:.0%}{'*' if flagged else ''}")
        table.add_row(*row)
    out.print(table)
    if a.n_not_asked:
        one = a.n_not_asked == 1
        out.print(
            f"{a.n_not_asked:,} respondent{' was' if one else 's were'} not asked the "
            f"segmentation items (or answered none) and {'is' if one else 'are'} in no segment.",
            markup=False,
        )
    if a.listexp is not None:
        _print_listexp_notes(a.listexp)
    if a.selection is None:
        out.print(
            f"Number of segments: {a.k_reason} No other number was compared (the comparison "
            "of k was skipped; --ks 2-8 runs it).",
            markup=False,
        )
    else:
        out.print(f"Number of segments: {a.k_reason}", markup=False)
    if a.confirm is not None:
        _print_confirm(a.confirm)
    withheld = model_withheld(a)
    also = "profiles.md" if withheld else "profiles.md, model.json"
    say(out, f"Report: {folder / 'index.html'} (also {also}); {seconds:.0f} s.")
    if withheld:
        out.print(f"Note: {withheld}.", markup=False)


def _reference_names(a, ids) -> list[str]:
    return [a.typology[i].name for i in ids]


def _print_confirm(c) -> None:
    """The confirmatory fit: every reference segment with its support, then what it says."""
    table = Table(
        title=f"Confirmatory fit: the {c.k} segments of the {c.typology.name} typology "
        f"({c.n:,.0f} respondents)"
    )
    table.add_column("reference segment")
    table.add_column("share", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("support")
    for r in c.table.itertuples():
        interval = "" if r.ci_low != r.ci_low else f"{r.ci_low:.0%}-{r.ci_high:.0%}"
        share = "withheld" if r.share != r.share else f"{r.share:.0%}"
        table.add_row(str(r.name), share, interval, str(r.verdict))
    out.print(table)
    for line in c.statements():
        out.print(line, markup=False)
    free = c.free
    if free is not None:
        out.print(
            f"Confirmatory {c.k} against the chosen {int(free['k'])}: BIC {c.fit['bic']:,.0f} "
            f"vs {free['bic']:,.0f}, AIC {c.fit['aic']:,.0f} vs {free['aic']:,.0f} (lower is "
            f"better; bootstrap LRT with {c.n_boot} samples per pair; `segment fit --confirm` "
            "prints the full table).",
            markup=False,
        )
