"""In-chat: a bot message in the customer's latest conversation, with the product cards and the coupon.

chat.messaging.post_message stores it first, so an offline shopper finds it on the next connect, and pushes
it to the conversation's open sockets.
"""

from typing import Any

from chat.intents import Intent
from chat.messaging import post_message
from chat.models import Conversation, Message

from ..models import Touch
from .base import ChannelSpec, Delivery


def deliver(touch: Touch, text: str, content: dict[str, Any]) -> Delivery:
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
        payload={"quick_replies": [], **content},
        intent=Intent.MARKETING,
    )
    return Delivery(delivered=True, message=message)


CHANNEL = ChannelSpec(deliver=deliver, product_cards=True, coupons=True)
