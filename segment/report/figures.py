"""Report figures (seaborn / matplotlib), each returned as PNG bytes.

Every figure colours segment ``s`` with ``palette[s]`` (:func:`segment_palette`), so a segment
has one colour across the whole report. Figures show aggregates only, except the UMAP map,
which shows each respondent as an unlabelled point in an abstract plane.

Every text on a figure is drawn as written: segment names, labels and titles come from the
user's codebook, typology and data, so no figure parses mathtext (``$x^2$`` stays five
characters and ``$\\foo{$`` cannot fail) or sends text to LaTeX, whatever the user's
matplotlibrc says (:func:`_plain_text`).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from segment.survey.codebook import Codebook

__all__ = [
    "chart_labels",
    "compare_figure",
    "demographics_figure",
    "item_heatmap",
    "profile_panel",
    "segment_palette",
    "selection_figure",
    "shares_figure",
    "support_figure",
    "umap_figure",
]

SUPPRESSED_COLOUR = "#d9d9d9"
DPI = 110

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _plain_text(figure: Callable[_P, _R]) -> Callable[_P, _R]:
    """Build and save ``figure`` with text that is never mathtext nor LaTeX (every Text object
    reads ``text.parse_math`` when it is made, and drawing happens at ``savefig``: both are
    inside the context)."""

    @functools.wraps(figure)
    def plain(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with plt.rc_context({"text.parse_math": False, "text.usetex": False}):
            return figure(*args, **kwargs)

    return plain


def segment_palette(k: int) -> list[str]:
    """One colour per segment index (colour-blind safe for up to 8, then tab20)."""
    colours = sns.color_palette("colorblind", 8) if k <= 8 else sns.color_palette("tab20", k)
    return [matplotlib.colors.to_hex(c) for c in colours[:k]]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _style():
    sns.set_theme(style="whitegrid", context="notebook", font="DejaVu Sans")


@_plain_text
def selection_figure(table: pd.DataFrame, chosen: int) -> bytes:
    """BIC and bootstrap stability by number of segments, the chosen k marked."""
    _style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    ax = axes[0]
    ax.plot(table["k"], table["bic"], marker="o", color="#4c4c4c")
    row = table.loc[table["k"] == chosen]
    ax.plot(row["k"], row["bic"], marker="o", markersize=12, color="#d55e00", linestyle="none")
    ax.set(xlabel="number of segments (k)", ylabel="BIC (lower is better)", title="Fit")
    ax.ticklabel_format(axis="y", style="plain")
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax = axes[1]
    if table["stability"].notna().any():
        ax.plot(table["k"], table["stability"], marker="o", color="#4c4c4c")
        ax.plot(row["k"], row["stability"], marker="o", markersize=12, color="#d55e00", ls="none")
        ax.axhline(0.7, color="#999999", linestyle="--", linewidth=1)
        ax.text(table["k"].min(), 0.71, "minimum 0.7", color="#666666", fontsize=9)
    ax.set(
        xlabel="number of segments (k)",
        ylabel="adjusted Rand index",
        title="Bootstrap stability",
        ylim=(0, 1.05),
    )
    for a in axes:
        a.set_xticks(table["k"])
    fig.tight_layout()
    return _png(fig)


@_plain_text
def shares_figure(
    shares: pd.DataFrame,
    names: list[str],
    palette: list[str],
    *,
    xlabel: str = "share of respondents (%), with 95% interval",
) -> bytes:
    """Segment sizes with 95% intervals, largest first (``names``: chart labels by segment)."""
    _style()
    d = shares.sort_values("share", ascending=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(d) + 1.0))
    y = np.arange(len(d))
    segs = d["segment"].to_numpy()
    ax.barh(y, 100 * d["share"], color=[palette[s] for s in segs], height=0.65)
    err = np.vstack([d["share"] - d["ci_low"], d["ci_high"] - d["share"]]) * 100
    ax.errorbar(100 * d["share"], y, xerr=err, fmt="none", ecolor="#333333", capsize=3, lw=1)
    labels = chart_labels(names, 34)
    ax.set_yticks(y, [labels[s] for s in segs])
    ax.set_xlabel(_wrap(xlabel, 70, 3))
    ax.set_xlim(0, max(5, 100 * d["ci_high"].max() * 1.1))
    fig.tight_layout()
    return _png(fig)


def _wrap(text: str, width: int, lines: int = 2) -> str:
    """``text`` wrapped at word boundaries to lines of about ``width`` characters, at most
    ``lines`` lines; when longer, the last line ends after a whole word with an ellipsis. A word
    longer than ``width`` keeps its own line: nothing is cut mid-word."""
    import textwrap

    text = " ".join(str(text).split())
    wrapped = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    wrapped = wrapped or [text]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        last = wrapped[-1].rstrip(",;:")
        if len(last) + 1 > width and " " in last:  # room for the ellipsis: drop a word
            last = last.rsplit(" ", 1)[0].rstrip(",;:")
        wrapped[-1] = last + "…"
    return "\n".join(wrapped)


def chart_labels(names: list[str], width: int, lines: int = 2, most: int = 4) -> list[str]:
    """Segment names wrapped for a chart (:func:`_wrap`) with as few lines as keep every label
    different from the others (up to ``most`` lines), so that a shortened name still tells its
    segment apart."""
    for n in range(lines, max(lines, most) + 1):
        labels = [_wrap(name, width, n) for name in names]
        if len(set(labels)) == len(set(names)):
            return labels
    return labels


@_plain_text
def item_heatmap(
    items: pd.DataFrame, codebook: Codebook, names: list[str], order: list[int]
) -> bytes:
    """Mean position (0 = lowest answer, 100 = highest) of each item in each segment, rows
    grouped by domain; suppressed cells grey."""
    _style()
    d = items.copy()
    d["value"] = np.where(d["suppressed"], np.nan, 100 * d["position"])
    # the questions in the codebook's order (pivot would sort them by column name), grouped
    # by domain in the domains' print order
    wide = d.pivot(index="item", columns="segment", values="value")[order]
    wide = wide.loc[list(dict.fromkeys(d["item"]))]
    domains = [codebook[c].domain for c in wide.index]
    titles = codebook.domain_titles
    rank = {dom: i for i, dom in enumerate(titles)}
    rows = sorted(range(len(wide)), key=lambda i: (rank.get(domains[i], 99), i))
    wide = wide.iloc[rows]
    domains = [domains[i] for i in rows]
    labels = [_wrap(codebook[c].short or c, 38) for c in wide.index]
    fig, ax = plt.subplots(figsize=(2.2 + 1.25 * len(order) + 1.6, 0.3 * len(wide) + 2.6))
    sns.heatmap(
        wide,
        ax=ax,
        cmap="vlag",
        center=50,
        vmin=0,
        vmax=100,
        annot=True,
        fmt=".0f",
        annot_kws={"fontsize": 7.5},
        linewidths=0.4,
        linecolor="white",
        cbar_kws={
            "label": "mean position (0 = lowest answer, 100 = highest)",
            "orientation": "horizontal",
            "shrink": 0.5,
            "pad": 0.07,
            "aspect": 40,
        },
        yticklabels=labels,
        xticklabels=chart_labels([names[s] for s in order], 16, 3, 5),
    )
    ax.set_facecolor(SUPPRESSED_COLOUR)
    ax.set(xlabel="", ylabel="")
    ax.tick_params(axis="y", labelsize=8)
    ax.tick_params(axis="x", labelsize=8.5, rotation=0, top=False, labeltop=True, bottom=False)
    ax.tick_params(axis="x", labelbottom=False)  # names on top: the colour bar is below
    # domain bands: a rule between domains and the domain's name on the right
    start = 0
    for i in range(1, len(domains) + 1):
        if i == len(domains) or domains[i] != domains[start]:
            if i < len(domains):
                ax.axhline(i, color="#222222", linewidth=1.5)
            ax.text(
                len(order) + 0.15,
                (start + i) / 2,
                _wrap(titles.get(domains[start], domains[start]), 18),
                va="center",
                ha="left",
                fontsize=8.5,
                fontweight="bold",
                transform=ax.transData,
            )
            start = i
    fig.tight_layout()
    return _png(fig)


@_plain_text
def umap_figure(
    coords: np.ndarray, labels: np.ndarray, names: list[str], palette: list[str]
) -> bytes:
    """Respondents on the UMAP plane, coloured by most likely segment."""
    _style()
    fig, ax = plt.subplots(figsize=(7.5, 6))
    legend = chart_labels(names, 30)
    for s in np.unique(labels):
        m = labels == s
        ax.scatter(
            coords[m, 0],
            coords[m, 1],
            s=6,
            alpha=0.6,
            color=palette[s],
            label=legend[s],
            linewidths=0,
        )
    ax.set(xticks=[], yticks=[], xlabel="UMAP 1", ylabel="UMAP 2")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, markerscale=3, fontsize=9)
    fig.tight_layout()
    return _png(fig)


@_plain_text
def demographics_figure(
    demographics: pd.DataFrame,
    codebook: Codebook,
    names: list[str],
    order: list[int],
    variables: list[str],
) -> bytes:
    """Composition of each segment (and the whole sample) on each demographic variable, two
    panels a row; cells too small to report are pooled into a grey 'suppressed' band."""
    _style()
    n = len(variables)
    ncol = 2
    nrow = (n + 1) // 2
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(12, (0.32 * (len(order) + 1) + 1.2) * nrow), squeeze=False
    )
    for ax, var in zip(axes.flat, variables, strict=False):
        _composition(ax, demographics, codebook, names, order, var)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return _png(fig)


#: Inches of a profile panel: its width, the room for segment names left of the bars, and
#: the height of a bar row. Every panel has the same canvas, so side by side they share a scale.
PANEL_WIDTH, PANEL_NAMES, PANEL_ROW = 5.6, 1.95, 0.5


@_plain_text
def profile_panel(
    demographics: pd.DataFrame,
    codebook: Codebook,
    names: list[str],
    order: list[int],
    variable: str,
) -> bytes:
    """One profile variable's composition of each segment and of the whole sample, as one
    narrow figure of fixed width (the report lays several side by side, or one under another
    on a phone); cells too small to report are pooled into a grey 'suppressed' band."""
    _style()
    fig = plt.figure(figsize=(PANEL_WIDTH, 1.0))  # resized below, once the legend is known
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    _composition(ax, demographics, codebook, names, order, variable, fontsize=9.5)
    ax.set_xlabel("")
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(decimals=0))
    handles, labels = ax.get_legend_handles_labels()
    longest = max((len(line) for text in labels for line in text.split("\n")), default=0)
    ncol = max(1, min(len(handles), 4 if longest <= 12 else 3 if longest <= 18 else 2))
    rows = -(-len(handles) // ncol)
    lines = [label.count("\n") + 1 for label in labels]
    legend_h = 0.1 + 0.16 * sum(max(lines[r * ncol : (r + 1) * ncol]) for r in range(rows))
    title_h, ticks_h = 0.35, 0.3
    bars_h = PANEL_ROW * (len(order) + 1)
    height = title_h + bars_h + ticks_h + legend_h
    fig.set_size_inches(PANEL_WIDTH, height)
    ax.set_position(
        (
            PANEL_NAMES / PANEL_WIDTH,
            (ticks_h + legend_h) / height,
            (PANEL_WIDTH - PANEL_NAMES - 0.3) / PANEL_WIDTH,
            bars_h / height,
        )
    )
    # the legend fills its columns first: reorder so that it reads across, row by row
    across = [i for c in range(ncol) for r in range(rows) if (i := r * ncol + c) < len(handles)]
    fig.legend(
        [handles[i] for i in across],
        [labels[i] for i in across],
        loc="upper left",
        bbox_to_anchor=(0.1 / PANEL_WIDTH, legend_h / height),
        ncol=ncol,
        fontsize=8.5,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.2,
        borderaxespad=0.0,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _composition(
    ax,
    demographics: pd.DataFrame,
    codebook: Codebook,
    names: list[str],
    order: list[int],
    var: str,
    fontsize: float = 8,
) -> None:
    """Stacked bars of one variable's categories: the whole sample, then each segment."""
    d = demographics[demographics["variable"] == var]
    cats = list(dict.fromkeys(d["category"]))
    colours = (
        sns.color_palette("Set2", len(cats))
        if len(cats) <= 8
        else sns.color_palette("husl", len(cats))
    )
    rows = ["Whole sample", *[names[s] for s in order]]
    y = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    sample = d.drop_duplicates("category").set_index("category")["sample_share"]
    for c, colour in zip(cats, colours, strict=True):
        vals = [float(sample.get(c, 0.0))]
        for s in order:
            r = d[(d["segment"] == s) & (d["category"] == c)]
            vals.append(
                0.0 if r.empty or bool(r["suppressed"].iloc[0]) else float(r["share"].iloc[0])
            )
        vals = 100 * np.nan_to_num(np.array(vals))
        label = _wrap(_category_label(codebook, var, c), 18)
        ax.barh(y, vals, left=left, color=colour, height=0.7, label=label)
        left += vals
    ax.barh(
        y,
        np.maximum(100 - left, 0),
        left=left,
        color=SUPPRESSED_COLOUR,
        height=0.7,
        label="suppressed" if (100 - left > 0.5).any() else None,
    )
    ax.set_yticks(y, chart_labels(rows, 24), fontsize=fontsize)
    ax.set_xlim(0, 100)
    ax.tick_params(axis="x", labelsize=fontsize)
    item = codebook[var] if var in codebook else None
    title = item.short if item is not None and item.short else var
    ax.set_title(title[:1].upper() + title[1:] + " (% of each row)", fontsize=fontsize + 1.5)
    ax.set_xlabel("% of segment", fontsize=fontsize)


