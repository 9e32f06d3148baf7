"""Property-based fuzzing of both chat sockets through the real ASGI application.

Whatever a client sends (any JSON value, frames of every type with wrong types in any field, unknown types,
text that is not JSON, binary frames), the socket does not crash and stays open, and a frame answered with an
error stores nothing. Each example opens its own socket, sends one hostile frame, then a probe of an unknown
type: the probe's ``unknown_type`` error proves the socket still works, and every frame before it is the answer
to the hostile one. Examples and their number come from the Hypothesis profile in tests/conftest.py.
"""

import json

import pytest
from channels.db import database_sync_to_async
from hypothesis import example, given
from hypothesis import strategies as st

from chat import services
from chat.consumers import AgentConsumer, ShopperConsumer
from chat.models import Conversation, Message
from shops.models import Membership
from tests.chat_sockets import agent_socket, frames_until, shopper_socket
from tests.conftest import staff_of
from tests.factories import ConversationFactory
from tests.hostile import JSON_VALUES, encoded, frames_of

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "probe-是否还在"
# What a socket may answer with; anything else (a traceback's text, a close) is a failure.
SHOPPER_FRAMES = {"ack", "error", "message", "status", "typing"}
AGENT_FRAMES = {
    "ack",
    "error",
    "message",
    "status",
    "typing",
    "queue",
    "history",
    "pong",
    "suggestions",
    "canned",
    "panel",
    "presence",
}
# Stands for the conversation the agent holds, so generated frames also reach the paths behind the lookup.
HELD = "<held conversation>"
SHOPPER_JSON = frames_of([*ShopperConsumer.handlers, PROBE[:5]], ["text", "client_msg_id", "score"])
AGENT_JSON = frames_of(
    [*AgentConsumer.handlers, "message"],
    ["conversation", "text", "client_msg_id", "agent", "query", "canned"],
).map(lambda frame: {**frame, "conversation": frame.get("conversation", HELD)})
# ASGI receive events: the communicator's send_to() refuses an empty frame, which WebSocket allows.
RAW = st.one_of(encoded(JSON_VALUES).map(lambda text: {"text": text}), st.binary().map(lambda data: {"bytes": data}))


@database_sync_to_async
def stored_rows() -> tuple[int, int]:
    return Message.objects.count(), Conversation.objects.count()


def with_held(frame: dict, conversation_id: int) -> dict:
    return {key: conversation_id if value == HELD else value for key, value in frame.items()}


async def answer_to(socket, send: dict, allowed: set[str]) -> list[dict]:
    """Send one hostile frame, then the probe; the frames answering the hostile one."""
    await socket.send_input({"type": "websocket.receive", **send})
    await socket.send_json_to({"type": PROBE})
    frames = await frames_until(socket, lambda f: f.get("type") == "error" and PROBE in f.get("message", ""))
    answer = frames[:-1]
    assert all(isinstance(frame, dict) and frame.get("type") in allowed for frame in answer), answer
    return answer


async def assert_survives(open_socket, send: dict, allowed: set[str]) -> None:
    socket, _ = await open_socket()
    before = await stored_rows()
    try:
        answer = await answer_to(socket, send, allowed)
        if any(frame["type"] == "error" for frame in answer):
            assert all(frame["code"] and frame["message"] for frame in answer if frame["type"] == "error"), answer
            assert await stored_rows() == before, answer
    finally:
        await socket.disconnect()


@pytest.fixture
def bot_conversation(shop_a):
    return ConversationFactory(shop=shop_a, visitor_token=services.new_visitor_token())


@pytest.fixture
def agent_with_conversation(shop_a):
    agent = staff_of(shop_a, Membership.Role.AGENT)
    held = ConversationFactory(
        shop=shop_a,
        visitor_token=services.new_visitor_token(),
        status=Conversation.Status.AGENT,
        assigned_agent=agent,
    )
    return agent, held


@given(frame=SHOPPER_JSON, ascii=st.booleans(), resume=st.booleans())
async def test_the_shopper_socket_survives_any_json_frame_and_stores_nothing_it_refuses(
    shop_a, bot_conversation, frame, ascii, resume
):
    token = bot_conversation.visitor_token if resume else None
    await assert_survives(
        lambda: shopper_socket(shop_a.slug, visitor=token),
        {"text": json.dumps(frame, ensure_ascii=ascii)},
        SHOPPER_FRAMES,
    )


@given(send=RAW)
async def test_the_shopper_socket_survives_any_text_or_bytes(shop_a, bot_conversation, send):
    await assert_survives(
        lambda: shopper_socket(shop_a.slug, visitor=bot_conversation.visitor_token), send, SHOPPER_FRAMES
    )


@given(frame=AGENT_JSON, ascii=st.booleans())
# Found by this test: Python's JSON parser reads Infinity and 1e400 as infinity, which crashed int(conversation).
@example(frame={"type": "history", "conversation": float("inf")}, ascii=True)
@example(frame={"type": "accept", "conversation": float("nan")}, ascii=True)
async def test_the_agent_console_survives_any_json_frame_and_stores_nothing_it_refuses(
    agent_with_conversation, frame, ascii
):
    agent, held = agent_with_conversation
    await assert_survives(
        lambda: agent_socket(agent),
        {"text": json.dumps(with_held(frame, held.pk), ensure_ascii=ascii)},
        AGENT_FRAMES,
    )


@given(send=RAW)
async def test_the_agent_console_survives_any_text_or_bytes(agent_with_conversation, send):
    agent, _held = agent_with_conversation
    await assert_survives(lambda: agent_socket(agent), send, AGENT_FRAMES)
