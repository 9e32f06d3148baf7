"""The shape of ``Conversation.state``: JSON the router saves after every message (see turn.py).

Every key is optional: a new conversation starts from ``{}``, and a key is written only by the handler
that needs it. Amounts are strings and ids are ints, so the state stays plain JSON.
"""

from typing import TypedDict


class PendingQuestion(TypedDict, total=False):
    """The question the bot waits on. ``kind`` names the handler that answers it (its ``pending``)."""

    kind: str  # "verify_order", "new_address", "invoice", "recommend_slot", "offer_handoff"
    ignored: int  # messages that did not answer it (a task is recalled, then dropped)
    # verify_order: what was asked before verification (an Intent or "refund"), the message, the number so far
    then: str
    raw: str
    number: str
    # new_address and invoice: the order (id) talked about
    order: int | None
    # invoice: the step asked, and the details collected so far
    step: str
    title: str
    tax_id: str
    email: str
    email_done: bool
    # recommend_slot: the slot asked ("category", "budget", "use", "colour")
    slot: str


class Amount(TypedDict, total=False):
    """An amount with a unit the shopper asked for (catalogue.Amount as JSON): "20000毫安以上"."""

    kind: str  # "capacity", "power", "volume", "weight", "length"
    value: str  # Decimal as text, in the kind's base unit (mAh, W, ml, g, m)
    op: str  # "=", ">=", "<="
    said: str  # as the shopper wrote it


class Slots(TypedDict, total=False):
    """What the shopper wants, collected over a recommendation (recommend.py). Category, keywords, features
    and attrs are strict; colour, size and use may be relaxed, saying so."""

    categories: list[str]
    keywords: list[str]  # title words
    features: list[str]  # title and selling-point words every product shown must have
    attrs: list[Amount]
    low: str | None  # Decimal as text
    high: str | None
    colour: str
    size: str
    use: str
    asked: list[str]  # slot questions already put
    any_category: bool
    cheaper: bool  # "便宜点" before any product was shown


class Results(TypedDict):
    """The last search: ranked product ids, the page offset, the ids shown last."""

    ids: list[int]
    offset: int
    shown: list[int]


class DialogueState(TypedDict, total=False):
    pending: PendingQuestion
    slots: Slots
    results: Results
    focus: int | None  # the product last talked about ("这款")
    order: int  # the order in the conversation
    verified_orders: list[int]  # orders an anonymous shopper proved are theirs
    verify_failures: int
    fallbacks: int  # unanswered messages in a row
    smalltalk: int  # playful lines used so far
