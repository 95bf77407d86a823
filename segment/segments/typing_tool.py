"""Typing tools: a few "golden questions" that place a new respondent in a segment.

A typing tool is the fitted latent class model restricted to a few items: a respondent's
segment probabilities are computed from those items alone (the other items drop out of the
likelihood, exactly as missing answers do), so the tool needs no new estimation and its answers
are scored like any partial interview.

Questions are chosen by greedy forward selection: starting from none, add the item that most
increases the (weighted) share of respondents whose tool segment equals the full model's
segment. Accuracy is estimated by V-fold cross-validation in which the held-out respondents
take part in nothing: in each fold the latent class model is refitted on the training
respondents (same settings, ``refit_n_init`` starts), the questions are chosen on them, and
the held-out respondents are typed by the fold's tool and compared with the fold model's
segment from all their answers (what a new respondent's full interview would give). The
no-information baseline is the share of held-out respondents in the training fold's largest
segment: a tool must beat it to be worth asking (Hastie, Tibshirani & Friedman 2009, ch. 7.10
on cross-validation that repeats every step of the fit inside the folds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold

from segment._util import normalised_weights
from segment.exceptions import DataError, Problem
from segment.models.align import match_classes

from .model import SegmentModel

__all__ = ["TypingToolResult", "build_typing_tool", "read_true_segments", "select_questions"]


def _item_log_lik(est, codes: np.ndarray) -> np.ndarray:
    """(items, respondents, segments) log P(answer | segment) under estimator ``est``; 0 for a
    missing answer and for an answer ``est`` never saw (a fold model fitted without it)."""
    n, n_items = codes.shape
    out = np.zeros((n_items, n, est.n_components))
    for j, cats in enumerate(est.categories_):
        col = codes[:, j]
        cats = np.asarray(cats, dtype=float)
        idx = np.clip(np.searchsorted(cats, col), 0, len(cats) - 1)
        ok = ~np.isnan(col) & (cats[idx] == col)
        with np.errstate(divide="ignore"):
            out[j, ok] = np.log(est.item_probs_[j][:, idx[ok]].T)
    return out


def _greedy(
    log_lik: np.ndarray, log_prior: np.ndarray, target: np.ndarray, weights: np.ndarray, max_k: int
) -> list[int]:
    """Greedy forward selection of up to ``max_k`` items maximising weighted agreement."""
    n_items = log_lik.shape[0]
    joint = np.broadcast_to(log_prior, log_lik.shape[1:]).copy()
    chosen: list[int] = []
    for _ in range(min(max_k, n_items)):
        best, best_acc = -1, -1.0
        for j in range(n_items):
            if j in chosen:
                continue
            acc = float(weights @ (np.argmax(joint + log_lik[j], axis=1) == target))
            if acc > best_acc + 1e-12:
                best, best_acc = j, acc
        chosen.append(best)
        joint += log_lik[best]
    return chosen


def _accuracy(log_lik, log_prior, target, weights, items) -> float:
    joint = log_prior + log_lik[items].sum(axis=0)
    return float(weights @ (np.argmax(joint, axis=1) == target) / weights.sum())


@dataclass(frozen=True)
class TypingToolResult:
    """Cross-validated accuracy by number of questions, and the questions chosen on all data.

    Attributes
    ----------
    table : DataFrame
        ``questions, accuracy, accuracy_sd, baseline, train_accuracy``: mean (and SD over folds)
        holdout agreement with the segment from all answers (module docstring), the
        no-information baseline (share of held-out respondents in the largest segment), and the
        in-sample agreement of the all-data selection with the full model.
    order : list of str
        Items in the order the all-data greedy selection added them.
    """

    table: pd.DataFrame
    order: list[str]

    def questions(self, k: int) -> list[str]:
        return self.order[:k]


def select_questions(
    model: SegmentModel,
    frame: pd.DataFrame,
    sizes: list[int],
    *,
    n_folds: int = 5,
    sample_weight=None,
    random_state: int | None = 0,
    refit_n_init: int = 3,
    true_segments=None,
) -> TypingToolResult:
    """Choose golden questions and estimate the accuracy of a tool of each size in ``sizes``.

    Parameters
    ----------
    model : SegmentModel
    frame : DataFrame
        The survey the model was fitted on (or another with its items).
    sizes : list of int
        Numbers of questions to evaluate.
    n_folds : int
        Cross-validation folds; the model is refitted in each (module docstring).
    sample_weight : array, optional
        Survey weights (default: the codebook's weight column, else equal).
    random_state : int or None
        Seed of the folds and of the refits.
    refit_n_init : int
        Random starts of each fold's refit.
    true_segments : array-like of shape (n_rows,), optional
        Each respondent's true segment (a synthetic survey's generating segment). Adds
        ``truth_accuracy``: the holdout share the tool puts in its true segment, the fold
        model's segments matched one-to-one to the true ones on the training respondents
        (Hungarian algorithm), and ``full_truth_accuracy``, the same for the fold model with
        every answer.
    """
    codes, reasons, _ = model.answers(frame)
    keep = reasons == None  # noqa: E711 - refused rows cannot be used
    codes = codes[keep]
    if sample_weight is None:
        cb = model.codebook
        w = (
            frame[cb.weight].to_numpy(dtype=float)[keep]
            if cb.weight and cb.weight in frame
            else np.ones(len(codes))
        )
    else:
        w = np.asarray(sample_weight, dtype=float)[keep]
    w = normalised_weights(w)
    truth = None
    if true_segments is not None:
        labels = np.asarray(true_segments, dtype=object)
        if len(labels) != len(frame):
            raise ValueError(f"true_segments has {len(labels)} rows, the survey {len(frame)}")
        truth = np.unique(labels[keep].astype(str), return_inverse=True)[1]
    max_k = max(sizes)
    if max_k > len(model.items):
        raise ValueError(
            f"asked for up to {max_k} questions but the model has {len(model.items)} items"
        )
    folds = KFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    holdout: dict[int, list[float]] = {k: [] for k in sizes}
    truth_holdout: dict[int, list[float]] = {k: [] for k in sizes}
    full_truth: list[float] = []
    baseline: list[float] = []
    for fold, (train, test) in enumerate(folds.split(codes)):
        est = clone(model.estimator).set_params(
            n_init=refit_n_init,
            random_state=None if random_state is None else random_state + fold,
        )
        est.fit(codes[train], sample_weight=w[train])
        log_prior = np.log(est.prior_shares_)
        log_lik = _item_log_lik(est, codes)
        target = np.argmax(log_prior + log_lik.sum(axis=0), axis=1)
        order = _greedy(log_lik[:, train], log_prior, target[train], w[train], max_k)
        for k in sizes:
            holdout[k].append(
                _accuracy(log_lik[:, test], log_prior, target[test], w[test], order[:k])
            )
        largest = np.argmax(np.bincount(target[train], weights=w[train], minlength=len(log_prior)))
        baseline.append(float(w[test] @ (target[test] == largest) / w[test].sum()))
        if truth is not None:
            true_test = _truth_as_classes(truth, target, w, train, len(log_prior))[test]
            full_truth.append(float(w[test] @ (target[test] == true_test) / w[test].sum()))
            for k in sizes:
                truth_holdout[k].append(
                    _accuracy(log_lik[:, test], log_prior, true_test, w[test], order[:k])
                )
    est = model.estimator
    log_prior = np.log(est.prior_shares_)
    log_lik = _item_log_lik(est, codes)
    target = np.argmax(log_prior + log_lik.sum(axis=0), axis=1)  # the full model's segment
    order = _greedy(log_lik, log_prior, target, w, max_k)
    table = pd.DataFrame(
        {
            "questions": sizes,
            "accuracy": [float(np.mean(holdout[k])) for k in sizes],
            "accuracy_sd": [float(np.std(holdout[k])) for k in sizes],
            "baseline": float(np.mean(baseline)),
            "train_accuracy": [_accuracy(log_lik, log_prior, target, w, order[:k]) for k in sizes],
        }
    )
    if truth is not None:
        table["truth_accuracy"] = [float(np.mean(truth_holdout[k])) for k in sizes]
        table["full_truth_accuracy"] = float(np.mean(full_truth))
    return TypingToolResult(table, [model.items[j] for j in order])


def _truth_as_classes(
    truth: np.ndarray, target: np.ndarray, w: np.ndarray, train: np.ndarray, n_classes: int
) -> np.ndarray:
    """True segments as the fold model's class numbers, matched one-to-one on the training
    respondents; a true segment matched to no class becomes -1 (never a hit)."""
    confusion = np.zeros((n_classes, int(truth.max(initial=0)) + 1))
    np.add.at(confusion, (target[train], truth[train]), w[train])
    match = match_classes(confusion)  # match[class] = the true segment matched to it
    as_class = np.full(confusion.shape[1], -1, dtype=np.intp)
    for cls, true in enumerate(match):
        if true >= 0:
            as_class[true] = cls
    return as_class[truth]


def read_true_segments(
    path, frame: pd.DataFrame, id_columns: Sequence[str], *, column: str = "segment"
) -> np.ndarray:
    """Each survey respondent's true segment from a truth file (``segment synth`` writes one
    beside a synthetic survey): its id column(s) and ``column``, matched to ``frame`` by id.

    Raises
    ------
    DataError
        When the file lacks the id or segment column, or a survey respondent has no row.
    """
    from segment.survey.tables import read_table

    name = str(path)
    table, _ = read_table(path)
    missing = [c for c in (*id_columns, column) if c not in table.columns]
    if not id_columns or missing:
        need = ", ".join((*id_columns, column)) if id_columns else "the survey's id column"
        raise DataError(
            f"truth file {name}",
            [Problem(name, "", f"expected the columns {need}; missing: {', '.join(missing)}")],
        )
    id_columns = list(id_columns)
    key = pd.MultiIndex.from_frame(table[id_columns].astype(str))
    truth = pd.Series(table[column].astype(str).to_numpy(), index=key)
    truth = truth[~truth.index.duplicated()]
    wanted = pd.MultiIndex.from_frame(frame[id_columns].astype(str))
    found = truth.reindex(wanted)
    absent = int(found.isna().sum())
    if absent:
        raise DataError(
            f"truth file {name}",
            [Problem(name, column, f"{absent:,} survey respondents have no true segment")],
        )
    return found.to_numpy(dtype=object)


def build_typing_tool(
    model: SegmentModel, questions: list[str], accuracy: dict | None = None
) -> SegmentModel:
    """The model restricted to ``questions``: a :class:`SegmentModel` that scores like any other."""
    idx = [model.items.index(q) for q in questions]
    est = model.estimator.restrict_items(idx)
    fit = dict(model.fit)
    fit["typing_tool"] = {
        "questions": list(questions),
        "of_items": len(model.items),
        **(accuracy or {}),
    }
    return SegmentModel(
        estimator=est,
        codebook=model.codebook,
        items=list(questions),
        segments=[dict(s) for s in model.segments],
        typology=model.typology,
        fit=fit,
        training=model.training,
    )
