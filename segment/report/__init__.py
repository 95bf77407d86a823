"""The analyst's report: a self-contained HTML page, the profile cards and the model.

:func:`write_report` turns an :class:`segment.pipeline.Analysis` into a folder::

    NAME/index.html     one page, figures embedded as PNG data, no scripts, fonts or links out
    NAME/profiles.md    the profile cards (the 2020 study's layout)
    NAME/model.json     the fitted model (segment.model format; score new respondents with it)

The folder is written beside its destination and moved into place only when complete, so a
failed run never leaves a half-written report and never destroys the previous one.
"""

from __future__ import annotations

from .writer import build_html, write_report

__all__ = ["build_html", "write_report"]
