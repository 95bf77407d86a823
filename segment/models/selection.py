"""Choosing the number of segments: fit statistics, bootstrap stability and a recommendation.

For each candidate k the latent class model is fitted to the full data and to ``n_boot``
bootstrap resamples of respondents; stability is the mean adjusted Rand index (Hubert & Arabie
1985) between the full-data classification and each refit's classification of the same
respondents, and the per-segment agreement after matching classes with the Hungarian algorithm
(the smallest over segments is reported). Information criteria follow Nylund, Asparouhov &
Muthen (2007), who found BIC the most reliable of them for latent class enumeration; with
``blrt`` the table also has their bootstrap likelihood ratio test of each k against k - 1
(:func:`segment.models.diagnostics.bootstrap_lrt`), which they found more reliable still, though
slow.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import check_random_state

from segment._defaults import SELECT_N_BOOT
from segment._util import normalised_weights

from .align import align_labels
from .diagnostics import BLRTResult, _blrt
from .latent_class import LatentClassModel
from .parallel import map_unordered, resolve_jobs

__all__ = ["BOOT_N_INIT", "N_BOOT", "Selection", "select_n_components"]

#: A recommended solution's smallest segment must hold this share of the weighted sample ...
MIN_SHARE = 0.05
#: ... and this many respondents, and its bootstrap stability (mean ARI) must reach this.
MIN_RESPONDENTS = 30
MIN_STABILITY = 0.7

#: Bootstrap resamples per k for stability, and random starts of each refit: the defaults of
#: :func:`select_n_components`, ``segment select`` and ``segment run``, so that the two commands
#: give the same table for the same data and seed.
N_BOOT = SELECT_N_BOOT
BOOT_N_INIT = 2


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select_n_components`.

    Attributes
    ----------
    table : DataFrame
        One row per k: ``k, loglik, n_parameters, bic, aic, sabic, entropy, smallest_share,
        smallest_n, stability, stability_sd, min_segment_agreement, converged``, and with
        ``blrt`` also ``blrt_p`` (NaN for k = 1).
    recommended : int
    reason : str
    models : dict
        The full-data model of each k.
    blrt : dict
        With ``blrt``, the :class:`~segment.models.diagnostics.BLRTResult` of each k >= 2.
    """

    table: pd.DataFrame
    recommended: int
    reason: str
    models: dict
    blrt: dict[int, BLRTResult] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "recommended": self.recommended,
            "reason": self.reason,
            "criteria": {
                "min_share": MIN_SHARE,
                "min_respondents": MIN_RESPONDENTS,
                "min_stability": MIN_STABILITY,
            },
            "table": [_published_row(row) for row in self.table.to_dict(orient="records")],
        }


def _published_row(row: dict) -> dict:
    """A row of the table as printed: the smallest segment's share and size withheld (None)
    when it has fewer than :data:`MIN_RESPONDENTS` respondents, with
    ``smallest_withheld`` True (the rule of :mod:`segment.disclosure`)."""
    small = row["smallest_respondents"] < MIN_RESPONDENTS
    if small:
        row.update(smallest_share=None, smallest_n=None, smallest_respondents=None)
    row["smallest_withheld"] = bool(small)
    return row


