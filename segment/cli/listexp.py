"""`segment listexp`: list-experiment estimates, by subgroup and by segment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from segment._escape import markdown_code_block, markdown_text
from segment._util import format_p

from ._common import (
    ENCODING,
    MAX_CONTROL_ITEMS,
    MAX_REPLICATES,
    SEED,
    FiniteFloatRange,
    Table,
    cli,
    echo,
    echo_json,
    out,
    say,
)


@cli.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--count", "count_col", default="y", show_default=True, help="Column of the item count."
)
@click.option(
    "--treat",
    "treat_col",
    default="treat",
    show_default=True,
    help="Column of the treatment indicator (0/1).",
)
@click.option(
    "--J",
    "J",
    type=click.IntRange(min=1, max=MAX_CONTROL_ITEMS),
    required=True,
    help="Number of control items.",
)
@click.option(
    "--method",
    type=click.Choice(["dim", "lm", "nls", "ml"]),
    default="dim",
    show_default=True,
    help="Difference in means, or Imai (2011) regression with covariates: linear (lm), "
    "nonlinear least squares (nls) or maximum likelihood (ml).",
)
@click.option("--covariates", help="Comma-separated numeric columns for --method lm, nls or ml.")
@click.option(
    "--by", "by", help="Comma-separated columns: estimates for each group (difference in means)."
)
@click.option("--weights", "weight_col", help="Column of survey weights.")
@click.option("--strata", "strata_col", help="Column of sampling strata (design-based SEs).")
@click.option("--psu", "psu_col", help="Column of primary sampling units (design-based SEs).")
@click.option(
    "--variance",
    type=click.Choice(["linearization", "bootstrap"]),
    default="linearization",
    show_default=True,
    help="Design-based variance with --strata/--psu: Taylor linearisation or PSU bootstrap.",
)
@click.option(
    "--segments",
    "model_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A model or typing tool: estimate support within each of its segments.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=10, max=MAX_REPLICATES),
    default=500,
    show_default=True,
    help="Bootstrap resamples for --segments.",
)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Minimum respondents in each arm of a reported row (the whole sample, a group, a "
    "segment); smaller rows, and rows that would let one be recovered, are withheld.",
)
@click.option(
    "--published",
    "published_path",
    default="auto",
    show_default=True,
    help="A published table of this experiment (YAML, profiles/jones_smyth_2022_table1.yaml's "
    "format) to show beside ours; 'auto' uses Table 1 of Jones & Smyth (2022) for the bundled "
    "kz2022_listexp.csv; 'none' shows none.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@ENCODING
def listexp(
    data,
    count_col,
    treat_col,
    J,
    method,
    covariates,
    by,
    weight_col,
    strata_col,
    psu_col,
    variance,
    model_path,
    n_boot,
    seed,
    min_cell,
    published_path,
    fmt,
    encoding,
):
    """Estimate support for the sensitive item of a list experiment."""
    from segment.segments.list_experiment import analyse_list_experiment
    from segment.segments.model_file import load_model
    from segment.survey.tables import read_table

    if (strata_col or psu_col) and method in ("lm", "nls"):
        raise click.UsageError(
            "--strata/--psu give design-based standard errors for --method dim and ml; "
            f"--method {method} has only the respondent-level sandwich"
        )
    published = _published(published_path, data)
    frame, _ = read_table(data, encoding=encoding)
    payload = analyse_list_experiment(
        frame,
        str(data),
        count=count_col,
        treat=treat_col,
        J=J,
        method=method,
        covariates=[c.strip() for c in (covariates or "").split(",") if c.strip()],
        by=[c.strip() for c in (by or "").split(",") if c.strip()],
        weights=weight_col,
        strata=strata_col,
        psu=psu_col,
        variance=variance,
        segments=None if model_path is None else load_model(model_path),
        n_boot=n_boot,
        random_state=seed,
        min_cell=min_cell,
        published=published,
    )
    _print(payload, fmt, min_cell, data)


#: The bundled list-experiment file whose published table is Table 1 of Jones & Smyth (2022).
MEMO_DATA = "kz2022_listexp.csv"


def _published(option: str, data: Path):
    """The published table to show: the memo's for its bundled file (``auto``), a file, or
    none."""
    from segment.listexp.published import load_published_table

    if option.lower() == "none":
        return None
    if option.lower() == "auto":
        return load_published_table() if data.name == MEMO_DATA else None
    return load_published_table(option)


def _pct(v) -> str:
    return "suppressed" if v is None else f"{100 * v:.1f}"


def _why(r: dict) -> str:
    """Why a row is not described (:mod:`segment.listexp.disclose`)."""
    return r.get("withheld") or "withheld"


def _design_test(payload: dict) -> str:
    """The design-effect test's sentence, or why it is withheld."""
    dt = payload["design_effect_test"]
    if dt.get("withheld"):
        return f"Design-effect test (Blair & Imai 2012): {dt['withheld']} (the whole sample)."
    return (
        f"Design-effect test (Blair & Imai 2012, Bonferroni-corrected): {format_p(dt['p_value'])} "
        f"(Andrews-Soares moment selection; {format_p(dt['p_value_blair_imai'], prefix=False)} "
        "as in the paper and R list)."
    )


