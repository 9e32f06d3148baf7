"""Calendar days of the shops' time zone (the project's TIME_ZONE) as datetime ranges."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """From the first moment of ``start`` to the first moment after ``end`` (both days included)."""
    zone = local_zone()
    return datetime.combine(start, time.min, zone), datetime.combine(end + timedelta(days=1), time.min, zone)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
