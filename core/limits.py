"""Rate limits for everything a stranger can send, counted in Django's cache.

The cache is Redis when REDIS_URL is set, so every process and machine counts together, and local
memory in the embedded setup (one process). Each limit is a fixed window: at most ``count`` hits per
``period`` seconds for one identity (a socket, a visitor, an IP, a shop, a username). A counter is one
cache key per identity and window, created with ``add`` and counted with ``incr`` (both atomic in
either cache), and it expires with its window. The limits are the ``SHOPBEE_LIMITS`` setting
(``{"name": "count/period"}``, period ``s``, ``min``, ``h`` or ``day``, optionally with a multiplier:
``"10/15min"``); docs/security.md has the table.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|min|h|hour|day)\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> "Rate":
        match = _RATE.match(text)
        if match is None:
            raise ValueError(
                f"A rate is 'count/period' with period s, min, h or day (e.g. '5/s', '10/15min'): {text!r}"
            )
        count, multiplier, unit = match.groups()
        return cls(int(count), int(multiplier or 1) * _UNIT_SECONDS[unit])


@memoize
def _parsed(text: str) -> Rate:
    return Rate.parse(text)


def rate(name: str) -> Rate:
    return _parsed(settings.SHOPBEE_LIMITS[name])


def _key(name: str, ident: object, limit: Rate, now: float) -> str:
    return f"limit:{name}:{ident}:{int(now // limit.period)}"


def hit(name: str, ident: object, *, now: float | None = None) -> bool:
    """Count one hit of ``ident`` against the limit ``name``; False once the window's count is used up."""
    limit = rate(name)
    key = _key(name, ident, limit, time.time() if now is None else now)
    # The window's first hit creates the counter; ``add`` is atomic, so concurrent first hits count once each.
    if cache.add(key, 1, timeout=limit.period + 1):
        return limit.count >= 1
    try:
        return cache.incr(key) <= limit.count
    except ValueError:  # expired between add and incr: this is the next window's first hit
        cache.add(key, 1, timeout=limit.period + 1)
        return limit.count >= 1


def hit_all(checks: Iterable[tuple[str, object]]) -> bool:
    """Count a hit against each limit in turn, narrowest first; the first one used up refuses the hit
    and the wider ones are not counted (a socket refused on its own limit does not use up its shop's)."""
    return all(hit(name, ident) for name, ident in checks)


def exceeded(name: str, ident: object) -> bool:
    """Whether ``ident`` has used up the limit in the current window, without counting a hit (for limits
    on failures: checked before an attempt, counted only when it fails)."""
    limit = rate(name)
    return (cache.get(_key(name, ident, limit, time.time())) or 0) >= limit.count


def seconds_left(name: str) -> int:
    """Seconds until the current window of the limit ``name`` ends (when a used-up count starts over)."""
    period = rate(name).period
    return max(1, int(period - time.time() % period))
