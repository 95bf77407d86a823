"""Segmentation models with scikit-learn's estimator interface."""

from ._base import count_best_starts
from .gaussian import GaussianMixtureModel, KMeansModel
from .latent_class import LatentClassModel
from .ordinal import OrdinalLatentClassModel

__all__ = [
    "GaussianMixtureModel",
    "KMeansModel",
    "LatentClassModel",
    "OrdinalLatentClassModel",
    "count_best_starts",
]
