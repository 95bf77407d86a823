"""Latent class model with ordered (Likert) indicators.

The nominal latent class model (:class:`~segment.models.LatentClassModel`) gives every answer
category of every item a free probability in every class: ``K (C_j - 1)`` parameters for an item
with ``C_j`` categories. For a Likert item most of them are wasted: classes differ mainly in
*where* on the scale they answer. Here an item can instead be **ordinal**, with one location per
class and thresholds shared by the classes.

Measurement model of an ordinal item ``j`` whose ordered answers ("scale categories") have codes
``s_0 < s_1 < ... < s_{S-1}`` (the scores), in class ``k``:

``"ordinal"`` -- adjacent-category logit (Agresti 2010, ch. 4; Latent GOLD's "ordinal"
indicators, Vermunt & Magidson 2005, 2016)::

    log P(y = s_c | k, scale) - log P(y = s_{c-1} | k, scale) = tau_jc + beta_jk (s_c - s_{c-1})

which for equally spaced codes (1..5) is ``tau_jc + beta_jk``: an item-specific threshold for
each step of the scale and a class location ``beta_jk`` (higher = answers further up the scale).

``"cumulative"`` -- cumulative logit, proportional odds (McCullagh 1980; Agresti 2010, ch. 3)::

    logit P(y <= s_c | k, scale) = kappa_jc - beta_jk,      kappa_j0 < ... < kappa_j,S-2

Both have ``(S - 1) + (K - 1)`` free parameters per item, not ``(S - 1) + K``: adding a constant
to every location and removing it from the thresholds (times the score step) leaves every
probability unchanged, so one location is redundant (Latent GOLD reports the locations
effect-coded, summing to zero over classes, which is what ``locations_`` holds). With two scale
categories the ordinal item *is* the nominal one (K free logits), and with one class it is
saturated (S - 1 parameters).

**Don't know.** Codes listed in ``dont_know`` (don't know, and refused when it is kept as an
answer) are not on the scale. They stay separate *nominal* categories with a free probability
in each class, and the ordinal model describes the scale answers given that the respondent gave
one::

    P(y = d | k) = delta_jdk                         (d a don't-know code)
    P(y = s_c | k) = (1 - sum_d delta_jdk) P(y = s_c | k, scale)

so an ordinal item with ``D`` don't-know codes has ``K D + (S - 1) + (K - 1)`` parameters. (To
treat don't know as missing instead, set ``dont_know: missing`` in the codebook:
``Codebook.model_codes`` then turns those codes into NaN.) Every code of an ordinal item that is
not a don't-know code is on the scale, with its numeric value as its score; a warning is raised
when the scale codes are not consecutive integers, which usually means a don't-know code was
not declared.

**Estimation.** The E-step is the nominal model's (the item probability table is still a
``P(category | class)`` table, so the compiled kernels, scoring and profiles work unchanged).
The M-step is closed-form for nominal items and for the don't-know probabilities; the ordinal
part of each item is a weighted multinomial-logit fit to the expected counts, made by Newton /
Fisher-scoring steps vectorised over the items, warm-started from the previous iteration and
with step halving, so that no EM iteration can lower the log-likelihood (a generalised EM,
Dempster, Laird & Rubin 1977). Random starts are the nominal model's (Dirichlet item
probabilities, plus one k-means start) projected onto the ordinal model.

References
----------
Agresti, A. (2010). *Analysis of Ordinal Categorical Data*, 2nd ed. Wiley. Ch. 3-4.
McCullagh, P. (1980). Regression models for ordinal data. *JRSS B* 42(2), 109-142.
Vermunt, J. K. & Magidson, J. (2016). *Technical Guide for Latent GOLD 5.1*, section 2.4
(ordinal indicators: adjacent-category logit with fixed scores).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy.special import log_expit
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from segment._util import plain_number

from .latent_class import LatentClassModel

__all__ = ["ITEM_TYPES", "OrdinalLatentClassModel"]

#: Item types: the nominal model and the two ordinal links ("ordinal" = adjacent category).
ITEM_TYPES = ("nominal", "ordinal", "cumulative")

#: Newton steps per M-step (warm-started, so one or two are usually enough) and when projecting
#: a start onto the model.
_M_STEPS = 3
_START_STEPS = 50
#: Largest change of any parameter in one Newton step (a trust region against huge first steps).
_MAX_STEP = 5.0


class _Params(NamedTuple):
    """EM state: the category probability table and the ordinal parameters of each link."""

    theta: np.ndarray  # (n_items, n_categories, K), as LatentClassModel
    coef: dict  # link -> (n_link_items, n_free) array: [thresholds..., locations (K)]


class _Link(NamedTuple):
    """The ordinal items of one link, padded to a common number of scale categories."""

    name: str
    items: np.ndarray  # (J,) item indices
    positions: np.ndarray  # (J, S) category index of each scale category (padded with 0)
    mask: np.ndarray  # (J, S) True for a real scale category
    scores: np.ndarray  # (J, S) s_c - s_0 (0 where padded)
    free: np.ndarray  # (J, S - 2) True for a free threshold slot
    unordered: np.ndarray  # (J, C) True for a don't-know category of the item


class OrdinalLatentClassModel(LatentClassModel):
    """Latent class model whose items can be ordinal (adjacent-category or cumulative logit).

    See the module docstring for the measurement models, the treatment of don't know and the
    parameter count. With every item ``"nominal"`` the model, its starts and its EM iterations
    are exactly :class:`LatentClassModel`'s.

    Parameters
    ----------
    n_components : int, default=2
        Number of latent classes.
    item_types : str, sequence of str or dict, default="ordinal"
        Measurement model of each item: ``"nominal"``, ``"ordinal"`` (adjacent-category logit)
        or ``"cumulative"`` (proportional odds). A string applies to every item; a sequence
        gives one type per column; a dict maps column names (or integer positions) to types,
        and columns it does not name are nominal.
    dont_know : sequence of numbers or dict, optional
        Answer codes that are not on the ordered scale (don't know; refused when kept). A
        sequence applies to every ordinal item; a dict maps column names (or positions) to
        their codes. Ignored for nominal items, where every code is a category anyway.
    n_init, screen_rows, max_iter, tol, random_state
        As :class:`LatentClassModel`.

    Attributes
    ----------
    item_types_ : list of str
        The resolved type of each item (an "ordinal" item with fewer than two scale answers in
        the data is nominal: there is nothing to order).
    item_probs_ : list of ndarray of shape (n_components, n_categories_j)
        ``P(answer categories_[j][c] | class k)``, don't-know categories included.
    scale_codes_ : list of ndarray or None
        For an ordinal item, its scale codes in order (the scores); None for a nominal item.
    thresholds_ : list of ndarray or None
        Ordinal items: ``tau_jc`` (adjacent, ``S - 1`` values for c = 1..S-1) or ``kappa_jc``
        (cumulative, c = 0..S-2), for effect-coded locations; None for nominal items.
    locations_ : list of ndarray of shape (n_components,) or None
        Ordinal items: the class locations ``beta_jk``, summing to zero over classes; a higher
        location means answers further up the scale. None for nominal items.
    Other attributes as :class:`LatentClassModel` (``weights_``, ``loglik_``, ``categories_``,
    ``coef_``, ``n_iter_``, ``converged_``, ``entropy_``, ``loglik_path_``, ...).

    Notes
    -----
    ``n_parameters()`` counts, per item: ``K (C_j - 1)`` if nominal; ``K D_j + (S_j - 1) +
    (K - 1)`` if ordinal, with ``S_j`` scale answers and ``D_j`` don't-know codes seen in the
    data; plus ``K - 1`` class shares (or ``(K - 1)(1 + n_covariates)`` with covariates). BIC
    depends on it; the tests check it against the nominal model where the two coincide.

    Examples
    --------
    >>> model = OrdinalLatentClassModel.from_codebook(codebook, 6, random_state=1)  # doctest: +SKIP
    >>> model.fit(codebook.model_codes(frame)).bic(codebook.model_codes(frame))  # doctest: +SKIP
    """

    def __init__(
        self,
        n_components=2,
        *,
        item_types="ordinal",
        dont_know=None,
        n_init=10,
        screen_rows=50_000,
        max_iter=1000,
        tol=1e-8,
        random_state=None,
    ):
        super().__init__(
            n_components,
            n_init=n_init,
            screen_rows=screen_rows,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        self.item_types = item_types
        self.dont_know = dont_know

    @classmethod
    def from_codebook(
        cls, codebook, n_components=2, *, items=None, ordinal_type="ordinal", **params
    ):
        """A model for ``codebook.model_codes(frame, items)``, with types from the codebook.

        Items the codebook types ``ordinal`` get ``ordinal_type`` (``"ordinal"``, the
        adjacent-category logit, or ``"cumulative"``), others are nominal; each item's
        don't-know codes (and refused codes when the codebook keeps refusals as answers) are its
        ``dont_know`` codes. ``items`` defaults to the codebook's attitude items, as
        ``Codebook.model_codes``; ``params`` go to the constructor.
        """
        if ordinal_type not in ("ordinal", "cumulative"):
            raise ValueError(
                f"ordinal_type must be 'ordinal' or 'cumulative', got {ordinal_type!r}"
            )
        columns = (
            list(items) if items is not None else [it.column for it in codebook.attitude_items]
        )
        types, dk = {}, {}
        for col in columns:
            it = codebook[col]
            types[col] = ordinal_type if it.type == "ordinal" else "nominal"
            codes = list(it.dont_know_codes)
            if codebook.refused_policy != "missing":
                codes += list(it.refused_codes)
            dk[col] = [float(c) for c in codes]
        return cls(n_components, item_types=types, dont_know=dk, **params)

    def fit(self, X, y=None, sample_weight=None, covariates=None):
        """Fit the model by maximum (pseudo-)likelihood with EM from several starts.

        As :meth:`LatentClassModel.fit`. The M-step solves many tiny linear systems, for which
        a multithreaded BLAS is only slower (much slower on a busy machine), so BLAS runs on
        one thread during the fit.

        Returns
        -------
        self
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return super().fit(X, y, sample_weight=sample_weight, covariates=covariates)

    # -------------------------------------------------------------- specification
    def _encode_fit(self, X, names):
        super()._encode_fit(X, names)
        n_items = len(self.categories_)
        labels = list(names) if names is not None else [f"column {j}" for j in range(n_items)]
        types = _resolve_types(self.item_types, n_items, names)
        dk = _resolve_dont_know(self.dont_know, n_items, names)
        n_cat = max(len(c) for c in self.categories_)
        scale_codes: list[np.ndarray | None] = []
        for j, cats in enumerate(self.categories_):
            if types[j] == "nominal":
                scale_codes.append(None)
                continue
            scale = cats[~np.isin(cats, dk[j])]
            if len(scale) < 2:
                types[j] = "nominal"  # one scale answer (or none): nothing to order
                scale_codes.append(None)
                continue
            if not (np.all(scale == np.round(scale)) and np.all(np.diff(scale) == 1)):
                warnings.warn(
                    f"{labels[j]}: the codes of the ordinal scale "
                    f"{[plain_number(c) for c in scale]} are not consecutive integers; they are "
                    "used as scores. If some are don't-know codes, pass them as dont_know=",
                    UserWarning,
                    stacklevel=4,
                )
            scale_codes.append(scale)
        self.item_types_ = types
        self.scale_codes_ = scale_codes
        self._links = {}
        for link in ("ordinal", "cumulative"):
            items = np.array([j for j in range(n_items) if types[j] == link], dtype=np.intp)
            if len(items) == 0:
                continue
            s_max = max(len(scale_codes[j]) for j in items)
            index = np.zeros((len(items), s_max), dtype=np.intp)
            mask = np.zeros((len(items), s_max), dtype=bool)
            scores = np.zeros((len(items), s_max))
            unordered = np.zeros((len(items), n_cat), dtype=bool)
            for row, j in enumerate(items):
                cats, scale = self.categories_[j], scale_codes[j]
                index[row, : len(scale)] = np.searchsorted(cats, scale)
                mask[row, : len(scale)] = True
                scores[row, : len(scale)] = scale - scale[0]
                unordered[row, : len(cats)] = ~np.isin(cats, scale)
            free = mask[:, 1 : s_max - 1] & mask[:, 2:]  # slot m free iff m <= S_j - 2
            self._links[link] = _Link(link, items, index, mask, scores, free, unordered)

    # -------------------------------------------------------------- EM hooks
    def _starts(self, data, weights, rng):
        k = self.n_components
        starts = []
        for theta in super()._starts(data, weights, rng):
            coef = {name: _initial_coef(link, k) for name, link in self._links.items()}
            starts.append(self._fit_measurement(theta, theta, coef, _START_STEPS))
        return starts

    def _e_step(self, data, weights, params, log_prior):
        return super()._e_step(data, weights, params.theta, log_prior)

    def _m_step(self, stats, params):
        theta = super()._m_step(stats, params.theta)
        return self._fit_measurement(stats["counts"], theta, params.coef, _M_STEPS)

    def _fit_measurement(self, counts, theta, coef, n_steps):
        """Replace the ordinal items' rows of ``theta`` by their fit to ``counts``."""
        theta = theta.copy()
        coef = dict(coef)
        for name, link in self._links.items():
            c = counts[link.items]  # (J, C, K)
            totals = c.sum(axis=1)  # (J, K)
            scale = (
                np.take_along_axis(c, link.positions[:, :, None], axis=1) * link.mask[:, :, None]
            )
            coef[name] = _newton(link, coef[name], scale, n_steps)
            q = np.exp(_log_probs(link, coef[name]))  # (J, S, K)
            with np.errstate(invalid="ignore", divide="ignore"):
                dk = np.where(link.unordered[:, :, None], c / totals[:, None, :], 0.0)
            rows = np.zeros_like(c)
            rows += dk
            on_scale = 1.0 - dk.sum(axis=1)  # (J, K)
            idx = np.where(link.mask, link.positions, c.shape[1])  # padded slots -> dropped column
            padded = np.concatenate([rows, np.zeros((len(link.items), 1, c.shape[2]))], axis=1)
            np.put_along_axis(padded, idx[:, :, None], q * on_scale[:, None, :], axis=1)
            new = padded[:, :-1, :]
            empty = totals == 0  # a class with no weight keeps its previous probabilities
            new = np.where(empty[:, None, :], theta[link.items], new)
            theta[link.items] = new
        return _Params(theta, coef)

    def _class_log_lik(self, data, params):
        return super()._class_log_lik(data, params.theta)

    def _order_key(self, params):
        return super()._order_key(params.theta)

    def _reorder(self, params, order):
        coef = {}
        for name, c in params.coef.items():
            a = c.shape[1] - self.n_components
            coef[name] = np.concatenate([c[:, :a], c[:, a:][:, order]], axis=1)
        return _Params(params.theta[:, :, order], coef)

    def _store(self, params):
        super()._store(params.theta)
        self._fitted = params
        n_items, k = len(self.categories_), self.n_components
        thresholds: list[np.ndarray | None] = [None] * n_items
        locations: list[np.ndarray | None] = [None] * n_items
        for name, link in self._links.items():
            tau, beta = _natural(link, params.coef[name], k)
            for row, j in enumerate(link.items):
                s = int(link.mask[row].sum())
                thresholds[j] = tau[row, : s - 1].copy()
                locations[j] = beta[row].copy()
        self.thresholds_ = thresholds
        self.locations_ = locations

    def _params(self):
        check_is_fitted(self, "item_probs_")
        return self._fitted

    def _n_measurement_parameters(self) -> int:
        k = self.n_components
        total = 0
        for j, cats in enumerate(self.categories_):
            scale = self.scale_codes_[j]
            if scale is None:
                total += k * (len(cats) - 1)
            else:
                total += k * (len(cats) - len(scale)) + (len(scale) - 1) + (k - 1)
        return total


# ---------------------------------------------------------------------- specification helpers
def _column_key(key, n_items, names, what):
    """Position of a dict key (a column name, or an integer position)."""
    if names is not None and not isinstance(key, (int, np.integer)):
        where = np.flatnonzero(np.asarray(names, dtype=object) == key)
        if len(where):
            return int(where[0])
        raise ValueError(f"{what} names column {key!r}, which is not in X (columns: {list(names)})")
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < n_items:
        return int(key)
    raise ValueError(
        f"{what} key {key!r} is not a column of X: use column names (X a DataFrame) or "
        f"positions 0..{n_items - 1}"
    )


def _resolve_types(item_types, n_items, names) -> list[str]:
    def check(value, where):
        if not isinstance(value, str) or value not in ITEM_TYPES:
            raise ValueError(f"item_types{where} must be one of {list(ITEM_TYPES)}, got {value!r}")
        return value

    if isinstance(item_types, str):
        return [check(item_types, "")] * n_items
    if isinstance(item_types, Mapping):
        types = ["nominal"] * n_items
        for key, value in item_types.items():
            types[_column_key(key, n_items, names, "item_types")] = check(value, f"[{key!r}]")
        return types
    if isinstance(item_types, Sequence):
        if len(item_types) != n_items:
            raise ValueError(f"item_types has {len(item_types)} entries for {n_items} columns of X")
        return [check(v, f"[{i}]") for i, v in enumerate(item_types)]
    raise TypeError(
        f"item_types must be a string, a sequence or a dict, got {type(item_types).__name__}"
    )


def _codes(value, where) -> np.ndarray:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"dont_know{where} must be a sequence of answer codes, got {value!r}")
    try:
        codes = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"dont_know{where} must hold numeric codes, got {value!r}") from None
    if not np.all(np.isfinite(codes)):
        raise ValueError(f"dont_know{where} must hold finite codes, got {value!r}")
    return codes


