"""SLA policies: the clocks (first and next response, business hours in the shop's own timezone), the beat
task that records a breach once and alerts the shop's managers, the timers in the console, the dashboard."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from analytics.services.dashboard import build_dashboard
from chat import services, sla
from chat.messaging import post_message
from chat.models import Conversation, Message, SlaBreach, SlaPolicy
from chat.tasks import check_sla_breaches
from core.shoptime import add_working_time
from shops.models import Holiday, Membership, OpeningHours
from tests.chat_sockets import agent_socket
from tests.conftest import staff_of
from tests.factories import ShopFactory
from tests.test_qa_alerts import connect

Role = Membership.Role
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS_9_TO_18 = {day: [(time(9), time(18))] for day in range(5)}


# --- counting business time ---------------------------------------------------------------------


def test_business_time_stops_outside_the_hours_in_the_shops_own_timezone():
    # Friday 17:58 in New York is already Saturday morning in Shanghai, the project's zone.
    friday_evening = datetime(2026, 11, 27, 17, 58, tzinfo=NEW_YORK)
    due = add_working_time(friday_evening, NEW_YORK, WEEKDAYS_9_TO_18, timedelta(minutes=5))
    assert due == datetime(2026, 11, 30, 9, 3, tzinfo=NEW_YORK)  # 2 minutes on Friday, 3 on Monday


def test_business_time_started_before_opening_counts_from_the_opening():
    early = datetime(2026, 11, 30, 6, 0, tzinfo=NEW_YORK)
    assert add_working_time(early, NEW_YORK, WEEKDAYS_9_TO_18, timedelta(minutes=90)) == datetime(
        2026, 11, 30, 10, 30, tzinfo=NEW_YORK
    )


def test_a_window_past_midnight_counts_into_the_next_morning():
    nights = {4: [(time(22), time(2))]}  # Friday 22:00 to Saturday 02:00
    saturday_1am = datetime(2026, 11, 28, 1, 0, tzinfo=SHANGHAI)
    assert add_working_time(saturday_1am, SHANGHAI, nights, timedelta(minutes=30)) == datetime(
        2026, 11, 28, 1, 30, tzinfo=SHANGHAI
    )
    # Past the window's end: the rest waits for the next Friday night.
    assert add_working_time(saturday_1am, SHANGHAI, nights, timedelta(minutes=90)) == datetime(
        2026, 12, 4, 22, 30, tzinfo=SHANGHAI
    )


def test_business_time_across_a_dst_change_counts_real_minutes():
    # New York leaves DST on Sunday 1 November 2026; a round-the-clock window over that night.
    always = {day: [(time(0), time(0))] for day in range(7)}
    saturday = datetime(2026, 10, 31, 23, 0, tzinfo=NEW_YORK)
    due = add_working_time(saturday, NEW_YORK, always, timedelta(hours=4))
    # 23:00 EDT + 4 real hours is 02:00 EST (the 1 o'clock hour happens twice), not 03:00.
    assert due == datetime(2026, 11, 1, 2, 0, tzinfo=NEW_YORK)
    assert due.astimezone(UTC) - saturday.astimezone(UTC) == timedelta(hours=4)


def test_a_week_without_hours_is_refused():
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 11, 30, tzinfo=SHANGHAI), SHANGHAI, {}, timedelta(minutes=1))


# --- the clocks -----------------------------------------------------------------------------------

HANDED_OVER = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # a Monday


def handed_over(shop, when=HANDED_OVER) -> Conversation:
    with time_machine.travel(when, tick=False):
        conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
        post_message(conversation, Message.Sender.SHOPPER, "转人工")
        services.request_handoff(conversation, "requested")
    conversation.refresh_from_db()
    return conversation


def say(conversation, sender, text, when, agent=None) -> Message:
    with time_machine.travel(when, tick=False):
        return post_message(conversation, sender, text, agent=agent)


@pytest.mark.django_db
def test_the_first_response_clock_runs_from_the_hand_off_until_the_agent_answers(shop_a, agent_a):
    policy = SlaPolicy.objects.create(shop=shop_a, first_response_minutes=2, next_response_minutes=5)
    conversation = handed_over(shop_a)
    timer = sla.running_timer(conversation, policy)
    assert (timer.kind, timer.started_at, timer.due_at) == (
        "first_response",
        HANDED_OVER,
        HANDED_OVER + timedelta(minutes=2),
    )
    services.accept_conversation(conversation, agent_a)  # the system's greeting is not an answer
    conversation.refresh_from_db()
    assert sla.running_timer(conversation, policy).kind == "first_response"

    say(conversation, Message.Sender.AGENT, "您好", HANDED_OVER + timedelta(minutes=1), agent_a)
    assert sla.running_timer(conversation, policy) is None

    asked = HANDED_OVER + timedelta(minutes=3)
    say(conversation, Message.Sender.SHOPPER, "还在吗", asked)
    say(conversation, Message.Sender.SHOPPER, "？？", asked + timedelta(minutes=1))
    timer = sla.running_timer(conversation, policy)
    assert (timer.kind, timer.started_at, timer.due_at) == ("next_response", asked, asked + timedelta(minutes=5))


@pytest.mark.django_db
def test_a_shop_without_a_policy_or_a_conversation_with_the_bot_has_no_clock(shop_a):
    conversation = handed_over(shop_a)
    assert sla.timer_info(conversation) is None
    policy = SlaPolicy.objects.create(shop=shop_a)
    with_bot = Conversation.objects.create(shop=shop_a, visitor_token="v-bot")
    assert sla.running_timer(with_bot, policy) is None


# --- the beat task and the alert -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_breach_is_recorded_once_and_alerts_the_shops_managers_only(shop_a, shop_b, manager_a, agent_a):
    manager_b = await database_sync_to_async(staff_of)(shop_b, Role.MANAGER)
    await database_sync_to_async(SlaPolicy.objects.create)(shop=shop_a, first_response_minutes=2)
    await database_sync_to_async(SlaPolicy.objects.create)(shop=shop_b, first_response_minutes=2)
    conversation = await database_sync_to_async(handed_over)(shop_a)
    socket_a, connected_a, _ = await connect(manager_a)
    socket_b, connected_b, _ = await connect(manager_b)
    assert connected_a and connected_b
    await socket_a.receive_json_from()
    await socket_b.receive_json_from()

    def run_check(at: datetime) -> int:
        with time_machine.travel(at, tick=False):
            return check_sla_breaches.apply().get()

    assert await database_sync_to_async(run_check)(HANDED_OVER + timedelta(minutes=1)) == 0
    assert await socket_a.receive_nothing(timeout=0.3)

    assert await database_sync_to_async(run_check)(HANDED_OVER + timedelta(minutes=3)) == 1
    alert = await socket_a.receive_json_from(timeout=3)
    assert alert["type"] == "sla_breach"
    assert alert["conversation"] == conversation.pk
    assert alert["kind"] == "first_response"
    assert alert["text"] == "转人工"
    assert datetime.fromisoformat(alert["due_at"]) == HANDED_OVER + timedelta(minutes=2)

    # Checked again: the same clock is not alerted twice; another shop's manager heard nothing.
    assert await database_sync_to_async(run_check)(HANDED_OVER + timedelta(minutes=4)) == 0
    assert await socket_a.receive_nothing(timeout=0.3)
    assert await socket_b.receive_nothing(timeout=0.3)
    assert await database_sync_to_async(SlaBreach.objects.count)() == 1
    await socket_a.disconnect()
    await socket_b.disconnect()


@pytest.mark.django_db
def test_a_business_hours_clock_in_new_york_does_not_breach_over_the_weekend(agent_a):
    shop = ShopFactory(timezone="America/New_York")
    weekdays_9_to_18(shop)
    SlaPolicy.objects.create(shop=shop, first_response_minutes=5, business_hours_only=True)
    friday_evening = datetime(2026, 11, 27, 17, 58, tzinfo=NEW_YORK)
    handed_over(shop, friday_evening)
    with time_machine.travel(datetime(2026, 11, 30, 9, 2, tzinfo=NEW_YORK), tick=False):
        assert check_sla_breaches.apply().get() == 0
    with time_machine.travel(datetime(2026, 11, 30, 9, 4, tzinfo=NEW_YORK), tick=False):
        assert check_sla_breaches.apply().get() == 1
    breach = SlaBreach.objects.get()
    assert breach.due_at == datetime(2026, 11, 30, 9, 3, tzinfo=NEW_YORK)


def weekdays_9_to_18(shop) -> None:
    """The shop's service hours (shops.hours), the ones the queue is assigned in."""
    for weekday in range(5):
        OpeningHours.objects.create(shop=shop, weekday=weekday, opens=time(9), closes=time(18))


