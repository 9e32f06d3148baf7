"""Calendar days of each shop, in the shop's own timezone, as database filters.

A shop's day runs from its local midnight to the next (core.shoptime). A view over several shops counts
each shop's rows on that shop's own local days: "1 December" of a Shanghai shop and of a New York shop
are different 24 hours, and the multi-shop figure for 1 December is the sum of each shop's 1 December.
The database is asked once per distinct timezone among the shops, which is usually one.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from core import shoptime
from shops.models import Shop


def shops_by_zone(shop_ids: Iterable[int] | None = None) -> dict[ZoneInfo, list[int]]:
    """The shops' ids grouped by their timezone (every shop when ``shop_ids`` is None)."""
    shops = Shop.objects.all() if shop_ids is None else Shop.objects.filter(pk__in=list(shop_ids))
    zones: dict[ZoneInfo, list[int]] = {}
    for pk, name in shops.order_by("pk").values_list("pk", "timezone"):
        zones.setdefault(shoptime.zone(name), []).append(pk)
    return zones


def in_local_days(field: str, zones: dict[ZoneInfo, list[int]], start: date, end: date) -> Q:
    """Rows whose ``field`` (a datetime) falls from ``start`` to ``end`` (both included) in their shop's
    local days; ``zones`` as from ``shops_by_zone``. Matches nothing when there are no shops."""
    condition = Q(pk__in=[])
    for zone, ids in zones.items():
        first, after = shoptime.days_range(start, end, zone)
        condition |= Q(shop_id__in=ids, **{f"{field}__gte": first, f"{field}__lt": after})
    return condition


def yesterdays(now: datetime, shop_ids: Iterable[int] | None = None) -> dict[date, list[int]]:
    """The shops grouped by the local date of their yesterday at ``now`` (the last day each has finished)."""
    days: dict[date, list[int]] = {}
    for zone, ids in shops_by_zone(shop_ids).items():
        days.setdefault(shoptime.local_date(now, zone) - timedelta(days=1), []).extend(ids)
    return days


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
