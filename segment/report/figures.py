"""Report figures (seaborn / matplotlib), each returned as PNG bytes.

Every figure colours segment ``s`` with ``palette[s]`` (:func:`segment_palette`), so a segment
has one colour across the whole report. Figures show aggregates only, except the UMAP map,
which shows each respondent as an unlabelled point in an abstract plane.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from segment.survey.codebook import Codebook

__all__ = [
    "compare_figure",
    "demographics_figure",
    "item_heatmap",
    "segment_palette",
    "selection_figure",
    "shares_figure",
    "support_figure",
    "umap_figure",
]

SUPPRESSED_COLOUR = "#d9d9d9"
DPI = 110


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


def shares_figure(shares: pd.DataFrame, names: list[str], palette: list[str]) -> bytes:
    """Segment sizes with 95% intervals, largest first."""
    _style()
    d = shares.sort_values("share", ascending=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(d) + 1.0))
    y = np.arange(len(d))
    segs = d["segment"].to_numpy()
    ax.barh(y, 100 * d["share"], color=[palette[s] for s in segs], height=0.65)
    err = np.vstack([d["share"] - d["ci_low"], d["ci_high"] - d["share"]]) * 100
    ax.errorbar(100 * d["share"], y, xerr=err, fmt="none", ecolor="#333333", capsize=3, lw=1)
    ax.set_yticks(y, [_wrap(names[s], 34) for s in segs])
    ax.set_xlabel("share of the adult population (%), with 95% interval")
    ax.set_xlim(0, max(5, 100 * d["ci_high"].max() * 1.1))
    fig.tight_layout()
    return _png(fig)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def item_heatmap(
    items: pd.DataFrame, codebook: Codebook, names: list[str], order: list[int]
) -> bytes:
    """Mean position (0 = lowest answer, 100 = highest) of each item in each segment, rows
    grouped by domain; suppressed cells grey."""
    _style()
    d = items.copy()
    d["value"] = np.where(d["suppressed"], np.nan, 100 * d["position"])
    wide = d.pivot(index="item", columns="segment", values="value")[order]
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
        xticklabels=[_wrap(names[s], 16) for s in order],
    )
    ax.set_facecolor(SUPPRESSED_COLOUR)
    ax.set(xlabel="", ylabel="")
    ax.tick_params(axis="y", labelsize=8)
    ax.tick_params(axis="x", labelsize=8.5, rotation=0)
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


def umap_figure(
    coords: np.ndarray, labels: np.ndarray, names: list[str], palette: list[str]
) -> bytes:
    """Respondents on the UMAP plane, coloured by most likely segment."""
    _style()
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for s in np.unique(labels):
        m = labels == s
        ax.scatter(
            coords[m, 0],
            coords[m, 1],
            s=6,
            alpha=0.6,
            color=palette[s],
            label=_wrap(names[s], 30),
            linewidths=0,
        )
    ax.set(xticks=[], yticks=[], xlabel="UMAP 1", ylabel="UMAP 2")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, markerscale=3, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def demographics_figure(
    demographics: pd.DataFrame,
    codebook: Codebook,
    names: list[str],
    order: list[int],
    variables: list[str],
) -> bytes:
    """Composition of each segment (and the whole sample) on each demographic variable;
    cells too small to report are pooled into a grey 'suppressed' band."""
    _style()
    n = len(variables)
    ncol = 2
    nrow = (n + 1) // 2
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(12, (0.32 * (len(order) + 1) + 1.2) * nrow), squeeze=False
    )
    for ax, var in zip(axes.flat, variables, strict=False):
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
            ax.barh(y, vals, left=left, color=colour, height=0.7, label=_wrap(str(c), 18))
            left += vals
        ax.barh(
            y,
            np.maximum(100 - left, 0),
            left=left,
            color=SUPPRESSED_COLOUR,
            height=0.7,
            label="suppressed (small cell)" if (100 - left > 0.5).any() else None,
        )
        ax.set_yticks(y, [_wrap(r, 28) for r in rows], fontsize=8)
        ax.set_xlim(0, 100)
        ax.tick_params(axis="x", labelsize=8)
        item = codebook[var] if var in codebook else None
        ax.set_title(item.short if item is not None and item.short else var, fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False)
        ax.set_xlabel("% of segment", fontsize=8)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return _png(fig)


def support_figure(
    rows: pd.DataFrame, *, overall: float | None, title: str, palette: list[str] | None = None
) -> bytes:
    """Forest plot of prevalence estimates with 95% intervals (``rows``: ``label, estimate,
    ci_low, ci_high`` and optionally ``segment``). Intervals are drawn within 0-100%."""
    _style()
    d = rows.dropna(subset=["estimate"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(d), 1) + 1.2))
    y = np.arange(len(d))[::-1]
    for yi, r in zip(y, d.itertuples(), strict=True):
        colour = palette[int(r.segment)] if palette is not None else "#4c4c4c"
        lo, hi = max(r.ci_low, 0.0), min(r.ci_high, 1.0)
        ax.plot([100 * lo, 100 * hi], [yi, yi], color=colour, linewidth=2.5, solid_capstyle="butt")
        ax.plot(100 * r.estimate, yi, "o", color=colour, markersize=8, markeredgecolor="white")
    if overall is not None:
        ax.axvline(100 * overall, color="#999999", linestyle="--", linewidth=1)
        ax.text(100 * overall, len(d) - 0.4, " whole sample", color="#666666", fontsize=8.5)
    ax.set_yticks(y, [_wrap(str(v), 34) for v in d["label"]])
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.7, len(d) - 0.2)
    ax.set_xlabel("estimated share holding the attitude (%), 95% interval")
    ax.set_title(title, fontsize=10.5)
    fig.tight_layout()
    return _png(fig)


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
    ax.set_yticks(y, [_wrap(str(n), 30) for n in d["name"]])
    ax.set_xlabel(f"share (%): pale = {labels[0]}, solid = {labels[1]}; 95% intervals")
    fig.tight_layout()
    return _png(fig)
