"""Durable resolution: each rule that loses a bot resolution, the window (the shop's own), the anonymous
shopper, settled versus pending conversations, and the groupings (shop, channel, card, intent)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics.services.durable import LossReason, durable_report, outcomes
from chat.intents import HandoffReason, Intent, intent_label
from chat.models import Conversation, MeasurementPolicy, Message, WorkOrder
from knowledge.models import AnswerLog, AnswerOutcome
from shops.models import Refund
from tests.factories import CustomerFactory, FAQCardFactory, OrderFactory

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 1, 10, 0, tzinfo=ZONE)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=ZONE)
Status = Conversation.Status


def chat(shop, started, *, customer=None, token="v", handoff="", order=None, channel="web", card=None, intent=""):
    """A conversation as the services leave it: closed by the bot 40 minutes after it started, or handed over."""
    with time_machine.travel(started, tick=False):
        conversation = Conversation.objects.create(
            shop=shop,
            customer=customer,
            visitor_token=token,
            channel=channel,
            status=Status.CLOSED,
            handoff_reason=handoff,
            handed_over_at=started + timedelta(minutes=1) if handoff else None,
            ended_at=started + timedelta(minutes=40),
            state={"order": order.pk} if order is not None else {},
        )
        if card is not None:
            AnswerLog.objects.create(
                shop=shop, conversation=conversation, question=card.question, card=card, score=0.9,
                outcome=AnswerOutcome.ANSWER,
            )  # fmt: skip
        if intent:
            Message.objects.create(conversation=conversation, shop=shop, sender="shopper", text="?", intent=intent)
    return conversation


def reasons(conversation) -> set[LossReason]:
    return outcomes(Conversation.objects.filter(pk=conversation.pk), NOW)[conversation.pk].reasons


def test_a_bot_resolution_nobody_came_back_to_is_durable(shop_a):
    alone = chat(shop_a, START, customer=CustomerFactory(shop=shop_a))
    outcome = outcomes(Conversation.objects.filter(pk=alone.pk), NOW)[alone.pk]
    assert outcome.bot_resolved and outcome.settled and outcome.durable and not outcome.reasons


def test_asking_for_a_human_within_the_window_loses_the_resolution(shop_a):
    customer = CustomerFactory(shop=shop_a)
    first = chat(shop_a, START, customer=customer)
    chat(shop_a, START + timedelta(days=3), customer=customer, handoff=HandoffReason.REQUESTED)
    assert reasons(first) == {LossReason.ASKED_FOR_HUMAN}
    angry_customer = CustomerFactory(shop=shop_a)
    second = chat(shop_a, START, customer=angry_customer)
    chat(shop_a, START + timedelta(days=6), customer=angry_customer, handoff=HandoffReason.ANGRY)
    assert reasons(second) == {LossReason.ASKED_FOR_HUMAN}


def test_a_hand_off_after_the_window_or_for_the_quota_keeps_the_resolution(shop_a):
    customer = CustomerFactory(shop=shop_a)
    first = chat(shop_a, START, customer=customer)
    chat(shop_a, START + timedelta(days=8), customer=customer, handoff=HandoffReason.REQUESTED)
    chat(shop_a, START + timedelta(days=2), customer=customer, handoff=HandoffReason.QUOTA)
    assert reasons(first) == set()


def test_coming_back_about_the_same_card_loses_it_and_another_card_does_not(shop_a):
    shipping, returns = FAQCardFactory(shop=shop_a), FAQCardFactory(shop=shop_a)
    customer, other = CustomerFactory(shop=shop_a), CustomerFactory(shop=shop_a)
    same = chat(shop_a, START, customer=customer, card=shipping)
    chat(shop_a, START + timedelta(days=2), customer=customer, card=shipping)
    different = chat(shop_a, START, customer=other, card=shipping)
    chat(shop_a, START + timedelta(days=2), customer=other, card=returns)
    assert reasons(same) == {LossReason.CAME_BACK}
    assert reasons(different) == set()


def test_coming_back_about_the_same_task_loses_it_and_small_talk_does_not(shop_a):
    customer, other = CustomerFactory(shop=shop_a), CustomerFactory(shop=shop_a)
    same = chat(shop_a, START, customer=customer, intent=Intent.INVOICE)
    chat(shop_a, START + timedelta(days=1), customer=customer, intent=Intent.INVOICE)
    chatty = chat(shop_a, START, customer=other, intent=Intent.GREETING)
    chat(shop_a, START + timedelta(days=1), customer=other, intent=Intent.GREETING)
    assert reasons(same) == {LossReason.CAME_BACK}
    assert reasons(chatty) == set()


def test_coming_back_about_the_same_order_loses_it(shop_a):
    customer = CustomerFactory(shop=shop_a)
    order = OrderFactory(shop=shop_a, customer=customer)
    first = chat(shop_a, START, customer=customer, order=order)
    chat(shop_a, START + timedelta(days=4), customer=customer, order=order)
    assert reasons(first) == {LossReason.CAME_BACK}


def test_a_refund_or_a_complaint_on_the_order_discussed_loses_it(shop_a):
    customer = CustomerFactory(shop=shop_a)
    refunded, complained, later = (OrderFactory(shop=shop_a, customer=customer) for _ in range(3))
    first = chat(shop_a, START, customer=customer, order=refunded)
    second = chat(shop_a, START, customer=CustomerFactory(shop=shop_a), order=complained)
    third = chat(shop_a, START, customer=CustomerFactory(shop=shop_a), order=later)
    with time_machine.travel(START + timedelta(days=2), tick=False):
        Refund.objects.create(shop=shop_a, order=refunded, amount=refunded.total_amount)
        WorkOrder.objects.create(shop=shop_a, order=complained, kind=WorkOrder.Kind.COMPLAINT, details="差评")
    with time_machine.travel(START + timedelta(days=9), tick=False):
        Refund.objects.create(shop=shop_a, order=later, amount=later.total_amount)
    assert reasons(first) == {LossReason.REFUND_OR_COMPLAINT}
    assert reasons(second) == {LossReason.REFUND_OR_COMPLAINT}
    assert reasons(third) == set()


def test_an_anonymous_shopper_is_followed_by_their_visitor_token(shop_a):
    card = FAQCardFactory(shop=shop_a)
    first = chat(shop_a, START, token="anon-1", card=card)
    chat(shop_a, START + timedelta(days=1), token="anon-1", card=card)
    stranger = chat(shop_a, START, token="anon-2", card=card)
    assert reasons(first) == {LossReason.CAME_BACK}
    assert reasons(stranger) == set()


def test_the_shops_own_window_decides_what_counts(shop_a):
    MeasurementPolicy.objects.create(shop=shop_a, durable_window_days=2)
    customer = CustomerFactory(shop=shop_a)
    first = chat(shop_a, START, customer=customer)
    chat(shop_a, START + timedelta(days=3), customer=customer, handoff=HandoffReason.REQUESTED)
    assert reasons(first) == set()


def test_a_conversation_whose_window_is_open_is_pending_not_durable(shop_a):
    recent = chat(shop_a, NOW - timedelta(days=2))
    outcome = outcomes(Conversation.objects.filter(pk=recent.pk), NOW)[recent.pk]
    assert outcome.bot_resolved and not outcome.settled and not outcome.durable
    report = durable_report(Conversation.objects.filter(shop=shop_a), NOW)
    assert report.pending == 1 and report.total.conversations == 0


def test_the_report_shows_plain_and_durable_side_by_side_grouped_by_shop_channel_card_and_intent(shop_a):
    card = FAQCardFactory(shop=shop_a, question="多久发货")
    lost_customer, kept_customer = CustomerFactory(shop=shop_a), CustomerFactory(shop=shop_a)
    chat(shop_a, START, customer=lost_customer, card=card, channel=Conversation.Channel.WECOM)
    chat(shop_a, START + timedelta(days=1), customer=lost_customer, card=card, handoff=HandoffReason.REQUESTED)
    chat(shop_a, START, customer=kept_customer, card=card, intent=Intent.ORDER_STATUS)
    report = durable_report(Conversation.objects.filter(shop=shop_a), NOW)
    total = report.total
    assert (total.conversations, total.bot_resolved, total.durable) == (3, 2, 1)
    assert (total.plain_share, total.durable_share) == (66.7, 33.3)
    assert total.lost == {LossReason.ASKED_FOR_HUMAN: 1, LossReason.CAME_BACK: 1}
    assert [(r.label, r.conversations, r.durable) for r in report.by_shop] == [("店铺A", 3, 1)]
    channels = {r.label: (r.conversations, r.durable) for r in report.by_channel}
    assert channels == {str(Conversation.Channel.WECOM.label): (1, 0), str(Conversation.Channel.WEB.label): (2, 1)}
    assert [(r.label, r.conversations, r.bot_resolved, r.durable) for r in report.by_card] == [("多久发货", 3, 2, 1)]
    assert [(r.label, r.durable) for r in report.by_intent] == [(intent_label(Intent.ORDER_STATUS), 1)]


def test_another_shops_conversations_never_count(shop_a, shop_b):
    customer = CustomerFactory(shop=shop_a)
    first = chat(shop_a, START, customer=customer, token="same")
    chat(shop_b, START + timedelta(days=1), token="same", handoff=HandoffReason.REQUESTED)
    assert reasons(first) == set()
    report = durable_report(Conversation.objects.filter(shop=shop_a), NOW)
    assert [r.label for r in report.by_shop] == ["店铺A"]
