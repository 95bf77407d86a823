"""Commands on survey files: run, codebook, typology, synth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from ..codebook import Codebook
from ..io import read_survey, read_table
from ..resources import bundled_path
from ..summary import summarise_survey
from ..typology import Typology
from ._common import (
    BUNDLED_CODEBOOK,
    BUNDLED_DATA,
    CODEBOOK,
    ENCODING,
    FORCE,
    SYNTHETIC_BANNER,
    _refuse_existing,
    cli,
    err,
    out,
)

# ----------------------------------------------------------------------------- run
BUNDLED_LISTEXP = "kz2022_listexp.csv"
REPORT_FILES = ("index.html", "profiles.md", "model.json")


@cli.command()
@click.argument("data", required=False, type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@click.option("--k", "k", type=click.IntRange(min=1), help="Number of segments (default: chosen).")
@click.option(
    "--ks",
    "k_text",
    default="2-8",
    show_default=True,
    help="Numbers of segments to compare, e.g. 2-8 or 3,5,6 ('none' to skip the comparison).",
)
@click.option(
    "--typology",
    "typology_path",
    default="kz2020",
    show_default=True,
    help="Reference typology to name segments against ('none' to skip).",
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
    "--J", "J", type=click.IntRange(min=1), default=4, show_default=True, help="Control items."
)
@click.option(
    "--by",
    default="gender,education,ethnicity,region",
    show_default=True,
    help="List-experiment subgroups (columns of the list file that exist are used).",
)
@click.option(
    "--listexp-label",
    default="support for CSTO membership",
    show_default=True,
    help="What the sensitive item measures, for the report.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default: reports/<data file name>).",
)
@click.option("--seed", type=int, default=1, show_default=True)
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
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def run(
    data,
    codebook_path,
    k,
    k_text,
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
    quiet,
):
    """Run the main job: segments, names, profiles, list experiment and an HTML report.

    With no DATA it runs on the bundled synthetic survey and list experiment and writes
    reports/kz2020_synthetic/. An earlier report in the output folder is replaced; any
    other existing folder is kept unless --force.
    """
    import time

    from ..pipeline import STEPS, ListExperiment, run_analysis
    from ..report import write_report
    from .segments import _parse_ks

    start = time.perf_counter()
    bundled = data is None
    if bundled:
        data = bundled_path("data", BUNDLED_DATA)
        codebook_path = codebook_path or bundled_path("data", BUNDLED_CODEBOOK)
    output = output or Path("reports") / data.stem
    if output.exists() and not force:
        known = output.is_dir() and set(REPORT_FILES) <= {p.name for p in output.iterdir()}
        extra = output.is_dir() and {p.name for p in output.iterdir()} - set(REPORT_FILES)
        if not known or extra:
            raise click.UsageError(
                f"{output} exists and is not a segment report; pass --force to replace it"
            )
    listexp = None
    if listexp_path is None and bundled:
        listexp_path = bundled_path("data", BUNDLED_LISTEXP)
    if listexp_path is not None and str(listexp_path).lower() != "none":
        listexp = ListExperiment(
            path=Path(listexp_path),
            count=count_col,
            treat=treat_col,
            J=J,
            by=tuple(c.strip() for c in by.split(",") if c.strip()),
            label=listexp_label,
            synthetic=bundled and Path(listexp_path).name == BUNDLED_LISTEXP,
        )
    ks = [] if k_text.lower() == "none" else _parse_ks(k_text)
    marks = {}

    def progress(step: str, message: str) -> None:
        if quiet:
            return
        if message == "start":
            marks[step] = time.perf_counter()
            err.print(f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step} ...", markup=False)
        elif message == "done":
            err.print(
                f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step}: done in "
                f"{time.perf_counter() - marks[step]:.1f} s",
                markup=False,
            )

    try:
        analysis = run_analysis(
            data,
            codebook_path,
            k=k,
            ks=ks,
            typology=typology_path,
            listexp=listexp,
            embed=not no_map,
            random_state=seed,
            min_cell=min_cell,
            encoding=encoding,
            progress=progress,
        )
    except ValueError as exc:
        if hasattr(exc, "problems"):
            raise
        raise click.UsageError(str(exc)) from None
    folder = write_report(analysis, output)
    if quiet:
        return
    _print_run(analysis, folder, time.perf_counter() - start)


def _print_run(a, folder: Path, seconds: float) -> None:
    out.rule(f"[bold]{a.title}")
    if a.synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_BANNER}")
    table = Table(title=f"{a.k} segments ({a.summary.n:,} respondents)")
    table.add_column("segment")
    table.add_column("share", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("reference")
    support = None
    if a.listexp is not None:
        support = a.listexp.support.table.set_index("segment")
        table.add_column(a.listexp.spec.label, justify="right")
    match = a.names.set_index("segment")
    for r in a.profiles.shares.sort_values("share", ascending=False).itertuples():
        s = int(r.segment)
        ref = match.loc[s, "reference_name"] if "reference_name" in match else None
        row = [
            str(match.loc[s, "name"]),
            f"{r.share:.0%}",
            f"{r.ci_low:.0%}-{r.ci_high:.0%}",
            ("= " if match.loc[s, "named"] else "~ ") + ref if ref else "",
        ]
        if support is not None:
            e = support.loc[s, "estimate"]
            row.append("too few" if e != e else f"{e:.0%}")
        table.add_row(*row)
    out.print(table)
    if a.listexp is not None:
        o = a.listexp.overall
        out.print(
            f"List experiment ({a.listexp.n} respondents): {a.listexp.spec.label} "
            f"{o['estimate']:.0%} (95% CI {max(o['ci_low'], 0):.0%} to {min(o['ci_high'], 1):.0%})."
        )
    out.print(f"Number of segments: {a.k_reason}", markup=False)
    out.print(f"Report: {folder / 'index.html'} (also profiles.md, model.json); {seconds:.0f} s.")


@cli.command()
@click.argument("data", required=False, type=click.Path(dir_okay=False, path_type=Path))
@CODEBOOK
@ENCODING
def describe(data: Path | None, codebook_path: Path | None, encoding: str) -> None:
    """Validate a survey against its codebook and summarise it (default: the bundled one).

    Prints the weights' design effect, don't-know and missing shares by domain and the
    weighted composition, suppressing cells under 30 respondents.
    """
    if data is None:
        data = bundled_path("data", BUNDLED_DATA)
        codebook_path = codebook_path or bundled_path("data", BUNDLED_CODEBOOK)
    frame, codebook = read_survey(data, codebook_path, encoding=encoding)
    _print_summary(summarise_survey(frame, codebook), data)


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
    from ..infer import infer_codebook

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
    from ..synth import DEFAULT_SPREAD, generate_survey, write_survey

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


@cli.command("synth-listexp")
@click.option(
    "--n", "n", type=click.IntRange(min=20), default=400, show_default=True, help="Respondents."
)
@click.option("--seed", type=int, default=2022, show_default=True)
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.",
)
@FORCE
def synth_listexp(n: int, seed: int, out_dir: Path, force: bool) -> None:
    """Generate the SYNTHETIC list-experiment survey reproducing seed 001's Table 1."""
    from .._files import atomic_write_text
    from ..listexp_synth import generate_table1_survey

    targets = [out_dir / "kz2022_listexp.csv", out_dir / "kz2022_listexp_truth.csv"]
    _refuse_existing(targets, force)
    data, truth = generate_table1_survey(n, seed=seed)
    atomic_write_text(targets[0], data.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(targets[1], truth.to_csv(index=False, lineterminator="\n"))
    err.print(
        f"Wrote SYNTHETIC list experiment: {targets[0]} ({n:,} respondents), {targets[1].name} (true segments; for tests only).",
        markup=False,
    )