def _headline(r: dict, unit: str = "") -> str:
    """The headline share, marked ``*`` when the difference in means is flagged."""
    return f"{_pct(r['headline'])}{unit}{'*' if r.get('flag') else ''}"


def _interval(r: dict, prefix: str = "headline_") -> str:
    return f"{_pct(r[prefix + 'ci_low'])} to {_pct(r[prefix + 'ci_high'])}"


def _flag_notes(rows: list, esc: Callable[[object], str] = str) -> list[str]:
    """One sentence per flagged row: the difference in means, why, and what is shown (``esc``:
    how a name from the data is written, :func:`markdown_text` for Markdown)."""
    return [
        f"* {esc(var) + ' ' if var != 'Entire sample' else ''}{esc(group or 'Entire sample')}: "
        f"the difference in means {_pct(r['estimate'])}% is {r['flag']}; shown: the "
        f"constrained ML estimate {_pct(r['bounded'])}% "
        f"({_pct(r['bounded_ci_low'])} to {_pct(r['bounded_ci_high'])})."
        for var, group, r in rows
        if not r.get("suppressed") and r.get("flag")
    ]


def _published_columns(payload: dict, var, group) -> tuple[str, str, str]:
    """The published control, treatment and support of a row (marked † when the printed
    support is not treatment minus control), or blanks."""
    pub = payload.get("published")
    if pub is None:
        return "", "", ""
    key = (None, None) if var == "Entire sample" else (var, group)
    for p in pub["rows"]:
        if (p["variable"], p["level"]) == key:
            mark = "" if p["consistent"] else "†"
            return p["control_text"], p["treatment_text"], f"{_pct(p['support'])}{mark}"
    return "", "", ""


def _published_notes(payload: dict, esc: Callable[[object], str] = str) -> list[str]:
    pub = payload.get("published")
    if pub is None:
        return []
    lines = [
        f"Published: {esc(pub['title'])} ({esc(pub['source'])}); memo figures from "
        f"{esc(Path(pub.get('path', '')).name or 'profiles/jones_smyth_2022_table1.yaml')}."
    ]
    lines += [
        f"† {esc(p['label'])}: the printed support is not treatment minus control: "
        f"{esc(p['note'])}."
        for p in pub["rows"]
        if not p["consistent"]
    ]
    return lines


def _print(payload: dict, fmt: str, min_cell: int, data: Path) -> None:
    """Print the analysis as JSON, markdown or text tables, as ``fmt`` says."""
    if fmt == "json":
        echo_json(payload)
        return
    o = payload["overall"]
    rows = [("Entire sample", "", o)] + [(g["variable"], g["group"], g) for g in payload["groups"]]
    if fmt == "markdown":
        _print_markdown(payload, o, rows, min_cell, data)
        return
    _print_text(payload, o, rows, min_cell)


