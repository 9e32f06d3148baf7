"""Per-process caches of what a shop's bot works from: its knowledge index, catalogue and QA rules.

Each entry is kept with the stamp of the rows it was built from, a cheap query whose answer changes
whenever those rows change, so every worker process sees every change. Reading the stamps on every
chat message cost a database round trip per cache per message, so a process reads a shop's stamp at
most once per ``SHOP_CACHE_RECHECK_SECONDS`` (default 1 s): a change made in this process is seen at
once (whoever writes it calls ``forget``), a change made by another process within that time.
"""

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    stamp: Hashable
    value: T
    built_at: float
    checked_at: float


class ShopCache(Generic[T]):
    """Values built per shop by ``build(shop_id)``, kept while ``read_stamp(shop_id)`` stays the same.

    ``max_age`` (seconds) rebuilds an entry that old whatever its stamp says, for stamps that a race
    between two writers can leave unchanged.
    """

    caches: ClassVar[list["ShopCache[Any]"]] = []

    def __init__(
        self,
        name: str,
        read_stamp: Callable[[int], Hashable],
        build: Callable[[int], T],
        *,
        max_age: float | None = None,
    ) -> None:
        self.name = name
        self._read_stamp = read_stamp
        self._build = build
        self._max_age = max_age
        self._entries: dict[int, _Entry[T]] = {}
        self._build_lock = threading.Lock()
        ShopCache.caches.append(self)

    def __repr__(self) -> str:
        return f"<ShopCache {self.name}: {len(self._entries)} shops>"

    def get(self, shop_id: int) -> T:
        now = time.time()
        entry = self._entries.get(shop_id)
        if entry is not None and not self._too_old(entry, now):
            if now - entry.checked_at < settings.SHOP_CACHE_RECHECK_SECONDS:
                return entry.value
            # Read before the rows are: a change landing in between only costs one more rebuild later.
            stamp = self._read_stamp(shop_id)
            if stamp == entry.stamp:
                entry.checked_at = now
                return entry.value
        else:
            stamp = self._read_stamp(shop_id)
        with self._build_lock:
            value = self._build(shop_id)
            self._entries[shop_id] = _Entry(stamp, value, built_at=now, checked_at=now)
        return value

    def forget(self, shop_id: int | None = None) -> None:
        """Drop one shop's entry (None: every shop's); the next ``get`` rebuilds it."""
        if shop_id is None:
            self._entries.clear()
        else:
            self._entries.pop(shop_id, None)

    def _too_old(self, entry: _Entry[T], now: float) -> bool:
        return self._max_age is not None and now - entry.built_at >= self._max_age

    @classmethod
    def forget_everything(cls) -> None:
        """Empty every cache of this process (tests, where a flushed database reuses shop ids)."""
        for cache in cls.caches:
            cache.forget()
