"""The flag rule: an unconstrained difference in means outside [0, 1] is never a headline.

A difference in means (or its BCH-weighted version by segment) outside [0, 1] is not a share;
it is what sampling error does to a small group, or what a control count near its floor or
ceiling does to any group. :func:`dim_flag` says which, in words a report can print; the
headline then becomes the bounded estimate (:mod:`.bounded`, :mod:`.three_step`), and the
difference in means stays beside it, flagged. Inside [0, 1] the difference in means is the
headline (design-based, no model), with its interval intersected with [0, 1] (the truth is a
share, so the intersection covers whenever the interval does).
"""

from __future__ import annotations

import math

__all__ = ["SMALL_N", "clip_share", "dim_flag", "headline"]

#: Groups under this many respondents are called small in a flag's reason.
SMALL_N = 100
#: A control mean within this many items of 0 or J is at the floor or ceiling.
EDGE = 0.5


def dim_flag(
    estimate: float | None,
    *,
    n: float | None,
    mean_control: float | None = None,
    mean_treat: float | None = None,
    J: int | None = None,
    se: float | None = None,
    extra: str | None = None,
) -> str | None:
    """The reason an unconstrained estimate outside [0, 1] is flagged, or None inside it.

    Reasons, in order: the floor or ceiling of the control (or treated) count ("control mean
    3.9 of 4: ceiling"), a small group ("n = 38, small group"), the standard error ("SE 36
    points"), then ``extra`` (e.g. the classification error behind BCH weights).

    Examples
    --------
    >>> dim_flag(1.244, n=38, mean_control=2.04, J=4, se=0.356)
    'outside 0-100%: n = 38, small group; SE 36 points'
    >>> dim_flag(0.5, n=400) is None
    True
    """
    if estimate is None or not math.isfinite(estimate) or 0.0 <= estimate <= 1.0:
        return None
    parts = []
    if J is not None and mean_control is not None:
        if mean_control >= J - EDGE:
            parts.append(f"control mean {mean_control:.1f} of {J}: ceiling")
        elif mean_control <= EDGE:
            parts.append(f"control mean {mean_control:.1f} of {J}: floor")
    if J is not None and mean_treat is not None and mean_treat >= J + 1 - EDGE:
        parts.append(f"treatment mean {mean_treat:.1f} of {J + 1}: ceiling")
    if n is not None and math.isfinite(n):
        parts.append(f"n = {n:,.0f}" + (", small group" if n < SMALL_N else ""))
    if se is not None and math.isfinite(se):
        parts.append(f"SE {100 * se:.0f} points")
    if extra:
        parts.append(extra)
    return "outside 0-100%: " + "; ".join(parts)


def clip_share(value: float | None) -> float | None:
    """``value`` moved into [0, 1] (None and NaN pass through)."""
    if value is None or not math.isfinite(value):
        return value
    return min(max(value, 0.0), 1.0)


def headline(
    dim: float | None,
    dim_low: float | None,
    dim_high: float | None,
    bounded: float | None,
    bounded_low: float | None,
    bounded_high: float | None,
) -> tuple[float | None, float | None, float | None, str]:
    """The headline estimate, interval and its method: the difference in means with its
    interval intersected with [0, 1] when it is inside [0, 1]; else the bounded estimate and
    its interval (``"dim"`` or ``"bounded"``)."""
    if dim is not None and math.isfinite(dim) and 0.0 <= dim <= 1.0:
        return dim, clip_share(dim_low), clip_share(dim_high), "dim"
    return bounded, bounded_low, bounded_high, "bounded"