def _print_markdown(payload: dict, o: dict, rows: list, min_cell: int, data: Path) -> None:
    """Print the analysis as markdown: the table of groups, the tests, the model and segments.
    Every name from the data, codebook or published table goes through :func:`markdown_text`."""
    md = markdown_text
    pub = "published" in payload
    head = "| | | n | Control | Treatment | Support (%) | 95% CI (%) | Constrained ML (%) |"
    rule = "|---|---|---|---|---|---|---|---|"
    if pub:
        head += " Memo control | Memo treatment | Memo support (%) |"
        rule += "---|---|---|"
    lines = [
        f"Support for the sensitive item (list experiment, J = {payload['J']}; {md(data.name)})",
        "",
        head,
        rule,
    ]
    for var, group, r in rows:
        memo = " | ".join(md(c) for c in _published_columns(payload, var, group)) if pub else ""
        memo += " |" if pub else ""
        if r.get("suppressed"):
            lines.append(f"| {md(var)} | {md(group)} | – | | | {md(_why(r))} | | | {memo}")
        else:
            lines.append(
                f"| {md(var)} | {md(group)} | {r['n']} | {r['control']:.2f} | "
                f"{r['treatment']:.2f} | "
                f"{_headline(r)} | {_interval(r)} | {_pct(r['bounded'])} "
                f"({_interval(r, 'bounded_')}) | {memo}"
            )
    lines.append("")
    lines += _footnotes(payload, rows, md)
    if "design" in payload:
        lines.append(
            f"Design-based standard errors ({payload['design']}); design effect of the "
            f"overall estimate {o['deff']:.2f}."
        )
    lines.append(_design_test(payload))
    for d in payload["differences"]:
        lines.append(
            f"{md(d['variable'])}: {md(d['group_a'])} minus {md(d['group_b'])} = "
            f"{_pct(d['difference'])} points ({format_p(d['p_value'])})."
        )
    if "model" in payload:
        m = payload["model"]
        lines += [
            "",
            markdown_code_block(m["summary"]),
            f"Average predicted prevalence: {_pct(m['prevalence'])}% "
            f"(95% CI {_pct(m['ci'][0])} to {_pct(m['ci'][1])}).",
        ]
    if "segments" in payload:
        lines += _markdown_segments(payload)
    echo("\n".join(lines))


def _footnotes(payload: dict, rows: list, esc: Callable[[object], str] = str) -> list[str]:
    """The rule behind the support column, the flagged rows and the published table's notes."""
    lines = [
        "Support: the difference in means where it is inside 0-100% (its interval cut to "
        "0-100%), else the constrained ML estimate (Imai 2011, within the group; profile "
        "likelihood interval), marked *."
    ]
    return lines + _flag_notes(rows, esc) + _published_notes(payload, esc)


def _markdown_segments(payload: dict) -> list[str]:
    """The markdown lines of the support by segment."""
    if payload["segments"].get("withheld"):
        return ["", f"Support by segment: {markdown_text(payload['segments']['withheld'])}."]
    lines = [
        "",
        f"Support by segment ({payload['segments']['method']}):",
        "",
        "| Segment | Share (%) | Support (%) | 95% CI (%) | BCH difference in means (%) |",
        "|---|---|---|---|---|",
    ]
    for r in payload["segments"]["table"]:
        if r["estimate"] is None:
            lines.append(
                f"| {markdown_text(r['name'])} | {_pct(r['share'])} | "
                f"{markdown_text(_why(r))} | | |"
            )
        else:
            lines.append(
                f"| {markdown_text(r['name'])} | {_pct(r['share'])} | {_pct(r['headline'])} | "
                f"{_interval(r)} | "
                f"{_bch(r)} |"
            )
    return [*lines, "", *_segment_notes(payload, markdown_text)]


def _bch(r: dict) -> str:
    """The BCH difference in means and its interval, or the flag mark when it is no share."""
    if r.get("flag"):
        return "outside 0-100%*"
    return f"{_pct(r['estimate'])} ({_pct(r['ci_low'])} to {_pct(r['ci_high'])})"


def _segment_notes(payload: dict, esc: Callable[[object], str] = str) -> list[str]:
    """What the support column is, and one sentence per segment whose BCH difference in means
    is flagged."""
    return [
        "Support: the ML three-step estimate (constrained Imai 2011 model within latent "
        "segments; profile likelihood interval); the BCH difference in means beside it."
    ] + [
        f"* {esc(r['name'])}: the BCH difference in means {_pct(r['estimate'])}% is {r['flag']}."
        for r in payload["segments"]["table"]
        if r["estimate"] is not None and r.get("flag")
    ]


