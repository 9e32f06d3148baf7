"""The channels a touch goes out on, behind one interface: ``deliver(touch, text, payload)``.

In-chat posts into the customer's latest conversation with chat.messaging.post_message (stored, so
an offline shopper finds it on the next connect). The webhook channel publishes ``marketing.touch``
through api.webhooks (signed, retried with back-off) for SMS or outbound-call providers.
Both run inside the sending transaction: the message or webhook delivery exists iff the touch is sent.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.models import WebhookEvent
from api.webhooks import publish_event
from chat.intents import Intent
from chat.messaging import post_message
from chat.models import Conversation, Message

from ..models import Campaign, Touch


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    skip_reason: str = ""
    message: Message | None = None


def _in_chat(touch: Touch, text: str, payload: dict[str, Any]) -> Delivery:
    conversation = (
        Conversation.objects.filter(shop_id=touch.shop_id, customer_id=touch.customer_id)
        .order_by("-started_at", "-pk")
        .first()
    )
    if conversation is None:
        return Delivery(delivered=False, skip_reason=Touch.SkipReason.NO_CONVERSATION)
    message = post_message(
        conversation,
        Message.Sender.BOT,
        text,
        payload={"quick_replies": [], "products": payload["products"], "coupon": payload["coupon"]},
        intent=Intent.MARKETING,
    )
    return Delivery(delivered=True, message=message)


def _webhook(touch: Touch, text: str, payload: dict[str, Any]) -> Delivery:
    customer = touch.customer
    body = {
        "touch": touch.pk,
        "idempotency_key": touch.idempotency_key,
        "campaign": {"id": touch.campaign_id, "name": touch.campaign.name, "kind": touch.campaign.kind},
        "customer": {
            "id": customer.pk,
            "external_id": customer.external_id,
            "nickname": customer.nickname,
            "phone": customer.phone,
            "email": customer.email,
            "wechat": customer.wechat,
        },
        "order": touch.order.external_id if touch.order_id else None,
        "text": text,
        **payload,
    }
    if not publish_event(touch.shop_id, WebhookEvent.MARKETING_TOUCH, body):
        return Delivery(delivered=False, skip_reason=Touch.SkipReason.NO_WEBHOOK)
    return Delivery(delivered=True)


CHANNELS: dict[str, Callable[[Touch, str, dict[str, Any]], Delivery]] = {
    Campaign.Channel.IN_CHAT: _in_chat,
    Campaign.Channel.WEBHOOK: _webhook,
}


def deliver(touch: Touch, text: str, payload: dict[str, Any]) -> Delivery:
    return CHANNELS[touch.channel](touch, text, payload)
