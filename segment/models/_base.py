"""The EM machinery shared by the mixture models (after scikit-learn's ``BaseMixture``).

The base class owns validation of weights and covariates, the restarts, the EM loop with its
convergence rule, the canonical class order and predict / predict_proba / score / information
criteria. A model supplies its data preparation, its starts, one EM iteration, its per-class
log-likelihoods and its parameter count.
"""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod
from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._prior import fit_logit_prior, logit_log_prior
from .multistart import BEST_TOLERANCE, REFINE_STARTS, count_best_starts

__all__ = ["MixtureBase"]


class MixtureBase(ClusterMixin, DensityMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the EM-fitted mixture models. Not for direct use."""

    def __init__(
        self,
        n_components=2,
        *,
        n_init=10,
        screen_rows=50_000,
        max_iter=1000,
        tol=1e-8,
        random_state=None,
    ):
        self.n_components = n_components
        self.n_init = n_init
        self.screen_rows = screen_rows
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # ------------------------------------------------------------------ model hooks
    @abstractmethod
    def _prepare(self, X, *, fitting: bool) -> Any:
        """Validate ``X``; at fit time also learn the encoding. Returns the model's data."""

    @abstractmethod
    def _n_rows(self, data) -> int: ...

    @abstractmethod
    def _informative_rows(self, data) -> np.ndarray:
        """Boolean mask of rows with at least one observed value."""

    @abstractmethod
    def _take_rows(self, data, mask: np.ndarray) -> Any: ...

    def _slice(self, data, start: int, stop: int):
        """Rows ``start:stop`` of the model's data."""
        return data[start:stop]

    @abstractmethod
    def _starts(self, data, weights, rng) -> list:
        """Starting measurement parameters: ``n_init`` random ones and deterministic ones."""

    def _distinct_rows(self, data, weights) -> tuple[Any, np.ndarray] | None:
        """The distinct rows of ``data`` and the summed weight of each, for EM to run on
        instead of every row (the same likelihood), or None to run EM on every row."""
        return None

    @abstractmethod
    def _e_step(self, data, weights, params, log_prior) -> tuple[float, Any, np.ndarray | None]:
        """One pass: (weighted log-likelihood, sufficient statistics, responsibilities or None).

        ``log_prior`` is a (K,) vector, or an (n, K) array with covariates (then the
        responsibilities must be returned).
        """

    @abstractmethod
    def _m_step(self, stats, params) -> Any: ...

    @abstractmethod
    def _class_log_lik(self, data, params) -> np.ndarray:
        """(n, K) array of ``log P(x_i | class k)``."""

    @abstractmethod
    def _n_measurement_parameters(self) -> int: ...

    @abstractmethod
    def _order_key(self, params) -> np.ndarray:
        """A per-class vector used to break ties between equal shares when ordering classes."""

    @abstractmethod
    def _reorder(self, params, order: np.ndarray) -> Any: ...

    @abstractmethod
    def _store(self, params) -> None:
        """Set the fitted measurement attributes from ``params``."""

    @abstractmethod
    def _params(self) -> Any:
        """Fitted measurement parameters, as used by the hooks."""

    # ------------------------------------------------------------------ validation
    def _check_parameters(self, n_rows: float) -> None:
        """Check the parameters and that ``n_rows >= n_components`` (``inf``: not yet known)."""
        k = self.n_components
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"n_components must be a positive integer, got {k!r}")
        if not isinstance(self.n_init, (int, np.integer)) or self.n_init < 0:
            raise ValueError(f"n_init must be a non-negative integer, got {self.n_init!r}")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not (isinstance(self.tol, (int, float)) and self.tol >= 0):
            raise ValueError(f"tol must be a non-negative number, got {self.tol!r}")
        if n_rows < k:
            raise ValueError(
                f"n_samples={n_rows} should be >= n_components={k}: "
                "a model cannot have more classes than respondents"
            )

    @staticmethod
    def _check_weights(sample_weight, n_rows: int) -> np.ndarray:
        if sample_weight is None:
            return np.ones(n_rows)
        w = np.asarray(sample_weight, dtype=float).reshape(-1)
        if w.shape[0] != n_rows:
            raise ValueError(f"sample_weight has {w.shape[0]} values for {n_rows} rows")
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if len(bad):
            i = int(bad[0])
            raise ValueError(
                f"sample_weight must be finite and non-negative; {len(bad)} are not "
                f"(first: row {i + 1}, value {float(w[i])!r})"
            )
        if not np.any(w > 0):
            raise ValueError("sample_weight is zero for every row")
        return w

    def _check_covariates(self, covariates, n_rows: int, fitting: bool) -> np.ndarray | None:
        if covariates is None:
            if not fitting and getattr(self, "coef_", None) is not None:
                raise ValueError("this model was fitted with covariates; pass covariates=")
            return None
        z = np.asarray(covariates, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        if z.shape[0] != n_rows:
            raise ValueError(f"covariates have {z.shape[0]} rows for {n_rows} rows of X")
        bad = np.argwhere(~np.isfinite(z))
        if len(bad):
            i, j = bad[0]
            raise ValueError(
                f"covariates must be finite; row {i + 1}, column {j + 1} is {z[i, j]!r}"
            )
        if fitting:
            self.n_covariates_ = z.shape[1]
        elif getattr(self, "coef_", None) is None:
            raise ValueError("this model was fitted without covariates")
        elif z.shape[1] != self.n_covariates_:
            raise ValueError(f"expected {self.n_covariates_} covariates, got {z.shape[1]}")
        return np.column_stack([np.ones(n_rows), z])

    # ------------------------------------------------------------------ fitting
    def _initial_shares(self) -> np.ndarray:
        """Class shares every start begins with: equal shares unless a model says otherwise."""
        k = self.n_components
        return np.full(k, 1.0 / k)

    def fit(self, X, y=None, sample_weight=None, covariates=None):
        """Fit the model by maximum (pseudo-)likelihood with EM from several starts.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_features)
        y : ignored
        sample_weight : array of shape (n_samples,), optional
            Survey weights; each respondent's log-likelihood is multiplied by its weight
            (pseudo-maximum likelihood; Skinner, Holt & Smith 1989). Zero weights are allowed
            and drop the respondent from the likelihood.
        covariates : array of shape (n_samples, n_covariates), optional
            Predictors of class membership (multinomial logit, estimated jointly).

        Returns
        -------
        self
        """
        data = self._prepare(X, fitting=True)
        n_rows = self._n_rows(data)
        weights = self._check_weights(sample_weight, n_rows)
        design = self._check_covariates(covariates, n_rows, fitting=True)
        if design is None:
            self.n_covariates_ = 0
        keep = self._informative_rows(data)
        self.n_empty_ = int(n_rows - keep.sum())
        all_data, all_design, all_weights = data, design, weights
        if self.n_empty_:
            data, weights = self._take_rows(data, keep), weights[keep]
            design = None if design is None else design[keep]
        self._check_parameters(int(np.sum(weights > 0)))
        rng = check_random_state(self.random_state)
        starts = self._starts(data, weights, rng)  # from the rows (k-means on a sample of them)
        patterns = None if design is not None else self._distinct_rows(data, weights)
        best, best_path = self._multi_start(data, weights, design, starts, rng, patterns)
        del self._last_path
        loglik, params, shares, coef, n_iter, converged = best
        if not converged:
            warnings.warn(
                f"EM did not converge in max_iter={self.max_iter} iterations for the best start; "
                "increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        params, shares, coef = self._canonical(params, shares, coef, design)
        self._store(params)
        self.coef_ = coef
        self.prior_shares_ = shares
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        self.loglik_path_ = best_path
        self.n_samples_fit_ = int(self._n_rows(data))
        self.labels_, self.weights_, self.entropy_, loglik = self._summarise(
            all_data, all_design, all_weights, keep
        )
        self.loglik_ = float(loglik)
        if coef is None:
            self.weights_ = shares
        return self

    def _summarise(self, data, design, weights, informative, chunk: int = 100_000):
        """Labels of every row; shares, relative entropy and log-likelihood of informative rows.

        One pass in chunks, so memory does not grow with the number of respondents. A row with
        no answers gets the class its prior favours.
        """
        n_rows = self._n_rows(data)
        k = self.n_components
        labels = np.empty(n_rows, dtype=np.intp)
        totals = np.zeros(k)
        entropy = 0.0
        loglik = 0.0
        for start in range(0, n_rows, chunk):
            stop = min(start + chunk, n_rows)
            d = None if design is None else design[start:stop]
            joint = self._class_log_lik(self._slice(data, start, stop), self._params())
            joint += self._log_prior(d, stop - start)
            labels[start:stop] = np.argmax(joint, axis=1)
            lse = logsumexp(joint, axis=1, keepdims=True)
            resp = np.exp(joint - lse)
            w = weights[start:stop] * informative[start:stop]
            loglik += float(w @ lse[:, 0])
            totals += w @ resp
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy += float(w @ np.where(resp > 0, -resp * np.log(resp), 0.0).sum(axis=1))
        w_total = float(np.sum(weights * informative))
        relative = 1.0 if k == 1 else 1 - entropy / (w_total * np.log(k))
        return labels, totals / w_total, float(relative), loglik

    def _multi_start(self, data, weights, design, starts, rng, patterns=None):
        """Run every start; returns the winning run and its log-likelihood path.

        ``patterns`` (from :meth:`_distinct_rows`: the distinct rows and their summed weights)
        replace the rows wherever EM runs on all of them: the same likelihood, summed in
        another order (its last digits may differ).

        Up to ``screen_rows`` respondents, every start runs to convergence on all of them, the
        earliest start winning ties. Beyond, every start runs to convergence on one random
        subsample of ``screen_rows`` respondents (drawn after the starts); the distinct
        subsample maxima are scored on every respondent and the ``REFINE_STARTS`` best of them
        continue there to convergence: the
        random-sets strategy of Latent GOLD and the initial-stage/final-stage ``STARTS`` of
        Mplus (Muthen & Muthen 2017, ch. 14), with the initial stage made cheap by the
        subsample instead of by an iteration limit (on poLCA's gss82 data, 20-iteration screens
        with 10 finalists missed the 3-class maximum that 11 full starts reach). Sets
        ``start_logliks_`` (each start's final objective, on the subsample when screened) and
        ``n_best_starts_`` (how many reached the best of them within ``BEST_TOLERANCE``).
        """
        n_rows = self._n_rows(data)
        screened = self.screen_rows is not None and n_rows > self.screen_rows
        if screened:
            rows = np.sort(rng.choice(n_rows, self.screen_rows, replace=False))
            s_data, s_weights = self._take_rows(data, rows), weights[rows]
            s_design = None if design is None else design[rows]
        if patterns is not None:
            data, weights = patterns
        if not screened:
            s_data, s_weights, s_design = data, weights, design
        runs, paths = [], []
        best = None
        for params in starts:
            coef = None if design is None else np.zeros((design.shape[1], self.n_components))
            run = self._run_em(s_data, s_weights, s_design, params, self._initial_shares(), coef)
            runs.append(run)
            paths.append(self._last_path)
            if best is None or run[0] > runs[best][0] + 1e-9 * abs(runs[best][0]):
                best = len(runs) - 1
        assert best is not None  # _starts gives at least one start
        final = np.array([run[0] for run in runs])
        top = final[best]
        self.start_logliks_ = final
        self.n_best_starts_ = count_best_starts(final)
        if not screened:
            return runs[best], paths[best]
        # each distinct subsample maximum scored on every respondent (one E-step each)
        distinct: list[int] = []
        for i in np.argsort(-final, kind="stable"):
            if not distinct or final[i] < final[distinct[-1]] - BEST_TOLERANCE * abs(top):
                distinct.append(int(i))
        full = []
        for i in distinct:
            _, params, shares, coef, _, _ = runs[i]
            log_prior = np.log(shares) if coef is None else logit_log_prior(design, coef)
            full.append(self._e_step(data, weights, params, log_prior)[0])
        refine = [distinct[j] for j in np.argsort(-np.array(full), kind="stable")[:REFINE_STARTS]]
        best_run, best_path = None, None
        for i in refine:
            _, params, shares, coef, _, _ = runs[i]
            run = self._run_em(data, weights, design, params, shares, coef)
            if best_run is None or run[0] > best_run[0] + 1e-9 * abs(best_run[0]):
                best_run, best_path = run, self._last_path
        return best_run, best_path

    def _run_em(self, data, weights, design, params, shares, coef, e_step=None):
        """EM from one start; returns (loglik, params, shares, coef, n_iter, converged).

        ``e_step`` replaces :meth:`_e_step` (same arguments and result), for an E-step that
        computes the statistics elsewhere, such as the Dask fit's sum over partitions
        (:func:`segment.models.dask_fit.fit_latent_class_dask`); the M-step and the stopping
        rule stay the model's. The log-likelihood path is left in ``self._last_path``.
        """
        if e_step is None:
            e_step = self._e_step
        previous = -np.inf
        loglik = -np.inf
        path = []
        converged = False
        n_iter = 0
        for iteration in range(1, self.max_iter + 1):
            n_iter = iteration
            log_prior = np.log(shares) if coef is None else logit_log_prior(design, coef)
            loglik, stats, resp = e_step(data, weights, params, log_prior)
            path.append(loglik)
            params = self._m_step(stats, params)
            if coef is None:
                totals = stats["class_totals"]
                shares = totals / totals.sum()
            else:
                assert resp is not None  # with covariates _e_step returns responsibilities
                coef = fit_logit_prior(design, resp, weights, coef)
            if abs(loglik - previous) <= self.tol * abs(loglik):
                converged = True
                break
            previous = loglik
        # loglik belongs to the parameters before the last M-step; fit() recomputes the
        # returned parameters' log-likelihood in its summary pass.
        self._last_path = np.array(path)
        return loglik, params, shares, coef, n_iter, converged

    def _canonical(self, params, shares, coef, design):
        """Order classes by decreasing share, ties broken by the model's key."""
        size = shares if coef is None else np.exp(logit_log_prior(design, coef)).mean(axis=0)
        order = np.lexsort((self._order_key(params), -np.round(size, 12)))
        params = self._reorder(params, order)
        shares = shares[order]
        if coef is not None:
            coef = coef[:, order]
            coef = coef - coef[:, :1]
        return params, shares, coef

    # ------------------------------------------------------------------ inference
    def _log_prior(self, design, n_rows):
        if self.coef_ is None:
            return np.broadcast_to(np.log(self.prior_shares_), (n_rows, self.n_components))
        return logit_log_prior(design, self.coef_)

    def _joint_log(self, X, covariates):
        check_is_fitted(self, "loglik_")
        data = self._prepare(X, fitting=False)
        n_rows = self._n_rows(data)
        design = self._check_covariates(covariates, n_rows, fitting=False)
        return self._class_log_lik(data, self._params()) + self._log_prior(design, n_rows)

    def predict_proba(self, X, covariates=None):
        """Posterior class probabilities, shape (n_samples, n_components)."""
        joint = self._joint_log(X, covariates)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def predict(self, X, covariates=None):
        """Most probable class of each row (classes ordered by decreasing size)."""
        return np.argmax(self._joint_log(X, covariates), axis=1)

    def fit_predict(self, X, y=None, sample_weight=None, covariates=None):
        """Fit, then return the most probable class of each row of ``X``."""
        return self.fit(X, sample_weight=sample_weight, covariates=covariates).predict(
            X, covariates=covariates
        )

    def score_samples(self, X, covariates=None):
        """Log-likelihood of each row, ``log sum_k P(k) P(x_i | k)``."""
        return logsumexp(self._joint_log(X, covariates), axis=1)

    def score(self, X, y=None, sample_weight=None, covariates=None):
        """Mean (weighted) log-likelihood per row."""
        ll = self.score_samples(X, covariates)
        w = (
            np.ones_like(ll)
            if sample_weight is None
            else self._check_weights(sample_weight, len(ll))
        )
        return float(np.sum(w * ll) / np.sum(w))

    # ------------------------------------------------------------------ fit statistics
    def n_parameters(self) -> int:
        """Number of free parameters: measurement + class membership."""
        check_is_fitted(self, "loglik_")
        k = self.n_components
        prior = (k - 1) * (1 + self.n_covariates_)
        return int(self._n_measurement_parameters() + prior)

    def _total_loglik(self, X, sample_weight, covariates):
        """Weighted log-likelihood and n = sum of the weights of respondents who answered."""
        ll = self.score_samples(X, covariates)
        w = (
            np.ones_like(ll)
            if sample_weight is None
            else self._check_weights(sample_weight, len(ll))
        )
        answered = self._informative_rows(self._prepare(X, fitting=False))
        return float(np.sum(w * ll)), float(np.sum(w * answered))

    def bic(self, X, sample_weight=None, covariates=None):
        """Bayesian information criterion, ``-2 LL + p log n`` (n = sum of weights).

        Schwarz, G. (1978). Estimating the dimension of a model. *Annals of Statistics* 6(2).
        Scale survey weights to sum to the sample size so that ``n`` is the sample size.
        """
        return self.information_criteria(X, sample_weight, covariates)["bic"]

    def aic(self, X, sample_weight=None, covariates=None):
        """Akaike information criterion, ``-2 LL + 2 p``."""
        return self.information_criteria(X, sample_weight, covariates)["aic"]

    def sabic(self, X, sample_weight=None, covariates=None):
        """Sample-size adjusted BIC, ``-2 LL + p log((n + 2) / 24)`` (Sclove 1987)."""
        return self.information_criteria(X, sample_weight, covariates)["sabic"]

    def information_criteria(self, X, sample_weight=None, covariates=None) -> dict[str, float]:
        """BIC, AIC and sample-size adjusted BIC (:meth:`bic`, :meth:`aic`, :meth:`sabic`)
        from one pass over ``X``.

        Returns
        -------
        dict
            ``{"bic": ..., "aic": ..., "sabic": ...}``, each the number its method returns.
        """
        ll, n = self._total_loglik(X, sample_weight, covariates)
        p = self.n_parameters()
        return {
            "bic": -2 * ll + p * np.log(n),
            "aic": -2 * ll + 2 * p,
            "sabic": -2 * ll + p * np.log((n + 2) / 24),
        }

    def relative_entropy(self, X, sample_weight=None, covariates=None):
        """Relative entropy of the classification, 1 = perfectly separated classes.

        ``E = 1 - sum_i w_i sum_k (-r_ik log r_ik) / (sum_i w_i * log K)`` (Ramaswamy et al. 1993).
        """
        resp = self.predict_proba(X, covariates)
        w = (
            np.ones(len(resp))
            if sample_weight is None
            else self._check_weights(sample_weight, len(resp))
        )
        return _relative_entropy(resp, w)


def _relative_entropy(resp: np.ndarray, weights: np.ndarray) -> float:
    k = resp.shape[1]
    if k == 1:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(resp > 0, -resp * np.log(resp), 0.0)
    return float(1 - np.sum(weights * terms.sum(axis=1)) / (np.sum(weights) * np.log(k)))
