"""Fitting the latent class model by EM on a Dask cluster, for data that do not fit one machine.

EM needs the data only through sufficient statistics that add up over respondents (Dempster,
Laird & Rubin 1977): for the current parameters, each partition computes its weighted
log-likelihood, its weighted posterior class totals and its weighted item x category x class
counts in one compiled pass (:func:`segment.models.latent_class.sufficient_statistics`, the
kernel of the in-memory E-step), and the client adds the partitions' statistics and takes the
M-step. Only parameters (a few kilobytes) travel to the workers and statistics of the same size
come back; the answers stay on the workers as 1-byte codes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._kernels import kernels
from .latent_class import LatentClassModel, _check_numeric_frame, _log_table, sufficient_statistics

__all__ = ["fit_latent_class_dask"]

#: Floor of the item probabilities of a start fitted on a sample (then renormalised), so that an
#: answer the sample never gave is possible in every class at the start of the full-data EM.
START_FLOOR = 1e-6


def fit_latent_class_dask(
    data,
    columns: Sequence[str] | None,
    n_components: int,
    *,
    weight: str | None = None,
    categories=None,
    init=None,
    n_init: int = 10,
    sample_size: int = 100_000,
    tol: float = 1e-8,
    max_iter: int = 1000,
    persist: bool = True,
    client=None,
    random_state=None,
) -> LatentClassModel:
    """Fit a :class:`~segment.models.LatentClassModel` by EM on a Dask cluster.

    Algorithm (EM with sufficient statistics per partition; Dempster, Laird & Rubin 1977):

    1. Answer categories: taken from ``categories``, else from ``init`` when it is a fitted
       model, else scanned from the data in one pass (the distinct non-missing codes of each
       item, sorted).
    2. Each partition is encoded once into the model's 1-byte answer codes and its weights
       (respondents with no answers are dropped and counted in ``n_empty_``, as in ``fit``),
       and kept in the workers' memory (``persist=True``).
    3. Start: ``init`` (a fitted model, or its parameters), else an in-memory
       ``LatentClassModel(n_components, n_init=n_init, tol=tol, max_iter=max_iter)`` fitted on a
       weighted Bernoulli sample of about ``sample_size`` respondents, with the full data's
       categories (item probabilities floored at ``START_FLOOR`` and renormalised, so that an
       answer the sample lacks stays possible).
    4. Full-data EM from that one start. E-step: every partition computes, for the current
       parameters, ``sum_i w_i log P(x_i)``, ``sum_i w_i r_ik`` and
       ``sum_i w_i r_ik [x_ij = c]`` with the fused kernel of the in-memory fit. M-step on the
       client: class shares and item probabilities from the summed statistics. The loop and its
       stopping rule are the in-memory fit's own (stop when the relative change of the
       log-likelihood is at most ``tol``, or after ``max_iter`` iterations).
    5. A last pass computes the fitted parameters' log-likelihood and relative entropy, as
       ``fit`` does; classes are ordered by decreasing share.

    What is exact: from the same starting parameters, on the same data, every iteration adds up
    the same per-respondent terms as the in-memory EM, so the log-likelihood path, the stopping
    iteration and the fitted parameters agree with it up to floating-point summation order
    (partition sums are added on the client): about 1e-12 relative, whatever the partitioning.
    What is not: the start. The in-memory ``fit`` runs ``n_init`` random starts and a k-means
    start on all the data and keeps the best; here they run on a sample and only the best
    sample solution is carried to the full data, so a different local maximum is possible.
    Pass ``init`` to control the start.

    Parameters
    ----------
    data : str, path or dask DataFrame
        A Parquet file or folder of Parquet files (one dataset), or a dask DataFrame.
    columns : sequence of str or None
        The item columns (answer codes; NaN or null = missing). None: every column but
        ``weight``.
    n_components : int
        Number of latent classes.
    weight : str, optional
        Column of survey weights (finite, non-negative); each respondent's log-likelihood is
        multiplied by its weight. Not rescaled.
    categories : sequence or mapping, optional
        Answer codes of each item (a sequence in ``columns`` order, or ``{column: codes}``).
        An answer outside them is an error.
    init : LatentClassModel or mapping, optional
        Starting parameters: a fitted model on the same items (its item probabilities and
        class shares), or ``{"weights": (K,), "item_probs": [(K, C_j) per item]}`` in the
        layout of ``LatentClassModel.item_probs_`` (categories sorted).
    n_init : int, default=10
        Random starts of the sample fit (a k-means start is always added).
    sample_size : int, default=100_000
        Expected number of respondents in the sample fit (all of them when fewer).
    tol : float, default=1e-8
        Convergence when the relative change of the log-likelihood is at most ``tol``.
    max_iter : int, default=1000
        EM iterations (of the sample fit, per start, and of the full-data EM).
    persist : bool, default=True
        Keep the encoded partitions in the workers' memory (1 byte per answer plus 8 per
        respondent). False: read and encode each partition again in every iteration, for
        data larger than the cluster's memory.
    client : distributed.Client, optional
        The cluster to use; default: Dask's current scheduler (the default client if one
        exists, else local threads).
    random_state : int, RandomState or None
        Seed of the sample and of the sample fit's starts.

    Returns
    -------
    LatentClassModel
        A fitted model with the attributes of ``fit`` (``weights_``, ``item_probs_``,
        ``categories_``, ``loglik_``, ``loglik_path_``, ``n_iter_``, ``converged_``,
        ``entropy_``, ``n_empty_``, ``n_samples_fit_``; ``start_logliks_`` holds the one
        full-data start), so ``predict``, ``predict_proba`` and model files work. Not set:
        ``labels_`` (one label per respondent would not fit the client; use ``predict`` per
        partition).

    Raises
    ------
    ValueError
        For bad arguments, missing columns, an item with fewer than two answers, a non-numeric
        answer, an answer outside ``categories``, a negative or non-finite weight (naming the
        partition and row), or fewer respondents with a positive weight than classes.
    """
    est = _checked_estimator(
        n_components, n_init, max_iter, tol, random_state, sample_size=sample_size, persist=persist
    )
    k = int(n_components)
    run = _Runner(client)
    parts, columns = _partitions(data, columns, weight)

    # 1. categories
    cats = _item_categories(run, parts, columns, categories, init, k)
    names = np.asarray(columns, dtype=object)
    est._set_categories(cats, list(columns))
    est.feature_names_in_ = names
    est.n_features_in_ = len(columns)

    # 2. encoded partitions
    blocks = _encoded_blocks(run, est, parts, columns, weight, persist)
    n_rows, n_informative, w_total = _count_respondents(run, est, blocks, weight)

    # 3. start
    theta, shares = _start(
        run, est, blocks, columns, init, sample_size, n_informative, random_state
    )

    # 4. full-data EM: the in-memory loop with a distributed E-step
    loglik, params, shares, n_iter, converged, path = _full_data_em(
        run, est, blocks, theta, shares, k, max_iter, tol
    )
    if not converged:
        warnings.warn(
            f"EM did not converge in max_iter={max_iter} iterations; increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=2,
        )
    params, shares, _ = est._canonical(params, shares, None, None)

    # 5. the fitted parameters' log-likelihood and entropy
    final_loglik, entropy = _final_pass(run, blocks, params, shares)
    est._store(params)
    est.coef_ = None
    est.n_covariates_ = 0
    est.prior_shares_ = shares
    est.weights_ = shares
    est.n_iter_ = int(n_iter)
    est.converged_ = bool(converged)
    est.start_logliks_ = np.array([loglik])
    est.n_best_starts_ = 1
    est.loglik_path_ = path
    est.n_samples_fit_ = int(n_informative)
    est.n_empty_ = int(n_rows - n_informative)
    est.entropy_ = 1.0 if k == 1 else float(1 - entropy / (w_total * np.log(k)))
    est.loglik_ = float(final_loglik)
    return est


# ---------------------------------------------------------------------- the steps of the fit
def _checked_estimator(
    n_components, n_init, max_iter, tol, random_state, *, sample_size, persist
) -> LatentClassModel:
    """The estimator to fill, once the arguments are checked."""
    est = LatentClassModel(
        n_components, n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state
    )
    est._check_parameters(np.inf)
    if not isinstance(sample_size, (int, np.integer)) or sample_size < 2:
        raise ValueError(f"sample_size must be an integer of at least 2, got {sample_size!r}")
    if not isinstance(persist, (bool, np.bool_)):
        raise ValueError(f"persist must be True or False, got {persist!r}")
    return est


def _partitions(data, columns, weight) -> tuple[list, list[str]]:
    """The delayed partitions of the item and weight columns, and the item columns."""
    ddf, columns = _frame(data, columns, weight)
    parts = ddf.to_delayed(optimize_graph=True)
    if not parts:
        raise ValueError("the data have no partitions")
    return parts, columns


def _item_categories(run, parts, columns, categories, init, k: int) -> list[np.ndarray]:
    """Answer codes of each item: given, from a fitted ``init``, or scanned from the data."""
    from dask import delayed

    if categories is not None:
        cats = _categories_argument(categories, columns)
    elif isinstance(init, LatentClassModel):
        _check_init_model(init, columns, k)
        cats = [np.asarray(c, dtype=float) for c in init.categories_]
    else:
        scans = run.compute([delayed(_scan_partition)(p, columns) for p in parts])
        cats = [np.unique(np.concatenate([s[j] for s in scans])) for j in range(len(columns))]
    return cats


def _encoded_blocks(run, est: LatentClassModel, parts, columns, weight, persist) -> list:
    """The partitions encoded into the model's answer codes (kept on the workers if persist)."""
    from dask import delayed

    encoder = _encoder(est)
    blocks = [
        delayed(_encode_partition)(p, encoder, list(columns), weight, i)
        for i, p in enumerate(parts)
    ]
    if persist:
        blocks = run.persist(blocks)
    return blocks