def select_n_components(
    X,
    ks: Iterable[int],
    *,
    sample_weight=None,
    n_init: int = 10,
    n_boot: int = N_BOOT,
    boot_n_init: int = BOOT_N_INIT,
    random_state=None,
    progress: Callable[[str], None] | None = None,
    blrt: int = 0,
    estimator: LatentClassModel | None = None,
    n_jobs: int | None = None,
) -> Selection:
    """Fit k = each of ``ks`` classes and compare the solutions.

    Parameters
    ----------
    X : DataFrame or array of answer codes (NaN = missing)
    ks : iterable of int
    sample_weight : array, optional
        Survey weights; rescaled to mean 1 so that BIC's n is the sample size.
    n_init : int
        Random starts of each full-data fit (plus the k-means start).
    n_boot : int
        Bootstrap resamples per k (0 = no stability).
    boot_n_init : int
        Random starts of each bootstrap refit (plus the k-means start). Each refit starts
        afresh, never from the full-data solution (a "warm start"): a refit started there
        tends to stay at that maximum, and stability would no longer show a solution that
        the data reach only from some starts. Measured on the GSS abortion items (45,599
        respondents, 7 yes/no items; 5 resamples per k): mean ARI 0.80, 0.86 and 0.91 at
        k = 8, 7 and 6 with fresh starts, 0.99, 0.98 and 0.99 when refits start from the
        full-data solution, which would call every k stable. A warm start would save about
        0.9 s of the 1.2 s a refit takes there; the fits run in parallel processes instead.
    random_state : int, RandomState or None
        Seed of every fit: the seeds of each k's fit and resamples are drawn from it in the
        order of ``ks``, all of them before any fit runs, so the same data, ``ks``, ``n_init``,
        ``n_boot``, ``boot_n_init`` and seed give the same table, whatever ``n_jobs``.
    progress : callable, optional
        Called with a short message after each fit (the CLI's progress bar); with several
        processes, in the order the fits finish.
    blrt : int, default=0
        Parametric bootstrap samples of the bootstrap likelihood ratio test of each k against
        k - 1 classes (0 = no test): adds ``blrt_p`` to the table. Each sample refits two models
        (``boot_n_init`` random starts plus warm starts), so this is slow. A (k - 1)-class model
        not among ``ks`` is fitted for the test. The test runs after, and on a random stream
        separate from, everything else, so the rest of the table does not change with ``blrt``.
        The recommendation does not use it. It always uses the nominal model, and runs in this
        process.
    estimator : LatentClassModel, optional
        Template of the measurement model, e.g. an
        :class:`~segment.models.OrdinalLatentClassModel` with ordinal items (default: the
        nominal :class:`~segment.models.LatentClassModel`); cloned for every k and resample.
    n_jobs : int or None, default=None
        Processes for the fits (the full-data fit of each k and every bootstrap refit, all
        independent): 1 fits one after another in this process, -1 uses every usable core,
        None the ``SEGMENT_JOBS`` environment variable, else every usable core
        (:func:`segment.models.parallel.resolve_jobs`). Several processes run as joblib's
        ``loky`` workers, each with one thread for numba, BLAS and OpenMP (so that the
        processes do not share out the cores again); the compiled kernels are read from
        numba's disk cache, not compiled again in each worker.

    Returns
    -------
    Selection
    """
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"k must be positive integers, got {ks}")
    rng = check_random_state(random_state)
    n = len(X)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    w = normalised_weights(w)
    Xa = X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)
    columns = X.columns if isinstance(X, pd.DataFrame) else None
    fits = _plan(ks, n, n_init, n_boot, boot_n_init, rng)
    done = _run_fits(fits, estimator, Xa, columns, w, n_jobs, progress)
    answered = ~np.isnan(Xa).all(axis=1)
    rows, models = [], {}
    for k in ks:
        model = done[(k, None)]
        models[k] = model
        labels = model.labels_
        counts = np.bincount(labels[answered], minlength=k)
        refits = [done[(k, b)] for b in range(n_boot)]
        aris, agreements = _stability(labels, refits, answered, counts, k)
        rows.append(_table_row(model, X, w, k, answered, counts, aris, agreements, n_boot))
    table = pd.DataFrame(rows)
    recommended, reason = _recommend(table, n_boot > 0)
    tests: dict[int, BLRTResult] = {}
    if blrt:
        tests = _blrt_tests(X, Xa, w, ks, models, n_init, blrt, boot_n_init, rng, progress)
        table["blrt_p"] = [tests[k].p_value if k in tests else np.nan for k in ks]
    return Selection(table, recommended, reason, models, tests)


@dataclass(frozen=True)
class _Fit:
    """One fit of the comparison: the full data (``boot`` None) or bootstrap resample ``boot``.

    A resample's rows and its fit's seed are the next draws of the random stream from
    ``state`` on (the stream's state when it was its turn), so a worker draws exactly what the
    fits one after another would have drawn.
    """

    k: int
    boot: int | None
    n_init: int
    seed: int = 0
    state: Any = None

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.k, self.boot)


