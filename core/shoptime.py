"""A shop's local time: its days, months, quiet hours and opening hours, in the shop's own timezone.

Pure functions over a ``ZoneInfo`` (get one from the shop's IANA name with ``zone``); every aware
datetime they return is in that zone. Whoever needs "today", "this month" or "is it night" for a shop
asks here, never the server's or the project's timezone.
"""

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Weekly opening hours: weekday (Monday 0 … Sunday 6) → windows of local time [start, end). A window
# whose end is not after its start runs past midnight, into the next day.
WeeklyHours = Mapping[int, Iterable[tuple[time, time]]]


@cache
def timezone_names() -> frozenset[str]:
    """The IANA names this system knows (read from disk once)."""
    return frozenset(available_timezones())


def is_timezone_name(name: str) -> bool:
    return name in timezone_names()


@cache
def zone(name: str) -> ZoneInfo:
    """The timezone of an IANA name such as "Asia/Shanghai"; ValueError for anything else."""
    if not is_timezone_name(name):
        raise ValueError(f"unknown timezone {name!r}")
    return ZoneInfo(name)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day ``moment`` falls on in ``tz``."""
    return moment.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first moment of ``day`` in ``tz``."""
    return datetime.combine(day, time.min, tzinfo=tz)


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The first moment after ``day`` in ``tz`` (exclusive end: a day is [day_start, day_end))."""
    return day_start(day + timedelta(days=1), tz)


def days_range(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """From the first moment of ``first`` to the first moment after ``last`` (both days included)."""
    return day_start(first, tz), day_end(last, tz)


def start_of_day(moment: datetime, tz: ZoneInfo) -> datetime:
    """The first moment of the local day ``moment`` falls on."""
    return day_start(local_date(moment, tz), tz)


def start_of_next_day(moment: datetime, tz: ZoneInfo) -> datetime:
    return day_end(local_date(moment, tz), tz)


def month_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """The first moment of the local calendar month ``moment`` falls in (quotas count per month)."""
    return day_start(local_date(moment, tz).replace(day=1), tz)


def _in_window(local: time, start: time, end: time) -> bool:
    if start < end:
        return start <= local < end
    return local >= start or local < end  # runs past midnight


def in_window(moment: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> bool:
    """True when ``moment`` falls in [start, end) local time (quiet hours, a business window); a window
    with start > end spans midnight; a window without both ends is never in force."""
    if start is None or end is None:
        return False
    return _in_window(moment.astimezone(tz).time(), start, end)


def after_window(moment: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> datetime:
    """``moment`` itself outside the window, otherwise the end of the window it falls in (the next
    time a message may go out after quiet hours)."""
    if start is None or end is None or not in_window(moment, tz, start, end):
        return moment
    local = moment.astimezone(tz)
    end_today = datetime.combine(local.date(), end, tzinfo=tz)
    # Before today's end (same-day window, or the morning part of one spanning midnight): it ends today.
    return end_today if local < end_today else end_today + timedelta(days=1)


def in_weekly_hours(moment: datetime, tz: ZoneInfo, hours: WeeklyHours, holidays: Collection[date] = ()) -> bool:
    """True when ``moment`` falls in one of the shop's weekly windows, read in local time. A window
    past midnight belongs to the day it starts on: Friday 20:00–02:00 covers Saturday 01:00. A holiday
    (a local date) opens no window: the day is closed, and so is the part past midnight of its window."""
    local = moment.astimezone(tz)
    now, today = local.time(), local.date()
    if today not in holidays:
        for start, end in hours.get(today.weekday(), ()):
            if (start <= now < end) if start < end else now >= start:
                return True
    yesterday = today - timedelta(days=1)
    if yesterday in holidays:
        return False
    return any(not start < end and now < end for start, end in hours.get(yesterday.weekday(), ()))


def next_opening(
    moment: datetime, tz: ZoneInfo, hours: WeeklyHours, holidays: Collection[date] = (), *, horizon_days: int = 400
) -> datetime | None:
    """``moment`` itself when it falls in the hours, otherwise the start of the next window (on a day that is
    no holiday); None when no window opens within ``horizon_days`` (no hours at all, say)."""
    if in_weekly_hours(moment, tz, hours, holidays):
        return moment
    first = local_date(moment, tz)
    for offset in range(horizon_days + 1):
        day = first + timedelta(days=offset)
        if day in holidays:
            continue
        starts = sorted(datetime.combine(day, start, tzinfo=tz) for start, _end in hours.get(day.weekday(), ()))
        for start in starts:
            if start > moment:
                return start
    return None


def add_working_time(
    start: datetime, tz: ZoneInfo, hours: WeeklyHours, duration: timedelta, holidays: Collection[date] = ()
) -> datetime:
    """The moment ``duration`` of time inside the weekly ``hours`` has passed since ``start`` (a response
    target counted in business hours only): time outside the windows does not count, nor does a holiday
    (a local date whose windows stay shut, as in ``in_weekly_hours``). The windows of one day must not
    overlap; a week without any window raises ValueError."""
    if not any(hours.get(weekday) for weekday in range(7)):
        raise ValueError("no opening hours in the week")
    start = start.astimezone(UTC)
    remaining = duration
    day = local_date(start, tz) - timedelta(days=1)  # yesterday's window may run past midnight into today
    while True:
        for opens, closes in () if day in holidays else sorted(hours.get(day.weekday(), ())):
            # Through UTC: subtracting two datetimes of one ZoneInfo ignores a DST change between them.
            window_start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
            close_day = day if opens < closes else day + timedelta(days=1)
            window_end = datetime.combine(close_day, closes, tzinfo=tz).astimezone(UTC)
            counted_from = max(window_start, start)
            if window_end <= counted_from:
                continue
            if window_end - counted_from >= remaining:
                return (counted_from + remaining).astimezone(tz)
            remaining -= window_end - counted_from
        day += timedelta(days=1)
