"""A basic shop past its monthly bot quota: new conversations start with the agents, never dropped."""

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.models import Conversation, Message
from shops.models import Membership, Shop
from shops.quota import QUOTA_HANDOFF_REASON
from tests.chat_sockets import agent_socket, conversation_of, frames_until, send_message, shopper_socket
from tests.conftest import staff_of
from tests.factories import ConversationFactory, ShopFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quota_of_two(settings):
    settings.SHOPBEE_BASIC_MONTHLY_BOT_CONVERSATIONS = 2


@database_sync_to_async
def used_up(shop) -> None:
    ConversationFactory.create_batch(2, shop=shop)


@database_sync_to_async
def stored(conversation_id: int) -> list[tuple[str, str]]:
    return list(Message.objects.filter(conversation_id=conversation_id).values_list("sender", "intent"))


async def test_past_the_quota_a_new_shopper_waits_for_an_agent_and_the_bot_stays_silent(shop_a):
    await used_up(shop_a)
    socket, welcome = await shopper_socket(shop_a.slug)
    assert welcome["conversation"] is None
    ack = await send_message(socket, "这双鞋有 42 码吗", "q-1")
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=await conversation_of(ack))
    assert conversation.handoff_reason == QUOTA_HANDOFF_REASON and conversation.handed_over_at is not None
    frames = await frames_until(socket, lambda f: f["type"] == "message" and f["sender"] == "system")
    assert frames[0] == services.status_frame(conversation)  # told it waits, after the ack
    assert frames[-1]["text"] == services.QUOTA_NOTICE
    await send_message(socket, "在吗", "q-2")
    assert await socket.receive_nothing(timeout=0.3)
    assert await stored(conversation.pk) == [("shopper", ""), ("system", "handoff"), ("shopper", "")]
    await socket.disconnect()


async def test_the_agent_console_sees_the_quota_conversation_in_its_queue(shop_a):
    await used_up(shop_a)
    agent = await database_sync_to_async(staff_of)(shop_a, Membership.Role.AGENT)
    console, first = await agent_socket(agent)
    assert first["waiting"] == []
    socket, _ = await shopper_socket(shop_a.slug)
    ack = await send_message(socket, "在吗", "q-1")
    queue = (await frames_until(console, lambda f: f["type"] == "queue" and f["waiting"]))[-1]
    assert [item["conversation"] for item in queue["waiting"]] == [await conversation_of(ack)]
    assert queue["waiting"][0]["reason"] == QUOTA_HANDOFF_REASON
    await socket.disconnect()
    await console.disconnect()


async def test_under_the_quota_and_on_the_unlimited_plan_the_bot_answers(shop_a):
    unlimited = await database_sync_to_async(ShopFactory)(plan=Shop.Plan.UNLIMITED, slug="big-shop")
    await used_up(unlimited)
    for shop in (shop_a, unlimited):
        socket, welcome = await shopper_socket(shop.slug)
        assert welcome["status"] == "bot"
        await send_message(socket, "你好", "hi")
        reply = (await frames_until(socket, lambda f: f["type"] == "message" and f["sender"] != "shopper"))[-1]
        assert reply["sender"] == "bot"
        await socket.disconnect()


async def test_conversations_sent_to_agents_do_not_use_up_more_quota(shop_a):
    await used_up(shop_a)
    for _ in range(3):
        socket, _ = await shopper_socket(shop_a.slug)
        await send_message(socket, "在吗", "q-1")
        await socket.disconnect()
    count = await database_sync_to_async(
        Conversation.objects.filter(shop=shop_a).exclude(handoff_reason=QUOTA_HANDOFF_REASON).count
    )()
    assert count == 2
