"""A confirmatory fit against a reference typology: which of its segments do the data support?

An exploratory fit chooses the number of segments from the data (BIC) and may merge two
reference segments that the data hardly separate. The confirmatory fit asks the typology's
question directly: it fits as many segments as the typology has, segment ``r`` started from
and shrunk towards the answers the typology expects of reference segment ``r``
(:func:`segment.cards.expected_answers.item_answer_probs`), and tests each reference segment
against merging it with its nearest neighbour.

The model is :class:`~segment.models.LatentClassModel` with

- starts: the expected answer distributions and the typology's shares;
- a weakly informative Dirichlet prior on every class's answer probabilities, pseudo-counts
  ``a_rjc = prior_strength * p_rjc`` with ``p_rjc`` the expected distribution of item j in
  reference segment r (posterior-mode EM; Galindo Garre & Vermunt 2006, *Behaviormetrika*
  33(1)). The default strength, :data:`DEFAULT_PRIOR_STRENGTH`, is worth 5 respondents per item
  and segment: next to a segment of 150 respondents it moves an answer share by at most about
  3 points, and a reference segment the data do not contain is not held up by it (its class
  shrinks or drifts away from its reference, and the table says "not supported");
- the classes kept in the typology's order (``class_order="init"``).

An item the typology does not describe for a segment gets the sample's answer distribution.

For each reference segment r, its *nearest neighbour* s is the other class whose fitted answer
probabilities are closest (mean total-variation distance over the items). The merged model has
K - 1 classes, r and s pooled (share-weighted mean answer probabilities and pseudo-counts), and
is fitted from the pooled parameters. The two are compared by BIC, AIC and a parametric bootstrap
likelihood ratio test (McLachlan 1987; Nylund, Asparouhov & Muthen 2007, *Structural Equation
Modeling* 14(4)): ``B`` samples are simulated from the fitted merged model (rows resampled with
their weights and missing-answer patterns), both models are refitted to each (the merged one
from its generating parameters, the K-class one from the confirmatory fit), and
``p = (1 + #{LR_b >= LR}) / (B + 1)``. A pair of mutual nearest neighbours is tested once.

Verdicts: *supported* when BIC, AIC and the bootstrap LRT all prefer separating r from s (and
r is not empty nor far from its reference profile); *not supported* when none does, or the class
holds under :data:`MIN_SHARE` of the sample, or its profile is more than :data:`MAX_DISTANCE`
from the reference's (:func:`segment.cards.naming.typology_distances`); otherwise *merged with
s*, saying which criteria prefer merging and which separating.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from segment._util import normalised_weights
from segment.cards.expected_answers import DEFAULT_SPREAD, item_answer_probs
from segment.cards.naming import DEFAULT_MAX_DISTANCE, typology_distances
from segment.cards.profile_stats import SegmentProfiles, profile_segments
from segment.cards.typology import Typology
from segment.disclosure import protect_cells
from segment.exceptions import SegmentError
from segment.models import LatentClassModel
from segment.models.parallel import map_in_order
from segment.survey.codebook import Codebook

__all__ = [
    "DEFAULT_PRIOR_STRENGTH",
    "MAX_DISTANCE",
    "MIN_SHARE",
    "N_BOOT",
    "ConfirmatoryFit",
    "confirm_typology",
    "expected_item_probs",
]

#: Prior pseudo-counts per item and reference segment (respondents' worth).
DEFAULT_PRIOR_STRENGTH = 5.0
#: Bootstrap samples of each merge test (the smallest attainable p is 1 / (N_BOOT + 1)).
N_BOOT = 99
#: Significance level of the bootstrap LRT.
ALPHA = 0.05
#: Pseudo-counts that hold a class's answer probabilities at given values in a merge test.
HOLD = 1e6
#: A reference segment whose class holds less of the sample than this is not supported ...
MIN_SHARE = 0.02
#: ... nor one whose fitted profile is farther than this from the reference profile (the
#: distance at which :func:`segment.cards.naming.name_segments` gives a segment the name).
MAX_DISTANCE = DEFAULT_MAX_DISTANCE


def expected_item_probs(
    X: pd.DataFrame, codebook: Codebook, typology: Typology, sample_weight=None
) -> list[np.ndarray]:
    """Expected answer probabilities of each reference segment, on the answer codes of ``X``.

    Returns, for each column j of ``X``, a (segments x codes) array whose columns are the sorted
    codes ``X[j]`` holds (the categories a :class:`LatentClassModel` sees). A segment the
    typology says nothing about for the item, and codes the typology does not model (a second
    don't-know code), take the sample's answer distribution.
    """
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    k = len(typology.segments)
    out = []
    for col in X.columns:
        values = X[col].to_numpy(dtype=float)
        seen = ~np.isnan(values)
        cats = np.unique(values[seen])
        idx = np.searchsorted(cats, values[seen])
        marginal = np.bincount(idx, weights=w[seen], minlength=len(cats))
        marginal = marginal / marginal.sum()
        probs = np.tile(marginal, (k, 1))
        stated = [col in typology.expected_levels(s.id) for s in typology.segments]
        item = codebook[col] if col in codebook else None
        if any(stated) and item is not None and len(item.substantive_codes) >= 2:
            codes, table = item_answer_probs(typology, item, DEFAULT_SPREAD)
            pos = np.searchsorted(codes, cats)
            known = (pos < len(codes)) & (codes[np.minimum(pos, len(codes) - 1)] == cats)
            for r in np.flatnonzero(stated):
                row = np.where(known, table[r, np.minimum(pos, len(codes) - 1)], marginal)
                probs[r] = row / row.sum()
        out.append(probs)
    return out


@dataclass(frozen=True)
class ConfirmatoryFit:
    """Result of :func:`confirm_typology`.

    Attributes
    ----------
    typology : Typology
    table : DataFrame
        One row per reference segment, in the typology's order: ``segment, name, share, ci_low,
        ci_high, distance, nearest, nearest_name, delta_bic, delta_aic, lr, p_value, verdict,
        status, withheld`` (a ``withheld`` share, of fewer than ``min_cell`` respondents or
        their complement, is NaN with its interval; ``delta_bic = BIC(merged) - BIC(K)``:
        positive prefers separating; ``status`` is ``supported``, ``merged`` or
        ``not supported``).
    fit : dict
        ``k, loglik, n_parameters, bic, aic`` of the confirmatory fit; ``log_posterior``.
    free : dict or None
        The same of the free (exploratory) fit it is compared with.
    n : float
        Respondents in the model (sum of the weights, rescaled to mean 1).
    prior_strength : float
    n_boot : int
    estimator : LatentClassModel
        The confirmatory fit (classes in the typology's order).
    profiles : SegmentProfiles
        Its profile statistics.
    """

    typology: Typology
    table: pd.DataFrame
    fit: dict[str, float]
    free: dict[str, float] | None
    n: float
    prior_strength: float
    n_boot: int
    estimator: LatentClassModel = field(repr=False)
    profiles: SegmentProfiles = field(repr=False)

    @property
    def k(self) -> int:
        return int(self.fit["k"])

    def separated(self) -> list[str]:
        """Names of the reference segments the data support."""
        return list(self.table.loc[self.table["status"] == "supported", "name"])

    def merged_pairs(self) -> list[tuple[str, str, str]]:
        """``(name, nearest name, verdict)`` of each pair the data do not clearly separate,
        once per pair."""
        seen: set[frozenset[str]] = set()
        pairs = []
        for row in self.table.itertuples():
            if row.status != "merged":
                continue
            key = frozenset((row.segment, row.nearest))
            if key in seen:
                continue
            seen.add(key)
            pairs.append((str(row.name), str(row.nearest_name), str(row.verdict)))
        return pairs

    def statements(self) -> list[str]:
        """Plain sentences: which reference segments the data separate, which they merge."""
        n = f"N = {self.n:,.0f}"
        lines = []
        for row in self.table.itertuples():
            if row.status == "merged":
                continue
            if row.status == "not supported":
                reason = str(row.verdict).removeprefix("not supported: ")
                lines.append(f"{row.name} is not supported at {n}: {reason}.")
        for name, other, _ in self.merged_pairs():
            row = self.table.set_index("name").loc[name]
            prefer = _criteria(row)
            merge = " and ".join(prefer["merge"])
            sep = " and ".join(prefer["separate"])
            verb_m = "prefers" if len(prefer["merge"]) == 1 else "prefer"
            verb_s = "prefers" if len(prefer["separate"]) == 1 else "prefer"
            lines.append(
                f"{name} and {other} are not separated at {n}: {merge} {verb_m} merging them; "
                f"{sep} {verb_s} {_number(self.k)}."
            )
        supported = self.separated()
        if supported:
            lines.insert(0, f"The data separate {_join(supported)} ({len(supported)} of {self.k}).")
        return lines

    def summary(self) -> str:
        """The support table as text (statsmodels style)."""
        f, t = self.fit, self.table
        width = 100
        lines = [
            "=" * width,
            f"Confirmatory fit against the {self.typology.name} typology ({self.k} segments)",
            "=" * width,
            f"Respondents: {self.n:,.0f}   prior strength: {self.prior_strength:g} respondents "
            f"per item and segment   bootstrap samples per test: {self.n_boot}",
            f"{'':24}{'log-lik':>14}{'parameters':>12}{'BIC':>14}{'AIC':>14}",
            f"{'confirmatory k=' + str(self.k):24}{f['loglik']:>14,.1f}{f['n_parameters']:>12d}"
            f"{f['bic']:>14,.1f}{f['aic']:>14,.1f}",
        ]
        if self.free is not None:
            g = self.free
            lines.append(
                f"{'free k=' + str(int(g['k'])):24}{g['loglik']:>14,.1f}"
                f"{int(g['n_parameters']):>12d}"
                f"{g['bic']:>14,.1f}{g['aic']:>14,.1f}"
            )
        lines += [
            "-" * width,
            f"{'reference segment':24}{'share':>7}{'95% CI':>13}{'dist':>6}  "
            f"{'nearest':22}{'dBIC':>8}{'dAIC':>8}{'p(LRT)':>8}",
            "-" * width,
        ]
        for r in t.itertuples():
            share = "–" if r.share != r.share else f"{r.share:.1%}"
            interval = "withheld" if r.share != r.share else f"{r.ci_low:.1%}-{r.ci_high:.1%}"
            lines.append(
                f"{_cut(str(r.name), 24):24}{share:>7}"
                f"{interval:>13}{_num(r.distance, '.3f'):>6}  "
                f"{_cut(str(r.nearest_name), 22):22}{_num(r.delta_bic, ',.1f'):>8}"
                f"{_num(r.delta_aic, ',.1f'):>8}{_num(r.p_value, '.3f'):>8}"
            )
        lines.append("-" * width)
        for r in t.itertuples():
            lines.append(f"{r.name}: {r.verdict}")
        lines += [
            "-" * width,
            "dist: RMS distance of the fitted profile to the reference profile (0..1 scale); "
            "dBIC, dAIC: merged",
            "with the nearest minus separate (> 0 prefers separating); p(LRT): parametric "
            "bootstrap LRT of",
            "separate against merged.",
            "=" * width,
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers of the table and the fits."""
        rows = self.table.replace({np.nan: None}).to_dict(orient="records")
        return {
            "typology": self.typology.name,
            "k": self.k,
            "n": float(self.n),
            "prior_strength": self.prior_strength,
            "n_boot": self.n_boot,
            "fit": {key: float(v) for key, v in self.fit.items()},
            "free": None if self.free is None else {k: float(v) for k, v in self.free.items()},
            "segments": rows,
            "statements": self.statements(),
        }


def _num(value: float, spec: str) -> str:
    """``value`` formatted by ``spec``; "–" when it is not a number (no test, no profile)."""
    return "–" if value != value else format(value, spec)


def _cut(text: str, n: int) -> str:
    return text if len(text) < n else text[: n - 2] + "~ "


def _number(k: int) -> str:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    return words[k] if 0 <= k < len(words) else str(k)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _criteria(row) -> dict[str, list[str]]:
    """Which of BIC, AIC and the bootstrap LRT prefer separating, which merging."""
    out: dict[str, list[str]] = {"separate": [], "merge": []}
    out["separate" if row["delta_bic"] > 0 else "merge"].append("BIC")
    out["separate" if row["delta_aic"] > 0 else "merge"].append("AIC")
    out["separate" if row["p_value"] <= ALPHA else "merge"].append("the bootstrap LRT")
    return out


def _fit_stats(model: LatentClassModel, X, w) -> dict[str, float]:
    return {
        "k": float(model.n_components),
        "loglik": float(model.loglik_),
        "n_parameters": int(model.n_parameters()),
        "bic": float(model.bic(X, sample_weight=w)),
        "aic": float(model.aic(X, sample_weight=w)),
    }


def _model(k, init, shares, prior, max_iter=1000, tol=1e-8) -> LatentClassModel:
    return LatentClassModel(
        k,
        n_init=0,
        max_iter=max_iter,
        tol=tol,
        random_state=0,
        init_item_probs=init,
        init_weights=shares,
        item_prior=prior,
        class_order="init",
    )


def _merge(probs: list[np.ndarray], shares: np.ndarray, r: int, s: int):
    """Parameters with classes r and s pooled (share-weighted), the pooled class at r's place."""
    keep = [c for c in range(len(shares)) if c != s]
    pooled_share = shares[r] + shares[s]
    wr, ws = shares[r] / pooled_share, shares[s] / pooled_share
    out = []
    for p in probs:
        q = p[keep].copy()
        q[keep.index(r)] = wr * p[r] + ws * p[s]
        out.append(q)
    new_shares = shares[keep].copy()
    new_shares[keep.index(r)] = pooled_share
    return out, new_shares


def _simulate(model: LatentClassModel, observed: np.ndarray, rng: np.random.Generator):
    """Answers drawn from a fitted model where ``observed`` (others NaN)."""
    n = observed.shape[0]
    shares = np.asarray(model.weights_, dtype=float)
    z = rng.choice(model.n_components, size=n, p=shares / shares.sum())
    out = np.full(observed.shape, np.nan)
    for j, (cats, probs) in enumerate(zip(model.categories_, model.item_probs_, strict=True)):
        cum: np.ndarray = np.cumsum(np.asarray(probs, dtype=float), axis=1)
        u = rng.random((n, 1)) * cum[z, -1:]
        index = np.minimum((u >= cum[z]).sum(axis=1), len(cats) - 1)
        out[:, j] = np.where(observed[:, j], cats[index], np.nan)
    return out


def _on_categories(arrays: list[list[np.ndarray]], full: list[np.ndarray], sim: np.ndarray):
    """The columns of per-item arrays for the codes a simulated sample holds (items with fewer
    than two codes dropped); returns (arrays, kept item mask)."""
    keep, out = [], []
    for j, cats in enumerate(full):
        col = sim[:, j]
        present = np.unique(col[~np.isnan(col)])
        keep.append(len(present) >= 2)
        if len(present) >= 2:
            out.append(np.searchsorted(cats, present))
    mask = np.array(keep)
    return [
        [a[j][:, idx] for j, idx in zip(np.flatnonzero(mask), out, strict=True)] for a in arrays
    ], mask


def _boot_lr(task) -> float | None:
    """LR statistic of one simulated sample: the merged and full models refitted from their
    own parameters (None when a refit is impossible, e.g. an item left with one answer).

    The sample is simulated here, from the generator state the parent recorded after drawing
    its rows (:func:`_skip_simulation`), so that workers simulate in parallel.
    """
    rows, state, observed, weights, full, merged, prior_full, prior_merged = task
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    sim = _simulate(merged, observed[rows], rng)
    weights = weights[rows]
    k = full.n_components
    (start_m, start_f, a_m, a_f), keep = _on_categories(
        [merged.item_probs_, full.item_probs_, prior_merged, prior_full],
        full.categories_,
        sim,
    )
    sim = sim[:, keep]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_m = _model(k - 1, start_m, merged.weights_, a_m, tol=1e-6).fit(
                sim, sample_weight=weights
            )
            fit_f = _model(k, start_f, full.weights_, a_f, tol=1e-6).fit(sim, sample_weight=weights)
    except ValueError:
        return None
    return 2 * (fit_f.loglik_ - fit_m.loglik_)


def _skip_simulation(rng: np.random.Generator, n: int, n_items: int) -> dict:
    """The state of ``rng`` (PCG64) now, and ``rng`` moved past the draws :func:`_simulate`
    makes for ``n`` respondents and ``n_items`` items: ``n`` doubles for the classes and ``n``
    per item, one 64-bit output each. ``advance`` forgets the buffered 32-bit half that the next
    ``integers`` call may use; it is put back, so the stream is the one of simulating here."""
    bit_generator = rng.bit_generator
    if not isinstance(bit_generator, np.random.PCG64):
        raise TypeError(f"the bootstrap's generator must be PCG64, got {bit_generator!r}")
    before: dict[str, Any] = dict(bit_generator.state)
    bit_generator.advance(n * (1 + n_items))
    after: dict[str, Any] = dict(bit_generator.state)
    after["has_uint32"], after["uinteger"] = before["has_uint32"], before["uinteger"]
    bit_generator.state = after  # type: ignore[assignment]
    return before


#: Bootstrap samples handed to the workers at a time.
BOOT_CHUNK = 128


def _bootstrap_lr(
    Xa: np.ndarray,
    w: np.ndarray,
    full: LatentClassModel,
    merged: LatentClassModel,
    prior_full: list[np.ndarray],
    prior_merged: list[np.ndarray],
    lr: float,
    n_boot: int,
    rng: np.random.Generator,
    n_jobs: int | None = 1,
) -> float:
    """Parametric bootstrap p-value of ``lr`` under the merged model (module docstring).

    Each sample's rows are drawn here, in order, from ``rng``, which then skips the draws of
    its simulation; the simulations and refits run on ``n_jobs`` processes
    (:func:`segment.models.parallel.map_in_order`): the same p-value either way, and the same
    as simulating each sample here.
    """
    answered = ~np.isnan(Xa).all(axis=1) & (w > 0)
    observed = ~np.isnan(Xa[answered])
    weights = w[answered]
    m, n_items = observed.shape
    boot: list[float] = []
    for start in range(0, n_boot, BOOT_CHUNK):
        tasks = []
        for _ in range(min(BOOT_CHUNK, n_boot - start)):
            rows = rng.integers(0, m, m)
            state = _skip_simulation(rng, m, n_items)
            tasks.append((rows, state, observed, weights, full, merged, prior_full, prior_merged))
        boot += [v for v in map_in_order(_boot_lr, tasks, n_jobs) if v is not None]
    b = np.array(boot)
    return float((1 + np.sum(b >= lr)) / (1 + len(b)))


def _held(probs: list[np.ndarray], prior: list[np.ndarray], free: list[int]) -> list[np.ndarray]:
    """Pseudo-counts that hold every class but ``free`` at ``probs`` (:data:`HOLD` counts);
    the ``free`` classes keep ``prior``."""
    out = []
    for p, a in zip(probs, prior, strict=True):
        b = HOLD * p
        b[free] = a[free]
        out.append(b)
    return out


def _nearest(probs: list[np.ndarray]) -> np.ndarray:
    """(K x K) mean total-variation distance between classes' answer probabilities."""
    k = probs[0].shape[0]
    d = np.zeros((k, k))
    for p in probs:
        d += 0.5 * np.abs(p[:, None, :] - p[None, :, :]).sum(axis=2)
    d /= len(probs)
    np.fill_diagonal(d, np.inf)
    return d


def confirm_typology(
    X: pd.DataFrame,
    frame: pd.DataFrame,
    codebook: Codebook,
    typology: Typology,
    *,
    sample_weight: np.ndarray | None = None,
    free: LatentClassModel | None = None,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    n_boot: int = N_BOOT,
    random_state: int = 1,
    min_cell: int = 30,
    n_jobs: int | None = None,
) -> ConfirmatoryFit:
    """Fit the typology's segments to the survey and test each against merging (module
    docstring).

    Parameters
    ----------
    X : DataFrame
        Answer codes of the segmentation items (:func:`segment.segments.fit.segmentation_inputs`).
    frame : DataFrame
        The survey rows of ``X`` (for the profiles).
    codebook : Codebook
    typology : Typology
    sample_weight : array, optional
        Survey weights (rescaled to mean 1).
    free : LatentClassModel, optional
        The exploratory fit to compare with (its log-likelihood, BIC and AIC).
    prior_strength : float
        Pseudo-counts per item and reference segment (0: maximum likelihood from the
        typology's starts).
    n_boot : int
        Bootstrap samples of each merge test.
    random_state : int
        The same data and seed give the same table.
    min_cell : int
        Smallest cell the profiles report.
    n_jobs : int, optional
        Processes for the bootstrap refits (None: ``SEGMENT_JOBS`` or every core; 1: this
        process). The table does not depend on it.

    Raises
    ------
    SegmentError
        If the typology has fewer than two segments or more segments than respondents, or
        ``prior_strength`` is negative.
    """
    k = len(typology.segments)
    if k < 2:
        raise SegmentError(
            f"typology {typology.name!r} has {k} segment; a confirmatory fit needs 2"
        )
    if not (np.isfinite(prior_strength) and prior_strength >= 0):
        raise SegmentError(f"prior strength must be non-negative, got {prior_strength!r}")
    if len(X) < k:
        raise SegmentError(f"{len(X)} respondents are too few for {k} segments")
    w = normalised_weights(
        np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    )
    expected = expected_item_probs(X, codebook, typology, w)
    prior = [prior_strength * p for p in expected]
    shares = np.array([s.share if s.share is not None else np.nan for s in typology.segments])
    shares = np.full(k, 1.0 / k) if np.isnan(shares).any() else shares / shares.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _model(k, expected, shares, prior).fit(X, sample_weight=w)
    resp = model.predict_proba(X)
    profiles = profile_segments(
        resp,
        frame,
        codebook,
        items=list(X.columns),
        sample_weight=w,
        min_cell=min_cell,
    )
    distance = np.diag(typology_distances(profiles, typology).to_numpy())
    shares_fit = _shares(profiles, model)
    # the shares add up to one: a segment under the threshold is hidden with its complement
    counts = resp.sum(axis=0)
    withheld = protect_cells(counts, [np.arange(k)], min_cell=min_cell)
    present = (shares_fit[:, 0] >= MIN_SHARE) & (distance <= MAX_DISTANCE)
    near = _nearest(model.item_probs_)
    near_present = np.where(present[None, :], near, np.inf)
    nearest = np.where(
        present & np.isfinite(near_present).any(axis=1),
        np.argmin(near_present, axis=1),
        np.argmin(near, axis=1),
    )
    fit = _fit_stats(model, X, w)
    fit["log_posterior"] = float(model.log_posterior_)
    rng = np.random.default_rng(random_state)
    Xa = X.to_numpy(dtype=float)
    tests: dict[frozenset[int], dict[str, float]] = {}
    for r in (int(c) for c in np.flatnonzero(present)):
        s = int(nearest[r])
        key = frozenset((r, s))
        if key in tests or not present[s]:
            continue
        lo, hi = min(r, s), max(r, s)
        start, merged_shares = _merge(model.item_probs_, model.weights_, lo, hi)
        a_pooled, _ = _merge(prior, model.weights_, lo, hi)
        a_merged = _held(start, a_pooled, [lo])
        a_full = _held(model.item_probs_, prior, [lo, hi])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            merged = _model(k - 1, start, merged_shares, a_merged).fit(X, sample_weight=w)
        m_stats = _fit_stats(merged, X, w)
        lr = 2 * (fit["loglik"] - m_stats["loglik"])
        tests[key] = {
            "delta_bic": m_stats["bic"] - fit["bic"],
            "delta_aic": m_stats["aic"] - fit["aic"],
            "lr": lr,
            "p_value": _bootstrap_lr(
                Xa, w, model, merged, a_full, a_merged, lr, n_boot, rng, n_jobs
            ),
        }
    table = _table(typology, shares_fit, distance, nearest, tests, min_cell, withheld)
    return ConfirmatoryFit(
        typology=typology,
        table=table,
        fit=fit,
        free=None if free is None else _fit_stats(free, X, w),
        n=float(w.sum()),
        prior_strength=float(prior_strength),
        n_boot=int(n_boot),
        estimator=model,
        profiles=profiles,
    )


def _shares(profiles: SegmentProfiles, model: LatentClassModel) -> np.ndarray:
    """(K x 3) share, interval low and high of each class: the profiles' (design-based where
    the codebook has a design); a suppressed share is the model's, without an interval."""
    table = profiles.shares.set_index("segment")
    out = np.full((model.n_components, 3), np.nan)
    for r in range(model.n_components):
        row = table.loc[r]
        if np.isfinite(row["share"]):
            out[r] = [row["share"], row["ci_low"], row["ci_high"]]
        else:
            out[r, 0] = model.weights_[r]
    return out


NO_TEST = {"delta_bic": np.nan, "delta_aic": np.nan, "lr": np.nan, "p_value": np.nan}


def _table(typology, shares, distance, nearest, tests, min_cell, withheld) -> pd.DataFrame:
    """The table of :class:`ConfirmatoryFit`; a ``withheld`` share (under ``min_cell``
    respondents, or its complement) is NaN with its interval, and no verdict quotes it."""
    rows = []
    for r, seg in enumerate(typology.segments):
        s = int(nearest[r])
        other = typology.segments[s]
        row: dict[str, Any] = {
            "segment": seg.id,
            "name": seg.name,
            "share": float(shares[r, 0]),
            "ci_low": float(shares[r, 1]),
            "ci_high": float(shares[r, 2]),
            "distance": float(distance[r]),
            "nearest": other.id,
            "nearest_name": other.name,
            **tests.get(frozenset((r, s)), NO_TEST),
        }
        row["status"], row["verdict"] = _verdict(row, min_cell, bool(withheld[r]))
        if withheld[r]:
            row.update(share=np.nan, ci_low=np.nan, ci_high=np.nan)
        row["withheld"] = bool(withheld[r])
        rows.append(row)
    return pd.DataFrame(rows)


def _verdict(row: dict[str, Any], min_cell: int, withheld: bool = False) -> tuple[str, str]:
    """(status, verdict text) of one reference segment (module docstring); the text of a
    ``withheld`` segment does not quote its share."""
    if row["share"] < MIN_SHARE:
        if withheld:
            return "not supported", (
                f"not supported: its segment holds under {MIN_SHARE:.0%} of the sample "
                f"(share withheld: fewer than {min_cell} respondents, or it would reveal a "
                "segment that small)"
            )
        small = " (too few respondents to profile)" if row["ci_low"] != row["ci_low"] else ""
        return "not supported", (
            f"not supported: its segment holds {row['share']:.1%} of the sample{small}"
        )
    if not row["distance"] <= MAX_DISTANCE:
        far = "unknown" if row["distance"] != row["distance"] else f"{row['distance']:.3f}"
        return "not supported", (
            f"not supported: the segment fitted in its place is {far} from its reference "
            f"profile (a name needs at most {MAX_DISTANCE:g})"
        )
    if row["p_value"] != row["p_value"]:
        return "supported", "supported: no other reference segment is supported to merge it with"
    prefer = _criteria(row)
    if not prefer["merge"]:
        return "supported", (
            f"supported: BIC, AIC and the bootstrap LRT prefer separating it from "
            f"{row['nearest_name']}"
        )
    if not prefer["separate"]:
        return "not supported", (
            f"not supported: BIC, AIC and the bootstrap LRT prefer merging it with "
            f"{row['nearest_name']}"
        )
    merge, sep = " and ".join(prefer["merge"]), " and ".join(prefer["separate"])
    verb_m = "prefers" if len(prefer["merge"]) == 1 else "prefer"
    verb_s = "prefers" if len(prefer["separate"]) == 1 else "prefer"
    return "merged", (
        f"merged with {row['nearest_name']}: {merge} {verb_m} merging; {sep} {verb_s} separating"
    )
