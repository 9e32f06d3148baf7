"""The contract of a dialogue handler: what one module declares so the router can use it.

Each handler module (address.py, orders.py, ..., and marketing/dialogue.py from the marketing app)
declares one ``HANDLER = Handler(...)``; registry.py lists them in the order the router offers them a
message. The router knows no intent by name: it asks the handlers.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from chat.intents import Intent
from shops.models import Order

from .replies import DialogueResult
from .state import PendingQuestion
from .turn import Turn

Responder = Callable[[], DialogueResult]


@dataclass(frozen=True)
class FullAnswer:
    """A responder that answers every question of the message itself, the shop knowledge's ones too ("给孩子
    买个登山包，顺便问下包邮吗": products and the shipping answer), so the router takes it as it is."""

    respond: Responder

    def __call__(self) -> DialogueResult:
        return self.respond()


@dataclass(frozen=True)
class Verified:
    """A visitor proved an order is theirs: the handler of what they first asked goes on with it."""

    order: Order
    purpose: str  # the Intent asked about, or orders.REFUND
    intent: Intent  # the intent answering the purpose: its handler's ``after_verification`` takes over
    asked: str  # the message that asked, before verification


class Stage(IntEnum):
    """When the router offers a message to a handler; the registry keeps handlers in this order."""

    INTERRUPT = 1  # before the pending question: a request for a person, an angry shopper
    WHOLE_MESSAGE = 2  # the message as a whole (small talk), before any task
    TASK = 3  # a task; each question of a message of several (长句多问) is offered to these
    KNOWLEDGE = 4  # the shop's knowledge: answers whatever no task took, so it always detects


@dataclass(frozen=True)
class Handler:
    """One intent family: how to recognise it, answer it, and carry on the questions it asks.

    ``detect`` returns the responder (called once the router has chosen) or None when the message is not
    for this handler. ``pending`` are the ``state["pending"]["kind"]`` values whose answers
    ``answer_pending`` reads (None when the message is not an answer, so routing goes on). A pending
    task with a ``recall`` line is recalled when the shopper asks something else meanwhile, and may be
    cancelled ("取消 / 算了"); ``cancel_intent`` is the intent of both the recall line and the cancel
    reply. A soft question without them is dropped when the shopper moves on.
    ``after_verification`` answers for an order the visitor just proved is theirs (orders.py asks).
    """

    name: str
    stage: Stage
    intents: frozenset[Intent]
    detect: Callable[[Turn], Responder | None]
    pending: frozenset[str] = frozenset()
    answer_pending: Callable[[Turn], DialogueResult | Verified | None] | None = None
    recall: Callable[[PendingQuestion], str] | None = None
    cancel_intent: Intent | None = None
    after_verification: Callable[[Turn, Verified], DialogueResult] | None = None
