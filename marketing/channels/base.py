"""What a delivery channel declares: how it delivers a touch and which rich parts it carries.

A channel is one module of this package exposing ``CHANNEL = ChannelSpec(...)``, registered with one line in
``marketing/channels/__init__.py``. ``marketing.services.delivery.deliver`` reads the registry and hands each
channel only the parts it declares; it knows no channel by name.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chat.models import Message

from ..models import Touch


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    skip_reason: str = ""
    # The chat message the touch became, when the channel posts into the chat.
    message: Message | None = None


@dataclass(frozen=True)
class ChannelSpec:
    # Sends one claimed touch inside the sending transaction: ``(touch, text, content)`` where content is
    # ``{"products": [card, ...], "coupon": {...} | None}``. Not delivered: the touch is skipped with the reason.
    deliver: Callable[[Touch, str, dict[str, Any]], Delivery]
    # Rich parts the channel carries besides the text; the ones it does not get empty (the coupon is also
    # named in the text).
    product_cards: bool
    coupons: bool
