"""Pieces shared by the maximum-likelihood result objects of the list-experiment models."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LikelihoodFit", "covariance_from_hessian"]


class LikelihoodFit:
    """Information criteria of a fitted model with ``params``, ``loglik`` and ``n``."""

    params: np.ndarray
    loglik: float
    n: int

    @property
    def n_params(self) -> int:
        return int(self.params.size)

    @property
    def aic(self) -> float:
        """Akaike's information criterion, :math:`-2 \\ell + 2p`."""
        return -2 * self.loglik + 2 * self.n_params

    @property
    def bic(self) -> float:
        """Schwarz's Bayesian information criterion, :math:`-2 \\ell + p \\log n`."""
        return -2 * self.loglik + math.log(self.n) * self.n_params


def covariance_from_hessian(H: np.ndarray, meat: np.ndarray | None, cov_type: str) -> np.ndarray:
    """Inverse observed information ``(-H)^-1`` (``cov_type="oim"``) or the sandwich
    ``(-H)^-1 M (-H)^-1`` (``"robust"``, ``M`` the outer product of scores); NaN when ``-H`` is
    singular."""
    try:
        Hinv = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        return np.full_like(H, np.nan)
    return Hinv if cov_type == "oim" else Hinv @ meat @ Hinv
