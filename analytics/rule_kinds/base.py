"""What a QA rule kind declares: its inputs (a word list, a threshold) and its inspection.

A kind is one module of this package exposing ``KIND = RuleKindSpec(...)``, registered with one line in
``analytics/rule_kinds/__init__.py``. The model's choices and check constraints, the admin's help, the
rule validation and the inspection engine (analytics/services/rules.py) read the registry.

Nothing here touches the database or imports the models: the models build their constraints from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from ..services.rules import ConversationFacts, MessageFacts, RuleSpec


class OnSend(models.TextChoices):
    """What a rule does to a message that breaks it before it is sent (kinds with ``before_send``)."""

    HOLD = "hold", _("Hold it; an agent may send anyway (recorded)")
    BLOCK = "block", _("Hold it; never sent as it is")
    ALERT = "alert", _("Send it; alert afterwards only")


class RuleKind(models.TextChoices):
    BANNED_WORDS = "banned_words", _("Banned or rude words (agent and bot)")
    FORBIDDEN_PROMISE = "forbidden_promise", _("Forbidden promises (agent and bot)")
    PERSONAL_DATA = "personal_data", _("Personal data in an agent's message (phone, ID number)")
    SLOW_FIRST_RESPONSE = "slow_first_response", _("Slow first response after a hand-off")
    SLOW_REPLY = "slow_reply", _("Slow agent reply")
    FALLBACK_STREAK = "fallback_streak", _("Streak of bot fallbacks")
    ANGRY_SHOPPER = "angry_shopper", _("Angry shopper")
    UNRESOLVED_CLOSE = "unresolved_close", _("Conversation closed unresolved")


SHOP_SIDE = frozenset({"agent", "bot"})
SHOPPER = frozenset({"shopper"})
AGENT = frozenset({"agent"})
BOT = frozenset({"bot"})

# (rule, message, folded text) -> the evidence of a breach, or "" when the message is fine.
MessageCheck = Callable[["RuleSpec", "MessageFacts", str], str]
# (rule, closed conversation) -> the evidence of a breach, or "".
ConversationCheck = Callable[["RuleSpec", "ConversationFacts"], str]


@dataclass(frozen=True)
class RuleKindSpec:
    # Whose messages the kind inspects ("agent", "bot", "shopper"); empty for a conversation-only kind.
    senders: frozenset[str] = frozenset()
    # Set for a kind matched against the rule's word list (one Aho-Corasick scan per message): the help.
    words_help: str | Promise | None = None
    # Set for a kind that needs the rule's threshold (a positive number): what the number means.
    threshold_help: str | Promise | None = None
    check_message: MessageCheck | None = None
    # check_message reads the folded text (so the engine folds it even without a word rule).
    reads_text: bool = False
    check_conversation: ConversationCheck | None = None
    # Facts read from the database before inspecting a message, only when a rule of such a kind is on.
    needs_wait_time: bool = False
    needs_fallback_streak: bool = False
    # Checked before a bot, model or agent message is sent (chat.guard), as the rule's ``on_send`` says;
    # only kinds that judge a message's own text can be.
    before_send: bool = False

    def validate(self, words: str, threshold: int | None) -> None:
        """The rule's inputs, as the model's check constraints require them, with field-bound messages."""
        if self.words_help is not None and not words.strip():
            raise ValidationError({"words": _("This kind of rule needs at least one word.")})
        if self.threshold_help is not None and not threshold:
            raise ValidationError({"threshold": _("This kind of rule needs a threshold above 0.")})
