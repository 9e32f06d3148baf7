"""The one percentile helper every benchmark prints with."""

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (``share`` in 0..1): the smallest value with at least that share
    of the values at or below it. ``nan`` when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]
