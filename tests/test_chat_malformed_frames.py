"""Frames no parser or database should see: each gets an error frame, nothing is stored and the socket
stays open, on the shopper socket and on the agent console alike."""

import json

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.models import Conversation, Message
from shops.models import Membership
from tests.chat_sockets import agent_socket, frames_until, shopper_socket
from tests.conftest import staff_of

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = '{"type": "message", "client_msg_id": "d-1", "text": ' + "[" * 5000 + "]" * 5000 + "}"
MALFORMED = [
    pytest.param(DEEP, "invalid_json", id="nested-5000-deep"),
    pytest.param(
        '{"type": "message", "client_msg_id": "s-1", "text": "hi \\ud800"}', "invalid_characters", id="lone-surrogate"
    ),
    pytest.param(
        '{"type": "message", "client_msg_id": "n-1", "text": "a\\u0000b"}', "invalid_characters", id="nul-byte"
    ),
    pytest.param(
        '{"type": "message", "client_msg_id": "\\udfff", "text": "hi"}', "invalid_characters", id="surrogate-id"
    ),
    pytest.param('{"type": "\\ud800"}', "invalid_characters", id="surrogate-type"),
    # Python's parser takes these (not JSON); an infinite conversation id crashed the console in int().
    pytest.param('{"type": "message", "client_msg_id": "i-1", "text": "hi", "n": Infinity}', "invalid_json", id="inf"),
    pytest.param('{"type": "message", "client_msg_id": "e-1", "text": "hi", "n": 1e400}', "invalid_json", id="1e400"),
    pytest.param('{"type": "message", "client_msg_id": "x-1", "text": "hi", "n": NaN}', "invalid_json", id="nan"),
    pytest.param(
        json.dumps({"type": "message", "text": "好" * 20000, "client_msg_id": "big"}), "frame_too_large", id="too-large"
    ),
]


@database_sync_to_async
def held_conversation(shop, agent) -> Conversation:
    return Conversation.objects.create(
        shop=shop,
        visitor_token=services.new_visitor_token(),
        status=Conversation.Status.AGENT,
        assigned_agent=agent,
    )


@database_sync_to_async
def stored_texts(shop) -> list[str]:
    return list(Message.objects.filter(conversation__shop=shop).values_list("text", flat=True))


def error_frame(frame: dict, code: str) -> bool:
    return frame["type"] == "error" and frame["code"] == code and bool(frame["message"])


@pytest.mark.parametrize(("raw", "code"), MALFORMED)
async def test_the_shopper_socket_answers_a_malformed_frame_with_an_error_and_stays_open(shop_a, agent_a, raw, code):
    conversation = await held_conversation(shop_a, agent_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await socket.send_to(text_data=raw)
    frame = await socket.receive_json_from()
    assert error_frame(frame, code), frame
    assert await stored_texts(shop_a) == []
    await socket.send_json_to({"type": "message", "text": "还在吗", "client_msg_id": "ok-1"})
    assert (await socket.receive_json_from())["type"] == "ack"
    assert await stored_texts(shop_a) == ["还在吗"]
    await socket.disconnect()


@pytest.mark.parametrize(("raw", "code"), MALFORMED)
async def test_the_agent_console_answers_a_malformed_frame_with_an_error_and_stays_open(shop_a, raw, code):
    agent = await database_sync_to_async(staff_of)(shop_a, Membership.Role.AGENT)
    conversation = await held_conversation(shop_a, agent)
    console, _ = await agent_socket(agent)
    reply = raw.replace('"type": "message"', f'"type": "reply", "conversation": {conversation.pk}')
    await console.send_to(text_data=reply)
    frame = (await frames_until(console, lambda f: f["type"] == "error"))[-1]
    assert error_frame(frame, code), frame
    assert await stored_texts(shop_a) == []
    await console.send_json_to({"type": "ping"})
    assert (await frames_until(console, lambda f: f["type"] == "pong"))[-1] == {"type": "pong"}
    await console.disconnect()