def _resolve_dont_know(dont_know, n_items, names) -> list[np.ndarray]:
    if dont_know is None:
        return [np.empty(0)] * n_items
    if isinstance(dont_know, Mapping):
        out = [np.empty(0)] * n_items
        for key, value in dont_know.items():
            out[_column_key(key, n_items, names, "dont_know")] = _codes(value, f"[{key!r}]")
        return out
    return [_codes(dont_know, "")] * n_items


# ---------------------------------------------------------------------- ordinal M-step
def _initial_coef(link: _Link, k: int) -> np.ndarray:
    """Uniform scale probabilities in every class."""
    n, s_max = link.mask.shape
    coef = np.zeros((n, s_max - 2 + k))
    if link.name == "cumulative":
        # kappa_c = logit((c + 1) / S) shifted so that kappa_0 = 0, beta = -logit(1 / S)
        s = link.mask.sum(axis=1)
        c = np.arange(1, s_max - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = np.log((c + 1) / (s[:, None] - c - 1)) + np.log(s[:, None] - 1)
        coef[:, : s_max - 2] = np.where(link.free, kappa, 0.0)
        coef[:, s_max - 2 :] = np.log(s - 1)[:, None]
    return coef


def _log_probs(link: _Link, coef: np.ndarray) -> np.ndarray:
    """``log P(scale category c | class k)``, shape (J, S, K); -inf at padded categories."""
    return _log_probs_and_scores(link, coef, need_scores=False)[0]


def _log_probs_and_scores(link: _Link, coef: np.ndarray, need_scores: bool = True):
    """Log-probabilities and, if asked, ``u[j, c, k, p] = d log P(c | k) / d coef[j, p]``."""
    n, s_max = link.mask.shape
    a = s_max - 2
    k = coef.shape[1] - a
    free = link.free
    th, beta = coef[:, :a], coef[:, a:]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if link.name == "ordinal":
            alpha = np.zeros((n, s_max))
            alpha[:, 1 : s_max - 1] = np.where(free, th, 0.0)
            eta = alpha[:, :, None] + link.scores[:, :, None] * beta[:, None, :]
            eta = np.where(link.mask[:, :, None], eta, -np.inf)
            top = eta.max(axis=1, keepdims=True)
            logq = eta - top - np.log(np.exp(eta - top).sum(axis=1, keepdims=True))
            if not need_scores:
                return logq, None
            q = np.exp(logq)
            u = np.zeros((n, s_max, k, a + k))
            if a:
                # d eta_c / d alpha_m = [c == m]; minus its expectation q_m
                eye = np.eye(s_max)[:, 1 : s_max - 1]  # (S, a): [c == m]
                q_m = np.moveaxis(q[:, 1 : s_max - 1, :], 1, 2)[:, None, :, :]  # (J, 1, K, a)
                u[:, :, :, :a] = (eye[None, :, None, :] - q_m) * free[:, None, None, :]
            mean = np.einsum("jck,jc->jk", q, link.scores)
            dev = link.scores[:, :, None] - mean[:, None, :]  # (J, S, K)
            u[:, :, np.arange(k), a + np.arange(k)] = dev
        else:  # cumulative: logit P(y <= c | k) = kappa_c - beta_k, kappa_0 = 0
            kappa = np.full((n, s_max), np.inf)
            kappa[:, 0] = 0.0
            kappa[:, 1 : s_max - 1] = np.where(free, th, np.inf)
            upper = kappa[:, :, None] - beta[:, None, :]  # (J, S, K): kappa_c - beta_k
            lower = np.concatenate([np.full((n, 1, k), -np.inf), upper[:, :-1, :]], axis=1)
            gap = np.where(lower == upper, -np.inf, lower - upper)  # inf - inf at padding
            logq = log_expit(upper) + log_expit(-lower) + np.log(-np.expm1(gap))
            logq = np.where(link.mask[:, :, None], logq, -np.inf)
            logq = np.where(np.isnan(logq), -np.inf, logq)  # thresholds out of order
            if not need_scores:
                return logq, None
            logf = log_expit(upper) + log_expit(-upper)  # log density at each threshold
            logf_low = np.concatenate([np.full((n, 1, k), -np.inf), logf[:, :-1, :]], axis=1)
            ok = link.mask[:, :, None] & np.isfinite(logq)
            up = np.where(ok, np.exp(logf - logq), 0.0)  # f(kappa_c) / q_c
            down = np.where(ok, np.exp(logf_low - logq), 0.0)  # f(kappa_{c-1}) / q_c
            u = np.zeros((n, s_max, k, a + k))
            for m in range(1, s_max - 1):  # d log q_c / d kappa_m: +f_m/q_m at c = m, -f_m/q_{m+1}
                u[:, m, :, m - 1] = up[:, m, :] * free[:, m - 1, None]
                u[:, m + 1, :, m - 1] = -down[:, m + 1, :] * free[:, m - 1, None]
            u[:, :, np.arange(k), a + np.arange(k)] = -(up - down)
    return logq, u


def _objective(logq: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-item ``sum_{c,k} n_jck log q_jck`` (-inf when a counted category is impossible)."""
    with np.errstate(invalid="ignore"):
        terms = np.where(counts > 0, counts * logq, 0.0)
    return terms.sum(axis=(1, 2))


def _newton(link: _Link, coef: np.ndarray, counts: np.ndarray, n_steps: int) -> np.ndarray:
    """Raise ``sum_{c,k} n_jck log q_jck(coef)`` by Fisher-scoring steps with step halving.

    Vectorised over the link's items. For the adjacent-category logit the expected information
    equals the observed one (canonical link), so these are Newton steps. A step is accepted per
    item only if the objective does not decrease; otherwise it is halved (up to 30 times). An
    item whose predicted gain (half the Newton decrement ``g' I^-1 g``) is below rounding error
    is left as it is.
    """
    n, s_max = link.mask.shape
    n_par = coef.shape[1]
    fixed = np.zeros((n, n_par), dtype=bool)
    fixed[:, : s_max - 2] = ~link.free
    totals = counts.sum(axis=1)  # (J, K)
    diag = np.arange(n_par)
    current = None
    for _ in range(n_steps):
        logq, u = _log_probs_and_scores(link, coef)
        if current is None:
            current = _objective(logq, counts)
        u *= ~fixed[:, None, None, :]
        grad = np.einsum("jck,jckp->jp", counts, u)
        # expected information sum_k n_k sum_c q_ck u_ck u_ck' as one batched matrix product
        v = (u * np.sqrt(totals[:, None, :] * np.exp(logq))[:, :, :, None]).reshape(n, -1, n_par)
        info = np.matmul(v.transpose(0, 2, 1), v)
        scale = np.maximum(info[:, diag, diag].max(axis=1, initial=0.0), 1.0)
        info[:, diag, diag] += np.where(fixed, 1.0, 1e-10 * scale[:, None])
        step = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
        active = (grad * step).sum(axis=1) > 1e-12 * np.maximum(np.abs(current), 1.0)
        if not active.any():
            break
        big = np.abs(step).max(axis=1, initial=0.0)
        step *= np.where(active, np.minimum(1.0, _MAX_STEP / np.maximum(big, 1e-300)), 0.0)[:, None]
        pending = active.copy()
        new_coef = coef.copy()
        for _ in range(30):
            trial = coef + step
            value = _objective(_log_probs(link, trial), counts)
            good = pending & (value >= current)
            new_coef[good] = trial[good]
            current = np.where(good, value, current)
            pending &= ~good
            if not pending.any():
                break
            step[pending] *= 0.5
        coef = new_coef
    return coef


def _natural(link: _Link, coef: np.ndarray, k: int):
    """Thresholds and effect-coded locations (locations summing to zero over classes)."""
    n, s_max = link.mask.shape
    a = s_max - 2
    beta = coef[:, a:]
    mean = beta.mean(axis=1)
    if link.name == "ordinal":
        alpha = np.zeros((n, s_max))
        alpha[:, 1 : s_max - 1] = np.where(link.free, coef[:, :a], 0.0)
        step = np.diff(link.scores, axis=1)
        tau = np.diff(alpha, axis=1) + mean[:, None] * step
    else:
        kappa = np.zeros((n, s_max - 1))
        kappa[:, 1:] = np.where(link.free, coef[:, :a], 0.0)
        tau = kappa - mean[:, None]
    return tau, beta - mean[:, None]