@pytest.mark.django_db
def test_a_business_hours_clock_skips_the_shops_holidays(agent_a):
    shop = ShopFactory(timezone="America/New_York")
    weekdays_9_to_18(shop)
    Holiday.objects.create(shop=shop, day=date(2026, 11, 30), name="店休")
    policy = SlaPolicy.objects.create(shop=shop, first_response_minutes=5, business_hours_only=True)
    conversation = handed_over(shop, datetime(2026, 11, 27, 17, 58, tzinfo=NEW_YORK))  # Friday evening
    timer = sla.running_timer(conversation, policy)
    assert timer is not None and timer.due_at == datetime(2026, 12, 1, 9, 3, tzinfo=NEW_YORK)  # Tuesday


@pytest.mark.django_db
def test_a_business_hours_clock_runs_around_the_clock_for_a_shop_without_service_hours(shop_a):
    policy = SlaPolicy.objects.create(shop=shop_a, first_response_minutes=5, business_hours_only=True)
    timer = sla.running_timer(handed_over(shop_a), policy)
    assert timer is not None and timer.due_at == HANDED_OVER + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_late_next_response_is_a_breach_with_the_agent_who_holds_the_conversation(shop_a, agent_a):
    SlaPolicy.objects.create(shop=shop_a, first_response_minutes=2, next_response_minutes=5)
    conversation = handed_over(shop_a)
    services.accept_conversation(conversation, agent_a)
    say(conversation, Message.Sender.AGENT, "您好", HANDED_OVER + timedelta(minutes=1), agent_a)
    say(conversation, Message.Sender.SHOPPER, "鞋码偏大吗", HANDED_OVER + timedelta(minutes=2))
    with time_machine.travel(HANDED_OVER + timedelta(minutes=8), tick=False):
        breaches = sla.check_breaches()
    assert [(b.kind, b.agent_id) for b in breaches] == [("next_response", agent_a.pk)]


