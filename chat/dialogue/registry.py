"""The dialogue handlers, in the order the router offers them a message.

Within a stage (handler.Stage) the first handler whose ``detect`` answers takes the message, so a
narrower handler goes before a broader one whose cues overlap. Other apps add their handlers from their
``AppConfig.ready()`` with ``register(handler, before=...)``: chat imports none of them.
"""

from chat.intents import Intent

from . import address, faq, handoff, invoice, orders, recommend, smalltalk, warranty
from .handler import Handler

HANDLERS: list[Handler] = [
    # A request for a person or an angry message: before everything, even the pending question.
    handoff.HANDLER,
    # A message that is small talk as a whole ("你好", "谢谢"); never a shop question.
    smalltalk.HANDLER,
    # "地址写错了, 订单…": before orders, whose cues (订单, 我买的) address changes also carry.
    address.HANDLER,
    # "订单 SW1 开发票": before orders for the same reason.
    invoice.HANDLER,
    # "我买的耳机还在保修期吗": before orders, whose "我买的" would read it as an order-status question.
    warranty.HANDLER,
    orders.HANDLER,
    # marketing.dialogue (live streams, 搭配, 凑单) registers here, before recommend (MarketingConfig.ready).
    # Choosing products: the last task, its uncertain detection asks shop knowledge first.
    recommend.HANDLER,
    # Shop knowledge answers whatever no task took.
    faq.HANDLER,
]


def register(handler: Handler, *, before: str) -> None:
    """Put another app's handler just before the handler named ``before`` (again: it replaces itself)."""
    HANDLERS[:] = [h for h in HANDLERS if h.name != handler.name]
    names = [h.name for h in HANDLERS]
    if before not in names:
        raise LookupError(f"no dialogue handler named {before!r} to register {handler.name!r} before")
    if HANDLERS[names.index(before)].stage != handler.stage:
        raise ValueError(f"{handler.name!r} must be registered among the handlers of its stage")
    HANDLERS.insert(names.index(before), handler)


def answering(kind: str) -> Handler | None:
    """The handler that reads the answer to a pending question of this kind."""
    return next((h for h in HANDLERS if kind in h.pending), None)


def owner(intent: Intent) -> Handler:
    """The handler that answers an intent (each intent has one, see tests/test_dialogue_registry.py)."""
    return next(h for h in HANDLERS if intent in h.intents)
