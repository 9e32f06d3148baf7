"""The one way a message from a channel other than the web socket enters Shopbee.

``receive`` stores it once per channel message id and runs exactly what the web chat runs
(``chat.services.receive_shopper_message``: the bot, hand-off, the agents' queue; QA and marketing listen
to ``message_stored``). The replies leave through ``chat.channels.delivery``, written in the same transaction.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from chat import services
from chat.messaging import Outbox, publish
from chat.models import ChannelConnection, ChannelReceipt, Conversation, Message
from core import rows

from .connections import note_inbound
from .rendering import chosen_option

MAX_EXTERNAL_ID = 128


@dataclass(frozen=True)
class Received:
    """``created`` is False for a message the channel handed in before (nothing was stored or answered)."""

    message: Message | None
    created: bool
    replies: list[Message]


def _conversation(connection: ChannelConnection, external_id: str, name: str) -> Conversation:
    """The latest conversation of this shopper on this connection (a closed one continues in a new one
    in ``receive_shopper_message``), or a new one; under the connection's row lock when it must be made,
    so two first messages at once make one conversation."""

    def latest() -> Conversation | None:
        return (
            Conversation.objects.filter(connection=connection, external_id=external_id)
            .select_related("shop")
            .order_by("-started_at", "-pk")
            .first()
        )

    current = latest()
    if current is not None:
        return current
    rows.locked(ChannelConnection, connection.pk)
    current = latest()
    if current is not None:
        return current
    return services.new_conversation(
        connection.shop,
        channel=connection.kind,
        connection=connection,
        external_id=external_id,
        external_name=name[:100],
        visitor_token=services.new_visitor_token(),
    )


def receive(
    connection: ChannelConnection, *, conversation_id: str, message_id: str, text: str, sender_name: str = ""
) -> Received:
    """Store one shopper message of the channel and run the bot on it (``ChatError`` for an empty or too
    long text). A bare number answering numbered options becomes the option it picks."""
    text = services.checked_text(text)
    outbox = Outbox()
    with transaction.atomic():
        try:
            with transaction.atomic():
                receipt = ChannelReceipt.objects.create(connection=connection, external_id=message_id)
        except IntegrityError:
            stored = ChannelReceipt.objects.get(connection=connection, external_id=message_id)
            return Received(stored.message, False, [])
        conversation = _conversation(connection, conversation_id, sender_name)
        turn = services.receive_shopper_message(conversation, chosen_option(conversation, text), outbox=outbox)
        receipt.message = turn.message
        receipt.save(update_fields=["message"])
    publish(outbox)  # committed: the connected consoles hear of it in one trip
    note_inbound(connection.pk)
    return Received(turn.message, True, turn.replies)
