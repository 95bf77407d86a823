"""Segmentation models with scikit-learn's estimator interface.

The names are imported on first use (PEP 562), so that a module needing only the numpy-only
:class:`~segment.models.posterior.AnswerPosterior` (scoring one person from a model file) does
not import scikit-learn, scipy and numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gaussian import GaussianMixtureModel, KMeansModel
    from .latent_class import LatentClassModel
    from .multistart import count_best_starts
    from .ordinal import OrdinalLatentClassModel
    from .posterior import AnswerPosterior

__all__ = [
    "AnswerPosterior",
    "GaussianMixtureModel",
    "KMeansModel",
    "LatentClassModel",
    "OrdinalLatentClassModel",
    "count_best_starts",
]

_WHERE = {
    "AnswerPosterior": ".posterior",
    "GaussianMixtureModel": ".gaussian",
    "KMeansModel": ".gaussian",
    "LatentClassModel": ".latent_class",
    "OrdinalLatentClassModel": ".ordinal",
    "count_best_starts": ".multistart",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
