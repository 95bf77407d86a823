r"""Combined list-experiment and direct-question estimator (Aronow, Coppock, Crawford & Green 2015).

Design: every respondent is randomised to the control or treatment list **and** is asked the
sensitive question directly (:math:`D_i \in \{0, 1\}`). Assumptions (ACCG 2015):
no design effect and no liars in the list experiment, and *monotonicity* / no false
confessions: anyone answering "yes" directly holds the trait (:math:`D_i = 1 \Rightarrow
Z_i = 1`); "no" answers may be true or withheld. Then

.. math::

    \pi = P(Z = 1) = P(D = 1) + P(D = 0)\,\big\{E[Y \mid T = 1, D = 0] - E[Y \mid T = 0, D = 0]\big\},

so the list experiment is needed only among those who deny the trait directly, where its
sampling variance is smaller. Reference: Aronow, P. M., Coppock, A., Crawford, F. W. & Green,
D. P. (2015). *Journal of Survey Statistics and Methodology* 3(1): 43-66. doi:10.1093/jssam/smu023
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import InputError, Problem
from ._validate import _SOURCE, _as_1d, _check_list_data, _numeric, _rows_problems, _zcrit

__all__ = ["CombinedResult", "combined_list_direct"]


@dataclass(frozen=True, eq=False)
class CombinedResult:
    """Result of :func:`combined_list_direct`.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : float
        Combined prevalence estimate, delta-method SE and normal interval.
    direct_mean : float
        Share answering "yes" directly (a lower bound under monotonicity).
    dim_estimate, dim_se : float
        The standard difference in means (Neyman SE) on the same respondents, for comparison.
    dim_no, dim_no_se : float
        Difference in means among those answering "no" directly (share of withholders among
        them).
    n, n_treat, n_control, n_direct_yes : int
    J : int
    level : float
    placebo : DataFrame
        Index ``test`` (``"I: DiM among direct yes = 1"``, ``"II: treatment -> direct answer"``),
        columns ``estimate, null, se, z, p_value``.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    direct_mean: float
    dim_estimate: float
    dim_se: float
    dim_no: float
    dim_no_se: float
    n: int
    n_treat: int
    n_control: int
    n_direct_yes: int
    J: int
    level: float = 0.95
    placebo: pd.DataFrame = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Rows ``combined``, ``difference in means``, ``direct``; columns ``estimate, se, ci_low, ci_high``."""
        z = _zcrit(self.level)
        dse = math.sqrt(self.direct_mean * (1 - self.direct_mean) / self.n)
        rows = {
            "combined": (self.estimate, self.se),
            "difference in means": (self.dim_estimate, self.dim_se),
            "direct": (self.direct_mean, dse),
        }
        return pd.DataFrame(
            [
                {"estimate": e, "se": s, "ci_low": e - z * s, "ci_high": e + z * s}
                for e, s in rows.values()
            ],
            index=pd.Index(list(rows), name="estimator"),
        )

    def summary(self) -> str:
        """Readable text: the three estimators and the placebo tests."""
        lines = [
            "Combined list / direct-question estimate (Aronow, Coppock, Crawford & Green 2015)",
            f"N = {self.n} ({self.n_treat} treated, {self.n_control} control), J = {self.J}, "
            f"{self.n_direct_yes} direct 'yes'",
            "",
            f"{'estimator':<22}{'estimate':>10}{'SE':>9}{'CI low':>9}{'CI high':>9}",
        ]
        for name, r in self.to_frame().iterrows():
            lines.append(
                f"{name:<22}{r.estimate:>10.4f}{r.se:>9.4f}{r.ci_low:>9.4f}{r.ci_high:>9.4f}"
            )
        lines += ["", "Placebo tests", f"{'test':<34}{'estimate':>10}{'null':>6}{'SE':>9}{'p':>9}"]
        for name, r in self.placebo.iterrows():
            lines.append(
                f"{name:<34}{r.estimate:>10.4f}{r.null:>6.0f}{r.se:>9.4f}{r.p_value:>9.4f}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _mean_se(a: np.ndarray) -> tuple[float, float]:
    return float(a.mean()), float(a.var(ddof=1) / a.size) if a.size > 1 else np.nan


def combined_list_direct(
    y, treat, direct, J: int | None = None, *, level: float = 0.95
) -> CombinedResult:
    r"""Combined list-experiment / direct-question prevalence estimator (ACCG 2015).

    .. math::

        \hat\pi_C = \bar D + (1 - \bar D)\Big(\frac{\bar a_1}{1 - \bar d_1}
                    - \frac{\bar a_0}{1 - \bar d_0}\Big),

    where, in arm :math:`t`, :math:`\bar d_t` is the mean of :math:`D` and :math:`\bar a_t` that
    of :math:`Y (1 - D)` (so :math:`\bar a_t / (1 - \bar d_t)` is the mean count among those
    answering "no" directly), and :math:`\bar D = (n_1\bar d_1 + n_0\bar d_0)/n`. This is the
    sample analogue of the identification result in the module docstring.

    Standard error: delta method on the four arm means :math:`(\bar d_1, \bar a_1, \bar d_0,
    \bar a_0)`, with each arm's sample covariance of :math:`(D, Y(1 - D))` divided by
    :math:`n_t` and independent arms. With :math:`q = 1 - \bar D`,
    :math:`\Delta` the bracket above and :math:`k_t = n_t / n`, the gradient is
    :math:`\partial/\partial\bar d_1 = k_1(1 - \Delta) + q \bar a_1 / (1 - \bar d_1)^2`,
    :math:`\partial/\partial\bar a_1 = q / (1 - \bar d_1)`,
    :math:`\partial/\partial\bar d_0 = k_0(1 - \Delta) - q \bar a_0 / (1 - \bar d_0)^2`,
    :math:`\partial/\partial\bar a_0 = -q / (1 - \bar d_0)`. ACCG (2015) show the combined
    estimator is asymptotically more efficient than the difference in means when direct "yes"
    answers occur; the tests check this SE against a nonparametric bootstrap.

    Placebo tests (after ACCG 2015; the formulations below are ours):

    * I -- among direct "yes" respondents every one holds the trait, so their difference in
      means must be 1: :math:`z = (\widehat{DiM}_{D=1} - 1) / \mathrm{SE}` (Neyman SE). A
      rejection signals false confessions, design effects or list liars.
    * II -- the list treatment must not change the direct answer:
      :math:`z = (\bar d_1 - \bar d_0) / \mathrm{SE}` (two-sample proportions). Most relevant
      when the list is asked before the direct question.

    Parameters
    ----------
    y, treat : array-like
        Item counts and list treatment indicator.
    direct : array-like
        Direct-question answer, 0/1 or False/True, for every respondent.
    J : int, optional
        Number of control items (inferred when omitted).
    level : float
        Confidence level.

    Returns
    -------
    CombinedResult
    """
    what = "combined_list_direct: invalid input"
    yf, t, J, _ = _check_list_data(y, treat, J, None, what=what)
    z = _zcrit(level)
    problems: list[Problem] = []
    d_arr = _as_1d(direct, "direct", problems)
    if d_arr is not None:
        if d_arr.size != yf.size:
            problems.append(
                Problem(
                    _SOURCE,
                    "direct",
                    f"has {d_arr.size} values but y has {yf.size}; expected one per respondent",
                )
            )
        else:
            df = _numeric(d_arr, "direct", problems)
            if df is not None:
                bad = ~np.isin(df, (0.0, 1.0))
                problems.extend(
                    _rows_problems("direct", bad, d_arr, "expected a direct answer 0/1")
                )
    if problems:
        raise InputError(what, problems)
    D = df == 1.0
    for arm, label in ((t, "treated"), (~t, "control")):
        if np.count_nonzero(arm & ~D) < 2:
            problems.append(
                Problem(
                    _SOURCE,
                    "direct",
                    f"fewer than 2 {label} respondents answered 'no' directly; "
                    "the list experiment among them is not estimable",
                )
            )
    if problems:
        raise InputError(what, problems)

    n1, n0 = int(t.sum()), int((~t).sum())
    n = n1 + n0
    a = yf * (~D)
    Df = D.astype(float)
    d1, d0 = Df[t].mean(), Df[~t].mean()
    a1, a0 = a[t].mean(), a[~t].mean()
    Dbar = Df.mean()
    q = 1 - Dbar
    delta = a1 / (1 - d1) - a0 / (1 - d0)
    est = Dbar + q * delta
    k1, k0 = n1 / n, n0 / n
    g1 = np.array([k1 * (1 - delta) + q * a1 / (1 - d1) ** 2, q / (1 - d1)])
    g0 = np.array([k0 * (1 - delta) - q * a0 / (1 - d0) ** 2, -q / (1 - d0)])
    S1 = np.cov(np.vstack([Df[t], a[t]])) / n1
    S0 = np.cov(np.vstack([Df[~t], a[~t]])) / n0
    se = math.sqrt(float(g1 @ S1 @ g1 + g0 @ S0 @ g0))

    m1, v1 = _mean_se(yf[t])
    m0, v0 = _mean_se(yf[~t])
    no1, vno1 = _mean_se(yf[t & ~D])
    no0, vno0 = _mean_se(yf[~t & ~D])
    # placebo I: DiM among direct 'yes' equals 1
    yes_t, yes_c = t & D, ~t & D
    rows = []
    if yes_t.sum() >= 2 and yes_c.sum() >= 2:
        y1, vy1 = _mean_se(yf[yes_t])
        y0, vy0 = _mean_se(yf[yes_c])
        e1, s1 = y1 - y0, math.sqrt(vy1 + vy0)
    else:
        e1, s1 = np.nan, np.nan
    rows.append(("I: DiM among direct yes = 1", e1, 1.0, s1))
    s2 = math.sqrt(d1 * (1 - d1) / n1 + d0 * (1 - d0) / n0)
    rows.append(("II: treatment -> direct answer", d1 - d0, 0.0, s2))
    placebo = pd.DataFrame(rows, columns=["test", "estimate", "null", "se"]).set_index("test")
    with np.errstate(invalid="ignore", divide="ignore"):
        placebo["z"] = (placebo["estimate"] - placebo["null"]) / placebo["se"]
    placebo["p_value"] = 2 * stats.norm.sf(np.abs(placebo["z"]))

    return CombinedResult(
        estimate=float(est),
        se=se,
        ci_low=float(est - z * se),
        ci_high=float(est + z * se),
        direct_mean=float(Dbar),
        dim_estimate=m1 - m0,
        dim_se=math.sqrt(v1 + v0),
        dim_no=no1 - no0,
        dim_no_se=math.sqrt(vno1 + vno0),
        n=n,
        n_treat=n1,
        n_control=n0,
        n_direct_yes=int(D.sum()),
        J=J,
        level=level,
        placebo=placebo,
    )
