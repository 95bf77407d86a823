"""segment: attitude segmentation for opinion polls.

Fit latent class segments on a poll, name and profile them against a reference typology, score
new respondents, and join segments with list-experiment estimates of sensitive attitudes.

The names a user needs are importable from here::

    from segment import run_analysis, read_survey, fit_segments, load_model

Each is imported on first use, so that ``import segment`` (and the command line's ``--help``)
stays fast; ``docs/architecture.md`` says where everything lives.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from segment.cards.typology import Typology
    from segment.exceptions import (
        CodebookError,
        DataError,
        InputError,
        Problem,
        SegmentError,
        TypologyError,
    )
    from segment.models import (
        GaussianMixtureModel,
        KMeansModel,
        LatentClassModel,
        OrdinalLatentClassModel,
    )
    from segment.pipeline import Analysis, ListExperiment, run_analysis
    from segment.resources import bundled_path, list_bundled
    from segment.segments.fit import fit_segments
    from segment.segments.model import SegmentModel
    from segment.segments.model_file import load_model, save_model
    from segment.survey.codebook import Codebook, Item, Level
    from segment.survey.read import read_survey

#: Public name -> the module that defines it.
_EXPORTS = {
    "Analysis": "segment.pipeline",
    "ListExperiment": "segment.pipeline",
    "run_analysis": "segment.pipeline",
    "read_survey": "segment.survey.read",
    "Codebook": "segment.survey.codebook",
    "Item": "segment.survey.codebook",
    "Level": "segment.survey.codebook",
    "Typology": "segment.cards.typology",
    "fit_segments": "segment.segments.fit",
    "SegmentModel": "segment.segments.model",
    "load_model": "segment.segments.model_file",
    "save_model": "segment.segments.model_file",
    "LatentClassModel": "segment.models",
    "OrdinalLatentClassModel": "segment.models",
    "GaussianMixtureModel": "segment.models",
    "KMeansModel": "segment.models",
    "bundled_path": "segment.resources",
    "list_bundled": "segment.resources",
    "CodebookError": "segment.exceptions",
    "DataError": "segment.exceptions",
    "InputError": "segment.exceptions",
    "Problem": "segment.exceptions",
    "SegmentError": "segment.exceptions",
    "TypologyError": "segment.exceptions",
}

__all__ = [
    "Analysis",
    "Codebook",
    "CodebookError",
    "DataError",
    "GaussianMixtureModel",
    "InputError",
    "Item",
    "KMeansModel",
    "LatentClassModel",
    "Level",
    "ListExperiment",
    "OrdinalLatentClassModel",
    "Problem",
    "SegmentError",
    "SegmentModel",
    "Typology",
    "TypologyError",
    "__version__",
    "bundled_path",
    "fit_segments",
    "list_bundled",
    "load_model",
    "read_survey",
    "run_analysis",
    "save_model",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'segment' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
