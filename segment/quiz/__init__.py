"""A typing tool as a static web page: the questions, scored in the browser.

:func:`build_quiz` turns a :class:`~segment.segments.model.SegmentModel` (usually a typing tool)
into one self-contained HTML page (inline script and style, no external resources; it works from
``file://``). The page embeds the model file's scoring parameters as JSON and computes the same
posterior as :meth:`SegmentModel.predict_proba`; :func:`write_quiz` writes it atomically into a
folder.
"""

from .builder import (
    PROBABILITY_FLOOR,
    Quiz,
    QuizError,
    build_quiz,
    quiz_parameters,
    read_embedded,
    read_profiles,
    write_quiz,
)

__all__ = [
    "PROBABILITY_FLOOR",
    "Quiz",
    "QuizError",
    "build_quiz",
    "quiz_parameters",
    "read_embedded",
    "read_profiles",
    "write_quiz",
]
