"""Per-process caches of what a shop's bot works from (its knowledge index, catalogue, QA rules), and the
change stamps that keep them honest across processes.

Each kind of cached thing has a counter per shop in ``core.ChangeStamp`` (plus one for every shop,
shop id 0). Every write to the rows a cache is built from calls ``bump(shop_id, kind)``: model signals
for single rows, an explicit call after a bulk ``update()``, ``bulk_create`` or raw SQL. Each cache
entry is kept with the stamp it was built from. Reading the stamp on every chat message cost a database
round trip per cache per message, so a process reads a shop's stamp at most once per
``SHOP_CACHE_RECHECK_SECONDS`` (default 1 s): a change made in this process is seen at once (``bump``
drops this process's entries), a change made by another process within that time.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.db import connection, transaction

from . import rows
from .models import ChangeStamp

T = TypeVar("T")


@cache
def _sql() -> tuple[str, str]:
    """The stamp read and the bump, written out once for the database in use."""
    table = connection.ops.quote_name(ChangeStamp._meta.db_table)
    read = f"SELECT SUM(version) FROM {table} WHERE kind = %s AND shop_id IN (%s, %s)"
    # One statement, so concurrent first bumps of a shop cannot both insert (SQLite 3.24+, PostgreSQL).
    upsert = (
        f"INSERT INTO {table} (shop_id, kind, version) VALUES (%s, %s, 1) "
        f"ON CONFLICT (shop_id, kind) DO UPDATE SET version = {table}.version + 1"
    )
    return read, upsert


def read_stamp(shop_id: int, kind: str) -> int:
    """The shop's stamp of ``kind``: its own counter plus every shop's. Both only grow, so any bump of
    either changes the sum. 0 while nothing was ever bumped. One indexed read in plain SQL: it runs for
    shopper messages, where the ORM's query building would cost more than the read."""
    row = rows.first_row(_sql()[0], [kind, ChangeStamp.GLOBAL, shop_id])
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return int(row[0] or 0)  # PostgreSQL sums bigints as numeric


def bump(shop_id: int | None, kind: str) -> None:
    """Record a change of the shop's ``kind`` rows (None: a change that concerns every shop).

    Call it in the transaction of the write: the new stamp commits with the rows. This process's
    entries are dropped now and again at commit, so that a rebuild racing the write from another thread
    of this process is not kept for a recheck interval.
    """
    key = ChangeStamp.GLOBAL if shop_id is None else shop_id
    with connection.cursor() as cursor:
        cursor.execute(_sql()[1], [key, str(kind)])
    ShopCache.forget_kind(kind, shop_id)
    transaction.on_commit(lambda: ShopCache.forget_kind(kind, shop_id))


@dataclass
class _Entry(Generic[T]):
    stamp: int
    value: T
    built_at: float
    checked_at: float


class ShopCache(Generic[T]):
    """Values built per shop by ``build(shop_id)``, kept while the shop's stamp of ``kind`` stays the same.

    ``max_age`` (seconds) rebuilds an entry that old whatever its stamp says, for rows a writer may change
    without bumping (a raw update by hand).
    """

    caches: ClassVar[list["ShopCache[Any]"]] = []

    def __init__(self, name: str, kind: str, build: Callable[[int], T], *, max_age: float | None = None) -> None:
        self.name = name
        self.kind = str(kind)
        self._build = build
        self._max_age = max_age
        self._entries: dict[int, _Entry[T]] = {}
        self._build_lock = threading.Lock()
        ShopCache.caches.append(self)

    def __repr__(self) -> str:
        return f"<ShopCache {self.name} ({self.kind}): {len(self._entries)} shops>"

    def get(self, shop_id: int) -> T:
        now = time.time()
        entry = self._entries.get(shop_id)
        if entry is not None and not self._too_old(entry, now):
            if now - entry.checked_at < settings.SHOP_CACHE_RECHECK_SECONDS:
                return entry.value
            # Read before the rows are: a change landing in between only costs one more rebuild later.
            stamp = read_stamp(shop_id, self.kind)
            if stamp == entry.stamp:
                entry.checked_at = now
                return entry.value
        else:
            stamp = read_stamp(shop_id, self.kind)
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
    def forget_kind(cls, kind: str, shop_id: int | None) -> None:
        """Drop this process's entries of ``kind`` for the shop (None: for every shop)."""
        for shop_cache in cls.caches:
            if shop_cache.kind == kind:
                shop_cache.forget(shop_id)

    @classmethod
    def forget_everything(cls) -> None:
        """Empty every cache of this process (tests, where a flushed database reuses shop ids)."""
        for shop_cache in cls.caches:
            shop_cache.forget()