def _count_respondents(run, est: LatentClassModel, blocks, weight):
    """(rows, rows with an answer, their total weight), checked against the number of classes."""
    from dask import delayed

    infos = np.array(run.compute([delayed(_block_info)(b) for b in blocks]), dtype=float)
    n_rows, n_informative, n_positive, w_total = infos.sum(axis=0)
    est._check_parameters(int(n_positive))
    if w_total <= 0:
        raise ValueError(f"weight {weight!r} is zero for every respondent with an answer")
    return n_rows, n_informative, w_total


def _start(
    run, est: LatentClassModel, blocks, columns, init, sample_size, n_informative, random_state
):
    """(theta, shares) to start the full-data EM from: ``init``'s, or a sample fit's."""
    from dask import delayed

    if init is None:
        rng = check_random_state(random_state)
        fraction = min(1.0, sample_size / n_informative)
        seeds = rng.randint(2**31 - 1, size=len(blocks))
        samples = run.compute(
            [
                delayed(_sample_block)(b, fraction, int(s))
                for b, s in zip(blocks, seeds, strict=True)
            ]
        )
        theta, shares = _sample_start(est, samples, rng)
    else:
        theta, shares = _init_parameters(init, est, columns)
    return theta, shares


def _full_data_em(run, est: LatentClassModel, blocks, theta, shares, k, max_iter, tol):
    """(loglik, params, shares, n_iter, converged, path) of the EM on every partition."""
    engine = LatentClassModel(k, n_init=0, max_iter=max_iter, tol=tol)
    engine.categories_ = est.categories_
    loglik, params, shares, _, n_iter, converged = engine._run_em(
        blocks, None, None, theta, shares, None, e_step=_DistributedEStep(run)
    )
    path = engine._last_path
    return loglik, params, shares, n_iter, converged, path


