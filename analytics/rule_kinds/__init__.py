"""The QA rule kinds: one module per ``RuleKind``, registered here with one line each.

Adding a kind: docs/extending.md, "Adding a QA rule kind".
"""

from . import (
    angry_shopper,
    banned_words,
    fallback_streak,
    forbidden_promise,
    personal_data,
    slow_first_response,
    slow_reply,
    unresolved_close,
)
from .base import RuleKind, RuleKindSpec

KINDS: dict[RuleKind, RuleKindSpec] = {
    RuleKind.BANNED_WORDS: banned_words.KIND,
    RuleKind.FORBIDDEN_PROMISE: forbidden_promise.KIND,
    RuleKind.PERSONAL_DATA: personal_data.KIND,
    RuleKind.SLOW_FIRST_RESPONSE: slow_first_response.KIND,
    RuleKind.SLOW_REPLY: slow_reply.KIND,
    RuleKind.FALLBACK_STREAK: fallback_streak.KIND,
    RuleKind.ANGRY_SHOPPER: angry_shopper.KIND,
    RuleKind.UNRESOLVED_CLOSE: unresolved_close.KIND,
}

# Plain values, in the enum's order: the model's check constraints are built from them.
WORD_KINDS = [kind.value for kind, spec in KINDS.items() if spec.words_help is not None]
THRESHOLD_KINDS = [kind.value for kind, spec in KINDS.items() if spec.threshold_help is not None]