def _print_text(payload: dict, o: dict, rows: list, min_cell: int) -> None:
    """Print the analysis as text: the table of groups, the tests, the model and segments."""
    pub = "published" in payload
    table = Table(title=f"Support for the sensitive item (list experiment, J = {payload['J']})")
    cols = ["", "", "n", "control", "treatment", "support", "95% CI", "constrained ML"]
    if pub:
        cols += ["memo C", "memo T", "memo %"]
    for col in cols:
        table.add_column(col, justify="left" if not col else "right")
    for var, group, r in rows:
        memo = list(_published_columns(payload, var, group)) if pub else []
        if r.get("suppressed"):
            table.add_row(var, group, "–", "", "", "withheld", "", "", *memo)
        else:
            table.add_row(
                var,
                group,
                str(r["n"]),
                f"{r['control']:.2f}",
                f"{r['treatment']:.2f}",
                _headline(r, "%"),
                _interval(r),
                f"{_pct(r['bounded'])}% ({_pct(r['bounded_ci_low'])}-{_pct(r['bounded_ci_high'])})",
                *memo,
            )
    out.print(table)
    for var, group, r in rows:
        if r.get("suppressed"):
            name = var if var == "Entire sample" else f"{var} {group}"
            out.print(f"{name}: {_why(r)}.", markup=False, soft_wrap=True)
    for line in _footnotes(payload, rows):
        out.print(line, markup=False)
    if "design" in payload:
        say(
            out,
            f"Design-based standard errors ({payload['design']}); design effect of the overall "
            f"estimate {o['deff']:.2f}.",
        )
    out.print(_design_test(payload), markup=False)
    for d in payload["differences"]:
        say(
            out,
            f"{d['variable']}: {d['group_a']} minus {d['group_b']} = "
            f"{_pct(d['difference'])} points ({format_p(d['p_value'])})",
        )
    if "model" in payload:
        out.print(payload["model"]["summary"], markup=False)
        m = payload["model"]
        out.print(
            f"Average predicted prevalence: {_pct(m['prevalence'])}% "
            f"(95% CI {_pct(m['ci'][0])} to {_pct(m['ci'][1])})"
        )
    if "segments" in payload:
        _print_text_segments(payload)


def _print_text_segments(payload: dict) -> None:
    """Print the table of support by segment and its method."""
    if payload["segments"].get("withheld"):
        out.print(f"Support by segment: {payload['segments']['withheld']}.", markup=False)
        return
    seg = Table(title="Support by segment")
    for col in ("segment", "share", "support", "95% CI", "BCH difference in means"):
        seg.add_column(col, justify="left" if col == "segment" else "right")
    for r in payload["segments"]["table"]:
        if r["estimate"] is None:
            share = "withheld" if r["share"] is None else f"{_pct(r['share'])}%"
            seg.add_row(r["name"], share, _why(r), "", "")
        else:
            seg.add_row(
                r["name"], f"{_pct(r['share'])}%", f"{_pct(r['headline'])}%", _interval(r), _bch(r)
            )
    out.print(seg)
    for line in _segment_notes(payload):
        out.print(line, markup=False)
    say(out, f"Method: {payload['segments']['method']}.", style="dim")


@cli.command("listexp-power")
@click.option(
    "--J",
    "J",
    type=click.IntRange(min=1, max=MAX_CONTROL_ITEMS),
    required=True,
    help="Number of control items.",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=4),
    help="Planned respondents (gives the interval half-width).",
)
@click.option(
    "--half-width",
    type=FiniteFloatRange(0, 1, min_open=True),
    help="Target 95% half-width (gives the N needed).",
)
@click.option(
    "--prevalence",
    type=FiniteFloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Expected support for the sensitive item.",
)
@click.option(
    "--deff",
    type=FiniteFloatRange(min=1),
    default=1.0,
    show_default=True,
    help="Design effect of weights or clustering (e.g. an Almaty/Astana oversample).",
)
@click.option(
    "--control-var",
    type=FiniteFloatRange(min=0),
    help="Variance of the control count (default: J * 0.25).",
)
def listexp_power(J, n, half_width, prevalence, deff, control_var):
    """Plan a list experiment: interval width for N, or N for a width (difference in means)."""
    from segment.listexp import power_list_experiment, sample_size_list_experiment

    if (n is None) == (half_width is None):
        raise click.UsageError("give exactly one of --n and --half-width")
    if n is not None:
        r = power_list_experiment(n, J, prevalence=prevalence, deff=deff, control_var=control_var)
        out.print(
            f"N = {n:,} (J = {J}, support {prevalence:.0%}, design effect {deff:g}): "
            f"SE {r.se:.3f}, 95% CI +/- {100 * r.half_width:.1f} points."
        )
    else:
        size = sample_size_list_experiment(
            half_width, J, prevalence=prevalence, deff=deff, control_var=control_var
        )
        out.print(
            f"For a 95% CI of +/- {100 * half_width:.1f} points "
            f"(J = {J}, support {prevalence:.0%}, design effect {deff:g}): "
            f"N = {int(size.n):,} respondents ({int(size.n_treat):,} per arm)."
        )
