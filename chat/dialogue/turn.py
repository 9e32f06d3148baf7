"""One shopper message being handled: the conversation, the text in its forms, and the dialogue state.

The state lives in ``Conversation.state`` (JSON, saved by the router after every message) so a
conversation continues on any worker process. Its keys are declared in state.py (``DialogueState``):

- ``pending``: the question the bot is waiting on, ``{"kind": ..., ...}``; the handler whose ``pending``
  kinds include it answers the next message (see handler.py and registry.py)
- ``slots`` / ``results`` / ``focus``: product recommendation (see recommend.py)
- ``order`` / ``verified_orders`` / ``verify_failures``: the order being talked about (see orders.py)
- ``fallbacks``: unanswered messages in a row; ``smalltalk``: playful lines used so far
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

from chat.models import Conversation
from knowledge.services import Answer, answer_message
from knowledge.text import normalize, strip_punctuation
from shops.models import Shop

from .catalogue import Catalogue
from .state import DialogueState, PendingQuestion


@dataclass
class Turn:
    conversation: Conversation
    raw: str
    text: str = ""  # normalised: half-width, Simplified, lower case
    state: DialogueState = field(default_factory=lambda: DialogueState())
    of_several: bool = False  # one question of a message that holds several (its answer names it)

    @classmethod
    def start(cls, conversation: Conversation, raw: str) -> "Turn":
        return cls(conversation, raw, normalize(raw), cast(DialogueState, dict(conversation.state or {})))

    def part(self, question: str, answer: Answer | None = None) -> "Turn":
        """A turn for one question of a message of several; it shares this turn's state. ``answer``: shop
        knowledge's answer to it as read within the whole message (``knowledge.services.answer_message``)."""
        part = Turn(self.conversation, question, normalize(question), self.state, of_several=True)
        part.__dict__["catalogue"] = self.catalogue
        if answer is not None:
            part.__dict__["knowledge"] = [answer]
        return part

    @property
    def plain(self) -> str:
        """The normalised text without punctuation or spaces, for whole-utterance matching."""
        return strip_punctuation(self.text).replace(" ", "")

    @cached_property
    def knowledge(self) -> list[Answer]:
        """Shop knowledge's answers to the message, not yet recorded: asked of the engine once, whether a
        handler only checks that the FAQ knows the answer or sends it (``faq.respond`` records them)."""
        return answer_message(self.shop, self.raw, record=False)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The shop's on-sale products, read once per message and only when a handler needs them."""
        return Catalogue.of_shop(self.conversation.shop_id)

    @property
    def shop(self) -> Shop:
        return self.conversation.shop

    @property
    def pending(self) -> PendingQuestion | None:
        return self.state.get("pending")

    def ask(self, question: PendingQuestion) -> None:
        """Remember the question the bot just asked, so the next message is read as its answer."""
        self.state["pending"] = question

    def clear_pending(self) -> None:
        self.state.pop("pending", None)
