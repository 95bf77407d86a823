"""Latent class model for categorical survey answers.

Model (Lazarsfeld & Henry 1968; Goodman 1974; notation of Linzer & Lewis 2011, poLCA):

    P(x_i) = sum_k pi_k(z_i) prod_{j observed} theta_{jk}(x_ij)

with ``pi_k`` the class shares (or a multinomial logit on covariates ``z_i``) and ``theta_jk``
the probability of each answer category of item j in class k. Every distinct answer code of an
item is a category, so "don't know" is an answer like any other. A missing answer (NaN) drops
out of that respondent's product (full-information maximum likelihood under missing at random);
respondents with no answers carry no information and are excluded (counted in ``n_empty_``).
Survey weights multiply each respondent's log-likelihood (pseudo-maximum likelihood).

Estimation is EM (Dempster, Laird & Rubin 1977) in log space from ``n_init`` random starts
(Dirichlet(1) item probabilities) plus one deterministic k-means start on the one-hot answers of
a subsample; the highest likelihood wins. Data are kept as small integer codes and each iteration
is one compiled pass (see ``_kernels.py``). When at most half the respondents give distinct
answer patterns (few items with few answers: 7 yes/no items have at most 3^7 = 2,187 patterns
with missing answers, and 45,599 GSS respondents give 753), EM runs on the distinct patterns,
each weighted by the summed weight of its respondents: the same likelihood, its sums added in
another order (about 1e-13 relative), and one pass over 753 rows instead of 45,599 (poLCA and
Latent GOLD work on the pattern table likewise). The starts are drawn from the rows as before.

Given starting values (``init_item_probs``, ``init_weights``, as scikit-learn's
``GaussianMixture(means_init=..., weights_init=...)``) replace the k-means start. A Dirichlet
prior on the item probabilities (``item_prior``: pseudo-counts ``a_jkc``, i.e. a
Dirichlet(1 + a_jk) prior on ``theta_jk``) turns EM into posterior-mode (MAP) estimation: the
M-step is ``theta_jkc = (n_jkc + a_jkc) / (n_jk + sum_c a_jkc)`` with ``n_jkc`` the expected
(weighted) counts, and EM increases the log posterior ``LL + sum a_jkc log theta_jkc`` at every
iteration (Galindo Garre & Vermunt 2006, "Avoiding boundary estimates in latent class analysis
by Bayesian posterior mode estimation", *Behaviormetrika* 33(1), 43-59).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from segment._util import plain_number

from ._base import MixtureBase
from ._encoding import (
    AnswerTable,
    answer_table,
    encode_table,
    informative_rows,
    lookup,
    scan_categories,
)
from ._kernels import kernels
from .align import match_classes
from .posterior import log_answer_table

__all__ = ["CLASS_ORDERS", "LatentClassModel", "sufficient_statistics"]

#: Values of ``LatentClassModel(class_order=...)``.
CLASS_ORDERS = ("size", "init")
#: Constructor parameters that describe the items one by one (dropped by ``restrict_items``).
_PER_ITEM_PARAMS = ("init_item_probs", "item_prior")

KMEANS_SUBSAMPLE = 2000
#: k-means++ runs of the deterministic start (the best kept). Measured (5 seeds, the k-means
#: start alone): 10 runs reach the bundled survey's 6-class maximum 5 times in 5, one run 3 times;
#: one run costs a third as much (0.25 s against 0.68 s for the 5 fits).
KMEANS_N_INIT = 10
#: EM runs on the distinct answer patterns when there are at most this share of the rows.
DISTINCT_MAX_SHARE = 0.5
#: Fitted attributes that describe the fit rather than the parameters (kept by restrict_items).
_FIT_STATISTICS = (
    "loglik_",
    "entropy_",
    "n_iter_",
    "converged_",
    "start_logliks_",
    "n_best_starts_",
    "loglik_path_",
    "n_empty_",
    "n_samples_fit_",
    "labels_",
)


class LatentClassModel(MixtureBase):
    """Latent class (finite mixture of independent multinomials) model.

    Parameters
    ----------
    n_components : int, default=2
        Number of latent classes (segments).
    n_init : int, default=10
        Number of random starts; one deterministic k-means start is always added. Single starts
        demonstrably stop at local maxima (poLCA's gss82 3-class model: 5 of 10 starts).
    screen_rows : int or None, default=50_000
        With more respondents than this, every start runs on one random subsample of this many
        and only the two best distinct subsample maxima continue on all respondents (as Mplus's
        initial and final stage ``STARTS``); None runs every start on all respondents. Up to
        ``screen_rows`` respondents the fit is the same either way. The subsample must hold the
        smallest segment well: on a 10,000-row resample of gss82, a 5,000-row screen missed
        the 4-class maximum (a 3% class) for 1 seed in 5.
    max_iter : int, default=1000
        EM iterations per start.
    tol : float, default=1e-8
        Convergence when the relative change of the log-likelihood is at most ``tol``.
    random_state : int, RandomState or None
        Seed of the starts; the same data and seed give the same model.
    init_item_probs : list of array-like of shape (n_components, n_categories_j), optional
        Starting answer probabilities of each item, columns in the order of the item's sorted
        answer codes seen at fit (``categories_``); rows are renormalised and floored away from
        0 (EM never moves an exact zero). This start replaces the k-means start; the
        ``n_init`` random starts still run (``n_init=0``: this start alone).
    init_weights : array-like of shape (n_components,), optional
        Starting class shares of the given start (default: equal shares). Requires
        ``init_item_probs``.
    item_prior : float or list of array-like of shape (n_components, n_categories_j), optional
        Dirichlet pseudo-counts ``a_jkc >= 0`` added to the expected counts in every M-step
        (posterior-mode estimation, see the module docstring); a float is the same count for
        every category, item and class. None (the default) is maximum likelihood.
    class_order : {"size", "init"}, default="size"
        ``"size"``: classes in decreasing order of their shares. ``"init"``: in the order of
        the classes of ``init_item_probs``, each fitted class matched one-to-one to a start
        class (Hungarian algorithm on the summed absolute differences of the answer
        probabilities), as a confirmatory fit against reference segments needs.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Class shares (weighted), in decreasing order (``class_order="size"``).
    prior_shares_ : ndarray of shape (n_components,)
        Class shares of the membership model without covariates (the EM estimate of ``pi``;
        equal to ``weights_`` then). With covariates, the membership model is ``coef_``.
    item_probs_ : list of ndarray of shape (n_components, n_categories_j)
        ``item_probs_[j][k, c]`` is P(answer ``categories_[j][c]`` to item j | class k).
    categories_ : list of ndarray
        The answer codes of each item seen at fit, sorted.
    coef_ : ndarray of shape (n_covariates + 1, n_components) or None
        Multinomial logit coefficients of class membership (class 0 is the reference).
    loglik_ : float
        Maximised (weighted) log-likelihood; with ``item_prior``, the log-likelihood at the
        posterior mode (not the penalised objective, which is ``log_posterior_``).
    log_posterior_ : float
        ``loglik_ + sum_jkc a_jkc log theta_jkc``, the objective maximised (the log posterior
        up to a constant); equal to ``loglik_`` without ``item_prior``.
    start_logliks_ : ndarray
        Final objective of every start (the given start or the random starts first, then
        k-means); the log-likelihood, or the log posterior with ``item_prior``; on the
        subsample when ``screen_rows`` applies.
    n_best_starts_ : int
        How many starts reached the best of ``start_logliks_`` (within a relative 1e-6), as
        Mplus reports: one alone suggests more starts (``n_init``) are needed.
    n_iter_ : int
    converged_ : bool
    entropy_ : float
        Relative entropy of the fitted classification (1 = perfectly separated).
    n_empty_ : int
        Respondents excluded from the fit because they answered no item.
    n_samples_fit_ : int
        Respondents used in the fit.
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
        init_item_probs=None,
        init_weights=None,
        item_prior=None,
        class_order="size",
    ):
        super().__init__(
            n_components,
            n_init=n_init,
            screen_rows=screen_rows,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        self.init_item_probs = init_item_probs
        self.init_weights = init_weights
        self.item_prior = item_prior
        self.class_order = class_order

    def fit(self, X, y=None, sample_weight=None, covariates=None):
        """Fit the model by maximum (pseudo-)likelihood, or posterior mode with ``item_prior``,
        with EM from several starts (see :meth:`MixtureBase.fit`)."""
        super().fit(X, y, sample_weight=sample_weight, covariates=covariates)
        self.log_posterior_ = self.loglik_ + self._log_prior_density(self._theta)
        return self

    # -------------------------------------------------------------- data
    def _prepare(self, X, *, fitting: bool):
        if isinstance(X, pd.DataFrame):
            _check_numeric_frame(X)
        data = self._prepare_columns(X, fitting=fitting)
        if data is not None:
            return data
        X = validate_data(
            self,
            X,
            reset=fitting,
            dtype="numeric",
            ensure_all_finite="allow-nan",
            ensure_min_samples=1,
        )
        X = np.asarray(X)
        names = getattr(self, "feature_names_in_", None)
        if fitting:
            self._check_n_samples(X.shape[0])
            self._encode_fit(X, names)
            self._check_start_and_prior()
        return self._encode(X, names)

    def _prepare_columns(self, X, *, fitting: bool):
        """The codes of ``X`` read column by column (``_encoding.py``): no float copy of the
        table. None when ``X`` takes the general path (scikit-learn's ``check_array``, then
        numpy): a form the compiled loops do not read, or data that path has to report on
        (infinity, an unseen answer, a wrong number of columns), which it does as before."""
        table = answer_table(X)
        if table is None:
            return None
        try:
            validate_data(self, X, reset=fitting, skip_check_array=True)
        except ValueError:
            return None
        names = getattr(self, "feature_names_in_", None)
        try:
            if fitting:
                self._check_n_samples(table.n_rows)
                self._encode_fit(table, names)
                self._check_start_and_prior()
            return self._encode(table, names)
        except _GeneralPath:
            return None

    def _check_n_samples(self, n_rows: int) -> None:
        if n_rows < 2:
            raise ValueError(
                f"n_samples={n_rows}: a latent class model needs at least 2 respondents"
            )
        if n_rows < self.n_components:
            raise ValueError(
                f"n_samples={n_rows} should be >= n_components={self.n_components}: "
                "a model cannot have more classes than respondents"
            )

    def _check_start_and_prior(self) -> None:
        """Check ``init_item_probs``, ``init_weights``, ``item_prior`` and ``class_order``
        against the categories seen at fit; store them as (items x categories x classes)."""
        order = getattr(self, "class_order", "size")
        init = getattr(self, "init_item_probs", None)
        init_weights = getattr(self, "init_weights", None)
        prior = getattr(self, "item_prior", None)
        if order not in CLASS_ORDERS:
            raise ValueError(f"class_order must be one of {CLASS_ORDERS}, got {order!r}")
        if order == "init" and init is None:
            raise ValueError("class_order='init' needs init_item_probs")
        if init_weights is not None and init is None:
            raise ValueError("init_weights needs init_item_probs")
        self._init_theta = None if init is None else self._per_item(init, "init_item_probs")
        if self._init_theta is not None:
            n_items, n_cat, _ = self._shape()
            sizes = np.array([len(c) for c in self.categories_])
            valid = np.arange(n_cat)[None, :, None] < sizes[:, None, None]
            theta = np.where(valid, 0.999 * self._init_theta + 0.001, 0.0)
            sums = theta.sum(axis=1, keepdims=True)
            if np.any(sums <= 0):
                raise ValueError("init_item_probs: every row must have a positive sum")
            self._init_theta = theta / sums
        self._init_shares = None
        if init_weights is not None:
            shares = np.asarray(init_weights, dtype=float).reshape(-1)
            if shares.shape != (self.n_components,) or not (
                np.all(np.isfinite(shares)) and np.all(shares > 0)
            ):
                raise ValueError(
                    f"init_weights must be {self.n_components} positive numbers, "
                    f"got {init_weights!r}"
                )
            self._init_shares = shares / shares.sum()
        self._prior_counts = None
        if prior is not None:
            if np.isscalar(prior):
                a = float(prior)  # type: ignore[arg-type]
                if not (np.isfinite(a) and a >= 0):
                    raise ValueError(f"item_prior must be non-negative, got {prior!r}")
                n_items, n_cat, k = self._shape()
                sizes = np.array([len(c) for c in self.categories_])
                valid = np.arange(n_cat)[None, :, None] < sizes[:, None, None]
                self._prior_counts = np.where(valid, a, 0.0) * np.ones((n_items, n_cat, k))
            else:
                self._prior_counts = self._per_item(prior, "item_prior")

    def _per_item(self, arrays, name: str) -> np.ndarray:
        """A list of (n_components, n_categories_j) arrays as a padded (items x categories x
        classes) array, each checked against the categories seen at fit."""
        n_items, n_cat, k = self._shape()
        if len(arrays) != n_items:
            raise ValueError(f"{name} has {len(arrays)} items; the data have {n_items}")
        out = np.zeros((n_items, n_cat, k))
        names = getattr(self, "feature_names_in_", None)
        for j, (cats, values) in enumerate(zip(self.categories_, arrays, strict=True)):
            a = np.asarray(values, dtype=float)
            label = names[j] if names is not None else f"item {j}"
            if a.shape != (k, len(cats)):
                raise ValueError(
                    f"{name}[{j}] ({label}) has shape {a.shape}; expected ({k}, {len(cats)}): "
                    f"{k} classes x the {len(cats)} answer codes seen at fit "
                    f"{[plain_number(c) for c in cats]}"
                )
            if not (np.all(np.isfinite(a)) and np.all(a >= 0)):
                raise ValueError(f"{name}[{j}] ({label}) must be finite and non-negative")
            out[j, : len(cats), :] = a.T
        return out

    def _encode_fit(self, X, names):
        """Learn the categories of each item from ``X`` (an :class:`AnswerTable` or a validated
        array)."""
        if isinstance(X, AnswerTable):
            scanned = scan_categories(X)
            if scanned is None or min(len(c) for c in scanned) < 2:
                raise _GeneralPath  # which names an empty or constant item as before
            self._set_categories(scanned, names)
            return
        cats = []
        for j in range(X.shape[1]):
            col = X[:, j]
            if col.dtype.kind in "ui" and col.dtype.itemsize <= 2:
                low = int(col.min())
                values = np.flatnonzero(np.bincount(col.astype(np.int64) - low)) + low
            else:
                values = np.unique(col[~np.isnan(col)] if col.dtype.kind == "f" else col)
            cats.append(values)
        self._set_categories(cats, names)

    def _set_categories(self, cats, names):
        """Check and store the answer categories of each item (sorted codes, at least two).

        Also used by :func:`segment.models.dask_fit.fit_latent_class_dask`, which scans the
        categories of a partitioned dataset before fitting.
        """
        checked = []
        for j, values in enumerate(cats):
            values = np.asarray(values)
            label = names[j] if names is not None else f"column {j}"
            if len(values) == 0:
                raise ValueError(f"{label} has no answers: every value is missing")
            if len(values) == 1:
                raise ValueError(
                    f"{label} is constant (every answer is {values[0]!r}): it cannot separate "
                    "classes; drop it"
                )
            checked.append(values.astype(float))
        self._set_encoding(checked)

    def _set_encoding(self, cats):
        """Store the categories and the integer type that holds their codes (and "missing")."""
        self.categories_ = cats
        n_max = max(len(c) for c in cats)
        self._code_dtype = np.uint8 if n_max < 255 else np.uint16 if n_max < 65535 else np.uint32
        self._missing_code = n_max
        self._lookup = lookup(cats)

    def _code_lookup(self):
        """How each item's answers are looked up among its categories (``_encoding.lookup``)."""
        look = self.__dict__.get("_lookup")
        return lookup(self.categories_) if look is None else look

    def _encode(self, X, names):
        """The codes of ``X``: an :class:`AnswerTable` (raises :class:`_GeneralPath` when a
        value is no category) or an array (the general path; names what it cannot encode)."""
        if isinstance(X, AnswerTable):
            same = None if X.array is None else self._as_codes(X.array)
            if same is not None:
                return same
            codes = encode_table(X, self._code_lookup(), self._missing_code, self._code_dtype)
            if codes is None:
                raise _GeneralPath
            return codes
        same = self._as_codes(X)
        if same is not None:
            return same
        table = answer_table(X)
        if table is not None:
            codes = encode_table(table, self._code_lookup(), self._missing_code, self._code_dtype)
            if codes is not None:
                return codes
        return self._encode_general(X, names)

    def _as_codes(self, X):
        """``X`` itself when it already holds the model's codes 0..C-1 as C-ordered bytes (no
        copy: fast scoring of 1-byte data), else None."""
        if (
            X.dtype == np.uint8
            and X.flags.c_contiguous
            and all(np.array_equal(c, np.arange(len(c))) for c in self.categories_)
            and np.all(X.max(axis=0, initial=0) < np.array([len(c) for c in self.categories_]))
        ):
            return X
        return None

    def _encode_general(self, X, names):
        """The numpy encoder (``searchsorted`` per column): the reference the compiled one
        matches, and the path that names an answer not seen at fit."""
        dtype = self._code_dtype
        missing = self._missing_code
        codes = np.empty(X.shape, dtype=dtype)
        for j, cats in enumerate(self.categories_):
            col = X[:, j]
            if col.dtype.kind in "ui" and col.dtype.itemsize <= 2:
                codes[:, j] = self._encode_small_ints(col, cats, names, j)
                continue
            nan = np.isnan(col) if col.dtype.kind == "f" else np.zeros(len(col), dtype=bool)
            idx = np.searchsorted(cats, col)
            idx_clip = np.minimum(idx, len(cats) - 1)
            unknown = ~nan & (cats[idx_clip] != col)
            if unknown.any():
                label = names[j] if names is not None else f"column {j}"
                rows = np.flatnonzero(unknown)
                seen = ", ".join(repr(plain_number(v)) for v in np.unique(col[rows])[:5])
                raise ValueError(
                    f"{label}, row {rows[0] + 1}: answer {plain_number(col[rows[0]])!r} "
                    f"was not seen when the model was fitted ({len(rows)} rows; values {seen}); "
                    f"expected one of {[plain_number(c) for c in cats]} or missing"
                )
            codes[:, j] = np.where(nan, missing, idx_clip)
        return codes

    def _encode_small_ints(self, col, cats, names, j):
        """Codes of a small-integer column through a lookup table (no float copy)."""
        info = np.iinfo(col.dtype)
        lut = np.full(int(info.max) - int(info.min) + 1, -1, dtype=np.int32)
        seen_int = cats.astype(np.int64)
        inside = (seen_int >= info.min) & (seen_int <= info.max) & (cats == seen_int)
        lut[seen_int[inside] - int(info.min)] = np.flatnonzero(inside)
        idx = lut[col.astype(np.int64) - int(info.min)] if info.min < 0 else lut[col]
        unknown = idx < 0
        if unknown.any():
            label = names[j] if names is not None else f"column {j}"
            rows = np.flatnonzero(unknown)
            seen = ", ".join(repr(int(v)) for v in np.unique(col[rows])[:5])
            raise ValueError(
                f"{label}, row {rows[0] + 1}: answer {int(col[rows[0]])!r} was not seen when the "
                f"model was fitted ({len(rows)} rows; values {seen}); expected one of "
                f"{[plain_number(c) for c in cats]} or missing"
            )
        return idx

    # -------------------------------------------------------------- answers already in item order
    def encode(self, X) -> np.ndarray:
        """The model's integer codes of answers laid out as its items.

        ``X`` is an (n, n_items) array of answer codes in the fitted item order, NaN where
        missing. Unlike :meth:`predict_proba`, feature names are not checked: this is the
        fast path for callers that already hold the answers in the model's order (such as
        :class:`segment.segments.model.SegmentModel`). Pass the result to
        :meth:`predict_proba_codes` or :meth:`class_log_lik_codes`.

        Raises
        ------
        ValueError
            Naming the item, row and value of an answer not seen at fit.
        """
        check_is_fitted(self, "item_probs_")
        return self._encode(np.asarray(X), None)

    def predict_proba_codes(self, codes: np.ndarray) -> np.ndarray:
        """Posterior class probabilities of encoded answers (see :meth:`encode`)."""
        return self._posterior_codes(codes)

    def class_log_lik_codes(self, codes: np.ndarray) -> np.ndarray:
        """(n, n_components) array of ``log P(x_i | class k)`` of encoded answers."""
        return self._class_log_lik(codes, self._params())

    # -------------------------------------------------------------- a fitted model from parameters
    @classmethod
    def from_parameters(
        cls,
        categories,
        item_probs,
        prior_shares,
        *,
        weights=None,
        coef=None,
        feature_names=None,
        **params,
    ) -> LatentClassModel:
        """A fitted model from its parameters (a model file, or some of a model's items).

        Parameters
        ----------
        categories : list of array-like
            The answer codes of each item, sorted.
        item_probs : list of array-like of shape (n_components, n_categories_j)
            P(answer | class) of each item.
        prior_shares : array-like of shape (n_components,)
            Class shares of the membership model.
        weights : array-like of shape (n_components,), optional
            Class shares of the sample (default: ``prior_shares``).
        coef : array-like of shape (n_covariates + 1, n_components), optional
            Membership logit coefficients.
        feature_names : sequence of str, optional
            Item names (``feature_names_in_``).
        **params
            Constructor parameters (``n_components`` defaults to the number of shares).

        The parameters are taken as given: a caller reading them from a file checks them
        first. Fit statistics (``loglik_``, ``entropy_``, ...) are not set.
        """
        if cls is not LatentClassModel:
            raise TypeError(f"{cls.__name__}.from_parameters: only LatentClassModel has it")
        params.setdefault("n_components", len(prior_shares))
        model = cls(**params)
        cats = [np.asarray(c, dtype=float) for c in categories]
        probs = [np.asarray(p, dtype=float) for p in item_probs]
        theta = np.zeros((len(cats), max(len(c) for c in cats), model.n_components))
        for j, p in enumerate(probs):
            theta[j, : p.shape[1], :] = p.T
        model._set_encoding(cats)
        model._store(theta)
        model.prior_shares_ = np.array(prior_shares, dtype=float)
        model.weights_ = np.array(prior_shares if weights is None else weights, dtype=float)
        model.coef_ = None if coef is None else np.array(coef, dtype=float)
        model.n_covariates_ = 0 if model.coef_ is None else model.coef_.shape[0] - 1
        model.n_features_in_ = len(cats)
        if feature_names is not None:
            model.feature_names_in_ = np.asarray(feature_names, dtype=object)
        return model

    def restrict_items(self, items) -> LatentClassModel:
        """The fitted model on some of its items (a typing tool's "golden questions").

        Scoring with it equals scoring the full model with the other items missing: a latent
        class model's likelihood of a respondent is a product over the answered items. Class
        shares and fit statistics are kept; the result is a :class:`LatentClassModel` whatever
        the item model was (its answer probabilities are the fitted ones).

        Parameters
        ----------
        items : sequence of int
            Positions of the items to keep, in the order wanted.
        """
        check_is_fitted(self, "item_probs_")
        idx = [int(j) for j in items]
        names = getattr(self, "feature_names_in_", None)
        params = LatentClassModel().get_params()
        model = LatentClassModel.from_parameters(
            [self.categories_[j] for j in idx],
            [self.item_probs_[j] for j in idx],
            self.prior_shares_,
            weights=self.weights_,
            coef=self.coef_,
            feature_names=None if names is None else [names[j] for j in idx],
            **{
                key: value
                for key, value in self.get_params().items()
                if key in params and key not in _PER_ITEM_PARAMS
            },
        )
        model.n_covariates_ = self.n_covariates_
        for name in _FIT_STATISTICS:
            if hasattr(self, name):
                setattr(model, name, copy.deepcopy(getattr(self, name)))
        return model

    def _n_rows(self, data) -> int:
        return data.shape[0]

    def _informative_rows(self, data) -> np.ndarray:
        return informative_rows(data, self._missing_code)

    def _take_rows(self, data, mask):
        return np.ascontiguousarray(data[mask])

    def _distinct_rows(self, data, weights):
        """The distinct answer patterns (sorted) and the summed weight of each, or None when
        more than :data:`DISTINCT_MAX_SHARE` of the rows are distinct.

        Each row's codes are read as the digits of one integer (base: the number of codes
        including "missing"); when the next digit would overflow 62 bits, the integers so far
        are replaced by their ranks, so any number of items works, and the search stops as
        soon as too many prefixes are distinct.
        """
        n, n_items = data.shape
        limit = DISTINCT_MAX_SHARE * n
        if n < 2 or n_items == 0:
            return None
        base = int(self._missing_code) + 1
        keys = np.zeros(n, dtype=np.int64)
        n_keys = 1
        for j in range(n_items):
            if n_keys * base >= 2**62:
                _, keys = np.unique(keys, return_inverse=True)
                n_keys = int(keys.max()) + 1
                if n_keys > limit:
                    return None
            keys = keys * base + data[:, j]
            n_keys *= base
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        if len(first) > limit:
            return None
        summed = np.bincount(inverse, weights=weights, minlength=len(first))
        return np.ascontiguousarray(data[first]), summed

    # -------------------------------------------------------------- parameters
    def _shape(self):
        return len(self.categories_), max(len(c) for c in self.categories_), self.n_components

    def _starts(self, data, weights, rng):
        n_items, n_cat, k = self._shape()
        given = getattr(self, "_init_theta", None)
        starts = [] if given is None else [given]
        for _ in range(self.n_init):
            theta = np.zeros((n_items, n_cat, k))
            for j, cats in enumerate(self.categories_):
                theta[j, : len(cats), :] = rng.dirichlet(np.ones(len(cats)), size=k).T
            starts.append(theta)
        kmeans = self._kmeans_start(data, weights, rng) if given is None else None
        if kmeans is not None:
            starts.append(kmeans)
        if not starts:  # n_init=0 and too few distinct answer patterns for k-means
            theta = np.zeros((n_items, n_cat, k))
            for j, cats in enumerate(self.categories_):
                theta[j, : len(cats), :] = rng.dirichlet(np.ones(len(cats)), size=k).T
            starts.append(theta)
        return starts

    def _kmeans_start(self, data, weights, rng):
        """Item probabilities from k-means centres of one-hot answers (a subsample)."""
        n_items, n_cat, k = self._shape()
        missing = self._missing_code
        positive = weights > 0
        n_positive = int(np.count_nonzero(positive))
        if n_positive > KMEANS_SUBSAMPLE:
            # the rows of np.sort(rng.choice(np.flatnonzero(positive), KMEANS_SUBSAMPLE,
            # replace=False)): the same draws, without an index of every row when every row
            # counts, and the permutation of every row freed at once
            pick = np.sort(rng.permutation(n_positive)[:KMEANS_SUBSAMPLE])
            rows = pick if n_positive == len(weights) else np.flatnonzero(positive)[pick]
        else:
            rows = np.flatnonzero(positive)
        del positive
        sub = data[rows]
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in self.categories_])])
        onehot = np.zeros((len(rows), offsets[-1]))
        for j in range(n_items):
            observed = sub[:, j] != missing
            onehot[np.flatnonzero(observed), offsets[j] + sub[observed, j]] = 1.0
        if len(np.unique(onehot, axis=0)) < k:
            return None
        seed = int(rng.randint(2**31 - 1))
        # one thread: k-means on a subsample is cheap, and OpenMP threads on a busy machine
        # (or inside parallel bootstrap refits) cost more than they save
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            centres = (
                KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=seed)
                .fit(onehot, sample_weight=weights[rows])
                .cluster_centers_
            )
        theta = np.zeros((n_items, n_cat, k))
        for j, cats in enumerate(self.categories_):
            block = centres[:, offsets[j] : offsets[j + 1]].T + 0.05
            theta[j, : len(cats), :] = block / block.sum(axis=0, keepdims=True)
        return theta

    def _log_table(self, params):
        return _log_table(params)

    def _initial_shares(self):
        shares = getattr(self, "_init_shares", None)
        return super()._initial_shares() if shares is None else shares

    def _log_prior_density(self, params) -> float:
        """``sum a_jkc log theta_jkc`` of the Dirichlet prior (0 without one)."""
        a = getattr(self, "_prior_counts", None)
        if a is None:
            return 0.0
        return float(np.sum(a * np.log(np.maximum(params, 1e-300))))

    def _e_step(self, data, weights, params, log_prior):
        ll, stats, resp = self._e_step_loglik(data, weights, params, log_prior)
        if getattr(self, "_prior_counts", None) is not None:
            ll += self._log_prior_density(params)
        return ll, stats, resp

    def _e_step_loglik(self, data, weights, params, log_prior):
        n_items, n_cat, k = params.shape
        if log_prior.ndim == 1:
            ll, counts, totals = sufficient_statistics(data, weights, params, log_prior)
            return ll, {"counts": counts, "class_totals": totals}, None
        log_theta = self._log_table(params)
        counts = np.empty((n_items, n_cat + 1, k))
        resp = np.empty((data.shape[0], k))
        ll = kernels(k).em_pass_rows(
            data, weights, log_theta, np.ascontiguousarray(log_prior), counts, resp
        )
        totals = (weights[:, None] * resp).sum(0)
        return ll, {"counts": counts[:, :n_cat, :], "class_totals": totals}, resp

    def _m_step(self, stats, params):
        counts = stats["counts"]
        prior = getattr(self, "_prior_counts", None)
        if prior is not None:
            counts = counts + prior
        totals = counts.sum(axis=1, keepdims=True)
        empty = totals == 0
        if not empty.any():
            return counts / totals
        # a class with no weight keeps its previous item probabilities
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = counts / totals
        return np.where(np.broadcast_to(empty, theta.shape), params, theta)

    def _class_log_lik(self, data, params):
        out = np.empty((data.shape[0], self.n_components))
        kernels(self.n_components).class_log_lik(data, self._log_table(params), out)
        return out

    def _summarise(self, data, design, weights, informative, chunk: int = 100_000):
        if design is not None:
            return super()._summarise(data, design, weights, informative, chunk)
        k = self.n_components
        labels = np.empty(data.shape[0], dtype=np.intp)
        totals = np.empty(k)
        loglik, entropy = kernels(k).summarise(
            data,
            weights,
            self._log_table(self._theta),
            np.log(self.prior_shares_),
            np.ascontiguousarray(informative),
            labels,
            totals,
        )
        # the same sum without a temporary of every row's weight when every row answered
        w_total = float(np.sum(weights if informative.all() else weights * informative))
        relative = 1.0 if k == 1 else 1 - entropy / (w_total * np.log(k))
        return labels, totals / w_total, float(relative), loglik

    def predict_proba(self, X, covariates=None):
        """Posterior class probabilities, shape (n_samples, n_components)."""
        if covariates is not None or getattr(self, "coef_", None) is not None:
            return super().predict_proba(X, covariates)
        check_is_fitted(self, "item_probs_")
        data = self._prepare(X, fitting=False)
        return self._posterior_codes(data)

    def _posterior_codes(self, data):
        out = np.empty((data.shape[0], self.n_components))
        kernels(self.n_components).posterior(
            data, self._log_table(self._theta), np.log(self.prior_shares_), out
        )
        return out

    def _n_measurement_parameters(self) -> int:
        return self.n_components * sum(len(c) - 1 for c in self.categories_)

    def _order_key(self, params):
        # expected category index of the first item: a stable tie-breaker for equal shares
        n_cat = len(self.categories_[0])
        return np.arange(n_cat) @ params[0, :n_cat, :]

    def _reorder(self, params, order):
        return params[:, :, order]

    def _canonical(self, params, shares, coef, design):
        if getattr(self, "class_order", "size") != "init":
            return super()._canonical(params, shares, coef, design)
        start = self._init_theta
        assert start is not None  # class_order="init" requires init_item_probs
        # class r of the start takes the fitted class closest to it
        distance = np.abs(start[:, :, :, None] - params[:, :, None, :]).sum(axis=(0, 1))
        order = match_classes(-distance)
        params = self._reorder(params, order)
        shares = shares[order]
        if coef is not None:
            coef = coef[:, order]
            coef = coef - coef[:, :1]
        return params, shares, coef

    def _store(self, params):
        self._theta = params
        self.item_probs_ = [params[j, : len(c), :].T.copy() for j, c in enumerate(self.categories_)]

    def _params(self):
        check_is_fitted(self, "item_probs_")
        return self._theta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_log_table = log_answer_table


