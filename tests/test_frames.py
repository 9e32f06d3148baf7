"""The socket frames declared in chat/frames.py: every frame the code builds is declared, every declared frame
and request is named in the docs, the consumers handle exactly the declared requests, and what real sockets
send matches the declarations key for key."""

import ast
import re
from pathlib import Path
from typing import Any, get_args, is_typeddict

import pytest
from channels.db import database_sync_to_async

from chat import frames
from chat.consumers import AgentConsumer, ShopperConsumer
from tests.chat_sockets import agent_socket, frames_until, send_message, shopper_socket

ROOT = Path(__file__).resolve().parent.parent


def declared(union: Any) -> dict[str, type]:
    """Each frame type of a union of frame TypedDicts, with its declaration."""
    return {get_args(member.__annotations__["type"])[0]: member for member in get_args(union)}


SHOPPER = declared(frames.ShopperFrame)
CONSOLE = declared(frames.ConsoleFrame)
ALERTS = declared(frames.AlertSocketFrame)
# The modules that build frames, and the sockets they build for; a "type" with a dot there is a
# channel-layer group event, never a frame.
FRAME_BUILDERS = {
    "chat/consumers.py": {**SHOPPER, **CONSOLE},
    "chat/services.py": {**SHOPPER, **CONSOLE},
    "chat/messaging.py": {**SHOPPER, **CONSOLE},
    "chat/assignment.py": {**SHOPPER, **CONSOLE},
    "chat/guard.py": CONSOLE,
    "chat/assist.py": CONSOLE,
    "analytics/consumers.py": ALERTS,
    "analytics/alerts.py": ALERTS,
}


def built_frame_types(path: str) -> set[str]:
    """The ``type`` of every dict literal in the module whose type is a constant string without a dot."""
    found = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                is_type = isinstance(key, ast.Constant) and key.value == "type"
                if is_type and isinstance(value, ast.Constant) and "." not in value.value:
                    found.add(value.value)
    return found


def test_every_frame_the_code_builds_is_declared_for_the_socket_it_goes_to():
    for path, sent in FRAME_BUILDERS.items():
        built = built_frame_types(path)
        assert built, f"the scan found no frames in {path}: the builders moved"
        assert built - set(sent) == set(), path


def test_the_shopper_and_console_frames_are_named_in_docs_chat_md():
    docs = (ROOT / "docs/chat.md").read_text()
    named = set(re.findall(r'"type": "([a-z_]+)"', docs)) | set(re.findall(r"`([a-z_]+)`", docs))
    assert set(SHOPPER) | set(CONSOLE) <= named


def test_the_alert_socket_frames_are_named_in_docs_analytics_md():
    docs = (ROOT / "docs/analytics.md").read_text()
    named = set(re.findall(r'"type": "([a-z_]+)"', docs)) | set(re.findall(r"`([a-z_]+)`", docs))
    assert set(ALERTS) <= named


def test_every_request_the_consumers_handle_is_declared_and_documented():
    assert set(ShopperConsumer.handlers) == set(get_args(frames.ShopperRequest))
    assert set(AgentConsumer.handlers) == set(get_args(frames.ConsoleRequest))
    docs = (ROOT / "docs/chat.md").read_text()
    for request in {*get_args(frames.ShopperRequest), *get_args(frames.ConsoleRequest)}:
        assert f'{{"type": "{request}"' in docs, request


def assert_declared(frame: dict[str, Any], union: dict[str, type]) -> None:
    """The frame has every required key of its declaration and no other key than it declares."""
    declaration = union[frame["type"]]
    assert is_typeddict(declaration)
    required = declaration.__required_keys__
    assert required <= set(frame), (frame["type"], required - set(frame))
    assert set(frame) <= set(declaration.__annotations__), (
        frame["type"],
        set(frame) - set(declaration.__annotations__),
    )


@pytest.mark.django_db(transaction=True)
async def test_a_handed_over_conversation_sends_only_declared_frames_to_shopper_and_console(shop_a, agent_a):
    console, queue = await agent_socket(agent_a)
    assert_declared(queue, CONSOLE)
    shopper, welcome = await shopper_socket(shop_a.slug)
    assert_declared(welcome, SHOPPER)

    ack = await send_message(shopper, "你好", client_msg_id="c-1")
    assert ack["type"] == "ack"
    assert_declared(ack, SHOPPER)
    await shopper.send_json_to({"type": "message", "text": "转人工", "client_msg_id": "c-2"})
    await shopper.send_json_to({"type": "rate", "score": 9})
    seen = await frames_until(shopper, lambda f: f["type"] == "error")
    conversation = (await database_sync_to_async(lambda: shop_a.conversations.get())()).pk

    await console.send_json_to({"type": "accept", "conversation": conversation})
    on_console = await frames_until(console, lambda f: f["type"] == "history")
    await console.send_json_to({"type": "typing", "conversation": conversation})
    await console.send_json_to({"type": "ping"})
    on_console += await frames_until(console, lambda f: f["type"] == "pong")
    seen += await frames_until(shopper, lambda f: f["type"] == "typing")
    await shopper.send_json_to({"type": "message", "text": "鞋子开胶了", "client_msg_id": "c-3"})
    on_console += await frames_until(console, lambda f: f["type"] == "suggestions")

    for frame in seen:
        assert_declared(frame, SHOPPER)
    for frame in on_console:
        assert_declared(frame, CONSOLE)
    assert {"message", "status", "typing", "error"} <= {f["type"] for f in seen}
    assert {"history", "message", "pong", "suggestions"} <= {f["type"] for f in on_console}
    await shopper.disconnect()
    await console.disconnect()
