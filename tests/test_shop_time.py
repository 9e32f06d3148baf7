"""Shop-local time (core.shoptime): days, months, quiet hours and weekly hours in the shop's own zone,
here a New York shop on a server whose project timezone is Asia/Shanghai."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import shoptime

NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def test_a_local_day_runs_from_the_shops_midnight_to_the_next():
    assert shoptime.day_start(date(2026, 11, 24), NEW_YORK) == datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert shoptime.day_end(date(2026, 11, 24), NEW_YORK) == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    assert shoptime.days_range(date(2026, 11, 24), date(2026, 11, 25), SHANGHAI) == (
        datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
    )


def test_the_day_daylight_saving_ends_lasts_twenty_five_hours_in_new_york():
    day = date(2026, 11, 1)
    # Subtracting two datetimes of one zone compares wall clocks: compare the instants.
    start, end = (moment.astimezone(UTC) for moment in shoptime.days_range(day, day, NEW_YORK))
    assert end - start == timedelta(hours=25)


def test_the_same_instant_falls_on_different_dates_in_the_two_shops():
    morning_in_shanghai = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    assert shoptime.local_date(morning_in_shanghai, SHANGHAI) == date(2026, 11, 25)
    assert shoptime.local_date(morning_in_shanghai, NEW_YORK) == date(2026, 11, 24)
    assert shoptime.start_of_day(morning_in_shanghai, NEW_YORK) == datetime(2026, 11, 24, tzinfo=NEW_YORK)
    assert shoptime.start_of_next_day(morning_in_shanghai, NEW_YORK) == datetime(2026, 11, 25, tzinfo=NEW_YORK)


def test_the_month_starts_at_the_shops_midnight_on_the_first():
    new_month_in_shanghai = datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI)
    assert shoptime.month_start(new_month_in_shanghai, SHANGHAI) == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert shoptime.month_start(new_month_in_shanghai, NEW_YORK) == datetime(2026, 11, 1, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [(time(21, 59), False), (time(22, 0), True), (time(23, 30), True), (time(7, 59), True), (time(8, 0), False)],
)
def test_quiet_hours_across_midnight_are_read_in_the_shops_zone(local, quiet):
    moment = datetime.combine(date(2026, 11, 24), local, tzinfo=NEW_YORK)
    assert shoptime.in_window(moment, NEW_YORK, time(22), time(8)) is quiet


def test_night_in_new_york_is_daytime_in_shanghai():
    moment = datetime(2026, 11, 24, 23, 0, tzinfo=NEW_YORK)  # 12:00 on the 25th in Shanghai
    assert shoptime.in_window(moment, NEW_YORK, time(22), time(8))
    assert not shoptime.in_window(moment, SHANGHAI, time(22), time(8))


def test_a_window_without_both_ends_is_never_in_force():
    moment = datetime(2026, 11, 24, 23, 0, tzinfo=NEW_YORK)
    assert not shoptime.in_window(moment, NEW_YORK, None, time(8))
    assert not shoptime.in_window(moment, NEW_YORK, time(22), None)


def test_after_the_window_is_its_end_in_the_shops_zone():
    late = datetime(2026, 11, 24, 23, 0, tzinfo=NEW_YORK)
    early = datetime(2026, 11, 25, 3, 0, tzinfo=NEW_YORK)
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=NEW_YORK)
    assert shoptime.after_window(late, NEW_YORK, time(22), time(8)) == datetime(2026, 11, 25, 8, tzinfo=NEW_YORK)
    assert shoptime.after_window(early, NEW_YORK, time(22), time(8)) == datetime(2026, 11, 25, 8, tzinfo=NEW_YORK)
    assert shoptime.after_window(evening, NEW_YORK, time(22), time(8)) == evening
    lunch = datetime(2026, 11, 24, 12, 30, tzinfo=NEW_YORK)
    assert shoptime.after_window(lunch, NEW_YORK, time(12), time(13)) == datetime(2026, 11, 24, 13, tzinfo=NEW_YORK)


HOURS = {
    0: [(time(9), time(18))],  # Monday
    4: [(time(9), time(12)), (time(20), time(2))],  # Friday, the evening shift runs into Saturday
}


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        (datetime(2026, 11, 23, 9, 0), True),  # Monday 09:00
        (datetime(2026, 11, 23, 18, 0), False),  # Monday 18:00: the end is not included
        (datetime(2026, 11, 27, 13, 0), False),  # Friday between the shifts
        (datetime(2026, 11, 27, 23, 0), True),  # Friday evening
        (datetime(2026, 11, 28, 1, 59), True),  # Saturday night: still Friday's shift
        (datetime(2026, 11, 28, 2, 0), False),
        (datetime(2026, 11, 24, 1, 0), False),  # Tuesday night: Monday's shift ended at 18:00
        (datetime(2026, 11, 29, 10, 0), False),  # Sunday: closed
    ],
)
def test_weekly_hours_are_read_on_the_shops_local_clock(local, open_):
    assert shoptime.in_weekly_hours(local.replace(tzinfo=NEW_YORK), NEW_YORK, HOURS) is open_


def test_monday_morning_in_shanghai_is_still_sunday_in_new_york():
    moment = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # Sunday 21:00 in New York
    assert shoptime.in_weekly_hours(moment, SHANGHAI, HOURS)
    assert not shoptime.in_weekly_hours(moment, NEW_YORK, HOURS)


def test_only_iana_timezone_names_give_a_zone():
    assert shoptime.zone("America/New_York") == NEW_YORK
    assert shoptime.is_timezone_name("Asia/Shanghai")
    for name in ["Mars/Olympus_Mons", "asia/shanghai", "", "+08:00", "CST"]:
        assert not shoptime.is_timezone_name(name)
        with pytest.raises(ValueError):
            shoptime.zone(name)
