"""Matching the classes of two solutions (the Hungarian algorithm, once).

Class labels of a mixture model are arbitrary: to compare two solutions (a bootstrap refit and
the full-data fit, or fitted segments and a reference typology) their classes are matched by an
optimal one-to-one assignment on a similarity matrix (Kuhn 1955; scipy's
``linear_sum_assignment``), never by trying every permutation.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["align_labels", "match_classes"]


def match_classes(similarity: np.ndarray) -> np.ndarray:
    """Optimal one-to-one matching maximising total similarity.

    Parameters
    ----------
    similarity : (n_reference, n_other) array

    Returns
    -------
    ndarray of shape (n_reference,)
        ``match[r]`` is the column matched to row ``r``, or -1 when there are fewer columns.
    """
    similarity = np.asarray(similarity, dtype=float)
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    match = np.full(similarity.shape[0], -1, dtype=np.intp)
    match[rows] = cols
    return match


def align_labels(
    reference: np.ndarray, other: np.ndarray, n_classes: int, weights=None
) -> np.ndarray:
    """Relabel ``other`` so that its classes agree as much as possible with ``reference``.

    The (weighted) confusion matrix of the two labelings is the similarity; classes of
    ``other`` matched to no reference class keep labels ``n_classes`` and up.
    """
    reference = np.asarray(reference)
    other = np.asarray(other)
    w = np.ones(len(reference)) if weights is None else np.asarray(weights, dtype=float)
    k_other = int(max(n_classes, other.max(initial=-1) + 1))
    confusion = np.zeros((n_classes, k_other))
    np.add.at(confusion, (reference, other), w)
    match = match_classes(confusion)
    mapping = np.full(k_other, -1, dtype=np.intp)
    for ref, col in enumerate(match):
        if col >= 0:
            mapping[col] = ref
    unmatched = np.flatnonzero(mapping < 0)
    mapping[unmatched] = n_classes + np.arange(len(unmatched))
    return mapping[other]
