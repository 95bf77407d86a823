"""Tracking segments across survey waves with one saved model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from segment._util import format_p
from segment.disclosure import MIN_CELL_SIZE, protect_cells, published
from segment.exceptions import InputError, Problem

from .model import SegmentModel

__all__ = ["SIGNIFICANCE", "WaveComparison", "compare_waves", "posterior_shares"]

#: Below this p the test of no change is read as evidence that some share changed.
SIGNIFICANCE = 0.05


def posterior_shares(resp: np.ndarray, weights: np.ndarray | None = None):
    r"""Segment shares as weighted means of posterior probabilities, with their covariance.

    .. math::

        \hat p_k = \frac{\sum_i w_i r_{ik}}{\sum_i w_i}, \qquad
        \hat V = \frac{n}{n-1} \frac{\sum_i w_i^2 (r_i - \hat p)(r_i - \hat p)^\top}{(\sum_i w_i)^2}

    (Taylor linearisation of a ratio mean, respondents treated as independent draws; with
    unit weights :math:`\hat V` is the sample covariance of the posteriors over ``n``).

    Returns
    -------
    shares : (k,) array
    cov : (k, k) array
    """
    n = resp.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sw = w.sum()
    p = w @ resp / sw
    dev = (resp - p) * w[:, None]
    cov = n / (n - 1) * (dev.T @ dev) / sw**2
    return p, cov


@dataclass(frozen=True, eq=False)
class WaveComparison:
    """Segment shares in two waves scored with the same model.

    Attributes
    ----------
    table : DataFrame
        One row per segment: ``segment, name, share_1, se_1, share_2, se_2, change, se_change,
        ci_low, ci_high, z, p_value, p_holm, suppressed_1, suppressed_2``. A segment's share in
        a wave is withheld (NaN, ``suppressed_*`` True) when it describes fewer than
        ``min_cell`` respondents of the wave (posterior counts, unweighted) or would reveal one
        that does (the shares of a wave add up to one: :func:`segment.disclosure.protect_cells`);
        its change, test and Holm adjustment are then withheld too.
    statistic, df, p_value : float
        Wald test of the hypothesis that no share changed,
        :math:`d^\\top (V_1 + V_2)^{-1} d \\sim \\chi^2_{k-1}` on the first ``k - 1`` shares.
        A large p does not show that the shares are unchanged, only that the waves are
        consistent with no change (:meth:`test_text`). NaN when a share is withheld (the
        statistic is a function of every share).
    n : tuple of int
        Respondents scored in each wave.
    labels : tuple of str
    level : float
    """

    table: pd.DataFrame
    statistic: float
    df: int
    p_value: float
    n: tuple[int, int]
    labels: tuple[str, str]
    level: float = 0.95
    min_cell: int = MIN_CELL_SIZE

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def published_records(self) -> list[dict]:
        """The table as printed (``--format json``): withheld values None, shares, changes and
        intervals to 0.1 percentage point, standard errors and p-values to two significant
        digits, z to two decimals (:func:`segment.disclosure.published`)."""
        kinds = {
            **dict.fromkeys(["share_1", "share_2", "change", "ci_low", "ci_high"], "share"),
            **dict.fromkeys(["se_1", "se_2", "se_change"], "se"),
            **dict.fromkeys(["p_value", "p_holm"], "p"),
            "z": "mean",
        }
        out = []
        for row in self.table.to_dict(orient="records"):
            for column, kind in kinds.items():
                row[column] = published(row[column], kind)
            row["segment"] = int(row["segment"])
            row["suppressed_1"], row["suppressed_2"] = (
                bool(row["suppressed_1"]),
                bool(row["suppressed_2"]),
            )
            out.append(row)
        return out

    def test_text(self) -> str:
        """The omnibus test as a sentence, read as a test of no change: ``Test of no change in
        any share: Wald chi2(5) = 48.15, p < 0.0001: at least one share changed.``"""
        if not np.isfinite(self.statistic):
            return (
                "Test of no change in any share: withheld (a segment's share is withheld, and "
                "the test would reveal it)."
            )
        text = (
            f"Test of no change in any share: Wald chi2({self.df}) = {self.statistic:.2f}, "
            f"{format_p(self.p_value)}"
        )
        if self.p_value < SIGNIFICANCE:
            return text + ": at least one share changed."
        return (
            text + f": the shares are consistent with no change (at the {SIGNIFICANCE:g} level; "
            "this does not show that they are unchanged)."
        )

    def summary(self) -> str:
        a, b = self.labels
        names = [str(n) for n in self.table["name"]]
        width = max([len("segment"), *map(len, names)]) + 2
        lines = [
            f"Segment shares: {a} (n = {self.n[0]:,}) vs {b} (n = {self.n[1]:,})",
            f"{'segment':<{width}}{a:>10}{b:>10}{'change':>10}   "
            f"{int(self.level * 100)}% CI{'':>10}p (Holm)",
        ]
        for name, r in zip(names, self.table.itertuples(), strict=True):
            if not np.isfinite(r.change):
                lines.append(
                    f"{name:<{width}}{_share_text(r.share_1):>10}{_share_text(r.share_2):>10}"
                    f"   withheld: fewer than {self.min_cell} respondents in a wave, or its "
                    "complement"
                )
                continue
            lines.append(
                f"{name:<{width}}{r.share_1:>10.1%}{r.share_2:>10.1%}{100 * r.change:>+9.1f}p"
                f"   {100 * r.ci_low:+6.1f} to {100 * r.ci_high:+6.1f}   "
                f"{format_p(r.p_holm, prefix=False)}"
            )
        lines += [
            "",
            self.test_text(),
            "Shares are posterior-weighted; intervals treat respondents as independent draws and "
            "the model as fixed, and assume the battery measures the same segments in both waves.",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _share_text(share: float) -> str:
    return f"{share:.1%}" if np.isfinite(share) else "–"


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def compare_waves(
    model: SegmentModel,
    wave_1: pd.DataFrame,
    wave_2: pd.DataFrame,
    *,
    weights_1=None,
    weights_2=None,
    labels: tuple[str, str] = ("wave 1", "wave 2"),
    level: float = 0.95,
    min_cell: int = MIN_CELL_SIZE,
) -> WaveComparison:
    """Score two waves with ``model`` and compare their segment shares.

    Each wave's shares are weighted means of posterior membership probabilities
    (:func:`posterior_shares`), which estimate the latent shares without the bias of counting
    most-likely segments. Waves are independent samples, so the change has variance
    ``V_1 + V_2``; each segment gets a z-test (Holm-adjusted across segments) and the whole
    distribution a Wald chi-square test.

    Parameters
    ----------
    model : SegmentModel
    wave_1, wave_2 : DataFrame
        Respondents of each wave with (some of) the model's items.
    weights_1, weights_2 : array-like, optional
        Survey weights of each wave.
    labels : (str, str)
    level : float
    min_cell : int
        Fewest respondents (posterior counts, unweighted) a published share may describe
        (:mod:`segment.disclosure`); smaller shares and their complements are withheld.

    Raises
    ------
    InputError
        If a wave has no respondent who answered any of the model's items.
    """
    parts = []
    for label, frame, weights in ((labels[0], wave_1, weights_1), (labels[1], wave_2, weights_2)):
        codes, reasons, used = model.answers(frame)
        ok = (reasons == None) & (used > 0)  # noqa: E711 - elementwise
        if ok.sum() < 2:
            raise InputError(
                f"compare_waves: {label}",
                [Problem(label, "", "fewer than two respondents answered the model's items")],
            )
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        resp = model.proba_of_codes(codes[ok])
        counts = resp.sum(axis=0)
        lines = [np.arange(len(counts))] if counts.sum() >= min_cell else []
        hidden = protect_cells(counts, lines, min_cell=min_cell)
        parts.append((*posterior_shares(resp, w), int(ok.sum()), hidden))
    (p1, v1, n1, h1), (p2, v2, n2, h2) = parts
    z_crit = stats.norm.ppf(0.5 + level / 2)
    change = p2 - p1
    se1, se2 = np.sqrt(np.diag(v1)), np.sqrt(np.diag(v2))
    se = np.sqrt(se1**2 + se2**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = change / se
    p = 2 * stats.norm.sf(np.abs(z))
    k = len(p1)
    d = change[: k - 1]
    V = (v1 + v2)[: k - 1, : k - 1]
    stat = float(d @ np.linalg.pinv(V) @ d) if k > 1 else 0.0
    either = h1 | h2
    if either.any():
        stat = float("nan")
    p_holm = np.full(k, np.nan)
    p_holm[~either] = _holm(p[~either])
    table = pd.DataFrame(
        {
            "segment": np.arange(k),
            "name": model.names,
            "share_1": p1,
            "se_1": se1,
            "share_2": p2,
            "se_2": se2,
            "change": change,
            "se_change": se,
            "ci_low": change - z_crit * se,
            "ci_high": change + z_crit * se,
            "z": z,
            "p_value": p,
            "p_holm": p_holm,
            "suppressed_1": h1,
            "suppressed_2": h2,
        }
    )
    for column, hide in (("share_1", h1), ("se_1", h1), ("share_2", h2), ("se_2", h2)):
        table.loc[hide, column] = np.nan
    for column in ("change", "se_change", "ci_low", "ci_high", "z", "p_value"):
        table.loc[either, column] = np.nan
    return WaveComparison(
        table=table,
        statistic=stat,
        df=k - 1,
        p_value=float(stats.chi2.sf(stat, k - 1)) if k > 1 else 1.0,
        n=(n1, n2),
        labels=(labels[0], labels[1]),
        level=level,
        min_cell=min_cell,
    )
