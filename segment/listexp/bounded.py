r"""Prevalence of the sensitive item within [0, 1] by construction: the constrained maximum
likelihood model of Imai (2011) fitted within each group, with profile-likelihood intervals.

Why this estimator. The difference in means (:mod:`.dim`) is unbiased and design-based, but in
small groups (or near the floor or ceiling of the control count) it falls outside [0, 1]: the
bundled survey's 38 "ethnicity: other" respondents give 124%. The model of Imai (2011, Section
2.2) with no covariates but the group,

.. math::

    Y_i^* \sim \mathrm{Binomial}(J, p_g), \quad Z_i \sim \mathrm{Bernoulli}(\delta_g), \quad
    Y_i = Y_i^* + T_i Z_i,

has :math:`\delta_g \in [0, 1]` as a parameter, so its maximum likelihood estimate is a share;
it also uses the shape of the count distribution (a treated count of 0 proves :math:`Z = 0`,
one of :math:`J + 1` proves :math:`Z = 1`), not only the two means. Fitting it with a full set
of group indicators for both :math:`\delta` and :math:`\psi = \mathrm{logit}\,p` is the same as
fitting it within each group, which is what :func:`bounded_prevalence` does, on the groups'
count histograms (no loop over respondents). Its assumptions beyond randomisation: no design
effect (check with :func:`segment.listexp.design_effect_test`), no liars, control items
independent of the sensitive item and their count binomial (Blair & Imai 2012, Section 2.2).

Intervals: the profile likelihood interval
:math:`\{\delta : 2[\ell(\hat\delta, \hat p) - \max_p \ell(\delta, p)] \le \chi^2_{1, 1-\alpha}\}`,
which stays inside [0, 1], reaches a bound when the data cannot exclude it, and does not need
the estimate to be away from the bounds (a logit-scale Wald interval collapses when
:math:`\hat\delta` is 0 or 1). ``interval="logit-wald"`` gives that one for comparison; the
coverage simulation of ``benchmarks/listexp_coverage.py`` chose the profile interval (README,
"List experiments").

Survey weights enter as a pseudo-likelihood whose weights sum to Kish's effective sample size
within each group, so that the profile likelihood keeps approximately the curvature of the
weighted estimate's variance; ``scale`` multiplies the log-likelihood (e.g. by one over a design
effect) for clustered designs.

References
----------
Imai, K. (2011). Multivariate regression analysis for the item count technique. *JASA*
106(494): 407-416.

Blair, G. & Imai, K. (2012). Statistical analysis of list experiments. *Political Analysis*
20(1): 47-77.

Venzon, D. J. & Moolgavkar, S. H. (1988). A method for computing profile-likelihood-based
confidence intervals. *Applied Statistics* 37(1): 87-94.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from ._validate import MAX_CONTROL_ITEMS, _check_list_data
from .dim import _group_codes

__all__ = [
    "BoundedResult",
    "binomial_mixture_loglik",
    "bounded_prevalence",
    "fit_histograms",
    "histograms",
]

_GOLDEN = (np.sqrt(5.0) - 1) / 2


def histograms(y, t, J: int, codes=None, n_groups: int = 1, weights=None):
    """Weighted count histograms of each group: control ``(G, J + 1)`` and treated
    ``(G, J + 2)``."""
    y = np.asarray(y, dtype=np.int64)
    t = np.asarray(t, dtype=bool)
    codes = np.zeros(y.size, np.int64) if codes is None else np.asarray(codes, np.int64)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float)
    nc = np.bincount(
        codes[~t] * (J + 1) + y[~t], weights=w[~t], minlength=n_groups * (J + 1)
    ).reshape(n_groups, J + 1)
    nt = np.bincount(codes[t] * (J + 2) + y[t], weights=w[t], minlength=n_groups * (J + 2)).reshape(
        n_groups, J + 2
    )
    return nc, nt


def _pmfs(p: np.ndarray, J: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binomial(J, p) pmf on 0..J, and on 0..J+1 unshifted (``b_k``) and shifted (``b_{k-1}``)."""
    k = np.arange(J + 1)
    q = np.asarray(p, dtype=float)[..., None]
    # C(J, k) p^k (1 - p)^(J - k) directly (0^0 = 1): scipy's binom.pmf costs ~0.1 ms a call
    B = special.comb(J, k) * q**k * (1.0 - q) ** (J - k)
    zero = np.zeros((*B.shape[:-1], 1))
    return B, np.concatenate([B, zero], -1), np.concatenate([zero, B], -1)


