"""Shopper sockets talking to the bot: stored first, acked, answered; hand-off; tenant isolation."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.consumers import TurnQueue
from chat.models import Conversation, Message
from tests.chat_sockets import agent_socket, conversation_of, frames_until, send_message, shopper_socket
from tests.factories import FAQCardFactory

pytestmark = pytest.mark.django_db(transaction=True)


def bot_message(frame: dict) -> bool:
    return frame["type"] == "message" and frame["sender"] == "bot"


@database_sync_to_async
def stored(conversation_id: int) -> list[tuple[str, str]]:
    return list(Message.objects.filter(conversation_id=conversation_id).values_list("sender", "intent"))


async def test_a_question_is_acked_then_answered_by_the_bot(shop_a):
    socket, _ = await shopper_socket(shop_a.slug)
    await socket.send_json_to({"type": "message", "text": "你好", "client_msg_id": "b-1"})
    ack = await socket.receive_json_from()
    assert ack["type"] == "ack" and ack["client_msg_id"] == "b-1"
    reply = await socket.receive_json_from()
    assert bot_message(reply) and reply["text"] and reply["id"] > ack["id"]
    assert reply["conversation"] == await conversation_of(ack)
    assert isinstance(reply["quick_replies"], list) and isinstance(reply["products"], list)
    rows = await stored(reply["conversation"])
    assert rows[0][0] == "shopper" and rows[0][1]  # the shopper message carries the dialogue's intent
    assert all(sender == "bot" for sender, _ in rows[1:])
    await socket.disconnect()


async def test_a_faq_question_gets_the_cards_answer_and_the_shopper_message_its_intent(shop_a):
    await database_sync_to_async(FAQCardFactory)(
        shop=shop_a, question="什么时候发货", answer="亲，付款后48小时内发货哦～", similar=["多久发货", "几天发货"]
    )
    socket, _ = await shopper_socket(shop_a.slug)
    ack = await send_message(socket, "请问多久发货呀", "faq-1")
    reply = (await frames_until(socket, bot_message))[-1]
    assert "48小时内发货" in reply["text"]
    shopper = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert shopper.intent == "faq"
    await socket.disconnect()


async def test_a_resent_message_is_not_answered_twice(shop_a):
    socket, _ = await shopper_socket(shop_a.slug)
    first = await send_message(socket, "你好", "once")
    await frames_until(socket, bot_message)
    before = await stored(await conversation_of(first))
    assert await send_message(socket, "你好", "once") == first
    assert await socket.receive_nothing(timeout=0.3)
    assert await stored(await conversation_of(first)) == before
    await socket.disconnect()


async def test_asking_for_a_human_with_nobody_online_queues_the_chat_and_says_so(shop_a, agent_a):
    socket, _ = await shopper_socket(shop_a.slug)
    ack = await send_message(socket, "转人工", "h-1")
    frames = await frames_until(socket, lambda f: f["type"] == "message" and f["sender"] == "system")
    assert any(f["type"] == "status" and f["status"] == "waiting" for f in frames)
    assert "没有在线的人工客服" in frames[-1]["text"]
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=await conversation_of(ack))
    assert (conversation.status, conversation.handoff_reason) == ("waiting", "requested")
    # An agent who comes online later finds the shopper waiting.
    console, queue = await agent_socket(agent_a)
    assert [item["conversation"] for item in queue["waiting"]] == [conversation.pk]
    await console.disconnect()
    await socket.disconnect()


async def test_an_online_agent_hears_of_the_hand_off_and_the_shopper_of_their_place(shop_a, agent_a):
    console, _ = await agent_socket(agent_a)
    socket, _ = await shopper_socket(shop_a.slug)
    ack = await send_message(socket, "转人工", "h-2")
    notice = (await frames_until(socket, lambda f: f["type"] == "message" and f["sender"] == "system"))[-1]
    assert "正在为您转接人工客服" in notice["text"]
    queue = (await frames_until(console, lambda f: f["type"] == "queue" and f["waiting"]))[-1]
    assert queue["waiting"][0]["conversation"] == await conversation_of(ack)
    await console.disconnect()
    await socket.disconnect()


async def test_a_message_after_the_conversation_closed_continues_in_a_new_conversation(shop_a, agent_a):
    conversation = await database_sync_to_async(Conversation.objects.create)(
        shop=shop_a, visitor_token=services.new_visitor_token()
    )
    await database_sync_to_async(services.close_conversation)(conversation, by=agent_a)
    socket, welcome = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    assert welcome["conversation"] == conversation.pk and welcome["status"] == "closed"
    ack = await send_message(socket, "你好", "n-1")
    reply = (await frames_until(socket, bot_message))[-1]
    message = await database_sync_to_async(Message.objects.select_related("conversation").get)(pk=ack["id"])
    assert message.conversation_id != conversation.pk
    assert message.conversation.visitor_token == conversation.visitor_token
    assert reply["conversation"] == message.conversation_id
    await socket.disconnect()


async def test_a_shopper_socket_of_shop_a_never_receives_shop_b_traffic(shop_a, shop_b):
    socket_a, welcome_a = await shopper_socket(shop_a.slug)
    socket_b, _ = await shopper_socket(shop_b.slug)
    await send_message(socket_b, "你好", "b-only")
    await frames_until(socket_b, bot_message)
    await send_message(socket_b, "转人工", "b-human")
    await frames_until(socket_b, lambda f: f["type"] == "message" and f["sender"] == "system")
    assert await socket_a.receive_nothing(timeout=0.3)
    # Shop A's visitor token means nothing at shop B.
    await send_message(socket_a, "你好", "a-1")
    await frames_until(socket_a, bot_message)
    socket_b2, welcome_b2 = await shopper_socket(shop_b.slug, visitor=welcome_a["visitor"])
    assert welcome_b2["conversation"] is None and welcome_b2["messages"] == []
    for socket in (socket_a, socket_b, socket_b2):
        await socket.disconnect()


async def test_tapping_a_score_of_the_closing_survey_rates_the_closed_conversation(shop_a, agent_a):
    conversation = await database_sync_to_async(Conversation.objects.create)(
        shop=shop_a, visitor_token=services.new_visitor_token()
    )
    await database_sync_to_async(services.close_conversation)(conversation, by=agent_a)
    socket, welcome = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    survey = welcome["messages"][-1]
    assert survey["quick_replies"] and "5" in survey["quick_replies"]
    ack = await send_message(socket, "5", "score-5")
    thanks = await socket.receive_json_from()
    assert thanks["sender"] == "bot" and "感谢" in thanks["text"]
    await database_sync_to_async(conversation.refresh_from_db)()
    assert conversation.satisfaction == 5
    message = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert message.conversation_id == conversation.pk
    await socket.disconnect()


async def test_messages_arriving_while_the_database_thread_is_busy_share_one_batch(shop_a, monkeypatch):
    await database_sync_to_async(FAQCardFactory)(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货")
    batches = []
    receive = services.receive_visitor_messages

    def counted(messages):
        batches.append(len(messages))
        return receive(messages)

    monkeypatch.setattr("chat.services.receive_visitor_messages", counted)
    visitors = [await database_sync_to_async(services.open_visitor)(shop_a) for _ in range(4)]
    queue = TurnQueue()
    turns = await asyncio.gather(
        *(queue.receive(services.VisitorMessage(v, "什么时候发货", "q-1", services.Outbox())) for v in visitors)
    )
    assert [[r.text for r in turn.replies] for turn in turns] == [["付款后48小时内发货"]] * 4
    assert sum(batches) == 4 and len(batches) < 4
    assert queue.drainer is None and queue.waiting == []  # idle again: the next message goes at once
