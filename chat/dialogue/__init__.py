"""The bot's dialogue manager: ``respond(conversation, text)`` (or ``decide`` under the caller's lock)
and ``closing_survey()``."""

from .replies import BotReply, DialogueResult, closing_survey
from .router import decide, respond

__all__ = ["BotReply", "DialogueResult", "closing_survey", "decide", "respond"]
