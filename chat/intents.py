"""The values stored in ``Message.intent`` and ``Conversation.handoff_reason``, every one of them.

They are plain strings in the database (a ``StrEnum`` member compares and saves as its value), and
analytics, marketing and the API read them back; a value is renamed here or nowhere.
"""

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shops.quota import HOLDOUT_HANDOFF_REASON, QUOTA_HANDOFF_REASON


class Intent(StrEnum):
    """What a message is about. Each value is answered by exactly one dialogue handler (its ``intents``,
    see chat/dialogue/registry.py) or listed in ``NOT_FROM_HANDLERS``; tests/test_dialogue_registry.py
    checks both."""

    GREETING = "greeting"
    SMALLTALK = "smalltalk"
    FAQ = "faq"
    CLARIFY = "clarify"
    FALLBACK = "fallback"
    RECOMMEND = "recommend"
    PRODUCT_DETAIL = "product_detail"
    ORDER_STATUS = "order_status"
    PRESALE = "presale"
    WARRANTY = "warranty"
    INVOICE = "invoice"
    ADDRESS_CHANGE = "address_change"
    HANDOFF = "handoff"
    BUNDLE = "bundle"
    LIVE = "live"
    SATISFACTION = "satisfaction"
    AGENT_REPLY = "agent_reply"
    WORK_ORDER_RESOLVED = "work_order_resolved"
    MARKETING = "marketing"
    MODEL_ANSWER = "model_answer"


# Intents no dialogue handler produces: the closing survey and the shopper's score (chat.services), an
# agent's message (chat.services.agent_reply), the note that a work order is done (chat.records) and a
# marketing touch delivered into the chat (marketing.services.delivery) and the shop's large model's grounded
# answer (chat.services.finish_grounded_turn).
NOT_FROM_HANDLERS = frozenset(
    {Intent.SATISFACTION, Intent.AGENT_REPLY, Intent.WORK_ORDER_RESOLVED, Intent.MARKETING, Intent.MODEL_ANSWER}
)


class HandoffReason(StrEnum):
    """Why a conversation went to the human queue (``Conversation.handoff_reason``)."""

    REQUESTED = "requested"
    ANGRY = "angry"
    FALLBACKS = "fallbacks"
    QUOTA = QUOTA_HANDOFF_REASON  # the shop's bot quota was used up (shops.quota)
    HOLDOUT = HOLDOUT_HANDOFF_REASON  # the shop's bot holdout drew the shopper (chat.MeasurementPolicy)


# What people read for each value (the back office's transcripts, lists and home page); every value has one,
# tests/test_backoffice_transcript.py checks. An unknown stored value reads as itself.
INTENT_LABELS: dict[Intent, Promise] = {
    Intent.GREETING: _("Greeting"),
    Intent.SMALLTALK: _("Small talk"),
    Intent.FAQ: _("FAQ answer"),
    Intent.CLARIFY: _("Asked to clarify"),
    Intent.FALLBACK: _("Not understood"),
    Intent.RECOMMEND: _("Product recommendation"),
    Intent.PRODUCT_DETAIL: _("Product details"),
    Intent.ORDER_STATUS: _("Order status"),
    Intent.PRESALE: _("Presale"),
    Intent.WARRANTY: _("Warranty"),
    Intent.INVOICE: _("Invoice"),
    Intent.ADDRESS_CHANGE: _("Address change"),
    Intent.HANDOFF: _("Hand-off to an agent"),
    Intent.BUNDLE: _("Bundles and add-ons"),
    Intent.LIVE: _("Live stream"),
    Intent.SATISFACTION: _("Satisfaction survey"),
    Intent.AGENT_REPLY: _("Agent reply"),
    Intent.WORK_ORDER_RESOLVED: _("Work order resolved"),
    Intent.MARKETING: _("Marketing message"),
    Intent.MODEL_ANSWER: _("Model answer (cited)"),
}

HANDOFF_REASON_LABELS: dict[HandoffReason, Promise] = {
    HandoffReason.REQUESTED: _("Shopper asked for an agent"),
    HandoffReason.ANGRY: _("Angry shopper"),
    HandoffReason.FALLBACKS: _("Bot did not understand repeatedly"),
    HandoffReason.QUOTA: _("Bot quota used up"),
    HandoffReason.HOLDOUT: _("Bot holdout (measuring the bot)"),
}


def intent_label(value: str) -> str:
    try:
        return str(INTENT_LABELS[Intent(value)])
    except ValueError:
        return value


def handoff_reason_label(value: str) -> str:
    try:
        return str(HANDOFF_REASON_LABELS[HandoffReason(value)])
    except ValueError:
        return value
