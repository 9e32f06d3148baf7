"""Plans and the basic plan's monthly bot-conversation quota: usage, the hand-over switch, warnings."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import WebhookSubscription
from chat.models import Conversation
from chat.services import new_conversation, new_visitor_token
from shops.models import QuotaWarning, Shop
from shops.quota import (
    QUOTA_HANDOFF_REASON,
    bot_conversations_this_month,
    bot_quota_exceeded,
    month_start,
    quota_usage,
    warn_quota_thresholds,
)
from tests.deliveries import settle
from tests.factories import ConversationFactory, ShopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_quota(settings):
    settings.SHOPBEE_BASIC_MONTHLY_BOT_CONVERSATIONS = 5


def start(shop, count: int, **fields):
    return [ConversationFactory(shop=shop, **fields) for _ in range(count)]


def test_a_basic_shop_passes_its_quota_at_the_quotas_count(shop_a):
    start(shop_a, 4)
    assert not bot_quota_exceeded(shop_a)
    start(shop_a, 1)
    assert bot_quota_exceeded(shop_a)
    assert quota_usage(shop_a).percent == 100


def test_an_unlimited_shop_never_passes_a_quota():
    shop = ShopFactory(plan=Shop.Plan.UNLIMITED)
    start(shop, 8)
    assert not bot_quota_exceeded(shop)
    assert quota_usage(shop).quota is None and warn_quota_thresholds(shop) == []


def test_conversations_sent_to_agents_for_the_quota_do_not_count(shop_a):
    start(shop_a, 4)
    start(shop_a, 3, status=Conversation.Status.WAITING, handoff_reason=QUOTA_HANDOFF_REASON)
    start(shop_a, 1, handoff_reason="requested")  # served by the bot first, then handed over
    assert bot_conversations_this_month(shop_a) == 5


def test_only_this_months_conversations_count_in_the_shops_timezone(shop_a, shop_b):
    now = datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 16:30 UTC on 30 November
    old, new = start(shop_a, 2)
    Conversation.objects.filter(pk=old.pk).update(started_at=now - timedelta(hours=1))
    Conversation.objects.filter(pk=new.pk).update(started_at=now)
    start(shop_b, 3)
    assert month_start(shop_a, now) == datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert bot_conversations_this_month(shop_a, now) == 1


def test_other_shops_conversations_do_not_count(shop_a, shop_b):
    start(shop_b, 6)
    assert bot_conversations_this_month(shop_a) == 0 and not bot_quota_exceeded(shop_a)


def test_managers_are_warned_once_at_80_and_once_at_100_percent(shop_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start(shop_a, 3)
    assert not QuotaWarning.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        start(shop_a, 1)  # 4 of 5: 80%
    assert list(QuotaWarning.objects.values_list("threshold", "used", "quota")) == [(80, 4, 5)]
    with django_capture_on_commit_callbacks(execute=True):
        start(shop_a, 3)  # 7 of 5
    assert sorted(QuotaWarning.objects.values_list("threshold", flat=True)) == [80, 100]
    assert warn_quota_thresholds(shop_a) == []


@pytest.mark.django_db(transaction=True)
def test_a_quota_warning_is_sent_to_the_shops_webhook(shop_a, webhook_receiver):
    WebhookSubscription.objects.create(shop=shop_a, url=webhook_receiver.url, events=["quota.warning"])
    start(shop_a, 5)
    settle()
    events = sorted((json.loads(r["body"]) for r in webhook_receiver.requests), key=lambda e: e["data"]["threshold"])
    assert [(e["event"], e["data"]["threshold"]) for e in events] == [("quota.warning", 80), ("quota.warning", 100)]
    assert events[-1]["data"]["used"] == 5 and events[-1]["data"]["quota"] == 5


def test_a_new_conversation_of_an_unlimited_shop_never_counts_the_month(django_capture_on_commit_callbacks):
    shop = ShopFactory(plan=Shop.Plan.UNLIMITED)
    start(shop, 3)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        new_conversation(shop, visitor_token=new_visitor_token())
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_a_basic_shops_quota_check_counts_no_further_than_the_quota():
    shop = ShopFactory(plan=Shop.Plan.BASIC)
    start(shop, 5 + 3)
    assert bot_conversations_this_month(shop) == 8
    assert bot_conversations_this_month(shop, up_to=5) == 5
    assert bot_quota_exceeded(shop)