def _plan(ks, n: int, n_init: int, n_boot: int, boot_n_init: int, rng) -> list[_Fit]:
    """Every fit, with its seed or random state, drawn from ``rng`` in the order of ``ks``:
    each k's seed, then each resample's rows and seed (as the fits one after another draw)."""
    fits = []
    for k in ks:
        fits.append(_Fit(k, None, n_init, seed=int(rng.randint(2**31 - 1))))
        for b in range(n_boot):
            state = rng.get_state()
            rng.randint(0, n, n)  # the resample's rows, drawn again by the fit from ``state``
            rng.randint(2**31 - 1)  # and its seed
            fits.append(_Fit(k, b, boot_n_init, state=state))
    return fits


def _run_fits(fits, estimator, Xa, columns, w, n_jobs, progress) -> dict:
    """Run ``fits`` (in this process, or in ``n_jobs`` loky processes); results by key.

    Warnings of a fit (a full-data fit that did not converge) are raised again here, in the
    order of ``fits``, whichever process ran it.
    """
    results: dict = {}
    caught: dict = {}
    by_key = {fit.key: fit for fit in fits}
    # the slowest fits first (more classes, more starts), so no process waits at the end
    order = fits if resolve_jobs(n_jobs) == 1 else sorted(fits, key=lambda f: -f.k * (f.n_init + 1))
    tasks = [(fit, estimator, Xa, columns, w) for fit in order]
    for key, result, messages in map_unordered(_run_task, tasks, n_jobs):
        results[key], caught[key] = result, messages
        if progress:
            progress(_message(by_key[key]))
    for fit in fits:
        for message, category in caught[fit.key]:
            warnings.warn(message, category, stacklevel=3)
    return results


def _message(fit: _Fit) -> str:
    return f"k={fit.k} fitted" if fit.boot is None else f"k={fit.k} bootstrap"


def _run_task(task):
    return _run_fit(*task)


