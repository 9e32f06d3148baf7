"""The bot's dialogue manager: ``respond(conversation, text)`` (or ``decide`` under the caller's lock),
``product_details(conversation, product)`` (a product card opened) and ``closing_survey()``."""

from .replies import BotReply, DialogueResult, closing_survey
from .router import decide, product_details, respond

__all__ = ["BotReply", "DialogueResult", "closing_survey", "decide", "product_details", "respond"]