def binomial_mixture_loglik(delta, p, nc, nt, J: int) -> np.ndarray:
    r"""Log-likelihood of the constrained Imai (2011) model from count histograms,

    .. math::

        \ell = \sum_k n^C_k \log b_k(p) + \sum_k n^T_k \log[\delta\, b_{k-1}(p)
        + (1 - \delta)\, b_k(p)],

    with :math:`b_k` the Binomial(J, p) pmf (zero outside 0..J). ``delta`` and ``p`` broadcast
    against the leading axes of ``nc`` (``(..., J + 1)``) and ``nt`` (``(..., J + 2)``).
    """
    delta = np.asarray(delta, dtype=float)
    B, b0, b1 = _pmfs(p, J)
    mix = delta[..., None] * b1 + (1 - delta[..., None]) * b0
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = special.xlogy(nc, B).sum(-1) + special.xlogy(nt, mix).sum(-1)
    return np.where(np.isnan(ll), -np.inf, ll)


def _best_p(delta, nc, nt, J: int, n_iter: int = 500, tol: float = 1e-12):
    """``argmax_p`` of the log-likelihood at fixed ``delta`` (EM on the latent ``Z``;
    vectorised over the broadcast shape of ``delta`` and the histograms)."""
    delta = np.asarray(delta, dtype=float)
    kc = np.arange(J + 1)
    kt = np.arange(J + 2)
    shape = np.broadcast_shapes(delta.shape, nc.shape[:-1])
    nc_b = np.broadcast_to(nc, shape + nc.shape[-1:])
    nt_b = np.broadcast_to(nt, shape + nt.shape[-1:])
    total = nc_b.sum(-1) + nt_b.sum(-1)
    sum_c = (nc_b * kc).sum(-1)
    sum_t = (nt_b * kt).sum(-1)
    p = np.clip(
        (sum_c + sum_t - delta * nt_b.sum(-1)) / np.maximum(J * total, 1e-300), 1e-6, 1 - 1e-6
    )
    d = delta[..., None]
    for _ in range(n_iter):
        _, b0, b1 = _pmfs(p, J)
        num = d * b1
        den = num + (1 - d) * b0
        with np.errstate(divide="ignore", invalid="ignore"):
            wz = np.where(den > 0, num / den, np.where(kt == J + 1, 1.0, 0.0))
        new = (sum_c + sum_t - (nt_b * wz).sum(-1)) / np.maximum(J * total, 1e-300)
        new = np.clip(new, 0.0, 1.0)
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    return p


def _profile(delta, nc, nt, J: int) -> np.ndarray:
    """Profile log-likelihood ``max_p l(delta, p)``."""
    return binomial_mixture_loglik(delta, _best_p(delta, nc, nt, J), nc, nt, J)


def fit_histograms(nc, nt, J: int, *, level: float = 0.95, interval: str = "profile", scale=1.0):
    """Constrained ML of every group's ``(delta, p)`` and the ``level`` interval of ``delta``.

    The MLE maximises the profile log-likelihood over ``delta`` in [0, 1]: a grid of 101 points,
    then golden-section search inside the best grid cell (the profile is unimodal in practice;
    the grid guards against a poor bracket). Interval ends solve ``2 (l_max - l_p(delta)) =
    chi2_1`` by bisection on each side, or are the bound itself when the bound is inside.

    Returns
    -------
    dict of arrays (one value per group): ``estimate, p_control, loglik, ci_low, ci_high``.
    """
    nc = np.asarray(nc, dtype=float) * np.asarray(scale, dtype=float).reshape(-1, 1)
    nt = np.asarray(nt, dtype=float) * np.asarray(scale, dtype=float).reshape(-1, 1)
    G = nc.shape[0]
    grid = np.linspace(0.0, 1.0, 101)
    prof = _profile(grid[None, :], nc[:, None, :], nt[:, None, :], J)
    best = np.argmax(prof, axis=1)
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, 100)]
    a, b = lo.copy(), hi.copy()
    for _ in range(60):
        c = b - _GOLDEN * (b - a)
        d = a + _GOLDEN * (b - a)
        fc, fd = _profile(c, nc, nt, J), _profile(d, nc, nt, J)
        left = fc >= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
    est = (a + b) / 2
    # the bounds themselves are candidates: the golden section never evaluates them exactly
    cand = np.stack([est, np.zeros(G), np.ones(G)], axis=1)
    cand_ll = _profile(cand, nc[:, None, :], nt[:, None, :], J)
    pick = np.argmax(cand_ll, axis=1)
    est = cand[np.arange(G), pick]
    ll_max = cand_ll[np.arange(G), pick]
    p_hat = _best_p(est, nc, nt, J)
    out = {"estimate": est, "p_control": p_hat, "loglik": ll_max}
    if interval == "profile":
        out["ci_low"], out["ci_high"] = _profile_interval(est, ll_max, nc, nt, J, level)
    elif interval == "logit-wald":
        out["ci_low"], out["ci_high"] = _logit_wald(est, p_hat, nc, nt, J, level)
    else:
        raise ValueError(f"interval must be 'profile' or 'logit-wald', got {interval!r}")
    return out


