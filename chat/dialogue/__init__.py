"""The bot's dialogue manager: ``respond(conversation, text)`` and ``closing_survey()``."""

from .replies import BotReply, DialogueResult, closing_survey
from .router import respond

__all__ = ["BotReply", "DialogueResult", "closing_survey", "respond"]
