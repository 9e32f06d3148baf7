"""The KPI dashboard's numbers on a fixed set of conversations and orders, its CSV, and its scoping."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from analytics.services.dashboard import build_dashboard
from chat.models import Conversation
from knowledge.models import UnansweredQuestion
from marketing.models import Touch
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import CampaignFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
BEFORE = DAY - timedelta(days=1)
Status = Conversation.Status


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def conversation(shop, started, *, status=Status.CLOSED, handed_over=False, satisfaction=None, customer=None):
    with time_machine.travel(started, tick=False):
        return Conversation.objects.create(
            shop=shop,
            visitor_token="v",
            status=status,
            handed_over_at=started + timedelta(minutes=1) if handed_over else None,
            satisfaction=satisfaction,
            customer=customer,
        )


@pytest.fixture
def two_days(shop_a, shop_b):
    x, y, z, w = (CustomerFactory(shop=shop_a) for _ in range(4))
    conversation(shop_a, at(DAY, 0, 30), satisfaction=5, customer=x)  # 00:30 local is still the 20th
    OrderFactory(shop=shop_a, customer=x, created_at=at(DAY, 1, 30))
    conversation(shop_a, at(DAY, 10), customer=y)
    conversation(shop_a, at(DAY, 12), handed_over=True, satisfaction=2, customer=z)
    OrderFactory(shop=shop_a, customer=z, created_at=at(DAY, 12) + timedelta(days=5))  # outside the window
    conversation(shop_a, at(BEFORE, 23, 30), status=Status.AGENT, handed_over=True, satisfaction=4, customer=w)
    OrderFactory(shop=shop_a, customer=w, created_at=at(DAY, 0, 10))
    conversation(shop_a, at(BEFORE, 9), status=Status.BOT)
    conversation(shop_a, at(DAY - timedelta(days=3), 9))  # before the range
    conversation(shop_b, at(DAY, 9), satisfaction=1)


def test_the_dashboards_figures_on_a_fixed_set(shop_a, two_days):
    dashboard = build_dashboard([shop_a.pk], BEFORE, DAY, Decimal("300"))
    totals = dashboard.totals
    assert (totals.conversations, totals.bot_resolved, totals.handed_over, totals.rated, totals.satisfied) == (
        5,
        2,
        2,
        3,
        2,
    )
    assert (totals.bot_resolved_share, totals.handoff_rate, totals.satisfaction_rate) == (40.0, 40.0, 66.7)
    assert (dashboard.conversion_bot.inquiries, dashboard.conversion_bot.orders) == (2, 1)
    assert (dashboard.conversion_agent.inquiries, dashboard.conversion_agent.orders) == (2, 1)
    assert dashboard.bot_agent_days == Decimal("0.008")
    assert dashboard.cost_saved == Decimal("2.40")
    daily = {day: (f.conversations, f.bot_resolved, f.handed_over, f.rated, f.satisfied) for day, f in dashboard.daily}
    assert daily == {BEFORE: (2, 0, 1, 1, 1), DAY: (3, 2, 1, 2, 1)}


def test_days_without_conversations_are_zero_rows(shop_a, two_days):
    dashboard = build_dashboard([shop_a.pk], DAY, DAY + timedelta(days=2), Decimal("300"))
    assert [f.conversations for _day, f in dashboard.daily] == [3, 0, 0]
    assert dashboard.daily[1][1].satisfaction_rate is None


def test_the_manager_dashboard_page_shows_only_their_shops(client, manager_a, shop_b, two_days):
    client.force_login(manager_a)
    response = client.get(reverse("admin:analytics_dashboard"), {"start": BEFORE, "end": DAY})
    assert response.status_code == 200
    assert response.context["dashboard"].totals.conversations == 5
    assert "analytics/vendor/chart.umd.min.js" in response.content.decode()
    assert client.get(reverse("admin:analytics_shop_dashboard", args=[shop_b.pk])).status_code == 404


def test_a_manager_of_two_shops_sees_both_on_the_overview_and_one_on_a_shop_page(client, shop_a, shop_b, two_days):
    manager = staff_of(shop_a, Membership.Role.MANAGER, username="boss")
    Membership.objects.create(user=manager, shop=shop_b, role=Membership.Role.MANAGER)
    client.force_login(manager)
    overview = client.get(reverse("admin:analytics_dashboard"), {"start": BEFORE, "end": DAY}).context["dashboard"]
    assert overview.totals.conversations == 6
    assert [(name, f.conversations) for name, _pk, f in overview.per_shop] == [("店铺A", 5), ("店铺B", 1)]
    page = client.get(reverse("admin:analytics_shop_dashboard", args=[shop_b.pk]), {"start": BEFORE, "end": DAY})
    assert page.context["dashboard"].totals.conversations == 1


def test_the_csv_export_has_a_row_per_day_and_a_total(client, manager_a, shop_a, two_days):
    client.force_login(manager_a)
    url = reverse("admin:analytics_shop_dashboard", args=[shop_a.pk])
    response = client.get(url, {"start": BEFORE, "end": DAY, "format": "csv", "cost_per_agent_day": "500"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 4
    assert lines[1].startswith("2026-11-19,2,0,0.0,1,50.0,1,1,100.0")
    assert lines[3].split(",")[1:4] == ["5", "2", "40.0"]


def test_a_bad_date_range_is_a_400_with_the_reason(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("admin:analytics_dashboard"), {"start": "2026-11-20", "end": "2026-11-01"})
    assert response.status_code == 400
    assert response.context["form"].errors


def test_an_agent_has_no_dashboard(client, agent_a, shop_a):
    client.force_login(agent_a)
    assert client.get(reverse("admin:analytics_dashboard")).status_code == 403
    assert client.get(reverse("admin:analytics_shop_dashboard", args=[shop_a.pk])).status_code == 404


def test_top_unanswered_questions_are_the_open_ones_asked_in_the_range_most_asked_first(
    client, manager_a, shop_a, shop_b, two_days
):
    def ask(shop, text, times, when, status=UnansweredQuestion.Status.OPEN):
        UnansweredQuestion.objects.create(
            shop=shop, text=text, normalized=text, times_asked=times, last_asked_at=when, status=status
        )

    ask(shop_a, "<b>可以开专票吗</b>", 7, at(DAY, 9))
    ask(shop_a, "支持花呗分期吗", 12, at(BEFORE, 9))
    ask(shop_a, "能寄到国外吗", 30, at(DAY - timedelta(days=5), 9))
    ask(shop_a, "有门店吗", 50, at(DAY, 9), UnansweredQuestion.Status.RESOLVED)
    ask(shop_b, "B店的问题", 99, at(DAY, 9))
    dashboard = build_dashboard([shop_a.pk], BEFORE, DAY, Decimal("300"))
    assert [(q["text"], q["times_asked"]) for q in dashboard.unanswered] == [
        ("支持花呗分期吗", 12),
        ("<b>可以开专票吗</b>", 7),
    ]
    client.force_login(manager_a)
    page = client.get(reverse("admin:analytics_dashboard"), {"start": BEFORE, "end": DAY}).content.decode()
    assert "&lt;b&gt;可以开专票吗&lt;/b&gt;" in page
    assert "B店的问题" not in page


def test_campaign_results_list_the_shops_campaigns_with_their_sent_and_paid_counts(shop_a, shop_b):
    campaign = CampaignFactory(shop=shop_a, name="催付")
    CampaignFactory(shop=shop_b, name="B店活动")
    for n, pays in enumerate([True, False]):
        customer = CustomerFactory(shop=shop_a)
        sent = at(DAY, 10)
        Touch.objects.create(
            campaign=campaign,
            shop=shop_a,
            customer=customer,
            channel=campaign.channel,
            idempotency_key=f"k{n}",
            trigger_at=sent,
            scheduled_at=sent,
            sent_at=sent,
            status=Touch.Status.SENT,
        )
        if pays:
            OrderFactory(shop=shop_a, customer=customer, created_at=sent, paid_at=sent + timedelta(hours=5))
    dashboard = build_dashboard([shop_a.pk], DAY, DAY, Decimal("300"))
    assert [(c["name"], c["touches_sent"], c["converted"], c["rate"]) for c in dashboard.campaigns] == [
        ("催付", 2, 1, 50.0)
    ]


def test_the_dashboard_splits_the_figures_by_channel(client, manager_a, shop_a, two_days):
    Conversation.objects.filter(shop=shop_a, started_at__date=DAY).exclude(handed_over_at__isnull=False).update(
        channel=Conversation.Channel.WECOM
    )
    dashboard = build_dashboard([shop_a.pk], BEFORE, DAY, Decimal("300"))
    split = {label: (f.conversations, f.bot_resolved, f.handed_over) for label, f in dashboard.per_channel}
    assert split == {"网页插件": (3, 0, 2), "企业微信客服": (2, 2, 0)}
    client.force_login(manager_a)
    page = client.get(reverse("admin:analytics_shop_dashboard", args=[shop_a.pk]), {"start": BEFORE, "end": DAY})
    assert "企业微信客服" in page.content.decode() and 'id="kpi-channels"' in page.content.decode()
