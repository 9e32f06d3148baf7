"""What a channel module declares (``CHANNEL = ChannelSpec(...)``), and what it is handed and answers.

A channel is how a conversation reaches the shopper and back. Inbound, a channel's own door (a callback
view, a Celery task pulling messages, the bridge API) hands each message to ``chat.channels.inbound.receive``:
the same bot, hand-off, queue and QA as the web chat. Outbound, ``chat.channels.delivery`` sends every
bot, agent and system message (and the close) of the conversation, in order, through the module's ``send``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core import crypto

if TYPE_CHECKING:
    from chat.models import ChannelConnection, Message


class ChannelError(Exception):
    """A channel refused or failed; ``message`` is for the shop's admin (Simplified Chinese)."""

    def __init__(self, message: str, *, retryable: bool = False, retry_in: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_in = retry_in


def secrets_of(connection: "ChannelConnection") -> dict[str, str]:
    """The connection's secret fields (and generated secrets), decrypted: the one place a channel reads them."""
    return crypto.decrypt(connection.secrets)


@dataclass(frozen=True)
class Field:
    """One value the merchant enters for a connection: stored in ``config``, or encrypted when ``secret``."""

    name: str
    label: str | Promise
    help_text: str | Promise = ""
    secret: bool = False
    required: bool = True
    # Raises ChannelError with the message for the form when the value cannot be used.
    validate: Callable[[str], None] | None = None


# Where a text-only channel's product cards link (rendering.as_text reads it from the connection's config).
PRODUCT_URL = Field(
    "product_url",
    _("Product link"),
    _("The product page, with {id} or {sku}; product cards in replies link there."),
    required=False,
)


@dataclass(frozen=True)
class Outgoing:
    """One delivery as the channel sends it. ``text`` is already rendered for the channel (rich parts as
    text when it is not ``rich``); ``message`` is None for a close."""

    delivery_id: int
    event: Literal["message", "close"]
    conversation_id: int
    external_id: str  # the shopper's conversation on the channel
    text: str
    message: "Message | None"


@dataclass(frozen=True)
class ChannelSpec:
    """``fields``: what a merchant enters (none for the web widget, which needs no connection).
    ``send``: deliver one ``Outgoing`` or raise ``ChannelError`` (``retryable`` for what may pass: a
    network error, a rate limit); None when the channel's own socket delivers (the web).
    ``check``: the admin's "test connection"; returns a short success text or raises ``ChannelError``.
    ``rich``: shows product cards and quick replies itself; otherwise they arrive as text
    (``chat.channels.rendering``). ``sends_closes``: a close is an event of its own on this channel.
    ``generated``: secrets Shopbee makes for a new connection (a bridge's signing secret)."""

    fields: tuple[Field, ...]
    send: "Callable[[ChannelConnection, Outgoing], None] | None"
    check: "Callable[[ChannelConnection], str] | None"
    rich: bool = False
    sends_closes: bool = False
    generated: Callable[[], dict[str, str]] = dict
