"""What the dialogue manager hands back: replies with their quick replies and product cards."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from chat.intents import HandoffReason, Intent


@dataclass
class BotReply:
    text: str  # Simplified Chinese
    quick_replies: list[str] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)  # product cards, see product_card()
    intent: Intent = field(kw_only=True)
    confidence: float | None = None
    order: dict[str, Any] | None = field(default=None, kw_only=True)  # an order card (chat.dialogue.orders)

    def payload(self) -> dict[str, Any]:
        """The structured parts stored with the message (``Message.payload``) and sent in its frame."""
        parts: dict[str, Any] = {"quick_replies": self.quick_replies, "products": self.products}
        if self.order is not None:
            parts["order"] = self.order
        return parts


@dataclass
class DialogueResult:
    intent: Intent  # intent of the shopper's message (stored on the shopper Message.intent)
    replies: list[BotReply]
    handoff: HandoffReason | None = None  # set: bring in a human (the reply already says one is coming)


def reply(
    intent: Intent,
    text: str,
    quick_replies: list[str] | None = None,
    products: list[dict[str, Any]] | None = None,
    *,
    order: dict[str, Any] | None = None,
) -> DialogueResult:
    """A result made of one bot reply carrying the same intent as the shopper's message."""
    bot_reply = BotReply(text, list(quick_replies or []), list(products or []), intent=intent, order=order)
    return DialogueResult(intent, [bot_reply])


def money(amount: Decimal) -> str:
    return f"{Decimal(amount):.2f}"


class Sellable(Protocol):
    """What a product card is made from: a Product row or a catalogue Item."""

    @property
    def id(self) -> int: ...

    @property
    def sku(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def price(self) -> Decimal: ...

    @property
    def stock(self) -> int: ...

    @property
    def colors(self) -> Iterable[str]: ...

    @property
    def sizes(self) -> Iterable[str]: ...

    @property
    def image_url(self) -> str: ...


def product_card(product: Sellable) -> dict[str, Any]:
    """The product card dict of the chat protocol, from a Product or a catalogue item."""
    return {
        "id": product.id,
        "sku": product.sku,
        "title": product.title,
        "price": money(product.price),
        "colors": list(product.colors),
        "sizes": list(product.sizes),
        "stock": product.stock,
        "image": product.image_url,
    }


SURVEY_SCORES = ["1", "2", "3", "4", "5"]


def closing_survey() -> BotReply:
    """The satisfaction question sent when a conversation closes."""
    return BotReply(
        "本次服务已结束，请为我们的服务打个分吧：5 分非常满意，1 分非常不满意。",
        list(SURVEY_SCORES),
        intent=Intent.SATISFACTION,
    )
