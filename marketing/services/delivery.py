"""Delivering a claimed touch on its campaign's channel (``marketing.channels``).

Every channel runs inside the sending transaction: the message or webhook delivery exists iff the touch is sent.
"""

from typing import Any

from ..channels import CHANNELS
from ..channels.base import Delivery
from ..models import Campaign, Touch


def deliver(touch: Touch, text: str, payload: dict[str, Any]) -> Delivery:
    """Send ``text`` with the parts of ``payload`` (product cards, coupon) the touch's channel carries."""
    channel = CHANNELS[Campaign.Channel(touch.channel)]
    content = {
        "products": payload["products"] if channel.product_cards else [],
        "coupon": payload["coupon"] if channel.coupons else None,
    }
    return channel.deliver(touch, text, content)