def _final_pass(run, blocks, params, shares) -> tuple[float, float]:
    """(log-likelihood, sum_i w_i sum_k -r_ik log r_ik) of the fitted parameters."""
    from dask import delayed

    shared = delayed((params, np.log(shares)), pure=True, traverse=False)
    sums = run.compute([delayed(_block_summary)(b, shared) for b in blocks])
    final_loglik = sum(s[0] for s in sums)
    entropy = sum(s[1] for s in sums)
    return final_loglik, entropy


# ---------------------------------------------------------------------- the distributed E-step
class _DistributedEStep:
    """``_run_em``'s E-step on the encoded blocks: the sum of the partitions' statistics."""

    def __init__(self, run: _Runner):
        self.run = run

    def __call__(self, data, weights, params, log_prior):
        from dask import delayed

        shared = delayed((params, log_prior), pure=True, traverse=False)
        parts = self.run.compute([delayed(_block_statistics)(b, shared) for b in data])
        loglik = 0.0
        counts = np.zeros_like(parts[0][1])
        totals = np.zeros_like(parts[0][2])
        for ll, c, t in parts:  # partition order: the same sums whatever the workers' timing
            loglik += ll
            counts += c
            totals += t
        return loglik, {"counts": counts, "class_totals": totals}, None


class _Runner:
    """Compute and persist on the given client, else on Dask's current scheduler."""

    def __init__(self, client):
        self.client = client

    def compute(self, tasks: list) -> list:
        if self.client is None:
            import dask

            return list(dask.compute(*tasks))
        return list(self.client.compute(tasks, sync=True))

    def persist(self, tasks: list) -> list:
        if self.client is None:
            import dask

            return list(dask.persist(*tasks))
        return list(self.client.persist(tasks))


class _Block(NamedTuple):
    """One partition encoded: codes and weights of the respondents who answered something."""

    codes: np.ndarray
    weights: np.ndarray
    n_rows: int


