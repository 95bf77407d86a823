"""Constants and the start count of the multi-start fit (numpy only: model files read them).

See :meth:`segment.models._base.MixtureBase._multi_start` for the strategy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BEST_TOLERANCE", "REFINE_STARTS", "count_best_starts"]

#: Distinct subsample maxima continued on every respondent when ``screen_rows`` applies.
REFINE_STARTS = 2
#: Starts within this relative distance of the best log-likelihood count as reaching it.
BEST_TOLERANCE = 1e-6


def count_best_starts(start_logliks) -> int:
    """How many starts reached the best final log-likelihood (within ``BEST_TOLERANCE``), as
    Mplus reports: one alone suggests more starts are needed."""
    final = np.asarray(start_logliks, dtype=float)
    if final.size == 0 or not np.isfinite(final).any():
        return 0
    top = np.nanmax(final)
    return int(np.sum(final >= top - BEST_TOLERANCE * abs(top)))
