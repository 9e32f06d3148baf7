"""Webhook: the SMS or outbound-call provider gets the touch through the signed, retried ``marketing.touch``
webhook. This sends ``marketing.signals.touch_sent``; the API's receiver queues the webhook deliveries."""

from typing import Any

from ..models import Touch
from ..signals import touch_sent
from .base import ChannelSpec, Delivery


def deliver(touch: Touch, text: str, content: dict[str, Any]) -> Delivery:
    responses = touch_sent.send(sender=Touch, touch=touch, text=text, content=content)
    if not any(taken for _, taken in responses):
        return Delivery(delivered=False, skip_reason=Touch.SkipReason.NO_WEBHOOK)
    return Delivery(delivered=True)


# The provider gets the product cards and the coupon as data, to render or drop as its medium allows.
CHANNEL = ChannelSpec(deliver=deliver, product_cards=True, coupons=True)