def _run_fit(fit: _Fit, estimator, Xa: np.ndarray, columns, w: np.ndarray):
    """One fit: ``(key, result, warnings)``. The result is the fitted model of the full data,
    or a resample's classification of every respondent (None when the resample lost a
    category or became too small)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        if fit.boot is None:
            model = _model(estimator, fit.k, fit.n_init, fit.seed)
            result = model.fit(_rows(columns, Xa, slice(None)), sample_weight=w)
        else:
            result = _refit(fit, estimator, Xa, columns, w)
    messages = [(str(m.message), m.category) for m in seen]
    return fit.key, result, messages


def _refit(fit: _Fit, estimator, Xa, columns, w) -> np.ndarray | None:
    """The bootstrap refit ``fit``: its classification of every respondent, or None."""
    n = len(Xa)
    stream = np.random.RandomState()
    stream.set_state(fit.state)
    idx = stream.randint(0, n, n)
    boot = _model(estimator, fit.k, fit.n_init, int(stream.randint(2**31 - 1)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            boot.fit(_rows(columns, Xa, idx), sample_weight=w[idx])
        return _predict_seen(boot, Xa, columns)
    except ValueError:
        return None  # the resample lost a category or became too small: counts as unstable


def _stability(labels, refits, answered, counts, k) -> tuple[list, list]:
    """ARI and smallest per-segment agreement of each bootstrap refit with ``labels``."""
    aris, agreements = [], []
    for other in refits:
        if other is None:
            aris.append(0.0)
            agreements.append(0.0)
        else:
            aris.append(adjusted_rand_score(labels[answered], other[answered]))
            aligned = align_labels(labels[answered], other[answered], k)
            agree = [np.mean(aligned[labels[answered] == c] == c) for c in range(k) if counts[c]]
            agreements.append(min(agree))
    return aris, agreements


def _table_row(model, X, w, k, answered, counts, aris, agreements, n_boot) -> dict:
    """The row of the selection table of the k-class model."""
    criteria = model.information_criteria(X, sample_weight=w)
    return {
        "k": k,
        "loglik": model.loglik_,
        "n_parameters": model.n_parameters(),
        "bic": criteria["bic"],
        "aic": criteria["aic"],
        "sabic": criteria["sabic"],
        "entropy": model.entropy_,
        "smallest_share": float(model.weights_.min()),
        "smallest_n": float(model.weights_.min() * w[answered].sum()),
        "smallest_respondents": int(counts.min()),
        "stability": float(np.mean(aris)) if n_boot else np.nan,
        "stability_sd": float(np.std(aris)) if n_boot else np.nan,
        "min_segment_agreement": float(np.mean(agreements)) if n_boot else np.nan,
        "converged": model.converged_,
    }


def _blrt_tests(
    X, Xa, w, ks, models, n_init, blrt, boot_n_init, rng, progress
) -> dict[int, BLRTResult]:
    """The bootstrap likelihood ratio test of each k >= 2 against k - 1 classes."""
    tests: dict[int, BLRTResult] = {}
    blrt_rng = check_random_state(int(rng.randint(2**31 - 1)))
    for k in ks:
        if k < 2:
            continue
        null = models.get(k - 1)
        if null is None:
            null = LatentClassModel(
                k - 1, n_init=n_init, random_state=int(blrt_rng.randint(2**31 - 1))
            ).fit(X, sample_weight=w)
        tests[k] = _blrt(Xa, w, null, models[k], blrt, boot_n_init, blrt_rng, progress)
    return tests


def _model(template: LatentClassModel | None, k: int, n_init: int, seed: int):
    """An unfitted copy of ``template`` (default: the nominal latent class model) with k classes."""
    if template is None:
        return LatentClassModel(k, n_init=n_init, random_state=seed)
    return clone(template).set_params(n_components=k, n_init=n_init, random_state=seed)


def _rows(columns, Xa: np.ndarray, idx: np.ndarray | slice):
    """Rows ``idx`` of the answers, as a DataFrame with ``columns`` when there are column names
    (item types by name)."""
    if columns is not None:
        return pd.DataFrame(Xa[idx], columns=columns)
    return Xa[idx]


def _predict_seen(model: LatentClassModel, X: np.ndarray, columns=None) -> np.ndarray:
    """Classify rows, treating answers the refit never saw as missing (``columns``: the
    answers' column names, which the refit may need)."""
    X = X.copy()
    for j, cats in enumerate(model.categories_):
        X[~np.isin(X[:, j], cats) & ~np.isnan(X[:, j]), j] = np.nan
    return model.predict(_rows(columns, X, slice(None)))


def _recommend(table: pd.DataFrame, with_stability: bool) -> tuple[int, str]:
    ok = (table["smallest_share"] >= MIN_SHARE) & (table["smallest_respondents"] >= MIN_RESPONDENTS)
    if with_stability:
        ok &= table["stability"] >= MIN_STABILITY
    best_bic = int(table.loc[table["bic"].idxmin(), "k"])
    if not ok.any():
        return best_bic, (
            f"k={best_bic} has the lowest BIC, but no k meets the size and stability criteria "
            f"(smallest segment >= {MIN_SHARE:.0%} and >= {MIN_RESPONDENTS} respondents"
            + (f", stability >= {MIN_STABILITY}" if with_stability else "")
            + "); treat it with caution"
        )
    candidates = table[ok]
    k = int(candidates.loc[candidates["bic"].idxmin(), "k"])
    row = table.set_index("k").loc[k]
    reason = (
        f"lowest BIC ({row['bic']:,.1f}) among solutions whose smallest segment holds at least "
        f"{MIN_SHARE:.0%} of the sample and {MIN_RESPONDENTS} respondents"
    )
    if with_stability:
        reason += (
            f" and whose bootstrap stability is at least {MIN_STABILITY} "
            f"(k={k}: {row['stability']:.2f})"
        )
    if k != best_bic:
        reason += f"; k={best_bic} has a lower BIC but fails those criteria"
    return k, reason