def sufficient_statistics(codes, weights, theta, log_prior):
    """Weighted log-likelihood and EM sufficient statistics of a chunk of encoded answers.

    One compiled pass (the E-step of :class:`LatentClassModel`): posteriors are computed for
    each respondent and added into the counts at once. Statistics of disjoint chunks add up to
    those of their union, which is what a distributed E-step needs.

    Parameters
    ----------
    codes : ndarray of shape (n, n_items), unsigned integers, C-contiguous
        Answer codes as the model encodes them: ``0 .. C_j - 1`` for the categories of item j,
        ``theta.shape[1]`` for a missing answer.
    weights : ndarray of shape (n,), float64
        Survey weights; a zero weight drops the row.
    theta : ndarray of shape (n_items, n_categories, n_components)
        ``theta[j, c, k]`` = P(category c of item j | class k); zero beyond ``C_j``.
    log_prior : ndarray of shape (n_components,)
        Log class shares.

    Returns
    -------
    loglik : float
        ``sum_i w_i log sum_k pi_k prod_j theta_jk(x_ij)``.
    counts : ndarray of shape (n_items, n_categories, n_components)
        ``sum_i w_i r_ik [x_ij = c]``, with ``r_ik`` the posterior of class k.
    class_totals : ndarray of shape (n_components,)
        ``sum_i w_i r_ik``.
    """
    n_items, n_cat, k = theta.shape
    counts = np.empty((n_items, n_cat + 1, k))
    totals = np.empty(k)
    ll = kernels(k).em_pass(
        codes,
        np.ascontiguousarray(weights, dtype=float),
        _log_table(theta),
        np.ascontiguousarray(log_prior, dtype=float),
        counts,
        totals,
    )
    return float(ll), counts[:, :n_cat, :], totals


class _GeneralPath(Exception):
    """The compiled encoder gives way: the general path encodes (or reports on) the data."""


def _check_numeric_frame(frame: pd.DataFrame) -> None:
    """Name the column, row and value of the first non-numeric cell of each bad column."""
    problems = []
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = np.flatnonzero(converted.isna().to_numpy() & series.notna().to_numpy())
        if len(bad):
            problems.append(
                f"column {col!r}, row {bad[0] + 1}: value {series.iloc[bad[0]]!r} is not a number "
                f"({len(bad)} such rows); answers must be numeric codes"
            )
    if problems:
        raise ValueError("; ".join(problems))
