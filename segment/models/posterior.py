"""Posterior segment probabilities from a latent class model's parameters, with numpy alone.

Scoring one person from a model file should not wait for scikit-learn, scipy and numba to
import (about 2 s together) to compute a dozen numbers. :class:`AnswerPosterior` holds what a
model file says about a latent class model without covariates and computes, by Bayes' rule,

``P(k | x) = pi_k prod_{j observed} theta_jk(x_j) / sum_l pi_l prod_{j observed} theta_jl(x_j)``

in log space, as :meth:`segment.models.LatentClassModel.predict_proba_codes` does (same floor of
1e-300 on probabilities, missing answers dropping out). It has that model's scoring interface
(``categories_``, ``encode``, ``predict_proba_codes``) and nothing else: it cannot be fitted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["AnswerPosterior", "log_answer_table"]


def log_answer_table(params: np.ndarray) -> np.ndarray:
    """log theta (items x categories x classes), with an all-zero category row for missing
    answers (one past the last category).

    Probabilities are floored at 1e-300 (log about -690) instead of 0: a maximum-likelihood
    class can give an answer probability exactly 0, and a new respondent whose answers are
    each impossible in some class would otherwise be impossible in every class (no
    posterior). The floor changes no likelihood at double precision.
    """
    n_items, n_cat, k = params.shape
    table = np.zeros((n_items, n_cat + 1, k))
    table[:, :n_cat, :] = np.log(np.maximum(params, 1e-300))
    return table


class AnswerPosterior:
    """Scoring-only view of a fitted latent class model (no covariates).

    Parameters
    ----------
    categories : list of array-like
        The answer codes of each item, sorted.
    item_probs : list of array-like of shape (n_components, n_categories_j)
        P(answer | class) of each item.
    prior_shares : array-like of shape (n_components,)
        Class shares.
    weights : array-like of shape (n_components,), optional
        Class shares of the sample (default: ``prior_shares``).
    """

    coef_ = None

    def __init__(
        self,
        categories: Sequence,
        item_probs: Sequence,
        prior_shares,
        weights=None,
    ):
        self.categories_ = [np.asarray(c, dtype=float) for c in categories]
        self.item_probs_ = [np.asarray(p, dtype=float) for p in item_probs]
        self.prior_shares_ = np.asarray(prior_shares, dtype=float)
        self.weights_ = np.asarray(prior_shares if weights is None else weights, dtype=float)
        self.n_components = len(self.prior_shares_)
        n_cat = max(len(c) for c in self.categories_)
        theta = np.zeros((len(self.categories_), n_cat, self.n_components))
        for j, p in enumerate(self.item_probs_):
            theta[j, : p.shape[1], :] = p.T
        self._log_table = log_answer_table(theta)
        self._missing = n_cat

    def __repr__(self) -> str:
        return f"AnswerPosterior(n_components={self.n_components}, n_items={len(self.categories_)})"

    def encode(self, X) -> np.ndarray:
        """Integer codes (the index of each answer among the item's codes; missing: one past
        the largest) of an (n, n_items) float array of answer codes, NaN where missing.

        Raises
        ------
        ValueError
            Naming the item, row and value of an answer not among the item's codes.
        """
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.categories_):
            raise ValueError(f"expected {len(self.categories_)} items, got shape {X.shape}")
        codes = np.full(X.shape, self._missing, dtype=np.intp)
        for j, cats in enumerate(self.categories_):
            col = X[:, j]
            answered = ~np.isnan(col)
            index = np.minimum(np.searchsorted(cats, col), len(cats) - 1)
            unknown = answered & (cats[index] != col)
            if unknown.any():
                row = int(np.flatnonzero(unknown)[0])
                raise ValueError(
                    f"column {j}, row {row + 1}: answer {float(col[row])!r} was not seen when the "
                    f"model was fitted; expected one of {cats.tolist()} or missing"
                )
            codes[answered, j] = index[answered]
        return codes

    def predict_proba_codes(self, codes: np.ndarray) -> np.ndarray:
        """Posterior class probabilities of encoded answers (see :meth:`encode`)."""
        joint = np.tile(np.log(self.prior_shares_), (codes.shape[0], 1))
        for j in range(codes.shape[1]):
            joint += self._log_table[j, codes[:, j], :]
        joint -= joint.max(axis=1, keepdims=True)
        proba = np.exp(joint)
        return proba / proba.sum(axis=1, keepdims=True)
