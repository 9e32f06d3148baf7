"""A shop's service hours: its weekly windows and holidays, read in the shop's timezone (core.shoptime).

A shop that has set no window serves around the clock. Chat asks here whether agents serve now (the
queue is assigned only then) and when they next do (what a shopper leaving a message is told).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core import shoptime

from .models import Holiday, OpeningHours, Shop


@dataclass(frozen=True)
class ServiceHours:
    shop: Shop
    weekly: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        return not self.weekly

    def is_open(self, moment: datetime) -> bool:
        return self.always_open or shoptime.in_weekly_hours(moment, self.shop.tz, self.weekly, self.holidays)

    def next_opening(self, moment: datetime) -> datetime | None:
        """``moment`` when open, else the start of the next window in shop-local time (None: no window ahead)."""
        if self.always_open:
            return moment
        return shoptime.next_opening(moment, self.shop.tz, self.weekly, self.holidays)


def service_hours(shop: Shop, now: datetime) -> ServiceHours:
    """The shop's windows and its holidays from the local day before ``now`` on (a window of yesterday may
    still run past midnight)."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for window in OpeningHours.objects.filter(shop=shop).order_by("weekday", "opens"):
        weekly.setdefault(window.weekday, []).append((window.opens, window.closes))
    since = shoptime.local_date(now, shop.tz) - timedelta(days=1)
    holidays = Holiday.objects.filter(shop=shop, day__gte=since).values_list("day", flat=True)
    return ServiceHours(shop, weekly, frozenset(holidays))