def _profile_interval(est, ll_max, nc, nt, J: int, level: float):
    """Profile-likelihood interval ends of ``delta`` (bisection, 40 steps: 1e-12 wide)."""
    cut = ll_max - stats.chi2.ppf(level, 1) / 2
    ends = []
    for bound in (0.0, 1.0):
        at_bound = _profile(np.full_like(est, bound), nc, nt, J)
        inside = at_bound >= cut
        a = np.full_like(est, bound)  # outside the interval (or the bound itself)
        b = est.copy()  # inside
        for _ in range(40):
            m = (a + b) / 2
            ok = _profile(m, nc, nt, J) >= cut
            b = np.where(ok, m, b)
            a = np.where(ok, a, m)
        ends.append(np.where(inside, bound, b))
    return ends[0], ends[1]


def _logit_wald(est, p_hat, nc, nt, J: int, level: float):
    """Wald interval on the logit of ``delta`` from the observed information of
    ``(logit delta, logit p)`` (central differences); NaN at a bound, where it does not exist."""
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore"):
        th = np.stack([special.logit(est), special.logit(p_hat)], axis=-1)
    h = 1e-4

    def f(x):
        return binomial_mixture_loglik(
            special.expit(x[..., 0]), special.expit(x[..., 1]), nc, nt, J
        )

    H = np.zeros((*est.shape, 2, 2))
    for i in range(2):
        for j in range(2):
            e_i = np.eye(2)[i] * h
            e_j = np.eye(2)[j] * h
            H[..., i, j] = (
                f(th + e_i + e_j) - f(th + e_i - e_j) - f(th - e_i + e_j) + f(th - e_i - e_j)
            ) / (4 * h * h)
    with np.errstate(invalid="ignore", divide="ignore"):
        det = H[..., 0, 0] * H[..., 1, 1] - H[..., 0, 1] ** 2
        var = -H[..., 1, 1] / det
        se = np.sqrt(np.where(var > 0, var, np.nan))
        finite = np.isfinite(th[..., 0]) & np.isfinite(se)
        lo = np.where(finite, special.expit(th[..., 0] - z * se), np.nan)
        hi = np.where(finite, special.expit(th[..., 0] + z * se), np.nan)
    return lo, hi