def _category_label(codebook: Codebook, variable: str, category) -> str:
    """The answer label of a profile category (categories are level names or labels, band
    labels or quartile groups)."""
    if variable in codebook:
        for lv in codebook[variable].levels:
            if category in (lv.name, lv.label()):
                return lv.label()
    return str(category)


@_plain_text
def support_figure(
    rows: pd.DataFrame, *, overall: float | None, title: str, palette: list[str] | None = None
) -> bytes:
    """Forest plot of prevalence estimates with 95% intervals (``rows``: ``label, estimate,
    ci_low, ci_high`` and optionally ``segment`` and ``flagged``). Every row is drawn: an
    estimate is clipped to 0-100% (the tables give the figures), a ``flagged`` row (an
    unconstrained estimate outside 0-100% replaced by a bounded one) is an open diamond and its
    label gets ``*``, and a row without an estimate says "too few to report"."""
    _style()
    d = rows.reset_index(drop=True)
    flagged = d["flagged"] if "flagged" in d else pd.Series(False, index=d.index)
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(d), 1) + 1.2))
    y = np.arange(len(d))[::-1]
    for yi, r, flag in zip(y, d.itertuples(), flagged, strict=True):
        colour = palette[int(r.segment)] if palette is not None else "#4c4c4c"
        if not np.isfinite(r.estimate):
            ax.text(1, yi, "too few to report", va="center", fontsize=8.5, color="#666666")
            continue
        lo, hi = max(r.ci_low, 0.0), min(r.ci_high, 1.0)
        ax.plot([100 * lo, 100 * hi], [yi, yi], color=colour, linewidth=2.5, solid_capstyle="butt")
        est = 100 * min(max(r.estimate, 0.0), 1.0)
        if flag:
            ax.plot(
                est,
                yi,
                "D",
                color="white",
                markersize=8,
                markeredgecolor=colour,
                mew=2,
                clip_on=False,
                zorder=3,
            )
        else:
            ax.plot(
                est,
                yi,
                "o",
                color=colour,
                markersize=8,
                markeredgecolor="white",
                clip_on=False,
                zorder=3,
            )
    if overall is not None:
        ax.axvline(100 * overall, color="#999999", linestyle="--", linewidth=1)
        ax.text(100 * overall, len(d) - 0.4, " whole sample", color="#666666", fontsize=8.5)
    labels = chart_labels([str(v) for v in d["label"]], 33)
    ax.set_yticks(y, [lab + ("*" if f else "") for lab, f in zip(labels, flagged, strict=True)])
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.7, len(d) - 0.2)
    ax.set_xlabel("estimated share holding the attitude (%), 95% interval")
    ax.set_title(title, fontsize=10.5)
    fig.tight_layout()
    return _png(fig)


@_plain_text
def compare_figure(table: pd.DataFrame, palette: list[str], labels: tuple[str, str]) -> bytes:
    """Segment shares in two waves (paired bars with 95% intervals)."""
    _style()
    d = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(d) + 1.2))
    y = np.arange(len(d))[::-1]
    h = 0.36
    for offset, wave, alpha in ((h / 2, 1, 0.45), (-h / 2, 2, 1.0)):
        share = 100 * d[f"share_{wave}"]
        err = 100 * 1.959964 * d[f"se_{wave}"]
        ax.barh(
            y + offset,
            share,
            height=h,
            color=[palette[int(s)] for s in d["segment"]],
            alpha=alpha,
            xerr=err,
            error_kw={"ecolor": "#333333", "capsize": 2, "lw": 1},
        )
    ax.set_yticks(y, chart_labels([str(n) for n in d["name"]], 30))
    ax.set_xlabel(f"share (%): pale = {labels[0]}, solid = {labels[1]}; 95% intervals")
    fig.tight_layout()
    return _png(fig)
