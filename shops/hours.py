"""A shop's service hours: its weekly windows and holidays, read in the shop's timezone (core.shoptime).

A shop that has set no window serves around the clock. Chat asks here whether agents serve now (the
queue is assigned only then) and when they next do (what a shopper leaving a message is told). Every
hand-off and every assignment pass asks, so each process keeps the hours per shop (``core.caching``),
rebuilt when a window, a holiday or the shop's timezone changes (``shops.receivers``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from core import shoptime
from core.caching import ShopCache
from core.models import ChangeStamp

from .models import Holiday, OpeningHours, Shop


@dataclass(frozen=True)
class ServiceHours:
    tz: ZoneInfo
    weekly: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        return not self.weekly

    def is_open(self, moment: datetime) -> bool:
        return self.always_open or shoptime.in_weekly_hours(moment, self.tz, self.weekly, self.holidays)

    def next_opening(self, moment: datetime) -> datetime | None:
        """``moment`` when open, else the start of the next window in shop-local time (None: no window ahead)."""
        if self.always_open:
            return moment
        return shoptime.next_opening(moment, self.tz, self.weekly, self.holidays)


def read_service_hours(shop_id: int) -> ServiceHours:
    """The shop's windows and holidays as stored (three small indexed reads)."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for window in OpeningHours.objects.filter(shop_id=shop_id).order_by("weekday", "opens"):
        weekly.setdefault(window.weekday, []).append((window.opens, window.closes))
    holidays = frozenset(Holiday.objects.filter(shop_id=shop_id).values_list("day", flat=True))
    timezone_name = Shop.objects.values_list("timezone", flat=True).get(pk=shop_id)
    return ServiceHours(shoptime.zone(timezone_name), weekly, holidays)


_hours: ShopCache[ServiceHours] = ShopCache("service hours", ChangeStamp.Kind.SERVICE_HOURS, read_service_hours)


def service_hours(shop_id: int) -> ServiceHours:
    """The shop's service hours (this process's copy, as fresh as ``core.caching`` keeps shop caches)."""
    return _hours.get(shop_id)