@dataclass(frozen=True, eq=False)
class BoundedResult:
    """Constrained ML prevalence estimates (:func:`bounded_prevalence`).

    Attributes
    ----------
    estimate, ci_low, ci_high : float
        Whole-sample estimate of the share holding the sensitive item and its interval, all in
        [0, 1].
    p_control : float
        Estimated probability of each control item (Binomial(J, p) control count).
    loglik : float
    n_treat, n_control, J : int
    level : float
    interval : str
        ``"profile"`` or ``"logit-wald"``.
    groups : DataFrame or None
        With ``by=``: index ``group``, columns ``estimate, ci_low, ci_high, p_control, loglik,
        n_treat, n_control``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_control: float
    loglik: float
    n_treat: int
    n_control: int
    J: int
    level: float = 0.95
    interval: str = "profile"
    groups: pd.DataFrame | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The row ``"overall"`` then one row per group (with ``by=``)."""
        cols = ["estimate", "ci_low", "ci_high", "p_control", "loglik", "n_treat", "n_control"]
        overall = pd.DataFrame(
            [{c: getattr(self, c) for c in cols}], index=pd.Index(["overall"], name="group")
        )
        if self.groups is None:
            return overall
        g = self.groups.copy()
        g.index = g.index.astype(object)
        return pd.concat([overall, g[cols]])

    def summary(self) -> str:
        """Readable text table."""
        lines = [
            "Constrained ML estimate of sensitive-item prevalence (Imai 2011, within groups)",
            f"J = {self.J} control items; {self.level:.0%} {self.interval} likelihood interval",
            "",
            f"{'group':<16}{'estimate':>10}{'CI low':>9}{'CI high':>9}{'p ctrl':>9}"
            f"{'n treat':>9}{'n ctrl':>8}",
        ]
        for name, r in self.to_frame().iterrows():
            lines.append(
                f"{str(name)[:15]:<16}{r.estimate:>10.4f}{r.ci_low:>9.4f}{r.ci_high:>9.4f}"
                f"{r.p_control:>9.4f}{int(r.n_treat):>9d}{int(r.n_control):>8d}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _kish_scale(w: np.ndarray | None, codes: np.ndarray, G: int) -> np.ndarray:
    """Per group: Kish's effective n over the weight total (1 without weights)."""
    if w is None:
        return np.ones(G)
    s1 = np.bincount(codes, weights=w, minlength=G)
    s2 = np.bincount(codes, weights=w * w, minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s2 > 0, s1 / s2, 1.0)


def bounded_prevalence(
    y,
    treat,
    *,
    J: int | None = None,
    weights=None,
    by=None,
    level: float = 0.95,
    interval: str = "profile",
    scale=1.0,
) -> BoundedResult:
    r"""Constrained ML (Imai 2011) prevalence of the sensitive item, overall and by group.

    See the module docstring for the model, why it is used, and its interval. Estimates and
    intervals are in [0, 1] by construction.

    Parameters
    ----------
    y, treat : array-like
        Item counts (0..J control, 0..J+1 treated) and the 0/1 treatment indicator.
    J : int, optional
        Number of control items (inferred when omitted).
    weights : array-like, optional
        Survey weights (pseudo-likelihood scaled to Kish's effective n within each group).
    by : array-like, optional
        Group labels: one fit per group (the model with a full set of group indicators).
    level : float
    interval : {"profile", "logit-wald"}
    scale : float or array
        Multiplies the log-likelihood (e.g. ``1 / deff`` for a clustered design); an array
        gives one factor per group of ``by`` (sorted labels) and leaves the whole-sample fit
        unscaled.

    Returns
    -------
    BoundedResult
    """
    what = "bounded_prevalence: invalid input"
    yf, t, J, w = _check_list_data(y, treat, J, weights, what=what, max_J=MAX_CONTROL_ITEMS)
    yi = yf.astype(np.int64)
    zeros = np.zeros(yi.size, np.int64)
    nc, nt = histograms(yi, t, J, zeros, 1, w)
    overall_scale = float(scale) if np.ndim(scale) == 0 else 1.0
    fit = fit_histograms(
        nc, nt, J, level=level, interval=interval, scale=overall_scale * _kish_scale(w, zeros, 1)
    )
    groups = None
    if by is not None:
        labels, codes = _group_codes(by, yi.size, t, w, what)
        G = labels.size
        gc, gt = histograms(yi, t, J, codes, G, w)
        gf = fit_histograms(
            gc,
            gt,
            J,
            level=level,
            interval=interval,
            scale=np.asarray(scale, dtype=float) * _kish_scale(w, codes, G),
        )
        groups = pd.DataFrame(
            {
                **gf,
                "n_treat": np.bincount(codes[t], minlength=G),
                "n_control": np.bincount(codes[~t], minlength=G),
            },
            index=pd.Index(labels, name="group"),
        )
    return BoundedResult(
        estimate=float(fit["estimate"][0]),
        ci_low=float(fit["ci_low"][0]),
        ci_high=float(fit["ci_high"][0]),
        p_control=float(fit["p_control"][0]),
        loglik=float(fit["loglik"][0]),
        n_treat=int(t.sum()),
        n_control=int((~t).sum()),
        J=J,
        level=level,
        interval=interval,
        groups=groups,
    )
