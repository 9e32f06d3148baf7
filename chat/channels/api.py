"""The channel API for marketplace bridges (an ISV's Taobao/千牛, Douyin, JD or Pinduoduo connector).

Inbound: the bridge posts the shopper's messages to ``POST /api/v1/channels/<id>/messages`` (``api.views``).
Outbound: every bot, agent and system message and the close goes to the bridge's URL as a signed webhook,
the same signature as Shopbee's webhooks (``core.outbound.sign``: ``X-Shopbee-Signature`` over
``X-Shopbee-Timestamp`` and the body), one at a time and in order per conversation; the bridge
de-duplicates on ``X-Shopbee-Delivery``. docs/api.md has the payloads and docs/example_bridge.py a bridge.
"""

import json
import secrets
import time
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from chat.models import ChannelConnection, agent_name
from core import outbound

from .base import PRODUCT_URL, ChannelError, ChannelSpec, Field, Outgoing, secrets_of

SIGNING_SECRET = "signing_secret"


def _post(connection: ChannelConnection, delivery_id: str, event: str, data: dict[str, Any]) -> None:
    """POST one signed event to the bridge; ``ChannelError`` (retryable for 5xx, 408, 429 and network errors)."""
    body = json.dumps(
        {"id": delivery_id, "event": event, "shop": connection.shop_id, "channel": connection.pk, "data": data},
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    secret = secrets_of(connection).get(SIGNING_SECRET, "")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Shopbee-Channels/1",
        "X-Shopbee-Event": event,
        "X-Shopbee-Delivery": delivery_id,
        "X-Shopbee-Timestamp": timestamp,
        "X-Shopbee-Signature": outbound.sign(secret, timestamp, body),
    }
    answer = outbound.post(
        str(connection.config.get("url", "")),
        body,
        headers,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        max_body=1024,
    )
    if answer.ok:
        return
    raise ChannelError(f"网桥未接收消息：{answer.error}", retryable=answer.retryable)


def message_data(outgoing: Outgoing) -> dict[str, Any]:
    message = outgoing.message
    data: dict[str, Any] = {"conversation": {"id": outgoing.conversation_id, "external_id": outgoing.external_id}}
    if message is not None:
        data["message"] = {
            "id": message.pk,
            "sender": message.sender,
            "agent": agent_name(message.agent) if message.agent else "",
            "text": outgoing.text,
            "quick_replies": message.payload.get("quick_replies", []),
            "products": message.payload.get("products", []),
            "created_at": message.created_at.isoformat(),
        }
    return data


def send(connection: ChannelConnection, outgoing: Outgoing) -> None:
    event = "conversation.closed" if outgoing.event == "close" else "message"
    _post(connection, f"d{outgoing.delivery_id}", event, message_data(outgoing))


def check(connection: ChannelConnection) -> str:
    _post(connection, f"ping-{secrets.token_hex(4)}", "ping", {})
    return "网桥已确认收到测试消息"


def validate_url(value: str) -> None:
    try:
        outbound.checked_url(value, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    except outbound.TargetRefused as refused:
        raise ChannelError(f"这个地址不能接收消息（{refused.reason}）") from None


CHANNEL = ChannelSpec(
    fields=(
        Field(
            "url",
            _("Bridge URL"),
            _("Where Shopbee posts the bot's and agents' replies and closes (signed like webhooks)."),
            validate=validate_url,
        ),
        replace(
            PRODUCT_URL,
            help_text=_(
                "The product page on the marketplace, with {id} or {sku}; product cards in replies link there."
            ),
        ),
    ),
    send=send,
    check=check,
    sends_closes=True,
    generated=lambda: {SIGNING_SECRET: secrets.token_hex(32)},
)
