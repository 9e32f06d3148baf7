"""The statistics of the value reports: intervals for a difference of two proportions and of two means.

Every figure the merchant reads as "lift" comes from here:

- ``newcombe_difference``: the 95% interval of p1 - p2 by Newcombe's hybrid score method (method 10 of
  Newcombe, "Interval estimation for the difference between independent proportions: comparison of eleven
  methods", Statistics in Medicine 17:873-890, 1998), built from the two Wilson score intervals. It stays
  inside [-1, 1] and behaves with few events or none, where the textbook Wald interval (``wald_difference``,
  kept for comparison and for the tests) is too narrow or degenerate.
- ``bootstrap_mean_difference``: the 95% percentile bootstrap interval of mean1 - mean2 (amounts paid, which
  are far from normal: most targets pay nothing), resampling each arm with a fixed seed, so a page shows the
  same interval every time it is drawn from the same data.
- ``compare``: a comparison of two arms with its verdict, "too small to conclude" included.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
# Two-sided 95%: 1.959963984540054.
Z95 = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)
# Below this many units in an arm, or this few events (or non-events) in both arms together, the normal
# approximations behind the intervals are not to be trusted: the report says the sample is too small.
MIN_ARM = 30
MIN_EVENTS = 10
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261201


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def scaled(self, factor: float) -> "Interval":
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for one proportion (Wilson 1927), without continuity correction."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)


def wald_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval:
    """The textbook interval of p1 - p2: estimate ± z × its standard error (Newcombe's method 1)."""
    p1, p2 = x1 / n1, x2 / n2
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Interval(p1 - p2, p1 - p2 - half, p1 - p2 + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval:
    """Newcombe's hybrid score interval of p1 - p2 (method 10, 1998)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def bootstrap_mean_difference(
    first: Sequence[float],
    second: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval:
    """The percentile bootstrap interval of mean(first) - mean(second): each arm resampled with replacement
    ``resamples`` times (independently, as the arms were drawn), the 2.5th and 97.5th percentiles of the
    differences. The same data and seed give the same interval."""
    if not first or not second:
        raise ValueError("both arms need at least one value")
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    rng = np.random.default_rng(seed)
    differences = np.empty(resamples)
    # In blocks, so a large arm never needs resamples × n indices at once.
    block = max(1, 2_000_000 // max(len(a), len(b)))
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        size = stop - start
        means_a = a[rng.integers(0, len(a), size=(size, len(a)))].mean(axis=1)
        means_b = b[rng.integers(0, len(b), size=(size, len(b)))].mean(axis=1)
        differences[start:stop] = means_a - means_b
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return Interval(float(a.mean() - b.mean()), float(low), float(high))


class Verdict(StrEnum):
    TOO_SMALL = "too_small"
    HIGHER = "higher"
    LOWER = "lower"
    NO_DIFFERENCE = "no_difference"


def too_small(x1: int, n1: int, x2: int, n2: int) -> bool:
    """Whether two arms are too small to conclude anything about their difference."""
    events = x1 + x2
    return min(n1, n2) < MIN_ARM or min(events, n1 + n2 - events) < MIN_EVENTS


def verdict(interval: Interval | None, small: bool) -> Verdict:
    if interval is None or small:
        return Verdict.TOO_SMALL
    if interval.low > 0:
        return Verdict.HIGHER
    if interval.high < 0:
        return Verdict.LOWER
    return Verdict.NO_DIFFERENCE


@dataclass(frozen=True)
class Comparison:
    """A proportion in a first arm (treated, answer B, the bot) against a second (control, answer A,
    humans only); ``difference`` in percentage points with its 95% interval."""

    first: int
    first_n: int
    second: int
    second_n: int
    difference: Interval | None
    verdict: Verdict

    @property
    def first_rate(self) -> float | None:
        return round(100 * self.first / self.first_n, 1) if self.first_n else None

    @property
    def second_rate(self) -> float | None:
        return round(100 * self.second / self.second_n, 1) if self.second_n else None


def compare(first: int, first_n: int, second: int, second_n: int) -> Comparison:
    """Two proportions compared: Newcombe's interval of the difference (in percentage points), and the verdict."""
    if not first_n or not second_n:
        return Comparison(first, first_n, second, second_n, None, Verdict.TOO_SMALL)
    interval = newcombe_difference(first, first_n, second, second_n).scaled(100)
    return Comparison(
        first, first_n, second, second_n, interval, verdict(interval, too_small(first, first_n, second, second_n))
    )


@dataclass(frozen=True)
class AmountComparison:
    """Mean amounts per unit in two arms and the bootstrap interval of their difference."""

    first_mean: float | None
    second_mean: float | None
    difference: Interval | None
    verdict: Verdict


def compare_amounts(first: Sequence[float], second: Sequence[float]) -> AmountComparison:
    if not first or not second:
        return AmountComparison(None, None, None, Verdict.TOO_SMALL)
    interval = bootstrap_mean_difference(first, second)
    small = min(len(first), len(second)) < MIN_ARM
    return AmountComparison(float(np.mean(first)), float(np.mean(second)), interval, verdict(interval, small))
