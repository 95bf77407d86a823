"""Segmentation models with scikit-learn's estimator interface."""

from .latent_class import LatentClassModel

__all__ = ["LatentClassModel"]
