"""Service hours and holidays in the shop's own timezone (shops.hours over core.shoptime), here a New York
shop on a server whose project timezone is Asia/Shanghai; outside them a hand-off gets the away message and
becomes a left message (留言), first in the queue when the hours start."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from chat import assignment, tasks
from chat.models import Message, QueueEntry, ServiceDesk
from core import shoptime
from shops.hours import service_hours
from shops.models import Holiday, OpeningHours
from tests.assignment_support import holder, online_agent, set_rule, shopper_asking
from tests.factories import ShopFactory

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
NINE_TO_SIX = {day: [(time(9), time(18))] for day in range(5)}  # Monday to Friday


def test_the_server_and_the_shop_are_in_different_timezones():
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_hours_are_read_on_the_shops_clock_not_the_servers():
    # Monday 2026-11-30 09:30 in New York is 22:30 in Shanghai: open; 08:30 New York (21:30 Shanghai) is not.
    assert shoptime.in_weekly_hours(datetime(2026, 11, 30, 14, 30, tzinfo=UTC), NEW_YORK, NINE_TO_SIX)
    assert not shoptime.in_weekly_hours(datetime(2026, 11, 30, 13, 30, tzinfo=UTC), NEW_YORK, NINE_TO_SIX)


def test_a_holiday_closes_the_whole_local_day():
    thanksgiving = date(2026, 11, 26)
    noon = datetime(2026, 11, 26, 12, 0, tzinfo=NEW_YORK)
    assert shoptime.in_weekly_hours(noon, NEW_YORK, NINE_TO_SIX)
    assert not shoptime.in_weekly_hours(noon, NEW_YORK, NINE_TO_SIX, {thanksgiving})


def test_a_window_past_midnight_does_not_run_on_after_a_holiday_evening():
    late = {4: [(time(20), time(2))]}  # Friday 20:00 to Saturday 02:00
    saturday_one_am = datetime(2026, 11, 28, 1, 0, tzinfo=NEW_YORK)
    assert shoptime.in_weekly_hours(saturday_one_am, NEW_YORK, late)
    assert not shoptime.in_weekly_hours(saturday_one_am, NEW_YORK, late, {date(2026, 11, 27)})


def test_the_next_opening_skips_the_weekend_and_holidays():
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=NEW_YORK)
    assert shoptime.next_opening(friday_evening, NEW_YORK, NINE_TO_SIX) == datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
    assert shoptime.next_opening(friday_evening, NEW_YORK, NINE_TO_SIX, {date(2026, 11, 30)}) == datetime(
        2026, 12, 1, 9, 0, tzinfo=NEW_YORK
    )
    assert shoptime.next_opening(friday_evening, NEW_YORK, {}) is None


@pytest.mark.django_db
def test_a_shop_without_hours_serves_around_the_clock():
    hours = service_hours(ShopFactory(timezone="America/New_York").pk)
    assert hours.always_open and hours.is_open(timezone.now())


def closed_today(shop) -> datetime:
    """Hours every day 09:00-18:00 in the shop's zone, and today (shop-local) a holiday: closed now, whatever
    the time; returns when the shop opens next (tomorrow 09:00 local)."""
    for weekday in range(7):
        OpeningHours.objects.create(shop=shop, weekday=weekday, opens=time(9), closes=time(18))
    today = shoptime.local_date(timezone.now(), shop.tz)
    Holiday.objects.create(shop=shop, day=today, name="店庆休息")
    return datetime.combine(today + timedelta(days=1), time(9), tzinfo=shop.tz)


@pytest.mark.django_db(transaction=True)
def test_outside_hours_a_hand_off_gets_the_away_message_and_opening_time_and_becomes_a_left_message():
    shop = ShopFactory(timezone="America/New_York")
    set_rule(shop, ServiceDesk.Rule.ROUND_ROBIN)
    ServiceDesk.objects.filter(shop=shop).update(away_message="您好，本店客服今天休息。")
    opens = closed_today(shop)
    online_agent(shop, "on-duty")  # online, but the shop is closed: nobody is assigned
    conversation = shopper_asking(shop)
    assert holder(conversation) is None
    entry = QueueEntry.objects.get(conversation=conversation)
    assert entry.left_message and entry.at_head
    notice = Message.objects.filter(conversation=conversation, sender=Message.Sender.SYSTEM).last()
    assert notice.text.startswith("您好，本店客服今天休息。您的留言已经记下")
    assert f"{opens:%m月%d日} 09:00（America/New_York）" in notice.text
    position = assignment.current_position(conversation)
    assert position is not None and position["opens_at"] == assignment.iso(opens)


@pytest.mark.django_db(transaction=True)
def test_a_left_message_opens_as_the_first_queue_item_when_the_hours_start():
    shop = ShopFactory(timezone="America/New_York")
    set_rule(shop, ServiceDesk.Rule.ROUND_ROBIN)
    earlier = shopper_asking(shop)  # during hours, nobody online: queued
    closed_today(shop)
    left = shopper_asking(shop)
    assert assignment.queue_order(shop.pk) == [left.pk, earlier.pk]
    agent = online_agent(shop, "morning", max_chats=1)
    assert holder(left) is None  # still closed
    # The hours start (without waiting for tomorrow: the closed day and its windows are taken away).
    Holiday.objects.filter(shop=shop).delete()
    OpeningHours.objects.filter(shop=shop).delete()
    tasks.assign_queues()
    assert holder(left) == agent.pk and holder(earlier) is None


@pytest.mark.django_db(transaction=True)
def test_a_changed_window_holiday_or_timezone_is_seen_at_once_though_each_process_keeps_the_hours():
    shop = ShopFactory(timezone="America/New_York")
    assert service_hours(shop.pk).always_open  # read, and kept by this process
    window = OpeningHours.objects.create(shop=shop, weekday=0, opens=time(9), closes=time(18))
    assert service_hours(shop.pk).weekly == {0: [(time(9), time(18))]}
    Holiday.objects.create(shop=shop, day=date(2026, 11, 30), name="店庆")
    assert service_hours(shop.pk).holidays == {date(2026, 11, 30)}
    shop.timezone = "Europe/Berlin"
    shop.save()
    assert service_hours(shop.pk).tz == ZoneInfo("Europe/Berlin")
    window.delete()
    assert service_hours(shop.pk).weekly == {}
