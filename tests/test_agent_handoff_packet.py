"""The hand-off packet (why a conversation reached a human, the bot's summary) and the customer panel
(the shopper, past conversations, orders and refunds), always from the conversation's own shop."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import agent_tools, services
from chat.intents import HandoffReason, Intent
from chat.messaging import post_message
from chat.models import Conversation, ConversationTag, Message
from chat.packet import INTENT_LABELS, REASON_LABELS, customer_panel, handoff_packet
from shops.models import Membership, Order, Refund
from tests.chat_sockets import agent_socket, frames_until, send_message, shopper_socket
from tests.conftest import staff_of
from tests.factories import CustomerFactory, FAQCardFactory, OrderFactory, OrderLineFactory, ProductFactory

Role = Membership.Role


def test_every_hand_off_reason_and_intent_has_a_chinese_label():
    assert set(REASON_LABELS) == set(HandoffReason)
    assert set(INTENT_LABELS) == set(Intent)


@pytest.mark.django_db
def test_the_packet_says_why_what_the_bot_filled_and_what_it_could_not_answer(shop_a, shop_b):
    product = ProductFactory(shop=shop_a, title="云感缓震跑鞋")
    foreign_product = ProductFactory(shop=shop_b, title="B店的鞋")
    conversation = Conversation.objects.create(
        shop=shop_a,
        visitor_token="v-packet",
        state={"slots": {"categories": ["跑步鞋"], "low": "200", "high": "400", "size": "42"}, "focus": product.pk},
    )
    post_message(conversation, Message.Sender.SHOPPER, "有没有跑步鞋", intent=Intent.RECOMMEND)
    post_message(conversation, Message.Sender.SHOPPER, "鞋底是什么材料的专利", intent=Intent.FALLBACK)
    post_message(conversation, Message.Sender.SHOPPER, "能不能做定制刻字", intent=Intent.FALLBACK)
    post_message(conversation, Message.Sender.SHOPPER, "转人工", intent=Intent.HANDOFF)
    services.request_handoff(conversation, HandoffReason.FALLBACKS)
    conversation.refresh_from_db()

    packet = handoff_packet(conversation)

    assert packet["reason"] == "fallbacks" and packet["reason_display"] == "机器人多次没答上来"
    assert (packet["intent"], packet["intent_display"]) == ("recommend", "商品推荐")
    assert packet["slots"] == [
        {"label": "品类", "value": "跑步鞋"},
        {"label": "预算", "value": "200 – 400 元"},
        {"label": "尺码", "value": "42"},
        {"label": "在看的商品", "value": "云感缓震跑鞋"},
    ]
    assert packet["unanswered"] == ["鞋底是什么材料的专利", "能不能做定制刻字"]

    # A state pointing at another shop's product names nothing.
    conversation.state = {"focus": foreign_product.pk}
    assert handoff_packet(conversation)["slots"] == []


@pytest.fixture
def shopper_with_history(shop_a):
    customer = CustomerFactory(shop=shop_a, nickname="阿杰")
    earlier = timezone.now() - timedelta(days=3)
    past = Conversation.objects.create(
        shop=shop_a, customer=customer, visitor_token="v-old", status=Conversation.Status.CLOSED, satisfaction=5
    )
    Conversation.objects.filter(pk=past.pk).update(started_at=earlier)
    ConversationTag.objects.create(shop=shop_a, conversation=past, name="老顾客")
    order = OrderFactory(
        shop=shop_a,
        customer=customer,
        external_id="NO20261130",
        status=Order.Status.SHIPPED,
        carrier="顺丰",
        tracking_number="SF1234567890",
    )
    OrderLineFactory(order=order, title="云感缓震跑鞋", color="黑色", size="42", quantity=2)
    refunded = OrderFactory(shop=shop_a, customer=customer, external_id="NO-REFUND", status=Order.Status.REFUNDED)
    Refund.objects.create(shop=shop_a, order=refunded, amount="99.00", reason="尺码不合适", status="refunded")
    current = Conversation.objects.create(
        shop=shop_a, customer=customer, visitor_token="v-new", status=Conversation.Status.WAITING
    )
    return customer, past, current


@pytest.mark.django_db
def test_the_panel_shows_the_customer_their_past_conversations_orders_and_refunds(shopper_with_history):
    _customer, past, current = shopper_with_history

    panel = customer_panel(current)

    assert panel["customer"] == {"name": "阿杰", "known": True, "tags": ["老顾客"]}
    assert [(c["id"], c["outcome"], c["satisfaction"], c["tags"]) for c in panel["conversations"]] == [
        (past.pk, "机器人独立解决", 5, ["老顾客"])
    ]
    shipped, refunded = sorted(panel["orders"], key=lambda o: o["number"])[::-1]
    assert shipped["number"] == "NO20261130" and shipped["status_display"] in ("已发货", "Shipped")
    assert shipped["tracking_number"] == "SF1234567890" and shipped["carrier"] == "顺丰"
    assert shipped["items"] == [{"title": "云感缓震跑鞋", "options": "黑色 / 42", "quantity": 2}]
    assert refunded["refunds"] == [
        {
            "amount": "99.00",
            "status": "refunded",
            "status_display": refunded["refunds"][0]["status_display"],
            "reason": "尺码不合适",
        }
    ]


@pytest.mark.django_db
def test_the_panel_never_shows_another_shops_customer_of_the_same_id_or_their_orders(shop_a, shop_b):
    here = CustomerFactory(shop=shop_a, external_id="u-1", nickname="阿杰")
    there = CustomerFactory(shop=shop_b, external_id="u-1", nickname="阿杰")
    OrderFactory(shop=shop_b, customer=there, external_id="NO-SHOP-B")
    Conversation.objects.create(shop=shop_b, customer=there, visitor_token="v-b")
    current = Conversation.objects.create(shop=shop_a, customer=here, visitor_token="v-a")
    panel = customer_panel(current)
    assert panel["orders"] == [] and panel["conversations"] == []


@pytest.mark.django_db
def test_an_anonymous_shopper_sees_only_the_orders_they_proved_in_this_shop(shop_a, shop_b):
    proved = OrderFactory(shop=shop_a, external_id="NO-PROVED")
    OrderFactory(shop=shop_a, external_id="NO-SOMEONE-ELSE")
    foreign = OrderFactory(shop=shop_b, external_id="NO-FOREIGN")
    conversation = Conversation.objects.create(
        shop=shop_a, visitor_token="v-anon-123", state={"verified_orders": [proved.pk, foreign.pk]}
    )
    panel = customer_panel(conversation)
    assert panel["customer"] == {"name": "访客 v-anon", "known": False, "tags": []}
    assert [o["number"] for o in panel["orders"]] == ["NO-PROVED"]


@pytest.mark.django_db
def test_an_agent_of_another_shop_gets_not_found_for_the_panel(shopper_with_history, shop_b):
    _customer, _past, current = shopper_with_history
    outsider = staff_of(shop_b, Role.AGENT)
    with pytest.raises(services.ChatError) as refused:
        agent_tools.panel(outsider, current.pk)
    assert refused.value.code == "not_found"


@pytest.mark.django_db(transaction=True)
async def test_a_real_hand_off_reaches_the_console_with_its_packet_and_panel(shop_a, agent_a):
    await database_sync_to_async(FAQCardFactory)(shop=shop_a, question="什么时候发货", answer="48小时内发货")
    console, _queue = await agent_socket(agent_a)
    shopper, _welcome = await shopper_socket(shop_a.slug)
    await send_message(shopper, "我要转人工", "s-1")
    queued = await frames_until(console, lambda f: f["type"] == "queue" and f["waiting"])
    conversation = queued[-1]["waiting"][0]["conversation"]

    await console.send_json_to({"type": "accept", "conversation": conversation})
    history = (await frames_until(console, lambda f: f["type"] == "history"))[-1]
    assert history["packet"]["reason"] == "requested"
    assert history["packet"]["reason_display"] == "顾客要求转人工"

    await console.send_json_to({"type": "panel", "conversation": conversation})
    panel = (await frames_until(console, lambda f: f["type"] == "panel"))[-1]
    assert panel["conversation"] == conversation
    assert panel["customer"]["known"] is False
    await shopper.disconnect()
    await console.disconnect()