# --- the console --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_each_queued_conversation_shows_its_timer_in_the_console(shop_a, agent_a):
    await database_sync_to_async(SlaPolicy.objects.create)(shop=shop_a, first_response_minutes=3)
    conversation = await database_sync_to_async(handed_over)(shop_a)
    socket, queue = await agent_socket(agent_a)
    item = queue["waiting"][0]
    assert item["conversation"] == conversation.pk
    assert item["sla"] == {
        "kind": "first_response",
        "started_at": "2026-11-30T02:00:00Z",
        "due_at": "2026-11-30T02:03:00Z",
    }
    await socket.disconnect()


# --- the dashboard --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_shows_sla_met_and_median_first_response_by_shop_and_agent(shop_a, shop_b):
    fast = staff_of(shop_a, Role.AGENT, "fast")
    slow = staff_of(shop_a, Role.AGENT, "slow")
    SlaPolicy.objects.create(shop=shop_a, first_response_minutes=2, next_response_minutes=5)

    def answered(agent, after: timedelta, start_offset_minutes: int) -> Conversation:
        start = HANDED_OVER + timedelta(minutes=start_offset_minutes)
        conversation = handed_over(shop_a, start)
        say(conversation, Message.Sender.AGENT, "您好", start + after, agent)
        return conversation

    answered(fast, timedelta(seconds=60), 0)  # met
    late_next = answered(fast, timedelta(seconds=30), 10)  # first in time, but a next response was late
    SlaBreach.objects.create(
        shop=shop_a, conversation=late_next, kind="next_response", started_at=HANDED_OVER, due_at=HANDED_OVER
    )
    answered(slow, timedelta(seconds=300), 20)  # first response late
    handed_over(shop_a, HANDED_OVER + timedelta(minutes=30))  # never answered, past due: missed
    handed_over(shop_b, HANDED_OVER)  # another shop: not on shop A's dashboard

    with time_machine.travel(HANDED_OVER + timedelta(hours=2), tick=False):
        dashboard = build_dashboard([shop_a.pk], date(2026, 11, 30), date(2026, 11, 30), Decimal("300"))

    (shop,) = dashboard.service_levels.by_shop
    assert (shop.name, shop.handed_over, shop.answered, shop.decided, shop.met) == ("店铺A", 4, 3, 4, 1)
    assert shop.sla_met_share == 25.0
    assert shop.median_first_response == 60.0
    by_agent = {level.name: level for level in dashboard.service_levels.by_agent}
    assert by_agent["fast"].sla_met_share == 50.0 and by_agent["fast"].median_first_response == 45.0
    assert by_agent["slow"].sla_met_share == 0.0 and by_agent["slow"].median_first_response == 300.0


