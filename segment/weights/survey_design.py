r"""Design-based standard errors for stratified, clustered (multi-stage) poll samples.

A poll is rarely a simple random sample: regions are strata, and within a stratum interviewers
visit sampled primary sampling units (PSUs: settlements, polling districts, addresses) and
interview several people in each. Respondents of one PSU resemble each other, so a clustered
sample carries less information than its size suggests, and standard errors that treat
respondents as independent are too small. :class:`SurveyDesign` holds the weights, strata, PSUs
and (optionally) finite population corrections of a sample and estimates the variance of
weighted means, ratio means, proportions of several categories jointly, domain (subgroup)
means and totals, with their covariance matrix and design effect, by

* **Taylor linearisation** with the with-replacement ("ultimate cluster") approximation for
  the PSUs (Wolter 2007, ch. 6; Lohr 2022, sec. 9.1; Binder 1983), or
* the **rescaling bootstrap** of PSUs within strata (Rao & Wu 1988; Rao, Wu & Yue 1992).

Notation: stratum :math:`h = 1..H` holds :math:`n_h` sampled PSUs :math:`i`, respondent
:math:`j` of PSU :math:`hi` has weight :math:`w_{hij}` and values :math:`y_{hij}` (and
:math:`x_{hij}` for a ratio); :math:`f_h` is the first-stage sampling fraction (0 without an
fpc). Only the first stage enters the variance: later stages are carried by the PSU totals
(the ultimate-cluster estimator), which is what R ``survey`` computes for
``svydesign(id = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc)``.

**Linearisation.** A ratio :math:`\hat R = \hat Y / \hat X` with
:math:`\hat Y = \sum w_{hij} y_{hij}` and :math:`\hat X = \sum w_{hij} x_{hij}` (a mean has
:math:`x = 1`, a domain mean :math:`y = d\,y`, :math:`x = d` for the domain indicator
:math:`d`, a proportion :math:`y = 1[\text{category}]`) has the linearised variable
:math:`z_{hij} = w_{hij} (y_{hij} - \hat R x_{hij}) / \hat X` (Binder 1983; a total has
:math:`z_{hij} = w_{hij} y_{hij}`). With PSU totals :math:`z_{hi} = \sum_j z_{hij}` and their
stratum means :math:`\bar z_h`,

.. math::

    \widehat{\mathrm{Cov}}(\hat R) = \sum_h (1 - f_h) \frac{n_h}{n_h - 1}
        \sum_{i=1}^{n_h} (z_{hi} - \bar z_h)(z_{hi} - \bar z_h)^\top

for the vector of all estimates at once (Wolter 2007, eq. 6.5.1; Lohr 2022, eq. 9.3), so that
contrasts between estimates of the same sample (segment shares, the two arms of a list
experiment, subgroups) get their covariances. A single-PSU stratum has no within-stratum
variance; ``lonely_psu`` says what to do (as R ``survey``'s ``options(survey.lonely.psu)``):
``"fail"`` (default) refuses the design, ``"remove"`` lets such strata contribute nothing,
``"adjust"`` centres their PSU total at the mean of all PSU totals instead of the stratum mean
(with factor :math:`1 - f_h`), ``"average"`` multiplies the variance by
:math:`H / (H - H_1)` for :math:`H_1` single-PSU strata. A stratum sampled completely
(:math:`f_h = 1`) contributes nothing and is not "lonely".

**Bootstrap.** Replicate :math:`b` draws :math:`m_h = n_h - 1` PSUs with replacement in every
stratum, PSU :math:`hi` being drawn :math:`r_{hi}^{(b)}` times, and rescales its weights,

.. math::

    w^{(b)}_{hij} = w_{hij}\left(1 - \lambda_h + \lambda_h \frac{n_h}{m_h} r^{(b)}_{hi}\right),
    \qquad \lambda_h = \sqrt{m_h (1 - f_h) / (n_h - 1)},

(Rao & Wu 1988, sec. 4; Rao, Wu & Yue 1992, eq. 2.4) so that for a linear estimator the
bootstrap variance equals the linearisation variance above in expectation. The estimate is
recomputed with each replicate's weights and
:math:`\widehat{\mathrm{Cov}} = B^{-1} \sum_b (\hat R^{(b)} - \hat R)(\hat R^{(b)} - \hat R)^\top`
(centred at the full-sample estimate). Replicates are formed from PSU totals, never from
respondent-level copies of the weights.

**Design effect** (Kish 1965, sec. 8.2). ``deff`` is the design variance divided by the
variance the same estimate would have under simple random sampling of the same number
:math:`n` of respondents (positive weights), the population variance being estimated with the
weights: for a ratio :math:`V_{\mathrm{SRS}} = S_e^2 / n` with
:math:`e = (y - \hat R x)/\bar x_w` and
:math:`S_e^2 = \frac{n}{n-1} \sum w (e - \bar e_w)^2 / \sum w`; for a total
:math:`\hat N^2 S_y^2 / n` with :math:`\hat N = \sum w`. This is R ``survey``'s
``deff = "replace"`` (SRS with replacement; the default here, because it does not depend on how
the weights are scaled). ``deff="noreplace"`` multiplies :math:`V_{\mathrm{SRS}}` by
:math:`1 - n / \hat N`, R's ``deff = TRUE``; it needs weights summing to the population size.
Either way the design effect includes the effect of unequal weights, not only of clustering.

References
----------
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
surveys. *International Statistical Review* 51(3): 279-292.

Kish, L. (1965). *Survey Sampling*. New York: Wiley.

Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed. Boca Raton: CRC Press, ch. 9.

Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Hoboken: Wiley.

Rao, J. N. K. & Wu, C. F. J. (1988). Resampling inference with complex survey data. *Journal
of the American Statistical Association* 83(401): 231-241.

Rao, J. N. K., Wu, C. F. J. & Yue, K. (1992). Some recent work on resampling methods for
complex surveys. *Survey Methodology* 18(2): 209-217.

Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. New York: Springer.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from segment._util import z_critical
from segment.exceptions import DataError, Problem, problems_at_rows
from segment.survey.cells import as_float
from segment.survey.codebook import Codebook
from segment.survey.design_columns import LONELY_PSU, check_design, label_codes

__all__ = ["METHODS", "Contrast", "DesignEstimate", "SurveyDesign"]

#: Variance methods of :class:`SurveyDesign`.
METHODS = ("linearization", "bootstrap")
#: Design-effect denominators: SRS with replacement (R ``deff="replace"``) or without (``TRUE``).
DEFF_KINDS = ("replace", "noreplace")
#: Bootstrap replicates are formed in blocks of at most this many replicate x PSU cells.
_BLOCK_CELLS = 2_000_000


class Contrast(NamedTuple):
    """A linear combination of estimates: value, standard error and design effect."""

    estimate: float
    se: float
    deff: float


@dataclass(frozen=True, eq=False)
class DesignEstimate:
    """Estimates with their design-based covariance matrix.

    Attributes
    ----------
    names : tuple of str
        One name per estimate.
    estimate : (k,) array
    cov : (k, k) array
        Design-based covariance matrix of the estimates.
    srs_cov : (k, k) array
        Their covariance under simple random sampling of ``n`` respondents (the design-effect
        denominator; see :mod:`segment.weights.survey_design`).
    kind : str
        ``"mean"``, ``"ratio"``, ``"proportion"``, ``"domain mean"`` or ``"total"``.
    method : str
        ``"linearization"`` or ``"bootstrap"``.
    n, n_psu, n_strata : int
        Respondents with a positive weight, PSUs and strata of the design.
    n_boot : int or None
        Bootstrap replicates (None for linearisation).
    deff_kind : str
        ``"replace"`` or ``"noreplace"`` (the SRS the design effect compares with).
    """

    names: tuple[str, ...]
    estimate: np.ndarray
    cov: np.ndarray
    srs_cov: np.ndarray
    kind: str
    method: str
    n: int
    n_psu: int
    n_strata: int
    n_boot: int | None = None
    deff_kind: str = "replace"

    @property
    def se(self) -> np.ndarray:
        """Design-based standard errors, ``sqrt(diag(cov))``."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    @property
    def deff(self) -> np.ndarray:
        """Design effects, ``diag(cov) / diag(srs_cov)`` (NaN where the SRS variance is 0)."""
        srs = np.diag(self.srs_cov)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(srs > 0, np.diag(self.cov) / srs, np.nan)

    @property
    def df(self) -> int:
        """Design degrees of freedom, PSUs minus strata (R ``degf``)."""
        return self.n_psu - self.n_strata

    def confint(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Normal ``level`` confidence limits (R ``confint(..., df = Inf)``)."""
        z = z_critical(level)
        return self.estimate - z * self.se, self.estimate + z * self.se

    def contrast(self, coef: Sequence[float]) -> Contrast:
        """The estimate, SE and design effect of ``sum(coef * estimate)``."""
        c = np.asarray(coef, dtype=float)
        if c.shape != self.estimate.shape:
            raise ValueError(
                f"coef has {c.size} values but there are {self.estimate.size} estimates"
            )
        var = float(c @ self.cov @ c)
        srs = float(c @ self.srs_cov @ c)
        return Contrast(
            float(c @ self.estimate),
            float(np.sqrt(max(var, 0.0))),
            var / srs if srs > 0 else float("nan"),
        )

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """``estimate, se, ci_low, ci_high, deff`` indexed by name."""
        low, high = self.confint(level)
        return pd.DataFrame(
            {
                "estimate": self.estimate,
                "se": self.se,
                "ci_low": low,
                "ci_high": high,
                "deff": self.deff,
            },
            index=pd.Index(list(self.names), name="name"),
        )


class SurveyDesign:
    """Weights, strata, PSUs and finite population corrections of a survey sample.

    Parameters
    ----------
    weights : array-like, optional
        Non-negative survey weights (default: all 1). Zero-weight rows stay in their PSU (they
        are outside every estimate but count as sampled, as in R ``survey``).
    strata : array-like, optional
        Stratum label of each respondent (default: one stratum).
    psu : array-like, optional
        Primary sampling unit (cluster) label of each respondent (default: every respondent is
        its own PSU).
    fpc : array-like, optional
        First-stage finite population correction, constant within a stratum: either the
        sampling fraction of PSUs (all values at most 1) or the number of PSUs in the stratum's
        population (R ``survey``'s ``fpc``). Default: sampling with replacement (no correction).
    lonely_psu : {"fail", "adjust", "remove", "average"}
        What to do with a stratum holding a single PSU (see :mod:`segment.weights.survey_design`).
    nest : bool
        PSU labels restart in each stratum (R ``nest = TRUE``); otherwise a PSU label found in
        two strata is an error.
    n : int, optional
        Number of respondents, needed only when no array is given.
    file : str
        Name of the data in error messages.
    columns : dict, optional
        Column names of ``"strata"``, ``"psu"``, ``"fpc"`` and ``"weight"`` for error messages.

    Raises
    ------
    DataError
        Listing every problem with the design (file, column, 1-based row, value).
    ValueError
        For an unknown ``lonely_psu``.

    Examples
    --------
    >>> design = SurveyDesign(weights=w, strata=region, psu=district)   # doctest: +SKIP
    >>> design.mean(y).to_frame()                                       # doctest: +SKIP
    >>> design.proportions(segment, method="bootstrap", random_state=1) # doctest: +SKIP
    """

    def __init__(
        self,
        weights=None,
        strata=None,
        psu=None,
        fpc=None,
        *,
        lonely_psu: str = "fail",
        nest: bool = False,
        n: int | None = None,
        file: str = "data",
        columns: dict[str, str] | None = None,
    ):
        if lonely_psu not in LONELY_PSU:
            raise ValueError(f"lonely_psu must be one of {list(LONELY_PSU)}, got {lonely_psu!r}")
        columns = dict(columns or {})
        problems: list[Problem] = []
        arrays = {"weight": weights, "strata": strata, "psu": psu, "fpc": fpc}
        size = _design_size(arrays, n, file)
        w, found = _design_weights(weights, size, file, columns.get("weight", "weight"))
        problems += found
        problems += check_design(
            strata=strata,
            psu=psu,
            fpc=fpc,
            file=file,
            columns=columns,
            lonely_psu=lonely_psu,
            nest=nest,
        )
        if problems:
            raise DataError(f"survey design ({file})", problems)

        s_codes, s_labels = label_codes(strata, size)
        psu_codes, psu_stratum = _psu_codes(psu, s_codes, size)
        n_h = np.bincount(psu_stratum, minlength=s_labels.size)
        f_h = _sampling_fractions(fpc, s_codes, n_h, s_labels.size, size)
        self.weights = w
        self.weights.setflags(write=False)
        self.lonely_psu = lonely_psu
        self.nest = bool(nest)
        self.has_fpc = fpc is not None
        self.strata_labels = s_labels
        self._stratum = s_codes
        self._psu = psu_codes
        self._psu_stratum = psu_stratum
        self._n_h = n_h
        self._f_h = np.clip(f_h, 0.0, 1.0)
        self._lonely = (n_h == 1) & (self._f_h < 1)

    @classmethod
    def from_codebook(
        cls, codebook: Codebook, frame: pd.DataFrame, weights=None, file: str = "<data>"
    ) -> SurveyDesign | None:
        """The design of a validated survey, as its codebook declares it, or None.

        None when the codebook declares no strata, PSU or fpc column. ``weights`` (default: the
        codebook's weight column, else equal weights) are the survey weights of the design.

        Raises
        ------
        DataError
            Listing every problem with the design columns (see
            :func:`segment.survey.design_columns.check_design`).
        """
        if not codebook.has_design:
            return None
        if weights is None and codebook.weight is not None:
            weights = as_float(frame[codebook.weight])[0]
        return cls(
            weights=weights,
            strata=None if codebook.strata is None else frame[codebook.strata],
            psu=None if codebook.psu is None else frame[codebook.psu],
            fpc=None if codebook.fpc is None else frame[codebook.fpc],
            lonely_psu=codebook.lonely_psu,
            nest=codebook.nest,
            n=len(frame),
            file=file,
            columns={
                r: c for r, c in codebook.design.items() if r in ("strata", "psu", "fpc") and c
            },
        )

    def with_weights(self, weights) -> SurveyDesign:
        """The same strata, PSUs and fpc with other weights (e.g. raked or trimmed ones)."""
        w = np.array(weights, dtype=float)
        if w.shape != (self.n,):
            raise ValueError(f"weights have shape {w.shape}; expected ({self.n},)")
        wrong = ~np.isfinite(w) | (w < 0)
        if wrong.any() or not (w > 0).any():
            problems = problems_at_rows("data", "weight", wrong, w, "expected a weight >= 0") or [
                Problem("data", "weight", "every weight is zero")
            ]
            raise DataError("survey design (data)", problems)
        out = copy.copy(self)
        w.setflags(write=False)
        out.weights = w
        return out

    # ------------------------------------------------------------------ description
    @property
    def n(self) -> int:
        """Number of respondents (rows)."""
        return int(self.weights.size)

    @property
    def n_psu(self) -> int:
        return int(self._psu_stratum.size)

    @property
    def n_strata(self) -> int:
        return int(self._n_h.size)

    @property
    def df(self) -> int:
        """Design degrees of freedom, PSUs minus strata."""
        return self.n_psu - self.n_strata

    def describe(self) -> str:
        """One line, e.g. ``"3 strata, 45 PSUs, 1,500 respondents, fpc"``."""
        parts = [
            f"{self.n_strata} strat{'um' if self.n_strata == 1 else 'a'}",
            f"{self.n_psu:,} PSU{'s' if self.n_psu != 1 else ''}",
            f"{self.n:,} respondents",
        ]
        if self.has_fpc:
            parts.append("fpc")
        if self._lonely.any():
            parts.append(f"{int(self._lonely.sum())} single-PSU strata ({self.lonely_psu})")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"SurveyDesign({self.describe()})"

    # ------------------------------------------------------------------ estimators
    def mean(self, y, *, names: Sequence[str] | None = None, **options) -> DesignEstimate:
        r"""Weighted means :math:`\sum w y / \sum w` of one or several variables.

        Parameters
        ----------
        y : (n,) or (n, k) array-like
            Values; NaN is refused (restrict to respondents with :meth:`domain_means`).
        names : sequence of str, optional
            Names of the k estimates (default ``y``, or ``y0, y1, ...``; a DataFrame's columns).
        method : {"linearization", "bootstrap"}
        n_boot : int
            Bootstrap replicates (default 500).
        random_state : int, numpy Generator or None
            Seed of the bootstrap.
        deff : {"replace", "noreplace"}
            The simple random sample the design effect compares with.

        Returns
        -------
        DesignEstimate
        """
        Y, names = self._matrix(y, "y", names)
        return self._estimate(Y, np.ones((self.n, 1)), "mean", names, **options)

    def ratio(self, y, x, *, names: Sequence[str] | None = None, **options) -> DesignEstimate:
        r"""Ratio means :math:`\sum w y / \sum w x` (R ``svyratio``), column by column.

        Options as :meth:`mean`.
        """
        Y, names = self._matrix(y, "y", names)
        X, _ = self._matrix(x, "x", None)
        if X.shape[1] == 1 and Y.shape[1] > 1:
            X = np.repeat(X, Y.shape[1], axis=1)
        if X.shape != Y.shape:
            raise ValueError(f"x has shape {X.shape} but y has {Y.shape}")
        return self._estimate(Y, X, "ratio", names, **options)

    def total(self, y, *, names: Sequence[str] | None = None, **options) -> DesignEstimate:
        r"""Weighted totals :math:`\sum w y` (R ``svytotal``). Options as :meth:`mean`."""
        Y, names = self._matrix(y, "y", names)
        return self._estimate(Y, None, "total", names, **options)

    def proportions(
        self, values, *, categories: Sequence | None = None, **options
    ) -> DesignEstimate:
        """Shares of the categories of ``values`` jointly, with their covariance matrix.

        The shares sum to 1, so their covariance matrix is singular; a contrast of two shares
        (:meth:`DesignEstimate.contrast`) uses the covariance. Missing values are refused.

        Parameters
        ----------
        values : (n,) array-like
            Category of each respondent.
        categories : sequence, optional
            Categories in output order (default: the sorted distinct values); values outside it
            are refused.

        Options as :meth:`mean`.
        """
        v = self._labels(values, "values")
        cats = list(pd.unique(v)) if categories is None else list(categories)
        if categories is None:
            cats = sorted(cats, key=_sort_key)
        index = pd.Index(cats)
        codes = index.get_indexer(v)
        if (codes < 0).any():
            raise self._rows_error(
                "values", codes < 0, v, f"value is not one of the categories {cats}"
            )
        Y = np.zeros((self.n, len(cats)))
        Y[np.arange(self.n), codes] = 1.0
        return self._estimate(
            Y, np.ones((self.n, 1)), "proportion", [str(c) for c in cats], **options
        )

    def domain_means(self, y, domains, **options) -> DesignEstimate:
        """Mean of ``y`` in each domain (subgroup) of the sample, with their joint covariance.

        Domains are estimated as ratios over the whole design (Lohr 2022, sec. 10.2), not as
        separate samples, so a domain absent from some PSUs is handled correctly and
        contrasts between domains (e.g. the arms of a list experiment) get their covariance.

        Parameters
        ----------
        y : (n,) array-like
            Values (NaN refused).
        domains : (n,) array-like
            Domain label of each respondent (missing refused). Estimates are in sorted order
            of the labels.

        Options as :meth:`mean`.
        """
        Y, _ = self._matrix(y, "y", None)
        if Y.shape[1] != 1:
            raise ValueError("domain_means takes one variable")
        d = self._labels(domains, "domains")
        cats = sorted(pd.unique(d), key=_sort_key)
        codes = pd.Index(cats).get_indexer(d)
        D = np.zeros((self.n, len(cats)))
        D[np.arange(self.n), codes] = 1.0
        return self._estimate(D * Y, D, "domain mean", [str(c) for c in cats], **options)

    # ------------------------------------------------------------------ internals
    def _matrix(self, y, what: str, names) -> tuple[np.ndarray, list[str]]:
        if isinstance(y, pd.DataFrame):
            default = [str(c) for c in y.columns]
            Y = y.to_numpy(dtype=float)
        elif isinstance(y, pd.Series):
            default = [str(y.name) if y.name is not None else what]
            Y = y.to_numpy(dtype=float)[:, None]
        else:
            Y = np.asarray(y, dtype=float)
            if Y.ndim == 1:
                Y = Y[:, None]
            default = [what] if Y.shape[1] == 1 else [f"{what}{k}" for k in range(Y.shape[1])]
        if Y.ndim != 2 or Y.shape[0] != self.n:
            raise ValueError(
                f"{what} has shape {np.shape(y)}; expected {self.n} rows, one per respondent"
            )
        bad = ~np.isfinite(Y).all(axis=1)
        if bad.any():
            raise self._rows_error(
                what,
                bad,
                Y[:, 0] if Y.shape[1] == 1 else np.full(self.n, None),
                "missing or infinite value; restrict the estimate with domain_means",
            )
        names = list(default if names is None else names)
        if len(names) != Y.shape[1]:
            raise ValueError(f"{len(names)} names for {Y.shape[1]} estimates")
        return Y, [str(nm) for nm in names]

    def _labels(self, values, what: str) -> np.ndarray:
        v = (
            values.to_numpy(dtype=object)
            if isinstance(values, pd.Series)
            else np.asarray(values, dtype=object)
        )
        if v.shape != (self.n,):
            raise ValueError(f"{what} has shape {v.shape}; expected ({self.n},)")
        miss = pd.isna(v)
        if miss.any():
            raise self._rows_error(what, miss, v, "missing label")
        return v

    def _rows_error(self, what: str, bad: np.ndarray, values, message: str) -> DataError:
        return DataError(
            f"survey estimate ({what})", problems_at_rows("data", what, bad, values, message)
        )

    def _estimate(
        self,
        Y: np.ndarray,
        X: np.ndarray | None,
        kind: str,
        names: list[str],
        *,
        method: str = "linearization",
        n_boot: int = 500,
        random_state=None,
        deff: str = "replace",
    ) -> DesignEstimate:
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        if deff not in DEFF_KINDS:
            raise ValueError(f"deff must be one of {list(DEFF_KINDS)}, got {deff!r}")
        if method == "bootstrap":
            if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 2):
                raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
            if self.lonely_psu == "adjust" and self._lonely.any():
                raise ValueError(
                    "lonely_psu='adjust' has no bootstrap version; use "
                    "method='linearization', or lonely_psu='remove' or 'average'"
                )
        w = self.weights
        W = float(w.sum())
        wY = w[:, None] * Y
        Yt = wY.sum(axis=0)
        if X is None:
            theta = Yt
            z = wY
            Xt = None
        else:
            Xt = w @ X
            empty = ~(Xt != 0)
            if empty.any():
                raise ValueError(
                    "no respondent with a positive weight in "
                    + ", ".join(repr(names[k]) for k in np.flatnonzero(empty))
                )
            theta = Yt / Xt
            z = w[:, None] * (Y - theta * X) / Xt
        if method == "linearization":
            cov = self._linearized_cov(z)
        else:
            rng = np.random.default_rng(random_state)
            Ty = _sum_by(self._psu, wY, self.n_psu)
            Tx = None if X is None else _sum_by(self._psu, w[:, None] * X, self.n_psu)
            cov = self._bootstrap_cov(theta, Ty, Tx, int(n_boot), rng)
        srs = self._srs_cov(Y, X, theta, W, deff)
        return DesignEstimate(
            names=tuple(names),
            estimate=theta,
            cov=cov,
            srs_cov=srs,
            kind=kind,
            method=method,
            n=int((w > 0).sum()),
            n_psu=self.n_psu,
            n_strata=self.n_strata,
            n_boot=int(n_boot) if method == "bootstrap" else None,
            deff_kind=deff,
        )

    def total_cov(self, z) -> np.ndarray:
        r"""Design covariance of the totals :math:`\sum_i z_i` of per-respondent values ``z``
        (n, m) by the ultimate-cluster estimator.

        With ``z`` the weighted scores of an estimating equation this is the "meat" of Binder's
        (1983) design-based sandwich :math:`H^{-1} \hat V(\sum_i z_i) H^{-1}`.
        """
        z = np.asarray(z, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        if z.shape[0] != self.n:
            raise ValueError(f"z has {z.shape[0]} rows but the design has {self.n} respondents")
        return self._linearized_cov(z)

    def _linearized_cov(self, z: np.ndarray) -> np.ndarray:
        """Ultimate-cluster covariance of the totals of the linearised variables ``z``."""
        U = _sum_by(self._psu, z, self.n_psu)
        nh = self._n_h[self._psu_stratum].astype(float)
        Ubar = _sum_by(self._psu_stratum, U, self.n_strata) / self._n_h[:, None]
        D = U - Ubar[self._psu_stratum]
        fh = self._f_h[self._psu_stratum]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nh > 1, (1 - fh) * nh / (nh - 1), 0.0)
        lonely = self._lonely[self._psu_stratum]
        if self.lonely_psu == "adjust" and lonely.any():
            D[lonely] = U[lonely] - U.mean(axis=0)
            scale[lonely] = 1 - fh[lonely]
        cov = (D * scale[:, None]).T @ D
        return cov * self._average_factor()

    def _average_factor(self) -> float:
        if self.lonely_psu != "average" or not self._lonely.any():
            return 1.0
        ok = self.n_strata - int(self._lonely.sum())
        if ok == 0:
            raise ValueError(
                "every stratum has a single PSU; lonely_psu='average' has no "
                "stratum to average over"
            )
        return self.n_strata / ok

    def _bootstrap_cov(self, theta, Ty, Tx, n_boot: int, rng) -> np.ndarray:
        """Rao-Wu-Yue rescaling bootstrap covariance from PSU totals ``Ty`` (and ``Tx``)."""
        P = self.n_psu
        nh = self._n_h
        resampled = nh >= 2
        m = np.where(resampled, nh - 1, 0)
        lam = np.sqrt(np.where(resampled, m * (1 - self._f_h) / np.maximum(nh - 1, 1), 0.0))
        start = np.concatenate([[0], np.cumsum(nh)[:-1]])
        slot_stratum = np.repeat(np.arange(self.n_strata), m)
        M = slot_stratum.size
        # factor a = 1 - lam + lam * (n/m) * r, per PSU
        base = (1 - lam)[self._psu_stratum]
        gain = np.where(resampled, lam * nh / np.maximum(m, 1), 0.0)[self._psu_stratum]
        block = max(1, min(n_boot, _BLOCK_CELLS // max(P, M, 1)))
        dev = np.empty((n_boot, theta.size))
        for b0 in range(0, n_boot, block):
            nb = min(block, n_boot - b0)
            picks = start[slot_stratum] + np.floor(rng.random((nb, M)) * nh[slot_stratum]).astype(
                np.int64
            )
            flat = (np.arange(nb)[:, None] * P + picks).ravel()
            r = np.bincount(flat, minlength=nb * P).reshape(nb, P)
            A = base + gain * r
            est = A @ Ty if Tx is None else (A @ Ty) / (A @ Tx)
            dev[b0 : b0 + nb] = est - theta
        return dev.T @ dev / n_boot * self._average_factor()

    def _srs_cov(self, Y, X, theta, W: float, deff: str) -> np.ndarray:
        """Covariance under SRS of the same number of respondents (design-effect denominator)."""
        w = self.weights
        n = int((w > 0).sum())
        if X is None:
            E = Y
            factor = W**2
        else:
            xbar = (w @ X) / W
            E = (Y - theta * X) / xbar
            factor = 1.0
        Ebar = (w @ E) / W
        C = E - Ebar
        if n < 2:
            return np.full((Y.shape[1], Y.shape[1]), np.nan)
        S = n / (n - 1) * ((C.T * w) @ C) / W
        out = factor * S / n
        if deff == "noreplace":
            keep = 1 - n / W
            out = out * keep if keep > 0 else np.full_like(out, np.nan)
        return out


# ---------------------------------------------------------------------- helpers
def _design_size(arrays: dict, n: int | None, file: str) -> int:
    """The number of respondents, which every given array and ``n`` must agree on."""
    lengths = {role: len(v) for role, v in arrays.items() if v is not None}
    sizes = set(lengths.values()) | ({n} if n is not None else set())
    if not sizes:
        raise ValueError("SurveyDesign needs weights, strata, psu, fpc or n")
    if len(sizes) > 1:
        shown = ", ".join(f"{role} {k}" for role, k in lengths.items())
        raise DataError(
            f"survey design ({file})",
            [Problem(file, "", f"columns differ in length ({shown}; n {n})")],
        )
    size = sizes.pop()
    if size == 0:
        raise DataError(f"survey design ({file})", [Problem(file, "", "no respondents")])
    return size


def _design_weights(weights, size: int, file: str, wcol: str) -> tuple[np.ndarray, list[Problem]]:
    """The survey weights as floats (default all 1), with every problem found in them."""
    problems: list[Problem] = []
    if weights is None:
        w = np.ones(size)
    else:
        series = weights if isinstance(weights, pd.Series) else pd.Series(np.asarray(weights))
        w, bad = as_float(series.reset_index(drop=True))
        with np.errstate(invalid="ignore"):
            wrong = bad | np.isnan(w) | ~np.isfinite(w) | (w < 0)
        problems += problems_at_rows(
            file, wcol, wrong, series.to_numpy(dtype=object), "expected a weight >= 0"
        )
        if not wrong.any() and not (w > 0).any():
            problems.append(Problem(file, wcol, "every weight is zero"))
    return w, problems


def _psu_codes(psu, s_codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """PSU code of every respondent and stratum code of every PSU.

    PSUs are (stratum, label) pairs, numbered so that each stratum's PSUs are contiguous.
    """
    if psu is None:
        p_raw = np.arange(size, dtype=np.int64)
        n_raw = size
    else:
        p_raw, p_lab = label_codes(psu, size)
        n_raw = p_lab.size
    _, psu_codes = np.unique(s_codes * n_raw + p_raw, return_inverse=True)
    psu_codes = psu_codes.astype(np.int64)
    n_psu_total = int(psu_codes.max()) + 1
    psu_stratum = np.empty(n_psu_total, dtype=np.int64)
    psu_stratum[psu_codes] = s_codes
    return psu_codes, psu_stratum


def _sampling_fractions(
    fpc, s_codes: np.ndarray, n_h: np.ndarray, n_strata: int, size: int
) -> np.ndarray:
    """First-stage sampling fraction of every stratum (0 without an fpc), before clipping."""
    f_h = np.zeros(n_strata)
    if fpc is not None:
        fv = as_float(fpc if isinstance(fpc, pd.Series) else pd.Series(np.asarray(fpc)))[0]
        first = np.full(n_strata, size, dtype=np.int64)
        np.minimum.at(first, s_codes, np.arange(size))
        given = fv[first]
        f_h = n_h / given if (given > 1).any() else given
    return f_h


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Column sums of ``values`` (n, k) within groups ``codes`` (n,) -> (size, k)."""
    return np.stack(
        [np.bincount(codes, weights=values[:, k], minlength=size) for k in range(values.shape[1])],
        axis=1,
    )


def _sort_key(v):
    """Numbers first in numeric order, then text in alphabetical order."""
    if isinstance(v, (int, float, np.integer, np.floating)):
        return (0, float(v), "")
    return (1, 0.0, str(v))
