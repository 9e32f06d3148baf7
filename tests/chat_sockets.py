"""Helpers for the chat socket tests: real ASGI application, real session auth, real channel layer."""

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1")


@database_sync_to_async
def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def shopper_socket(slug: str, **params) -> tuple[WebsocketCommunicator, dict]:
    """A connected shopper socket and its welcome frame."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    communicator = WebsocketCommunicator(application, f"/ws/chat/{slug}/?{query}", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_json_from()


async def agent_socket(user) -> tuple[WebsocketCommunicator, dict]:
    """A connected agent console and its first queue frame."""
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[ORIGIN, (b"cookie", await session_cookie(user))]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_json_from()


async def frames_until(communicator: WebsocketCommunicator, predicate, timeout: float = 10) -> list[dict]:
    """Every frame received up to and including the first one ``predicate`` accepts."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        seen.append(frame)
        if predicate(frame):
            return seen


async def send_message(communicator: WebsocketCommunicator, text: str, client_msg_id: str = "") -> dict:
    """Send a shopper message and return its ack."""
    await communicator.send_json_to({"type": "message", "text": text, "client_msg_id": client_msg_id})
    frames = await frames_until(communicator, lambda f: f["type"] in ("ack", "error"))
    return frames[-1]


async def group_event(group: str, action: Callable[[], Any]) -> dict:
    """Join ``group`` on the channel layer, run ``action`` (sync, with the database) and return the first
    event the group gets: what a socket in that group would be sent. One event loop throughout, as in a
    server process (the Pub/Sub layer's subscriptions belong to the loop that made them)."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        await database_sync_to_async(action)()
        return await asyncio.wait_for(layer.receive(channel), timeout=10)
    finally:
        await layer.group_discard(group, channel)


@database_sync_to_async
def conversation_of(ack: dict) -> int:
    """The conversation a shopper message went to (a new visitor's first message starts it)."""
    from chat.models import Message

    return Message.objects.get(pk=ack["id"]).conversation_id
