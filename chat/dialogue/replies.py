"""What the dialogue manager hands back: replies with their quick replies and product cards."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class Intent:
    """Message.intent values the dialogue manager produces (the shared contract's names)."""

    FAQ = "faq"
    CLARIFY = "clarify"
    FALLBACK = "fallback"
    RECOMMEND = "recommend"
    PRODUCT_DETAIL = "product_detail"
    ORDER_STATUS = "order_status"
    PRESALE = "presale"
    INVOICE = "invoice"
    ADDRESS_CHANGE = "address_change"
    HANDOFF = "handoff"
    SMALLTALK = "smalltalk"
    GREETING = "greeting"
    SATISFACTION = "satisfaction"
    BUNDLE = "bundle"
    LIVE = "live"


class HandoffReason:
    REQUESTED = "requested"
    FALLBACKS = "fallbacks"
    ANGRY = "angry"


@dataclass
class BotReply:
    text: str  # Simplified Chinese
    quick_replies: list[str] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)  # product cards, see product_card()
    intent: str = ""
    confidence: float | None = None


@dataclass
class DialogueResult:
    intent: str  # intent of the shopper's message (stored on the shopper Message.intent)
    replies: list[BotReply]
    handoff: str = ""  # "" or a HandoffReason


def reply(intent: str, text: str, quick_replies: list[str] | None = None, **fields: Any) -> DialogueResult:
    """A result made of one bot reply carrying the same intent as the shopper's message."""
    return DialogueResult(intent, [BotReply(text, list(quick_replies or []), intent=intent, **fields)])


def money(amount: Decimal) -> str:
    return f"{Decimal(amount):.2f}"


def product_card(product) -> dict[str, Any]:
    """The product card dict of the chat protocol, from a Product or a catalogue item."""
    return {
        "id": product.id,
        "sku": product.sku,
        "title": product.title,
        "price": money(product.price),
        "colors": list(product.colors),
        "sizes": list(product.sizes),
        "stock": product.stock,
    }


SURVEY_SCORES = ["1", "2", "3", "4", "5"]


def closing_survey() -> BotReply:
    """The satisfaction question sent when a conversation closes."""
    return BotReply(
        "本次服务已结束，请为我们的服务打个分吧：5 分非常满意，1 分非常不满意。",
        list(SURVEY_SCORES),
        intent=Intent.SATISFACTION,
    )
