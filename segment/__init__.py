"""segment: attitude segmentation for opinion polls.

Fit latent class segments on a poll, name and profile them against a reference typology, score
new respondents, and join segments with list-experiment estimates of sensitive attitudes.
"""

from .codebook import Codebook, Item, Level
from .exceptions import (
    CodebookError,
    DataError,
    InputError,
    Problem,
    SegmentError,
    TypologyError,
)
from .io import read_survey
from .resources import bundled_path, list_bundled
from .typology import Typology

__version__ = "0.1.0"

__all__ = [
    "Codebook",
    "CodebookError",
    "DataError",
    "InputError",
    "Item",
    "Level",
    "Problem",
    "SegmentError",
    "Typology",
    "TypologyError",
    "__version__",
    "bundled_path",
    "list_bundled",
    "read_survey",
]
