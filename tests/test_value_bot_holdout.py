"""The bot holdout: off by default; when a shop sets a share, the shoppers the stable hash draws start with the
human agents (queued like any hand-off, the reason recorded, the bot silent), and the report compares them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from analytics.services.value import bot_holdout_reports
from chat import services
from chat.intents import HandoffReason
from chat.measurement import in_bot_holdout, save_measurement_policy, shopper_key
from chat.models import Conversation, MeasurementPolicy, Message, QueueEntry
from core.splits import bot_holdout_experiment, in_share
from shops.quota import bot_conversations_this_month
from tests.factories import CustomerFactory, FAQCardFactory

pytestmark = pytest.mark.django_db


def start(shop, customer):
    visitor = services.open_visitor(shop, visitor_token=services.new_visitor_token(), customer=customer)
    turn = services.receive_visitor_message(visitor, "发什么快递")
    return Conversation.objects.get(pk=turn.message.conversation.pk), turn


def test_the_bot_holdout_is_off_by_default(shop_a):
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通快递")
    for customer in CustomerFactory.create_batch(10, shop=shop_a):
        conversation, turn = start(shop_a, customer)
        assert conversation.status == Conversation.Status.BOT and turn.replies[0].text == "默认发中通快递"


def test_drawn_shoppers_go_straight_to_the_agents_queue_with_the_reason_recorded(shop_a):
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通快递")
    save_measurement_policy(MeasurementPolicy(shop=shop_a, bot_holdout_percent=40))
    drawn = 0
    for customer in CustomerFactory.create_batch(20, shop=shop_a):
        conversation, turn = start(shop_a, customer)
        expected = in_share(bot_holdout_experiment(shop_a.pk), shopper_key(customer.pk, ""), 40)
        assert in_bot_holdout(shop_a.pk, customer.pk, "") == expected
        if expected:
            drawn += 1
            assert conversation.status == Conversation.Status.WAITING
            assert conversation.handoff_reason == HandoffReason.HOLDOUT and conversation.handed_over_at is not None
            assert QueueEntry.objects.filter(conversation=conversation).exists()
            assert not Message.objects.filter(conversation=conversation, sender=Message.Sender.BOT).exists()
            assert [r.sender for r in turn.replies] == [Message.Sender.SYSTEM]  # told once that an agent comes
        else:
            assert conversation.status == Conversation.Status.BOT and turn.replies[0].text == "默认发中通快递"
    assert 0 < drawn < 20
    # Conversations the bot never served do not use its monthly quota.
    assert bot_conversations_this_month(shop_a) == 20 - drawn


def test_changing_the_share_restarts_the_comparison(shop_a):
    policy = save_measurement_policy(MeasurementPolicy(shop=shop_a, bot_holdout_percent=20))
    first = policy.bot_holdout_since
    assert first is not None
    policy.durable_window_days = 10
    assert save_measurement_policy(policy).bot_holdout_since == first  # the window is no part of the draw
    policy.bot_holdout_percent = 30
    assert save_measurement_policy(policy).bot_holdout_since > first
    policy.bot_holdout_percent = 0
    assert save_measurement_policy(policy).bot_holdout_since is None


def test_a_share_above_half_is_refused(shop_a):
    with pytest.raises(ValidationError):
        save_measurement_policy(MeasurementPolicy(shop=shop_a, bot_holdout_percent=60))


def test_the_report_compares_the_bot_with_humans_only_since_the_share_was_set(shop_a, shop_b):
    policy = save_measurement_policy(MeasurementPolicy(shop=shop_a, bot_holdout_percent=50))
    since = policy.bot_holdout_since
    before = Conversation.objects.create(shop=shop_a, visitor_token="old", satisfaction=5)
    Conversation.objects.filter(pk=before.pk).update(started_at=since - timedelta(days=1))
    for n in range(6):
        Conversation.objects.create(shop=shop_a, visitor_token=f"b{n}", satisfaction=5 if n < 4 else 2)
    for n in range(4):
        Conversation.objects.create(
            shop=shop_a, visitor_token=f"h{n}", satisfaction=5 if n < 1 else 1,
            handoff_reason=HandoffReason.HOLDOUT, handed_over_at=timezone.now(),
        )  # fmt: skip
    Conversation.objects.create(shop=shop_a, visitor_token="q", handoff_reason=HandoffReason.QUOTA)
    save_measurement_policy(MeasurementPolicy(shop=shop_b, bot_holdout_percent=10))
    [report] = bot_holdout_reports([shop_a.pk])
    assert (report.bot_conversations, report.holdout_conversations, report.percent) == (6, 4, 50)
    assert (report.satisfaction.first, report.satisfaction.first_n) == (4, 6)
    assert (report.satisfaction.second, report.satisfaction.second_n) == (1, 4)
    assert report.satisfaction.verdict == "too_small"


def test_a_manager_sets_the_holdout_in_the_admin_for_their_shop_only(client, shop_a, shop_b, manager_a):
    client.force_login(manager_a)
    url = reverse("admin:chat_measurementpolicy_add")
    foreign = client.post(url, {"shop": shop_b.pk, "durable_window_days": 7, "bot_holdout_percent": 10})
    assert foreign.status_code == 200 and not MeasurementPolicy.objects.exists()
    too_much = client.post(url, {"shop": shop_a.pk, "durable_window_days": 7, "bot_holdout_percent": 80})
    assert too_much.status_code == 200 and not MeasurementPolicy.objects.exists()
    assert client.post(url, {"shop": shop_a.pk, "durable_window_days": 5, "bot_holdout_percent": 10}).status_code == 302
    policy = MeasurementPolicy.objects.get()
    assert (policy.shop, policy.durable_window_days, policy.bot_holdout_percent) == (shop_a, 5, 10)
    assert policy.bot_holdout_since is not None
    other = MeasurementPolicy.objects.create(shop=shop_b)
    assert client.get(reverse("admin:chat_measurementpolicy_change", args=[other.pk])).status_code == 404
