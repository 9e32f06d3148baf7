"""Storing and delivering chat messages: the one path every sender uses.

A message is stored first, then delivered to the conversation's Channels group, so a shopper who
is offline finds it in the history on their next connect. Quality inspection and marketing listen
to ``chat.signals.message_stored``.
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction

from .models import Conversation, Message
from .signals import message_stored


def conversation_group(conversation_id: int) -> str:
    """The Channels group of every socket showing this conversation (the shopper's and agents')."""
    return f"conversation.{conversation_id}"


def shop_agents_group(shop_id: int) -> str:
    """The Channels group of the agent consoles of one shop (queue updates)."""
    return f"agents.shop.{shop_id}"


def message_frame(message: Message) -> dict[str, Any]:
    """A stored message as the WebSocket protocol's ``message`` frame."""
    return {
        "type": "message",
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender": message.sender,
        "text": message.text,
        "quick_replies": message.payload.get("quick_replies", []),
        "products": message.payload.get("products", []),
        "created_at": message.created_at.isoformat(),
    }


def store_message(
    conversation: Conversation,
    sender: str,
    text: str,
    *,
    payload: dict[str, Any] | None = None,
    agent=None,
    intent: str = "",
    confidence: float | None = None,
    client_msg_id: str = "",
) -> tuple[Message, bool]:
    """Store a message once. A repeated ``client_msg_id`` returns the stored message and False."""
    if client_msg_id:
        existing = Message.objects.filter(conversation=conversation, client_msg_id=client_msg_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                shop_id=conversation.shop_id,
                sender=sender,
                agent=agent,
                text=text,
                payload=payload or {},
                intent=intent,
                confidence=confidence,
                client_msg_id=client_msg_id,
            )
            Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
            transaction.on_commit(lambda: message_stored.send(sender=Message, message=message))
    except IntegrityError:
        # Two deliveries of the same client message raced; the other one stored it.
        return Message.objects.get(conversation=conversation, client_msg_id=client_msg_id), False
    conversation.last_message_at = message.created_at
    return message, True


class Outbox:
    """Group events a consumer sends itself once the service call has returned (and so committed).

    Without an outbox (admin, tasks, shell) events go out on commit through async_to_sync. Consumers
    pass one so the process's single database thread never waits on the event loop, which under load
    is busy with a thousand sockets: that wait, once per message, was the bottleneck of the hot path.
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def add(self, group: str, event: dict[str, Any]) -> None:
        self.events.append((group, event))


def deliver(group: str, event: dict[str, Any], outbox: Outbox | None = None) -> None:
    """Send a group event after commit, or hand it to the consumer's outbox."""
    if outbox is not None:
        outbox.add(group, event)
    else:
        transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, event))


def store_and_deliver(
    conversation: Conversation, sender: str, text: str, *, outbox: Outbox | None = None, **fields: Any
) -> tuple[Message, bool]:
    """Store a message and deliver it to whoever is connected; also says whether it is new (a repeated
    client_msg_id is neither stored nor delivered again)."""
    message, created = store_message(conversation, sender, text, **fields)
    if created:
        deliver(conversation_group(conversation.pk), {"type": "chat.message", "frame": message_frame(message)}, outbox)
    return message, created


def post_message(
    conversation: Conversation, sender: str, text: str, *, outbox: Outbox | None = None, **fields: Any
) -> Message:
    """Store a message and deliver it to whoever is connected."""
    return store_and_deliver(conversation, sender, text, outbox=outbox, **fields)[0]
