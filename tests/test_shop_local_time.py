"""Every shop-local time figure is cut in the shop's own timezone, not the project's (Asia/Shanghai): a
New York shop's dashboard days, nightly reports, quota month, campaign quiet hours and live answers."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from analytics.models import QAReport
from analytics.services.dashboard import build_dashboard
from analytics.services.reports import build_reports, build_yesterdays_reports
from analytics.tasks import build_daily_reports
from chat.models import Conversation, Message
from marketing.models import Campaign, Touch
from marketing.services import live_answer, scan_shop
from shops.models import Order
from shops.quota import bot_conversations_this_month, month_start
from tests.factories import (
    CampaignFactory,
    CustomerFactory,
    LiveSessionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 24)


def new_york(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NEW_YORK)


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def ny_shop(db):
    return ShopFactory(name="纽约店", slug="new-york", timezone="America/New_York")


def conversation(shop, started: datetime) -> Conversation:
    with time_machine.travel(started, tick=False):
        return Conversation.objects.create(shop=shop, visitor_token="v", status=Conversation.Status.CLOSED)


def message(chat: Conversation, when: datetime) -> Message:
    with time_machine.travel(when, tick=False):
        return Message.objects.create(conversation=chat, shop=chat.shop, sender=Message.Sender.SHOPPER, text="在吗")


def test_the_server_runs_in_another_zone_than_the_new_york_shop():
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_the_dashboard_counts_a_late_evening_in_new_york_on_that_new_york_day(ny_shop):
    conversation(ny_shop, new_york(24, 23, 30))  # already 12:30 on the 25th in Shanghai
    conversation(ny_shop, new_york(25, 0, 30))
    dashboard = build_dashboard([ny_shop.pk], DAY, DAY, Decimal("300"))
    assert dashboard.totals.conversations == 1
    assert [(day, figures.conversations) for day, figures in dashboard.daily] == [(DAY, 1)]


def test_a_view_over_shops_in_two_zones_counts_each_on_its_own_local_days(ny_shop, shop_a):
    conversation(ny_shop, new_york(24, 23, 30))  # the 24th in New York, the 25th in Shanghai
    conversation(shop_a, shanghai(25, 0, 30))  # the 25th in Shanghai, the 24th in New York
    conversation(shop_a, shanghai(24, 9))
    dashboard = build_dashboard([ny_shop.pk, shop_a.pk], DAY, DAY + timedelta(days=1), Decimal("300"))
    assert [(day, figures.conversations) for day, figures in dashboard.daily] == [
        (DAY, 2),
        (DAY + timedelta(days=1), 1),
    ]
    assert {shop_id: figures.conversations for _, shop_id, figures in dashboard.per_shop} == {
        ny_shop.pk: 1,
        shop_a.pk: 2,
    }


def test_a_nightly_report_takes_the_messages_of_the_shops_local_day(ny_shop):
    chat = conversation(ny_shop, new_york(24, 8))
    message(chat, new_york(24, 0, 10))  # 13:10 on the 24th in Shanghai
    message(chat, new_york(24, 23, 50))  # 12:50 on the 25th in Shanghai
    message(chat, new_york(25, 0, 10))
    build_reports(DAY, [ny_shop.pk])
    assert QAReport.objects.get(shop=ny_shop, scope=QAReport.Scope.SHOP, day=DAY).messages == 2


def test_the_nightly_run_reports_each_shops_own_yesterday(ny_shop, shop_a):
    message(conversation(ny_shop, new_york(23, 12)), new_york(23, 12))
    message(conversation(shop_a, shanghai(24, 12)), shanghai(24, 12))
    # 00:30 on the 25th in Shanghai is 11:30 on the 24th in New York: its last finished day is the 23rd.
    with time_machine.travel(shanghai(25, 0, 30), tick=False):
        build_daily_reports()
    shop_days = set(QAReport.objects.filter(scope=QAReport.Scope.SHOP).values_list("shop_id", "day"))
    assert shop_days == {(ny_shop.pk, date(2026, 11, 23)), (shop_a.pk, DAY)}
    assert build_yesterdays_reports(shanghai(25, 0, 30)) == 2  # rebuilt, not added to


def test_a_new_york_shops_month_starts_at_new_york_midnight(ny_shop):
    december_in_shanghai = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)  # 20:00 on 30 November in New York
    assert month_start(ny_shop, december_in_shanghai) == datetime(2026, 11, 1, tzinfo=NEW_YORK)
    conversation(ny_shop, new_york(30, 19))  # December in Shanghai, November in New York
    conversation(ny_shop, new_york(1, 0, 30))
    conversation(ny_shop, datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK))  # November in Shanghai only
    assert bot_conversations_this_month(ny_shop, december_in_shanghai) == 2


@pytest.mark.django_db(transaction=True)
def test_quiet_hours_hold_a_touch_until_the_morning_in_new_york(ny_shop):
    customer = CustomerFactory(shop=ny_shop, nickname="Amy")
    Conversation.objects.create(shop=ny_shop, customer=customer, visitor_token="v-amy")
    CampaignFactory(shop=ny_shop, kind=Campaign.Kind.PAYMENT, delay_minutes=30, quiet_start=time(22), quiet_end=time(8))
    order = OrderFactory(
        shop=ny_shop,
        customer=customer,
        status=Order.Status.UNPAID,
        total_amount=Decimal("99.00"),
        paid_amount=Decimal("0"),
        created_at=new_york(24, 21, 50),
    )
    OrderLineFactory(order=order, product=ProductFactory(shop=ny_shop))
    # 22:25 in New York is 11:25 in Shanghai: quiet for the shop, daytime for the server.
    with time_machine.travel(new_york(24, 22, 25), tick=False):
        report = scan_shop(ny_shop)
    assert report.created == 1 and report.enqueued == 0
    assert Touch.objects.get().scheduled_at == new_york(25, 8)


def test_today_in_a_live_answer_is_the_shops_today(ny_shop):
    LiveSessionFactory(shop=ny_shop, title="感恩节专场", starts_at=new_york(24, 20), ends_at=new_york(24, 22))
    # 21:00 on the 24th in Shanghai is 08:00 on the 24th in New York; the show starts at 09:00 on the 25th
    # in Shanghai, which the project's zone would call tomorrow.
    with time_machine.travel(shanghai(24, 21), tick=False):
        assert live_answer(ny_shop, "今天直播吗") == "下一场直播「感恩节专场」在今天 20:00–22:00。"


def test_the_report_command_without_a_day_builds_each_shops_own_yesterday(ny_shop, shop_a):
    message(conversation(ny_shop, new_york(23, 12)), new_york(23, 12))
    message(conversation(shop_a, shanghai(24, 12)), shanghai(24, 12))
    with time_machine.travel(shanghai(25, 0, 30), tick=False):
        call_command("build_qa_reports", stdout=StringIO())
    shop_days = set(QAReport.objects.filter(scope=QAReport.Scope.SHOP).values_list("shop_id", "day"))
    assert shop_days == {(ny_shop.pk, date(2026, 11, 23)), (shop_a.pk, DAY)}
