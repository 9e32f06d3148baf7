"""Quiet hours and calendar days in the shop's timezone."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(moment: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> bool:
    """True when ``moment`` falls in [start, end) local time; a window with start > end spans midnight."""
    if start is None or end is None:
        return False
    local = moment.astimezone(tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed_time(moment: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> datetime:
    """``moment`` itself outside quiet hours, otherwise the end of the quiet hours it falls in."""
    if not in_quiet_hours(moment, tz, start, end):
        return moment
    local = moment.astimezone(tz)
    end_today = datetime.combine(local.date(), end, tzinfo=tz)
    # Before today's end (same-day window, or the morning part of one spanning midnight): it ends today.
    return end_today if local < end_today else end_today + timedelta(days=1)


def start_of_day(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date(), time.min, tzinfo=tz)


def start_of_next_day(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=tz)
