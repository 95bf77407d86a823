"""Fit diagnostics for latent class models: bivariate residuals and the bootstrap LR test.

Bivariate residuals (local dependence)
--------------------------------------
A latent class model assumes that answers are independent within a class (local
independence), so the expected two-way table of items j and l among the respondents who answered
both is

    E_jl(a, b) = sum_k n_jl,k  P(x_j = a | k) P(x_l = b | k),

with ``n_jl,k = sum_i w_i [i answered j and l] P(k | z_i)`` (``= n_jl pi_k`` without
covariates, where ``n_jl`` is the weighted number of respondents who answered both). The
bivariate residual (BVR) of the pair is the Pearson chi-square of the observed weighted table
``O_jl = X_j' diag(w) X_l`` (``X_j`` the one-hot answers to item j) against ``E_jl``, divided by
its degrees of freedom ``(C_j - 1)(C_l - 1)``:

    BVR_jl = sum_ab (O_jl(a, b) - E_jl(a, b))^2 / E_jl(a, b) / ((C_j - 1)(C_l - 1)),

as reported by Latent GOLD (Vermunt & Magidson 2005, *Technical Guide for Latent GOLD 4.0*,
section on bivariate residuals) and poLCA's ``bvr()`` (whose figures the tests reproduce). A BVR
well above 1 says that the model does not account for the association of the two items: add a
class, or model the pair's dependence. The BVR is **not** chi-square distributed, because the
expected table uses parameters estimated from the same data (Oberski, van Kollenburg & Vermunt
2013, "A Monte Carlo evaluation of three methods to detect local dependence in binary data latent
class models", *Advances in Data Analysis and Classification* 7(3), 267-279): 3.84 (the 95%
point of chi-square(1)) is only a rule of thumb, and ``n_boot`` gives parametric-bootstrap
p-values instead.

Bootstrap likelihood ratio test (BLRT)
--------------------------------------
The likelihood ratio of k against k - 1 classes, ``LR = 2 (LL_k - LL_{k-1})``, is not
chi-square distributed either (the k - 1 class model lies on the boundary of the k class model).
McLachlan (1987, "On bootstrapping the likelihood ratio test statistic for the number of
components in a normal mixture", *Applied Statistics* 36(3), 318-324) estimates its null
distribution by parametric bootstrap; Nylund, Asparouhov & Muthen (2007, "Deciding on the number
of classes in latent class analysis and growth mixture modeling: a Monte Carlo simulation study",
*Structural Equation Modeling* 14(4), 535-569) found it the most reliable of the common tests
for latent class enumeration. See :func:`bootstrap_lrt` for the details and the treatment of
missing answers and survey weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from segment._util import normalised_weights

from .latent_class import LatentClassModel

__all__ = ["BVR_RULE_OF_THUMB", "BLRTResult", "bivariate_residuals", "bootstrap_lrt"]

#: BVRs above this value are flagged: the 95% point of chi-square(1), a rule of thumb only.
BVR_RULE_OF_THUMB = 3.84

#: Rows per chunk when tabulating answers (memory does not grow with the number of respondents).
CHUNK = 100_000


# ============================================================================ bivariate residuals
def bivariate_residuals(
    model: LatentClassModel,
    X,
    sample_weight=None,
    *,
    covariates=None,
    n_boot: int = 0,
    boot_n_init: int = 3,
    random_state=None,
) -> pd.DataFrame:
    """Bivariate residuals (local dependence) of every pair of items of a fitted model.

    Parameters
    ----------
    model : LatentClassModel
        A fitted model.
    X : DataFrame or array of shape (n_samples, n_items)
        Answer codes (NaN = missing), usually the data the model was fitted to.
    sample_weight : array of shape (n_samples,), optional
        Survey weights. They are rescaled to mean 1 over the rows of ``X``, so that the
        chi-squares are on the scale of the number of respondents (weights are treated as survey
        weights, not frequency weights; for a table of pattern counts, expand it to rows).
    covariates : array of shape (n_samples, n_covariates), optional
        Required when the model was fitted with covariates: each respondent's class
        probabilities ``P(k | z_i)`` (the prior, not the posterior) replace the shares.
    n_boot : int, default=0
        Parametric bootstrap samples for p-values (0 = none). Each sample draws classes and
        answers from ``model`` for the rows of ``X`` (keeping each row's weight, covariates and
        missing answers), refits the model (``boot_n_init`` random starts and a start at
        ``model``'s parameters) and recomputes the BVRs;
        ``p_boot = (1 + #{BVR_b >= BVR}) / (B + 1)`` over the samples that could be refitted.
    boot_n_init : int, default=3
        Random starts of each bootstrap refit.
    random_state : int, RandomState or None
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row per pair of items, largest BVR first: ``item_a, item_b`` (the items, in the
        model's column order within a pair), ``bvr`` (Pearson chi-square / df; NaN when nobody
        answered both, inf when a pair of answers the model calls impossible was observed),
        ``df`` = ``(C_a - 1)(C_b - 1)``, ``n`` (weighted number of respondents who answered
        both) and ``flagged`` (``bvr > 3.84``); with ``n_boot`` also ``p_boot``.

    Notes
    -----
    Read the BVRs together: among many pairs a few pass 3.84 by chance, and a pair of items with
    many categories and few respondents has small expected counts, which make the Pearson
    chi-square erratic (``n_boot``'s p-values account for the second, not for the first: they
    are per pair).

    With missing answers each pair uses the respondents who answered both items (pairwise
    available cases) and its expected table assumes that answering both is unrelated to class
    membership (given covariates); when it is not, a large BVR can reflect the missingness.
    The tables are built from sparse one-hot answer matrices in chunks of rows, one sparse
    product ``H' diag(w) H`` for all pairs at once.
    """
    check_is_fitted(model, "item_probs_")
    codes, weights, prior = _model_inputs(model, X, sample_weight, covariates)
    table = _bvr_table(model, codes, weights, prior)
    if n_boot:
        table["p_boot"] = _bvr_bootstrap(
            model, codes, weights, covariates, table, n_boot, boot_n_init, random_state
        )
    order = np.lexsort((np.arange(len(table)), -table["bvr"].fillna(-np.inf).to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def _item_names(model) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [f"column {j}" for j in range(len(model.categories_))]


def _model_inputs(model, X, sample_weight, covariates):
    """Answer codes (category index; >= C_j = missing), weights (mean 1) and class priors."""
    codes = model._prepare(X, fitting=False)
    n = codes.shape[0]
    weights = model._check_weights(sample_weight, n)
    weights = weights * (n / weights.sum())
    design = model._check_covariates(covariates, n, fitting=False)
    prior = None if design is None else softmax(design @ model.coef_, axis=1)
    return codes, weights, prior


def _onehot(codes: np.ndarray, sizes: np.ndarray, offsets: np.ndarray) -> sparse.csr_matrix:
    """Sparse (n x sum C_j) indicator of the observed answers; missing answers have no entry."""
    observed = codes < sizes[None, :]
    rows, cols = np.nonzero(observed)
    index = offsets[cols] + codes[rows, cols].astype(np.int64)
    return sparse.csr_matrix(
        (np.ones(len(rows)), (rows, index)), shape=(codes.shape[0], int(offsets[-1]))
    )


def _bvr_table(model, codes, weights, prior) -> pd.DataFrame:
    sizes = np.array([len(c) for c in model.categories_])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n_items, total = len(sizes), int(offsets[-1])
    k = model.n_components
    item_of = np.repeat(np.arange(n_items), sizes)
    theta = np.vstack([p.T for p in model.item_probs_])  # (sum C_j, K)

    observed = np.zeros((total, total))
    pair_class = np.zeros((k, n_items, n_items)) if prior is not None else None
    for start in range(0, codes.shape[0], CHUNK):
        stop = min(start + CHUNK, codes.shape[0])
        onehot = _onehot(codes[start:stop], sizes, offsets)
        w = weights[start:stop]
        observed += (onehot.T @ sparse.diags(w) @ onehot).toarray()
        if pair_class is not None:  # with covariates (prior given)
            answered = (codes[start:stop] < sizes[None, :]).astype(float)
            for c in range(k):
                pair_class[c] += answered.T @ (answered * (w * prior[start:stop, c])[:, None])
    # n_jl: weighted respondents who answered both j and l (the sum of the pair's table)
    n_pair = np.add.reduceat(np.add.reduceat(observed, offsets[:-1], axis=0), offsets[:-1], axis=1)
    if pair_class is None:
        expected = n_pair[np.ix_(item_of, item_of)] * ((theta * model.weights_) @ theta.T)
    else:
        per_class = pair_class[:, item_of][:, :, item_of]  # (K, sum C, sum C)
        expected = np.einsum("kab,ak,bk->ab", per_class, theta, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(
            expected > 0,
            (observed - expected) ** 2 / expected,
            np.where(observed > 1e-12 * max(1.0, observed.max()), np.inf, 0.0),
        )
    chi2 = np.add.reduceat(np.add.reduceat(cells, offsets[:-1], axis=0), offsets[:-1], axis=1)
    a, b = np.triu_indices(n_items, 1)
    df = (sizes[a] - 1) * (sizes[b] - 1)
    n = n_pair[a, b]
    bvr = np.where(n > 0, chi2[a, b] / df, np.nan)
    names = _item_names(model)
    return pd.DataFrame(
        {
            "item_a": [names[i] for i in a],
            "item_b": [names[i] for i in b],
            "bvr": bvr,
            "df": df.astype(int),
            "n": n,
            "flagged": np.nan_to_num(bvr, nan=0.0) > BVR_RULE_OF_THUMB,
        }
    )


def _bvr_bootstrap(model, codes, weights, covariates, table, n_boot, boot_n_init, random_state):
    rng = check_random_state(random_state)
    names = _item_names(model)
    sizes = np.array([len(c) for c in model.categories_])
    observed = codes < sizes[None, :]
    prior = None
    design_cov = None
    if model.coef_ is not None:
        design_cov = np.asarray(covariates, dtype=float).reshape(len(codes), -1)
        prior = softmax(np.column_stack([np.ones(len(codes)), design_cov]) @ model.coef_, axis=1)
    key = list(zip(table["item_a"], table["item_b"], strict=True))
    exceed = np.zeros(len(table))
    valid = np.zeros(len(table))
    start = _item_params(model)
    for _ in range(n_boot):
        sim = _simulate(model, observed, rng, prior)
        keep = _informative_columns(sim)
        refit = _StartedLatentClassModel(
            model.n_components,
            n_init=boot_n_init,
            max_iter=model.max_iter,
            tol=model.tol,
            random_state=int(rng.randint(2**31 - 1)),
            extra_starts=[[start[j] for j in np.flatnonzero(keep)]],
            kmeans_start=False,
        )
        frame = pd.DataFrame(sim[:, keep], columns=[names[j] for j in np.flatnonzero(keep)])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                refit.fit(frame, sample_weight=weights, covariates=design_cov)
        except ValueError:
            continue  # e.g. fewer respondents than classes: the sample is skipped
        codes_b, w_b, prior_b = _model_inputs(refit, frame, weights, design_cov)
        boot = _bvr_table(refit, codes_b, w_b, prior_b)
        boot_bvr = dict(
            zip(zip(boot["item_a"], boot["item_b"], strict=True), boot["bvr"], strict=True)
        )
        values = np.array([boot_bvr.get(pair, np.nan) for pair in key])
        ok = ~np.isnan(values)
        valid += ok
        exceed += ok & (values >= table["bvr"].to_numpy())
    with np.errstate(invalid="ignore"):
        return (1 + exceed) / (1 + valid)


# ============================================================================ simulation helpers
def _item_params(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per item: (answer codes, K x C matrix of answer probabilities)."""
    return [(c.copy(), p.copy()) for c, p in zip(model.categories_, model.item_probs_, strict=True)]


def _simulate(model, observed: np.ndarray, rng, prior=None) -> np.ndarray:
    """Answers drawn from ``model`` (its answer codes), NaN where ``observed`` is False.

    Classes are drawn from the shares (or, with covariates, from each row's ``prior``), then each
    item's answer from its class's answer probabilities.
    """
    n = observed.shape[0]
    if prior is None:
        cum = np.cumsum(model.weights_)
        z = np.minimum(
            np.searchsorted(cum, rng.random_sample(n) * cum[-1], side="right"),
            model.n_components - 1,
        )
    else:
        cum = np.cumsum(prior, axis=1)
        z = np.minimum(
            (rng.random_sample(n)[:, None] * cum[:, -1:] >= cum).sum(axis=1), model.n_components - 1
        )
    out = np.full(observed.shape, np.nan)
    for j, (cats, probs) in enumerate(zip(model.categories_, model.item_probs_, strict=True)):
        cum = np.cumsum(probs, axis=1)
        u = rng.random_sample(n)[:, None] * cum[z, -1:]
        index = np.minimum((u >= cum[z]).sum(axis=1), len(cats) - 1)
        out[:, j] = np.where(observed[:, j], cats[index], np.nan)
    return out


def _informative_columns(sim: np.ndarray) -> np.ndarray:
    """Items with at least two distinct answers (a constant item adds 0 to every likelihood)."""
    keep = np.zeros(sim.shape[1], dtype=bool)
    for j in range(sim.shape[1]):
        col = sim[:, j]
        col = col[~np.isnan(col)]
        keep[j] = col.size > 0 and np.any(col != col[0])
    return keep


class _StartedLatentClassModel(LatentClassModel):
    """A latent class model whose EM also starts from given item probabilities.

    ``extra_starts`` is a list of starts, each a list over items of ``(answer codes, K x C
    probabilities)``; answers absent from the data are dropped and the rest renormalised. The
    given starts run before the random and k-means ones; ``kmeans_start=False`` drops the
    k-means start (the costliest, and multi-threaded: slow in a loop of many small fits).
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
        extra_starts=None,
        kmeans_start=True,
    ):
        super().__init__(
            n_components,
            n_init=n_init,
            screen_rows=screen_rows,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        self.extra_starts = extra_starts
        self.kmeans_start = kmeans_start

    def _kmeans_start(self, data, weights, rng):
        return super()._kmeans_start(data, weights, rng) if self.kmeans_start else None

    def _starts(self, data, weights, rng):
        starts = super()._starts(data, weights, rng)
        n_items, n_cat, k = self._shape()
        given = []
        for start in self.extra_starts or []:
            if len(start) != n_items or start[0][1].shape[0] != k:
                continue
            theta = np.zeros((n_items, n_cat, k))
            for j, cats in enumerate(self.categories_):
                src_cats, probs = start[j]
                index = np.searchsorted(src_cats, cats)
                block = probs[:, np.minimum(index, len(src_cats) - 1)].T
                block = np.where((index < len(src_cats))[:, None], block, 0.0)
                block = 0.999 * block + 0.001 / len(cats)  # no exact zeros: EM keeps them forever
                theta[j, : len(cats), :] = block / block.sum(axis=0, keepdims=True)
            given.append(theta)
        return given + starts


def _split_starts(model, rng, n_split: int = 3) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Starts for k classes from a (k-1)-class fit: one of its largest classes split in two."""
    params = _item_params(model)
    starts = []
    for c in range(min(n_split, model.n_components)):
        start = []
        for cats, probs in params:
            noise = 1 + 0.2 * rng.uniform(-1, 1, size=len(cats))
            pair = np.vstack([probs[c] * noise, probs[c] / noise])
            pair /= pair.sum(axis=1, keepdims=True)
            start.append((cats, np.vstack([np.delete(probs, c, axis=0), pair])))
        starts.append(start)
    return starts


# ============================================================================ BLRT
@dataclass(frozen=True)
class BLRTResult:
    """Result of :func:`bootstrap_lrt`: k against k - 1 classes.

    Attributes
    ----------
    n_components : int
        k, the number of classes of the alternative model.
    lr : float
        ``2 (LL_k - LL_{k-1})`` on the data (weights rescaled to mean 1).
    p_value : float
        ``(1 + #{LR_b >= LR}) / (B + 1)`` over the ``B`` bootstrap samples that could be fitted.
    boot_lr : ndarray
        The bootstrap likelihood ratios ``LR_b``.
    loglik_null, loglik_alt : float
        Log-likelihoods of the k - 1 and k class models.
    n_parameters_null, n_parameters_alt : int
    n_boot : int
        Bootstrap samples requested.
    n_failed : int
        Samples that could not be fitted (e.g. fewer respondents than classes); not in ``boot_lr``.
    null_model, alt_model : LatentClassModel
        The fitted k - 1 and k class models.
    """

    n_components: int
    lr: float
    p_value: float
    boot_lr: np.ndarray
    loglik_null: float
    loglik_alt: float
    n_parameters_null: int
    n_parameters_alt: int
    n_boot: int
    n_failed: int
    null_model: LatentClassModel = field(repr=False)
    alt_model: LatentClassModel = field(repr=False)

    def summary(self) -> str:
        """A short text report of the test."""
        k = self.n_components
        null = f"{k - 1} class" + ("es" if k - 1 != 1 else "")
        lines = [
            f"Bootstrap likelihood ratio test: {k} against {null}",
            f"  log-likelihood ({null}, {self.n_parameters_null} parameters): "
            f"{self.loglik_null:,.3f}",
            f"  log-likelihood ({k} classes, {self.n_parameters_alt} parameters): "
            f"{self.loglik_alt:,.3f}",
            f"  LR = 2 (LL_{k} - LL_{k - 1}) = {self.lr:,.3f}",
            f"  bootstrap p = {self.p_value:.4f} ({len(self.boot_lr)} parametric bootstrap "
            f"samples from the {k - 1}-class model"
            + (f"; {self.n_failed} could not be fitted" if self.n_failed else "")
            + ")",
        ]
        if len(self.boot_lr):
            q = np.quantile(self.boot_lr, [0.5, 0.95])
            lines.append(f"  bootstrap LR: median {q[0]:,.3f}, 95th percentile {q[1]:,.3f}")
        return "\n".join(lines)


def bootstrap_lrt(
    X,
    k: int,
    *,
    sample_weight=None,
    n_boot: int = 99,
    n_init: int = 10,
    boot_n_init: int = 3,
    random_state=None,
) -> BLRTResult:
    """Parametric bootstrap likelihood ratio test of k against k - 1 latent classes.

    ``LR = 2 (LL_k - LL_{k-1})`` on the data is compared with its distribution when the fitted
    k - 1 class model is true: ``B = n_boot`` samples are drawn from that model, both models are
    fitted to each, and ``p = (1 + #{LR_b >= LR}) / (B + 1)`` (McLachlan 1987; Nylund,
    Asparouhov & Muthen 2007). A small p says that k classes fit better than chance would
    explain.

    Parameters
    ----------
    X : DataFrame or array of answer codes (NaN = missing)
    k : int
        Number of classes of the alternative model (at least 2).
    sample_weight : array, optional
        Survey weights, rescaled to mean 1; the log-likelihoods are pseudo-log-likelihoods.
    n_boot : int, default=99
        Bootstrap samples.
    n_init : int, default=10
        Random starts of the two fits to the data (plus the k-means start; the k class fit also
        starts from the k - 1 class solution with one of its largest classes split).
    boot_n_init : int, default=3
        Random starts of each fit to a bootstrap sample, in addition to: for k - 1 classes, a
        start at the generating parameters (so that a local maximum does not inflate ``LR_b``);
        for k classes, starts splitting each of the three largest classes of that sample's
        k - 1 class solution in two (so that a local maximum does not deflate ``LR_b``). The
        k-means start is left out of these fits: it is the costliest start and multi-threaded,
        which slows a loop of many small fits.
    random_state : int, RandomState or None
        The same data and seed give the same p-value.

    Returns
    -------
    BLRTResult

    Notes
    -----
    Each bootstrap sample has as many respondents as the data with at least one answer. Its
    rows are drawn with replacement from the data's rows, keeping each row's survey weight and
    its pattern of missing answers, and the answers are then simulated from the k - 1 class
    model: the sample reproduces the spread of the weights and the amount and pattern of
    missingness, with classes independent of both (missing completely at random given the
    model). Respondents with no answers are left out, as in the fit. Clustering and
    stratification of the design are not reproduced, so with survey weights the test is
    approximate. Items that happen to be constant in a sample are dropped from both of its fits
    (a constant item adds nothing to either log-likelihood).
    """
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer of at least 2 (k against k - 1 classes), got {k!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    rng = check_random_state(random_state)
    n = len(X)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values for {n} rows")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        raise ValueError("sample_weight must be finite, non-negative and not all zero")
    w = normalised_weights(w)
    null = LatentClassModel(k - 1, n_init=n_init, random_state=int(rng.randint(2**31 - 1)))
    null.fit(X, sample_weight=w)
    alt = _StartedLatentClassModel(
        k,
        n_init=n_init,
        random_state=int(rng.randint(2**31 - 1)),
        extra_starts=_split_starts(null, rng),
    )
    alt.fit(X, sample_weight=w)
    return _blrt(_as_array(X), w, null, alt, n_boot, boot_n_init, rng)


def _as_array(X) -> np.ndarray:
    return X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)


def _blrt(Xa, weights, null, alt, n_boot, boot_n_init, rng, progress=None) -> BLRTResult:
    """The bootstrap for fitted k - 1 (``null``) and k (``alt``) class models of ``Xa``."""
    k = alt.n_components
    lr = 2 * (alt.loglik_ - null.loglik_)
    answered = ~np.isnan(Xa).all(axis=1) & (weights > 0)
    observed = ~np.isnan(Xa[answered])
    w = weights[answered]
    m = len(w)
    generating = _item_params(null)
    boot_lr = []
    n_failed = 0
    for _ in range(n_boot):
        rows = rng.randint(0, m, m)
        sim = _simulate(null, observed[rows], rng)
        keep = _informative_columns(sim)
        sim = sim[:, keep]
        w_b = w[rows]
        start = [generating[j] for j in np.flatnonzero(keep)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit_null = _StartedLatentClassModel(
                    k - 1,
                    n_init=boot_n_init,
                    max_iter=null.max_iter,
                    tol=null.tol,
                    random_state=int(rng.randint(2**31 - 1)),
                    extra_starts=[start],
                    kmeans_start=False,
                ).fit(sim, sample_weight=w_b)
                fit_alt = _StartedLatentClassModel(
                    k,
                    n_init=boot_n_init,
                    max_iter=alt.max_iter,
                    tol=alt.tol,
                    random_state=int(rng.randint(2**31 - 1)),
                    extra_starts=_split_starts(fit_null, rng),
                    kmeans_start=False,
                ).fit(sim, sample_weight=w_b)
        except ValueError:
            n_failed += 1
        else:
            boot_lr.append(2 * (fit_alt.loglik_ - fit_null.loglik_))
        if progress:
            progress(f"k={k} BLRT")
    boot = np.array(boot_lr)
    p = (1 + np.sum(boot >= lr)) / (1 + len(boot))
    return BLRTResult(
        n_components=k,
        lr=float(lr),
        p_value=float(p),
        boot_lr=boot,
        loglik_null=float(null.loglik_),
        loglik_alt=float(alt.loglik_),
        n_parameters_null=null.n_parameters(),
        n_parameters_alt=alt.n_parameters(),
        n_boot=int(n_boot),
        n_failed=n_failed,
        null_model=null,
        alt_model=alt,
    )
