"""Average predicted prevalence of the sensitive item from a fitted model (Imai 2011, sec. 2.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from segment._util import z_critical
from segment.exceptions import InputError, Problem

from ._validate import _SOURCE, _as_1d, _covariate_matrix, _numeric, _rows_problems
from .lsq import ICTLSResult
from .ml import ICTMLResult

__all__ = ["PrevalenceResult", "predict_prevalence"]


@dataclass(frozen=True)
class PrevalenceResult:
    """Average predicted prevalence of the sensitive item.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : float
    level : float
    method : str
        ``"delta"`` or ``"simulation"``.
    n : int
        Rows of ``X`` averaged over.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with columns ``estimate, se, ci_low, ci_high, level, method, n``."""
        return pd.DataFrame([self.__dict__], index=pd.Index(["prevalence"]))

    def summary(self) -> str:
        """One-line text summary."""
        return (
            f"Average predicted prevalence {self.estimate:.4f} (SE {self.se:.4f}); "
            f"{self.level:.0%} CI {self.ci_low:.4f} to {self.ci_high:.4f} "
            f"[{self.method}, n = {self.n}]"
        )

    def __str__(self) -> str:
        return self.summary()


def predict_prevalence(
    result: ICTMLResult | ICTLSResult,
    X,
    *,
    weights=None,
    level: float = 0.95,
    method: str = "delta",
    n_draws: int = 10_000,
    seed: int = 0,
) -> PrevalenceResult:
    r"""Average predicted probability of the sensitive trait (Imai 2011, Section 2.4).

    .. math::

        \hat\tau = \frac{1}{n} \sum_i g(X_i^\top \hat\delta)

    (weighted mean with ``weights``). ``method="delta"``: SE from the delta method,
    :math:`\nabla = \frac1n \sum_i g_i (1 - g_i) X_i`, :math:`\mathrm{Var} = \nabla^\top
    \hat V_\delta \nabla`, normal interval. ``method="simulation"``: ``n_draws`` draws of
    :math:`\delta` from :math:`N(\hat\delta, \hat V_\delta)` (seeded); SE is the standard deviation
    and the interval the percentiles of the simulated averages; the estimate stays the plug-in.

    Parameters
    ----------
    result : ICTMLResult or ICTLSResult
        A fitted ML, NLS (logit link) or lm (identity link: :math:`g(u) = u`, and the
        delta-method gradient is :math:`\frac1n \sum_i X_i`) model.
    X : array-like or DataFrame or None
        Covariates with the same columns as in the fit (no intercept column when the fit added
        one).
    weights : array-like, optional
    level : float
    method : {"delta", "simulation"}
    n_draws, seed : int
        Simulation settings.

    Returns
    -------
    PrevalenceResult
    """
    what = "predict_prevalence: invalid input"
    Xm, names = _covariate_matrix(X, result.n if X is None else None, False, what)
    if result.intercept:
        Xm = np.column_stack([np.ones(Xm.shape[0]), Xm])
        if isinstance(X, pd.DataFrame):
            names = ["(Intercept)", *names]
    p = len(result.names)
    if Xm.shape[1] != p:
        raise InputError(
            what,
            [
                Problem(
                    _SOURCE,
                    "X",
                    f"has {Xm.shape[1]} columns (with intercept); "
                    f"the model has {p}: {result.names}",
                )
            ],
        )
    if isinstance(X, pd.DataFrame) and names != result.names:
        raise InputError(
            what, [Problem(_SOURCE, "X", f"columns {names} differ from the model's {result.names}")]
        )
    if weights is None:
        wn = np.full(Xm.shape[0], 1.0 / Xm.shape[0])
    else:
        problems: list[Problem] = []
        wa = _as_1d(weights, "weights", problems)
        if wa is not None:
            wf = _numeric(wa, "weights", problems)
            if wf is not None:
                if wf.size != Xm.shape[0]:
                    problems.append(
                        Problem(
                            _SOURCE, "weights", f"has {wf.size} values but X has {Xm.shape[0]} rows"
                        )
                    )
                else:
                    bad = ~np.isfinite(wf) | (wf < 0)
                    problems.extend(
                        _rows_problems("weights", bad, wa, "expected a finite weight >= 0")
                    )
        if problems or wf is None:
            raise InputError(what, problems)
        wn = wf / wf.sum()
    z = z_critical(level)
    d = result.params[:p]
    V = result.cov[:p, :p]
    logit = getattr(result, "link", "logit") == "logit"
    link = special.expit if logit else (lambda u: u)
    g = link(Xm @ d)
    est = float(np.dot(wn, g))
    if method == "delta":
        grad = Xm.T @ (wn * g * (1 - g)) if logit else Xm.T @ wn
        se = float(math.sqrt(grad @ V @ grad))
        lo, hi = est - z * se, est + z * se
    elif method == "simulation":
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(d, V, size=n_draws)
        sims = (
            link(Xm @ draws.T).T @ wn
            if Xm.shape[0] * n_draws <= 5e7
            else np.array([np.dot(wn, link(Xm @ dd)) for dd in draws])
        )
        se = float(np.std(sims, ddof=1))
        lo, hi = (float(q) for q in np.quantile(sims, [0.5 - level / 2, 0.5 + level / 2]))
    else:
        raise InputError(
            what, [Problem(_SOURCE, "method", "expected 'delta' or 'simulation'", value=method)]
        )
    return PrevalenceResult(
        estimate=est, se=se, ci_low=lo, ci_high=hi, level=level, method=method, n=int(Xm.shape[0])
    )
