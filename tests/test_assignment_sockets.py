"""Assignment over the real sockets: the console's presence switch, hand-offs reaching an agent without a
click, the shopper's queue position as it moves, an agent's last console closing; and another shop's
agents, shoppers and conversations never reached or reachable."""

import pytest
from channels.db import database_sync_to_async

from chat.models import AgentSeat, Conversation, ServiceDesk
from shops.models import Membership
from tests.assignment_support import set_rule
from tests.chat_sockets import agent_socket, conversation_of, frames_until, send_message, shopper_socket
from tests.conftest import staff_of

pytestmark = pytest.mark.django_db(transaction=True)
Rule = ServiceDesk.Rule


def of_type(kind: str):
    return lambda frame: frame["type"] == kind


async def capacity(user, shop, max_chats: int) -> None:
    await database_sync_to_async(AgentSeat.objects.update_or_create)(
        user=user, shop=shop, defaults={"max_chats": max_chats}
    )


async def asks_for_a_human(shop):
    """A shopper socket whose first message asks for a human, and its conversation id."""
    socket, _ = await shopper_socket(shop.slug)
    ack = await send_message(socket, "转人工", "h-1")
    return socket, await conversation_of(ack)


async def test_the_presence_switch_answers_with_the_agents_own_shops_and_refuses_nonsense(shop_a, shop_b, agent_a):
    other = await database_sync_to_async(staff_of)(shop_b, Membership.Role.AGENT)
    other_console, _ = await agent_socket(other)
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "presence"})
    asked = (await frames_until(console, of_type("presence")))[-1]
    assert asked["status"] == "online"
    assert [seat["shop"] for seat in asked["seats"]] == [shop_a.pk]
    assert asked["seats"][0] == {"shop": shop_a.pk, "shop_name": "店铺A", "load": 0, "max_chats": 5, "skill_group": ""}
    await console.send_json_to({"type": "presence", "status": "away"})
    assert (await frames_until(console, of_type("presence")))[-1]["status"] == "away"
    await console.send_json_to({"type": "presence", "status": "asleep"})
    assert (await frames_until(console, of_type("error")))[-1]["code"] == "invalid_presence"
    await console.send_json_to({"type": "ping"})
    assert (await frames_until(console, of_type("pong")))[-1] == {"type": "pong"}  # still open
    assert await database_sync_to_async(AgentSeat.objects.get)(user=other, shop=shop_b)  # untouched: online
    assert (await database_sync_to_async(AgentSeat.objects.get)(user=other)).presence == "online"
    for socket in (console, other_console):
        await socket.disconnect()


async def test_a_hand_off_reaches_an_online_agent_without_a_click(shop_a, agent_a):
    await database_sync_to_async(set_rule)(shop_a, Rule.ROUND_ROBIN)
    console, _ = await agent_socket(agent_a)
    shopper, conversation = await asks_for_a_human(shop_a)
    opened = (await frames_until(console, lambda f: f["type"] == "history" and f["conversation"] == conversation))[-1]
    assert opened["status"] == "agent" and opened["agent_id"] == agent_a.pk
    status = (await frames_until(shopper, lambda f: f["type"] == "status" and f["status"] == "agent"))[-1]
    assert status["agent_id"] == agent_a.pk
    for socket in (console, shopper):
        await socket.disconnect()


async def test_the_shopper_sees_their_queue_position_move_up(shop_a, agent_a):
    await database_sync_to_async(set_rule)(shop_a, Rule.ROUND_ROBIN)
    await capacity(agent_a, shop_a, 1)
    console, _ = await agent_socket(agent_a)
    served, served_id = await asks_for_a_human(shop_a)
    await frames_until(console, lambda f: f["type"] == "history" and f["conversation"] == served_id)
    first, first_id = await asks_for_a_human(shop_a)
    position = (await frames_until(first, of_type("queue_position")))[-1]
    assert position == {
        "type": "queue_position",
        "conversation": first_id,
        "position": 1,
        "waiting": 1,
        "opens_at": None,
    }
    second, second_id = await asks_for_a_human(shop_a)
    assert (await frames_until(second, of_type("queue_position")))[-1]["position"] == 2
    assert (await frames_until(first, of_type("queue_position")))[-1]["waiting"] == 2
    await console.send_json_to({"type": "close", "conversation": served_id})  # a slot frees: first is served
    status = (await frames_until(first, lambda f: f["type"] == "status" and f["status"] == "agent"))[-1]
    assert status["agent_id"] == agent_a.pk
    moved = (await frames_until(second, of_type("queue_position")))[-1]
    assert moved == {"type": "queue_position", "conversation": second_id, "position": 1, "waiting": 1, "opens_at": None}
    for socket in (console, served, first, second):
        await socket.disconnect()


async def test_another_shops_queue_moving_never_reaches_a_shopper(shop_a, shop_b):
    theirs, _ = await asks_for_a_human(shop_b)
    await frames_until(theirs, of_type("queue_position"))
    while not await theirs.receive_nothing(timeout=0.3):
        await theirs.receive_json_from()  # the bot's and the queue's notices of their own hand-off
    mine, _ = await asks_for_a_human(shop_a)
    await frames_until(mine, of_type("queue_position"))
    assert await theirs.receive_nothing(timeout=0.3)
    for socket in (theirs, mine):
        await socket.disconnect()


async def test_a_transfer_to_a_group_of_another_shops_conversation_is_not_found(shop_a, shop_b, agent_a):
    agent_b = await database_sync_to_async(staff_of)(shop_b, Membership.Role.AGENT)
    await database_sync_to_async(set_rule)(shop_b, Rule.ROUND_ROBIN)
    theirs_console, _ = await agent_socket(agent_b)
    shopper, conversation = await asks_for_a_human(shop_b)
    await frames_until(theirs_console, lambda f: f["type"] == "history" and f["conversation"] == conversation)
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "transfer", "conversation": conversation, "group": "aftersales"})
    assert (await frames_until(console, of_type("error")))[-1]["code"] == "not_found"
    await console.send_json_to({"type": "history", "conversation": conversation})
    assert (await frames_until(console, of_type("error")))[-1]["code"] == "not_found"
    held = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert held.assigned_agent_id == agent_b.pk
    for socket in (console, theirs_console, shopper):
        await socket.disconnect()


async def test_an_agents_last_console_closing_requeues_their_chats_and_the_shopper_sees_the_queue(shop_a, agent_a):
    await database_sync_to_async(set_rule)(shop_a, Rule.ROUND_ROBIN)
    console, _ = await agent_socket(agent_a)
    shopper, conversation = await asks_for_a_human(shop_a)
    await frames_until(shopper, lambda f: f["type"] == "status" and f["status"] == "agent")
    # The grace period's task runs eagerly in the tests (no broker): offline as soon as the console closes.
    await console.disconnect()
    await frames_until(shopper, lambda f: f["type"] == "status" and f["status"] == "waiting")
    position = (await frames_until(shopper, of_type("queue_position")))[-1]
    assert position["conversation"] == conversation and position["position"] == 1
    seat = await database_sync_to_async(AgentSeat.objects.get)(user=agent_a)
    assert seat.presence == "offline"
    await shopper.disconnect()