# ---------------------------------------------------------------------- partition tasks
def _scan_partition(frame: pd.DataFrame, columns: list[str]) -> list[np.ndarray]:
    """Sorted distinct non-missing answers of each column."""
    _check_numeric_frame(frame[columns])
    out = []
    for col in columns:
        values = pd.unique(frame[col].to_numpy(dtype=float, na_value=np.nan))
        out.append(np.sort(values[~np.isnan(values)]))
    return out


def _encode_partition(frame, encoder, columns, weight, index) -> _Block:
    n = len(frame)
    if n == 0:
        return _Block(np.empty((0, len(columns)), dtype=encoder._code_dtype), np.empty(0), 0)
    try:
        codes = encoder._prepare(frame[columns], fitting=False)
    except ValueError as exc:
        raise ValueError(f"partition {index}: {exc}") from None
    if weight is None:
        w = np.ones(n)
    else:
        w = frame[weight].to_numpy(dtype=float, na_value=np.nan)
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if len(bad):
            i = int(bad[0])
            raise ValueError(
                f"partition {index}, row {i + 1}: weight {weight!r} must be finite and "
                f"non-negative, got {float(w[i])!r} ({len(bad)} such rows in the partition)"
            )
    keep = encoder._informative_rows(codes)
    if not keep.all():
        codes, w = codes[keep], w[keep]
    # own copies: a view would keep the whole partition (e.g. its Arrow buffers) alive
    codes = codes if codes.flags.owndata and codes.flags.c_contiguous else codes.copy(order="C")
    w = w if w.flags.owndata else w.copy()
    return _Block(codes, w, n)


def _block_info(block: _Block) -> tuple[int, int, int, float]:
    """(rows, rows with an answer, of which with a positive weight, their total weight)."""
    w = block.weights
    return block.n_rows, len(w), int(np.sum(w > 0)), float(w.sum())


def _block_statistics(block: _Block, shared):
    theta, log_prior = shared
    return sufficient_statistics(block.codes, block.weights, theta, log_prior)


def _block_summary(block: _Block, shared) -> tuple[float, float]:
    """(log-likelihood, sum_i w_i sum_k -r_ik log r_ik) of the block."""
    theta, log_prior = shared
    k = theta.shape[2]
    n = len(block.weights)
    labels = np.empty(n, dtype=np.intp)
    totals = np.empty(k)
    loglik, entropy = kernels(k).summarise(
        block.codes,
        block.weights,
        _log_table(theta),
        np.ascontiguousarray(log_prior),
        np.ones(n, dtype=np.bool_),
        labels,
        totals,
    )
    return float(loglik), float(entropy)


def _sample_block(block: _Block, fraction: float, seed: int):
    take = np.random.default_rng(seed).random(len(block.weights)) < fraction
    return block.codes[take], block.weights[take]


# ---------------------------------------------------------------------- arguments and starts
def _frame(data, columns, weight):
    """The dask DataFrame of the item and weight columns, and the item columns."""
    import dask.dataframe as dd

    if isinstance(data, (str, os.PathLike)):
        ddf = dd.read_parquet(os.fspath(data))
    elif isinstance(data, dd.DataFrame):
        ddf = data
    else:
        raise TypeError(
            f"data must be a Parquet path or a dask DataFrame, got {type(data).__name__}"
        )
    available = [str(c) for c in ddf.columns]
    if columns is None:
        columns = [c for c in available if c != weight]
    elif isinstance(columns, str):
        raise ValueError(f"columns must be a list of column names, got the string {columns!r}")
    columns = list(columns)
    if not columns:
        raise ValueError("columns is empty: no items to fit")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ValueError(f"columns repeats {duplicated}")
    if weight is not None and weight in columns:
        raise ValueError(f"weight column {weight!r} is also in columns")
    wanted = columns + ([] if weight is None else [weight])
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"columns not in the data: {missing}; the data have {available}")
    return ddf[wanted], columns


def _categories_argument(categories, columns) -> list[np.ndarray]:
    if isinstance(categories, Mapping):
        absent = [c for c in columns if c not in categories]
        if absent:
            raise ValueError(f"categories has no codes for columns {absent}")
        given = [categories[c] for c in columns]
    else:
        given = list(categories)
        if len(given) != len(columns):
            raise ValueError(
                f"categories has {len(given)} entries for {len(columns)} columns; give one "
                "list of codes per column, in order, or a mapping {column: codes}"
            )
    out = []
    for col, codes in zip(columns, given, strict=True):
        try:
            arr = np.asarray(codes, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"categories of {col!r} must be numbers, got {codes!r}") from None
        if not np.isfinite(arr).all():
            raise ValueError(f"categories of {col!r} must be finite numbers, got {codes!r}")
        out.append(np.unique(arr))
    return out


