r"""Precision and sample size of the difference-in-means list experiment.

With :math:`n_1 = fN` treated and :math:`n_0 = (1 - f)N` control respondents, control-list
variance :math:`\sigma_c^2` and sensitive-item prevalence :math:`p_s` (independent of the control
count, so the treated-list variance is :math:`\sigma_c^2 + p_s(1 - p_s)`), the difference in
means has

.. math::

    \mathrm{SE} = \sqrt{\mathrm{deff}\Big(\frac{\sigma_c^2 + p_s(1 - p_s)}{fN}
                  + \frac{\sigma_c^2}{(1 - f)N}\Big)},
    \qquad h = z_{1 - \alpha/2}\,\mathrm{SE},

where ``deff`` is the design effect of weighting / clustering / oversampling (e.g. Kish's
:math:`1 + \mathrm{CV}^2_w` for a disproportionate oversample). The default control variance is
binomial, :math:`\sigma_c^2 = J p (1 - p)` with :math:`p = 1/2`: the largest variance of
:math:`J` independent yes/no items (positively correlated items can exceed it; pass
``control_var``). Blair & Imai (2012, Section 5) discuss the same variance decomposition
and choosing control items with low variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from segment._util import z_critical
from segment.exceptions import InputError, Problem

from ._validate import _SOURCE

__all__ = ["ListPower", "power_list_experiment", "sample_size_list_experiment"]


@dataclass(frozen=True)
class ListPower:
    """Planned precision of a list experiment (scalars, or arrays when inputs broadcast).

    Attributes
    ----------
    n, n_treat, n_control : int or ndarray
        Total and per-arm sample sizes (per-arm values are ``f n`` and ``(1 - f) n``, not
        rounded, for :func:`power_list_experiment`).
    se : float or ndarray
        Standard error of the difference in means.
    half_width : float or ndarray
        Half-width of the ``level`` normal confidence interval.
    power : float or ndarray
        Power of the two-sided level-``1 - level`` z-test of ``prevalence == null``.
    """

    n: float | np.ndarray
    n_treat: float | np.ndarray
    n_control: float | np.ndarray
    se: float | np.ndarray
    half_width: float | np.ndarray
    power: float | np.ndarray


def _check(J, prevalence, treated_share, control_var, deff, what):
    problems: list[Problem] = []

    def bad(name, value, cond, msg):
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)) or not np.all(cond(arr)):
            problems.append(Problem(_SOURCE, name, msg, value=value))

    if isinstance(J, bool) or not isinstance(J, (int, np.integer)) or J < 1:
        problems.append(Problem(_SOURCE, "J", "expected a positive integer", value=J))
    bad("prevalence", prevalence, lambda a: (a >= 0) & (a <= 1), "expected a value in [0, 1]")
    bad("treated_share", treated_share, lambda a: (a > 0) & (a < 1), "expected a value in (0, 1)")
    if control_var is not None:
        bad("control_var", control_var, lambda a: a >= 0, "expected a variance >= 0")
    bad("deff", deff, lambda a: a > 0, "expected a design effect > 0")
    if problems:
        raise InputError(what, problems)


def _unit_var(J, prevalence, treated_share, control_var, p_control):
    """N * Var(DiM) / deff for N = 1."""
    sc2 = J * p_control * (1 - p_control) if control_var is None else np.asarray(control_var)
    ps = np.asarray(prevalence, dtype=float)
    f = np.asarray(treated_share, dtype=float)
    return (sc2 + ps * (1 - ps)) / f + sc2 / (1 - f)


def _out(x):
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def power_list_experiment(
    n,
    J: int,
    *,
    prevalence=0.5,
    treated_share=0.5,
    control_var=None,
    p_control: float = 0.5,
    deff=1.0,
    null=0.0,
    level: float = 0.95,
) -> ListPower:
    r"""Standard error, CI half-width and power of the difference in means for ``n`` respondents.

    See the module docstring for the formula. All numeric arguments broadcast (numpy rules).

    Parameters
    ----------
    n : int or array-like
        Total sample size (both arms).
    J : int
        Number of control items.
    prevalence : float or array-like
        Expected prevalence :math:`p_s` of the sensitive item (default 0.5, the worst case).
    treated_share : float or array-like
        Share :math:`f` of respondents given the treatment list.
    control_var : float or array-like, optional
        Variance of the control count; default :math:`J p (1 - p)` with ``p = p_control``.
    p_control : float
        Per-item probability for the default binomial control variance.
    deff : float or array-like
        Design effect (variance inflation) of weights, clustering or oversampling.
    null : float
        Null prevalence for the power calculation.
    level : float
        Confidence level (the test has size ``1 - level``).

    Returns
    -------
    ListPower
    """
    what = "power_list_experiment: invalid input"
    _check(J, prevalence, treated_share, control_var, deff, what)
    na = np.asarray(n, dtype=float)
    if not np.all(np.isfinite(na)) or np.any(na < 2):
        raise InputError(what, [Problem(_SOURCE, "n", "expected a sample size >= 2", value=n)])
    z = z_critical(level)
    se = np.sqrt(
        np.asarray(deff) * _unit_var(J, prevalence, treated_share, control_var, p_control) / na
    )
    shift = np.abs(np.asarray(prevalence, dtype=float) - null) / se
    power = stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift)
    f = np.asarray(treated_share, dtype=float)
    return ListPower(
        n=_out(na),
        n_treat=_out(f * na),
        n_control=_out((1 - f) * na),
        se=_out(se),
        half_width=_out(z * se),
        power=_out(power),
    )


def sample_size_list_experiment(
    half_width,
    J: int,
    *,
    prevalence=0.5,
    treated_share=0.5,
    control_var=None,
    p_control: float = 0.5,
    deff=1.0,
    level: float = 0.95,
) -> ListPower:
    r"""Smallest total sample size whose CI half-width is at most ``half_width``.

    .. math::

        N = \Big\lceil \frac{z^2\,\mathrm{deff}}{h^2}
            \Big(\frac{\sigma_c^2 + p_s(1 - p_s)}{f} + \frac{\sigma_c^2}{1 - f}\Big) \Big\rceil,

    then per-arm sizes :math:`\lceil fN \rceil` and :math:`\lceil (1 - f) N \rceil` (so the total
    may exceed :math:`N` by one). Arguments as in :func:`power_list_experiment`.

    Returns
    -------
    ListPower
        ``n`` is the sum of the rounded arm sizes; ``se``, ``half_width`` and ``power`` (against
        ``null = 0``) are evaluated at the rounded arm sizes.
    """
    what = "sample_size_list_experiment: invalid input"
    _check(J, prevalence, treated_share, control_var, deff, what)
    h = np.asarray(half_width, dtype=float)
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise InputError(
            what, [Problem(_SOURCE, "half_width", "expected a half-width > 0", value=half_width)]
        )
    z = z_critical(level)
    v = np.asarray(deff) * _unit_var(J, prevalence, treated_share, control_var, p_control)
    N = np.ceil(z * z * v / (h * h) - 1e-9)
    f = np.asarray(treated_share, dtype=float)
    n1 = np.ceil(f * N - 1e-9)
    n0 = np.ceil((1 - f) * N - 1e-9)
    sc2 = J * p_control * (1 - p_control) if control_var is None else np.asarray(control_var)
    ps = np.asarray(prevalence, dtype=float)
    se = np.sqrt(np.asarray(deff) * ((sc2 + ps * (1 - ps)) / n1 + sc2 / n0))
    shift = ps / se
    power = stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift)
    return ListPower(
        n=_out((n1 + n0).astype(int)),
        n_treat=_out(n1.astype(int)),
        n_control=_out(n0.astype(int)),
        se=_out(se),
        half_width=_out(z * se),
        power=_out(power),
    )
