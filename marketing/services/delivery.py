"""The channels a touch goes out on, behind one interface: ``deliver(touch, text, payload)``.

In-chat posts into the customer's latest conversation with chat.messaging.post_message (stored, so
an offline shopper finds it on the next connect). The webhook channel sends ``marketing.signals.touch_sent``,
which the API turns into the signed, retried ``marketing.touch`` webhook for SMS or outbound-call providers.
Both run inside the sending transaction: the message or webhook delivery exists iff the touch is sent.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chat.intents import Intent
from chat.messaging import post_message
from chat.models import Conversation, Message

from ..models import Campaign, Touch
from ..signals import touch_sent


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
    responses = touch_sent.send(sender=Touch, touch=touch, text=text, content=payload)
    if not any(taken for _, taken in responses):
        return Delivery(delivered=False, skip_reason=Touch.SkipReason.NO_WEBHOOK)
    return Delivery(delivered=True)


CHANNELS: dict[str, Callable[[Touch, str, dict[str, Any]], Delivery]] = {
    Campaign.Channel.IN_CHAT: _in_chat,
    Campaign.Channel.WEBHOOK: _webhook,
}


def deliver(touch: Touch, text: str, payload: dict[str, Any]) -> Delivery:
    return CHANNELS[touch.channel](touch, text, payload)