def _check_init_model(init: LatentClassModel, columns, k: int) -> None:
    if not hasattr(init, "item_probs_"):
        raise ValueError("init is a LatentClassModel that is not fitted")
    if init.n_components != k:
        raise ValueError(f"init has {init.n_components} classes, n_components is {k}")
    if getattr(init, "coef_", None) is not None:
        raise ValueError("init was fitted with covariates, which the Dask fit does not support")
    names = getattr(init, "feature_names_in_", None)
    if names is not None and list(names) != list(columns):
        raise ValueError(f"init was fitted on columns {list(names)}, not {list(columns)}")
    if len(init.categories_) != len(columns):
        raise ValueError(f"init has {len(init.categories_)} items for {len(columns)} columns")


def _init_parameters(init, est: LatentClassModel, columns) -> tuple[np.ndarray, np.ndarray]:
    """(theta, shares) in the layout of ``est`` from ``init``."""
    k = est.n_components
    cats = est.categories_
    if isinstance(init, LatentClassModel):
        _check_init_model(init, columns, k)
        if any(not np.array_equal(a, b) for a, b in zip(init.categories_, cats, strict=True)):
            raise ValueError("init's answer categories differ from categories")
        probs, shares = init.item_probs_, init.prior_shares_
    elif isinstance(init, Mapping) and {"weights", "item_probs"} <= set(init):
        probs, shares = init["item_probs"], init["weights"]
    else:
        raise ValueError(
            "init must be a fitted LatentClassModel or a mapping with 'weights' and 'item_probs'"
        )
    shares = np.asarray(shares, dtype=float)
    if shares.shape != (k,) or (shares <= 0).any() or not np.isclose(shares.sum(), 1, atol=1e-6):
        raise ValueError(f"init weights must be {k} positive shares summing to 1, got {shares}")
    if len(probs) != len(cats):
        raise ValueError(f"init item_probs has {len(probs)} items for {len(cats)} columns")
    theta = np.zeros((len(cats), max(len(c) for c in cats), k))
    for j, (p, c) in enumerate(zip(probs, cats, strict=True)):
        p = np.asarray(p, dtype=float)
        if p.shape != (k, len(c)) or (p < 0).any() or not np.allclose(p.sum(axis=1), 1, atol=1e-6):
            raise ValueError(
                f"init item_probs of {columns[j]!r} must be {k} rows of {len(c)} probabilities "
                f"(categories {c.tolist()}) summing to 1"
            )
        theta[j, : len(c), :] = p.T
    return theta, shares / shares.sum()


class _SampleModel(LatentClassModel):
    """A LatentClassModel fitted with given answer categories (the full data's), so that its
    parameters have the full model's layout even when the sample lacks an answer."""

    def _encode_fit(self, X, names):
        self._set_categories(self._given_categories, names)


def _sample_start(est: LatentClassModel, samples, rng) -> tuple[np.ndarray, np.ndarray]:
    """(theta, shares) of an in-memory fit on the sampled respondents."""
    codes = np.concatenate([s[0] for s in samples])
    w = np.concatenate([s[1] for s in samples])
    missing = est._missing_code
    X = np.full(codes.shape, np.nan)
    for j, cats in enumerate(est.categories_):
        seen = codes[:, j] != missing
        X[seen, j] = cats[codes[seen, j]]
    model = _SampleModel(
        est.n_components, n_init=est.n_init, max_iter=est.max_iter, tol=est.tol, random_state=rng
    )
    model._given_categories = est.categories_
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, sample_weight=w)
    except ValueError as exc:
        raise ValueError(
            f"fitting the start on a sample of {len(w):,} respondents failed ({exc}); "
            "increase sample_size or pass init"
        ) from None
    theta = model._theta.copy()
    for j, cats in enumerate(est.categories_):
        block = np.maximum(theta[j, : len(cats), :], START_FLOOR)
        theta[j, : len(cats), :] = block / block.sum(axis=0, keepdims=True)
    shares = np.maximum(model.prior_shares_, START_FLOOR)
    return theta, shares / shares.sum()


def _encoder(est: LatentClassModel) -> LatentClassModel:
    """A light model holding only what encoding needs (it travels to every worker)."""
    enc = LatentClassModel(est.n_components)
    enc._set_encoding(est.categories_)  # the categories and their code type, as ``est``'s
    enc.feature_names_in_ = est.feature_names_in_
    enc.n_features_in_ = est.n_features_in_
    return enc
