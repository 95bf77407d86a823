"""Gaussian mixture and k-means alternatives for continuous indices.

Some analysts segment on continuous scores (e.g. a civic-rights index averaged over items)
rather than on categorical answers. :class:`GaussianMixtureModel` is a finite mixture of
diagonal-covariance normals fitted by weighted EM (McLachlan & Peel 2000, ch. 3), with missing
values dropping out of a respondent's likelihood dimension by dimension (exact under a diagonal
covariance) and survey weights in the likelihood; scikit-learn's ``GaussianMixture`` takes no
sample weights. :class:`KMeansModel` wraps scikit-learn's weighted k-means behind the same
interface (hard memberships, no likelihood).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._base import MixtureBase

__all__ = ["GaussianMixtureModel", "KMeansModel"]

LOG_2PI = np.log(2 * np.pi)


class GaussianMixtureModel(MixtureBase):
    """Mixture of diagonal-covariance normal distributions, weighted EM.

    ``P(x_i) = sum_k pi_k prod_{j observed} N(x_ij; mu_kj, sigma2_kj)``.

    Parameters
    ----------
    n_components, n_init, screen_rows, max_iter, tol, random_state
        As :class:`~segment.models.LatentClassModel`.
    reg_covar : float, default=1e-6
        Added to every variance, relative to the variable's overall variance, so that a class
        collapsing on one value cannot make the likelihood infinite.

    Attributes
    ----------
    means_ : ndarray of shape (n_components, n_features)
    variances_ : ndarray of shape (n_components, n_features)
    weights_, loglik_, labels_, entropy_, n_iter_, converged_, start_logliks_, n_empty_
        As :class:`~segment.models.LatentClassModel`.
    """

    def __init__(
        self,
        n_components=2,
        *,
        n_init=10,
        screen_rows=50_000,
        max_iter=1000,
        tol=1e-8,
        random_state=None,
        reg_covar=1e-6,
    ):
        super().__init__(
            n_components,
            n_init=n_init,
            screen_rows=screen_rows,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        self.reg_covar = reg_covar

    def _prepare(self, X, *, fitting: bool):
        X = validate_data(self, X, reset=fitting, dtype=float, ensure_all_finite="allow-nan")
        if fitting:
            if X.shape[0] < 2:
                raise ValueError(f"n_samples={X.shape[0]}: a mixture needs at least 2 respondents")
            if X.shape[0] < self.n_components:
                raise ValueError(
                    f"n_samples={X.shape[0]} should be >= n_components={self.n_components}"
                )
            var = np.nanvar(X, axis=0)
            if np.any(~np.isfinite(var)):
                raise ValueError(
                    f"column {int(np.flatnonzero(~np.isfinite(var))[0])} has no values"
                )
            self._scale = np.where(var > 0, var, 1.0)
        mask = ~np.isnan(X)
        return {"x": np.where(mask, X, 0.0), "mask": mask.astype(float)}

    def _n_rows(self, data):
        return data["x"].shape[0]

    def _informative_rows(self, data):
        return data["mask"].any(axis=1)

    def _take_rows(self, data, mask):
        return {"x": data["x"][mask], "mask": data["mask"][mask]}

    def _slice(self, data, start, stop):
        return {"x": data["x"][start:stop], "mask": data["mask"][start:stop]}

    def _starts(self, data, weights, rng):
        x, m = data["x"], data["mask"]
        k = self.n_components
        col_mean = (x * m).sum(0) / np.maximum(m.sum(0), 1)
        filled = np.where(m > 0, x, col_mean)
        starts = []
        for _ in range(self.n_init):
            rows = rng.choice(len(x), size=k, replace=False, p=weights / weights.sum())
            starts.append((filled[rows].copy(), np.tile(self._scale, (k, 1))))
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            km = KMeans(n_clusters=k, n_init=10, random_state=int(rng.randint(2**31 - 1)))
            km.fit(filled, sample_weight=weights)
        starts.append((km.cluster_centers_.copy(), np.tile(self._scale, (k, 1))))
        return starts

    def _class_log_lik(self, data, params):
        x, m = data["x"], data["mask"]
        means, var = params
        inv = 1.0 / var
        quad = (m * x * x) @ inv.T - 2 * (m * x) @ (means * inv).T + m @ (means * means * inv).T
        return -0.5 * (m @ (np.log(var) + LOG_2PI).T + quad)

    def _e_step(self, data, weights, params, log_prior):
        joint = self._class_log_lik(data, params) + log_prior
        top = joint.max(axis=1, keepdims=True)
        resp = np.exp(joint - top)
        total = resp.sum(axis=1, keepdims=True)
        resp /= total
        loglik = float(weights @ (top + np.log(total))[:, 0])
        wr = weights[:, None] * resp
        stats = {"wr": wr, "class_totals": wr.sum(0), "data": data}
        return loglik, stats, resp

    def _m_step(self, stats, params):
        wr, data = stats["wr"], stats["data"]
        x, m = data["x"], data["mask"]
        denom = wr.T @ m
        safe = np.where(denom > 0, denom, 1.0)
        means = np.where(denom > 0, (wr.T @ (m * x)) / safe, params[0])
        second = (wr.T @ (m * x * x)) / safe
        var = np.where(denom > 0, second - means**2, params[1])
        var = np.maximum(var, 0) + self.reg_covar * self._scale
        return means, var

    def _n_measurement_parameters(self):
        return 2 * self.n_components * self.n_features_in_

    def _order_key(self, params):
        return params[0][:, 0]

    def _reorder(self, params, order):
        return params[0][order], params[1][order]

    def _store(self, params):
        self.means_, self.variances_ = params

    def _params(self):
        check_is_fitted(self, "means_")
        return self.means_, self.variances_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class KMeansModel(ClusterMixin, BaseEstimator):
    """Weighted k-means (scikit-learn's ``KMeans``) behind the segmentation interface.

    Missing values are replaced by the column's weighted mean before clustering. Memberships are
    hard: ``predict_proba`` returns 0/1 rows. There is no likelihood, so no BIC; ``score`` is
    minus the weighted within-cluster sum of squares (``inertia_``) per respondent.
    """

    def __init__(self, n_components=2, *, n_init=10, max_iter=300, tol=1e-4, random_state=None):
        self.n_components = n_components
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _fill(self, X, fitting, sample_weight=None):
        X = validate_data(self, X, reset=fitting, dtype=float, ensure_all_finite="allow-nan")
        if fitting:
            w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
            m = ~np.isnan(X)
            self.fill_values_ = (np.where(m, X, 0) * w[:, None]).sum(0) / np.maximum(
                (m * w[:, None]).sum(0), 1e-300
            )
        return np.where(np.isnan(X), self.fill_values_, X)

    def fit(self, X, y=None, sample_weight=None):
        """Cluster ``X`` (NaN = missing) with k-means; returns ``self``."""
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=float)
        filled = self._fill(X, True, sample_weight)
        km = KMeans(
            n_clusters=self.n_components,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
        ).fit(filled, sample_weight=sample_weight)
        order = np.argsort(
            -np.bincount(km.labels_, weights=sample_weight, minlength=self.n_components),
            kind="stable",
        )
        self.cluster_centers_ = km.cluster_centers_[order]
        self._km = km
        self.labels_ = np.argsort(order)[km.labels_]
        self.inertia_ = float(km.inertia_)
        self.n_iter_ = int(km.n_iter_)
        w = (
            np.ones(len(filled))
            if sample_weight is None
            else np.asarray(sample_weight, dtype=float)
        )
        self.weights_ = np.bincount(self.labels_, weights=w, minlength=self.n_components) / w.sum()
        return self

    def predict(self, X):
        check_is_fitted(self, "cluster_centers_")
        filled = self._fill(X, False)
        d = ((filled[:, None, :] - self.cluster_centers_[None]) ** 2).sum(axis=2)
        return np.argmin(d, axis=1)

    def predict_proba(self, X):
        labels = self.predict(X)
        return np.eye(self.n_components)[labels]

    def score(self, X, y=None, sample_weight=None):
        filled = self._fill(X, False)
        d = ((filled[:, None, :] - self.cluster_centers_[None]) ** 2).sum(axis=2).min(axis=1)
        w = np.ones(len(d)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        return -float(w @ d / w.sum())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
