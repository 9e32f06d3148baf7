"""Rate limits for everything a stranger can send, counted in Django's cache.

The cache is Redis when REDIS_URL is set, so every process and machine counts together, and local
memory in the embedded setup (one process). Each limit is a fixed window: at most ``count`` hits per
``period`` seconds for one identity (a socket, a visitor, an IP, a shop, a username). A counter is one
cache key per identity and window, created with ``add`` and counted with ``incr`` (both atomic in
either cache; on Redis, every counter of a hit in one pipelined round trip), and it expires with its
window. The limits are the ``SHOPBEE_LIMITS`` setting (``{"name": "count/period"}``, period ``s``,
``min``, ``h`` or ``day``, optionally with a multiplier: ``"10/15min"``); docs/security.md has the table.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache as memoize
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

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
    now = time.time() if now is None else now
    client = _redis()
    if client is not None:
        return _hit_in_redis(client, [(name, ident)], now)
    limit = rate(name)
    key = _key(name, ident, limit, now)
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
    client = _redis()
    if client is not None:
        return _hit_in_redis(client, list(checks), time.time())
    return all(hit(name, ident) for name, ident in checks)


def _hit_in_redis(client: Any, checks: list[tuple[str, object]], now: float) -> bool:
    """``hit_all`` on Redis: every counter in one round trip. Through the cache's API a counter costs up to
    three, each with a client built anew, and a chat message counts four: on the event loop, that was about
    a quarter of a message's CPU. Counters are the cache's own keys and values (``exceeded`` reads them)."""
    counters = [(rate(name), cache.make_and_validate_key(_key(name, ident, rate(name), now))) for name, ident in checks]
    pipeline = client.pipeline(transaction=False)
    for limit, key in counters:
        pipeline.set(key, 0, ex=limit.period + 1, nx=True)  # the window's first hit creates the counter
        pipeline.incr(key)
    counts = pipeline.execute()[1::2]
    for n, ((limit, _), count) in enumerate(zip(counters, counts, strict=True)):
        if count > limit.count:
            wider = [key for _, key in counters[n + 1 :]]
            if wider:  # counted above, though this hit is refused before reaching them: taken back
                undo = client.pipeline(transaction=False)
                for key in wider:
                    undo.decr(key)
                undo.execute()
            return False
    return True


def _redis() -> Any:
    """The Redis client under the cache when the cache is Redis; None otherwise."""
    backend = caches["default"]
    return _client(backend._cache) if isinstance(backend, RedisCache) else None


@lru_cache(maxsize=8)
def _client(redis_cache: Any) -> Any:
    """One client per cache backend (its pool's connections are shared), not one per call as the cache builds."""
    return redis_cache.get_client(write=True)


def exceeded(name: str, ident: object) -> bool:
    """Whether ``ident`` has used up the limit in the current window, without counting a hit (for limits
    on failures: checked before an attempt, counted only when it fails)."""
    limit = rate(name)
    return (cache.get(_key(name, ident, limit, time.time())) or 0) >= limit.count


def seconds_left(name: str) -> int:
    """Seconds until the current window of the limit ``name`` ends (when a used-up count starts over)."""
    period = rate(name).period
    return max(1, int(period - time.time() % period))