@pytest.mark.django_db
def test_a_conversation_still_within_its_target_is_not_counted_as_met_or_missed(shop_a):
    SlaPolicy.objects.create(shop=shop_a, first_response_minutes=2)
    handed_over(shop_a)
    with time_machine.travel(HANDED_OVER + timedelta(minutes=1), tick=False):
        dashboard = build_dashboard([shop_a.pk], date(2026, 11, 30), date(2026, 11, 30), Decimal("300"))
    assert dashboard.service_level.decided == 0 and dashboard.service_level.sla_met_share is None


# --- the admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_managers_set_their_shops_sla_and_never_see_another_shops_policy_or_breaches(
    shop_a, shop_b, manager_a, agent_a
):
    foreign_policy = SlaPolicy.objects.create(shop=shop_b)
    foreign_breach = SlaBreach.objects.create(
        shop=shop_b, conversation=handed_over(shop_b), kind="first_response", started_at=HANDED_OVER, due_at=HANDED_OVER
    )
    manager, agent = Client(), Client()
    manager.force_login(manager_a)
    agent.force_login(agent_a)

    form = {
        "shop": shop_a.pk,
        "first_response_minutes": 3,
        "next_response_minutes": 10,
    }
    assert agent.post("/admin/chat/slapolicy/add/", form).status_code == 403
    assert manager.post("/admin/chat/slapolicy/add/", {**form, "first_response_minutes": 0}).status_code == 200
    assert manager.post("/admin/chat/slapolicy/add/", {**form, "shop": shop_b.pk}).status_code == 200
    assert manager.post("/admin/chat/slapolicy/add/", form).status_code == 302
    assert SlaPolicy.objects.get(shop=shop_a).first_response_minutes == 3

    assert manager.get(f"/admin/chat/slapolicy/{foreign_policy.pk}/change/").status_code == 404
    assert manager.get(f"/admin/chat/slabreach/{foreign_breach.pk}/change/").status_code == 404
    assert manager.get("/admin/chat/slabreach/").context["cl"].result_count == 0


@pytest.mark.django_db
def test_the_dashboard_page_lists_service_levels_of_the_managers_shops_only(shop_a, shop_b, manager_a):
    agent_b = staff_of(shop_b, Role.AGENT, "agent-of-b")
    SlaPolicy.objects.create(shop=shop_a, first_response_minutes=2)
    conversation = handed_over(shop_a)
    say(conversation, Message.Sender.AGENT, "您好", HANDED_OVER + timedelta(seconds=90), staff_of(shop_a, Role.AGENT))
    foreign = handed_over(shop_b)
    say(foreign, Message.Sender.AGENT, "B店回复", HANDED_OVER + timedelta(seconds=10), agent_b)
    client = Client()
    client.force_login(manager_a)
    page = client.get(reverse("admin:analytics_dashboard"), {"start": "2026-11-30", "end": "2026-11-30"})
    html = page.content.decode()
    table = html[html.index('id="kpi-service-levels"') :]
    assert "店铺A" in table and "90.0 s" in table and "100.0%" in table
    assert "店铺B" not in table and "agent-of-b" not in table
