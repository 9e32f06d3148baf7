"""The agent console socket: who may connect, the queue, accept, history, reply, transfer, close."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from api.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from chat import services
from chat.messaging import post_message
from chat.models import AgentPresence, Conversation, Message
from chat.signals import conversation_closed
from config.asgi import application
from shops.models import Membership
from tests.chat_sockets import ORIGIN, agent_socket, frames_until, send_message, session_cookie, shopper_socket
from tests.conftest import staff_of
from tests.deliveries import settle
from tests.factories import FAQCardFactory

pytestmark = pytest.mark.django_db(transaction=True)
Role = Membership.Role


@database_sync_to_async
def waiting_conversation(shop, text: str = "我要投诉") -> Conversation:
    """A shopper whose conversation is queued for a human, with one message."""
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    post_message(conversation, Message.Sender.SHOPPER, text, client_msg_id="w-1")
    services.request_handoff(conversation, "requested")
    conversation.refresh_from_db()
    return conversation


def of_type(kind: str):
    return lambda frame: frame["type"] == kind


async def refused(user) -> bool:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie(user)))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, code = await communicator.connect()
    return not connected and code == 4403


async def test_only_agents_and_managers_may_open_the_console(shop_a, agent_a, manager_a, trainer_a):
    qa = await database_sync_to_async(staff_of)(shop_a, Role.QA)
    assert await refused(None)
    assert await refused(trainer_a)
    assert await refused(qa)
    for user in (agent_a, manager_a):
        socket, queue = await agent_socket(user)
        assert queue == {"type": "queue", "waiting": [], "mine": []}
        await socket.disconnect()


async def test_the_queue_lists_waiting_conversations_of_the_agents_shops_only(shop_a, shop_b, agent_a):
    mine = await waiting_conversation(shop_a, "鞋子开胶了")
    await waiting_conversation(shop_b, "B店的顾客")
    socket, queue = await agent_socket(agent_a)
    assert [item["conversation"] for item in queue["waiting"]] == [mine.pk]
    assert queue["waiting"][0]["last_message"] == "鞋子开胶了"
    assert queue["waiting"][0]["reason"] == "requested"
    assert "B店的顾客" not in json.dumps(queue, ensure_ascii=False)
    await socket.disconnect()


async def test_a_new_hand_off_updates_the_queue_of_online_agents(shop_a, agent_a):
    socket, _ = await agent_socket(agent_a)
    conversation = await waiting_conversation(shop_a)
    frames = await frames_until(socket, lambda f: f["type"] == "queue" and f["waiting"])
    assert frames[-1]["waiting"][0]["conversation"] == conversation.pk
    await socket.disconnect()


async def test_a_hand_off_of_another_shop_never_reaches_the_console(shop_a, shop_b, agent_a):
    socket, _ = await agent_socket(agent_a)
    await waiting_conversation(shop_b)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_with_no_agent_online_the_shopper_is_told_and_the_conversation_waits(shop_a, agent_a):
    conversation = await waiting_conversation(shop_a)
    notices = await database_sync_to_async(list)(conversation.messages.filter(sender="system"))
    assert conversation.status == "waiting"
    assert "没有在线的人工客服" in notices[-1].text


async def test_with_an_agent_online_the_shopper_hears_their_place_in_the_queue(shop_a, agent_a):
    socket, _ = await agent_socket(agent_a)
    await waiting_conversation(shop_a, "第一位")
    second = await waiting_conversation(shop_a, "第二位")
    notice = await database_sync_to_async(second.messages.filter(sender="system").last)()
    assert "正在为您转接人工客服" in notice.text and "前面还有 1 位" in notice.text
    await socket.disconnect()


async def test_an_agent_of_another_shop_being_online_does_not_count(shop_a, shop_b):
    agent_b = await database_sync_to_async(staff_of)(shop_b, Role.AGENT)
    socket, _ = await agent_socket(agent_b)
    conversation = await waiting_conversation(shop_a)
    notice = await database_sync_to_async(conversation.messages.filter(sender="system").last)()
    assert "没有在线的人工客服" in notice.text
    await socket.disconnect()


async def test_presence_is_shared_through_the_database_and_ends_with_the_console(shop_a, agent_a):
    socket, _ = await agent_socket(agent_a)
    assert await database_sync_to_async(services.online_agent_ids)(shop_a.pk) == {agent_a.pk}
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()
    assert await database_sync_to_async(services.online_agent_ids)(shop_a.pk) == set()
    assert await database_sync_to_async(AgentPresence.objects.count)() == 0


async def test_a_console_not_heard_from_within_the_ttl_counts_as_offline(shop_a, agent_a):
    socket, _ = await agent_socket(agent_a)
    await database_sync_to_async(AgentPresence.objects.update)(
        last_seen_at=services.timezone.now() - services.PRESENCE_TTL * 2
    )
    assert await database_sync_to_async(services.online_agent_ids)(shop_a.pk) == set()
    await socket.send_json_to({"type": "ping"})
    await socket.receive_json_from()
    assert await database_sync_to_async(services.online_agent_ids)(shop_a.pk) == {agent_a.pk}
    await socket.disconnect()


async def test_accepting_shows_the_full_history_and_tells_the_shopper(shop_a, agent_a):
    conversation = await waiting_conversation(shop_a, "鞋子开胶了怎么办")
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    agent, _ = await agent_socket(agent_a)
    await agent.send_json_to({"type": "accept", "conversation": conversation.pk})
    history = (await frames_until(agent, of_type("history")))[-1]
    assert history["conversation"] == conversation.pk and history["status"] == "agent"
    assert history["messages"][0]["text"] == "鞋子开胶了怎么办"
    shopper_frames = await frames_until(shopper, lambda f: f["type"] == "message" and f["sender"] == "system")
    status = next(f for f in shopper_frames if f["type"] == "status")
    assert status["status"] == "agent" and status["agent"] == agent_a.username
    assert agent_a.username in shopper_frames[-1]["text"]
    await database_sync_to_async(conversation.refresh_from_db)()
    assert (conversation.status, conversation.assigned_agent_id) == ("agent", agent_a.pk)
    await shopper.disconnect()
    await agent.disconnect()


async def test_a_conversation_accepted_by_one_agent_cannot_be_accepted_again(shop_a, agent_a):
    colleague = await database_sync_to_async(staff_of)(shop_a, Role.AGENT, "agent-two")
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    socket, _ = await agent_socket(colleague)
    await socket.send_json_to({"type": "accept", "conversation": conversation.pk})
    error = (await frames_until(socket, of_type("error")))[-1]
    assert error["code"] == "not_waiting"
    await socket.disconnect()


async def test_shopper_messages_go_to_the_agent_with_three_suggestions_and_not_to_the_bot(shop_a, agent_a):
    for question, answer in [
        ("什么时候发货", "付款后48小时内发货"),
        ("发什么快递", "默认发顺丰"),
        ("发货地在哪里", "从杭州仓发货"),
        ("能开发票吗", "可以开电子发票"),
    ]:
        await database_sync_to_async(FAQCardFactory)(shop=shop_a, question=question, answer=answer)
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    agent, _ = await agent_socket(agent_a)
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    ack = await send_message(shopper, "什么时候发货", "q-1")
    frames = await frames_until(agent, of_type("suggestions"))
    message = next(f for f in frames if f["type"] == "message")
    assert (message["id"], message["sender"], message["text"]) == (ack["id"], "shopper", "什么时候发货")
    suggestions = frames[-1]
    assert suggestions["conversation"] == conversation.pk and suggestions["message"] == ack["id"]
    assert 1 <= len(suggestions["items"]) <= 3
    assert suggestions["items"][0]["answer"] == "付款后48小时内发货"
    assert all({"card_id", "question", "answer", "score"} <= set(item) for item in suggestions["items"])
    assert await shopper.receive_nothing(timeout=0.3)  # the bot stays quiet
    senders = await database_sync_to_async(list)(conversation.messages.values_list("sender", flat=True))
    assert "bot" not in senders
    await shopper.disconnect()
    await agent.disconnect()


async def test_an_agent_reply_reaches_the_shopper_and_is_acked(shop_a, agent_a):
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    agent, _ = await agent_socket(agent_a)
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await agent.send_json_to(
        {"type": "reply", "conversation": conversation.pk, "text": "亲，马上为您处理", "client_msg_id": "a1"}
    )
    ack = (await frames_until(agent, of_type("ack")))[-1]
    frame = await shopper.receive_json_from()
    assert (frame["id"], frame["sender"], frame["text"]) == (ack["id"], "agent", "亲，马上为您处理")
    stored = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert (stored.agent_id, stored.intent) == (agent_a.pk, "agent_reply")
    await shopper.disconnect()
    await agent.disconnect()


async def test_an_agent_may_only_reply_in_a_conversation_they_hold(shop_a, agent_a):
    conversation = await waiting_conversation(shop_a)
    agent, _ = await agent_socket(agent_a)
    await agent.send_json_to({"type": "reply", "conversation": conversation.pk, "text": "插话", "client_msg_id": "x"})
    error = (await frames_until(agent, of_type("error")))[-1]
    assert (error["code"], error["client_msg_id"]) == ("not_assigned", "x")
    await agent.disconnect()


async def test_an_agent_of_shop_a_cannot_accept_read_or_reply_to_shop_b(shop_a, shop_b, agent_a):
    foreign = await waiting_conversation(shop_b, "B店的秘密")
    agent, _ = await agent_socket(agent_a)
    for frame in (
        {"type": "accept", "conversation": foreign.pk},
        {"type": "history", "conversation": foreign.pk},
        {"type": "reply", "conversation": foreign.pk, "text": "hi"},
        {"type": "transfer", "conversation": foreign.pk, "agent": agent_a.pk},
        {"type": "close", "conversation": foreign.pk},
        {"type": "typing", "conversation": foreign.pk},
    ):
        await agent.send_json_to(frame)
        error = (await frames_until(agent, of_type("error")))[-1]
        assert error["code"] == "not_found", frame
    await database_sync_to_async(foreign.refresh_from_db)()
    assert foreign.status == "waiting" and foreign.assigned_agent_id is None
    assert await agent.receive_nothing(timeout=0.2)
    await agent.disconnect()


async def test_history_of_a_missing_or_malformed_conversation_is_not_found(shop_a, agent_a):
    agent, _ = await agent_socket(agent_a)
    for conversation in (999999, "abc", None):
        await agent.send_json_to({"type": "history", "conversation": conversation})
        assert (await agent.receive_json_from())["code"] == "not_found"
    await agent.disconnect()


async def test_transfer_hands_the_conversation_to_an_online_colleague(shop_a, agent_a):
    colleague = await database_sync_to_async(staff_of)(shop_a, Role.AGENT, "agent-two")
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    first, _ = await agent_socket(agent_a)
    second, _ = await agent_socket(colleague)
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await first.send_json_to({"type": "history", "conversation": conversation.pk})
    history = await first.receive_json_from()
    assert history["colleagues"] == [
        {"id": colleague.pk, "name": "agent-two", "presence": "online", "skill_group": "", "load": 0, "max_chats": 5}
    ]
    await first.send_json_to({"type": "transfer", "conversation": conversation.pk, "agent": colleague.pk})
    received = (await frames_until(second, of_type("history")))[-1]
    assert received["conversation"] == conversation.pk and received["agent_id"] == colleague.pk
    notice = (await frames_until(shopper, lambda f: f["type"] == "message"))[-1]
    assert "agent-two" in notice["text"]
    # The first agent no longer holds it.
    await first.send_json_to({"type": "reply", "conversation": conversation.pk, "text": "还在吗"})
    assert (await frames_until(first, of_type("error")))[-1]["code"] == "not_assigned"
    for socket in (first, second, shopper):
        await socket.disconnect()


async def test_transfer_only_to_an_online_agent_of_the_same_shop(shop_a, shop_b, agent_a, trainer_a):
    offline = await database_sync_to_async(staff_of)(shop_a, Role.AGENT, "agent-offline")
    agent_b = await database_sync_to_async(staff_of)(shop_b, Role.AGENT)
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    other_shop, _ = await agent_socket(agent_b)
    socket, _ = await agent_socket(agent_a)
    for target, code in ((agent_b.pk, "invalid_agent"), (trainer_a.pk, "invalid_agent"), (offline.pk, "agent_offline")):
        await socket.send_json_to({"type": "transfer", "conversation": conversation.pk, "agent": target})
        assert (await frames_until(socket, of_type("error")))[-1]["code"] == code
    await database_sync_to_async(conversation.refresh_from_db)()
    assert conversation.assigned_agent_id == agent_a.pk
    await socket.disconnect()
    await other_shop.disconnect()


async def test_closing_asks_for_a_rating_and_tells_listeners_and_webhooks(shop_a, agent_a, webhook_receiver):
    await database_sync_to_async(WebhookSubscription.objects.create)(
        shop=shop_a, url=webhook_receiver.url, events=[WebhookEvent.CONVERSATION_CLOSED]
    )
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    closed = []
    conversation_closed.connect(lambda conversation, **kw: closed.append(conversation.pk), weak=False, dispatch_uid="t")
    try:
        agent, _ = await agent_socket(agent_a)
        shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
        await agent.send_json_to({"type": "close", "conversation": conversation.pk})
        frames = await frames_until(shopper, of_type("status"))
        survey = next(f for f in frames if f["type"] == "message")
        assert survey["sender"] == "bot" and survey["text"]
        assert frames[-1]["status"] == "closed"
        await shopper.send_json_to({"type": "rate", "score": 4})
        assert "感谢" in (await shopper.receive_json_from())["text"]
    finally:
        conversation_closed.disconnect(dispatch_uid="t")
    await database_sync_to_async(conversation.refresh_from_db)()
    assert conversation.status == "closed" and conversation.ended_at is not None and conversation.satisfaction == 4
    assert closed == [conversation.pk]
    await sync_to_async(settle, thread_sensitive=False)()
    delivery = await database_sync_to_async(WebhookDelivery.objects.get)(event="conversation.closed")
    assert delivery.status == "delivered" and delivery.payload["id"] == conversation.pk
    body = json.loads(webhook_receiver.requests[0]["body"])
    assert body["event"] == "conversation.closed" and body["data"]["agent"] == agent_a.username
    await shopper.disconnect()
    await agent.disconnect()


async def test_a_console_reopened_later_rejoins_the_conversations_it_holds(shop_a, agent_a):
    conversation = await waiting_conversation(shop_a)
    await database_sync_to_async(services.accept_conversation)(conversation, agent_a)
    agent, queue = await agent_socket(agent_a)
    assert [item["conversation"] for item in queue["mine"]] == [conversation.pk]
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await send_message(shopper, "还在吗", "again-1")
    message = (await frames_until(agent, of_type("message")))[-1]
    assert message["text"] == "还在吗"
    await shopper.disconnect()
    await agent.disconnect()
