"""Storing and delivering chat messages: the one path every sender uses.

A message is stored first, then delivered to the conversation's Channels group, so a shopper who
is offline finds it in the history on their next connect. Quality inspection and marketing listen
to ``chat.signals.message_stored``.
"""

from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.urls import reverse

from core import rows

from .channels.delivery import record_messages
from .frames import MessageFrame, StatusFrame
from .intents import Intent
from .models import Conversation, Message, agent_name
from .signals import message_stored


def conversation_group(conversation_id: int) -> str:
    """The Channels group of every socket showing this conversation (the shopper's and agents')."""
    return f"conversation.{conversation_id}"


def shop_agents_group(shop_id: int) -> str:
    """The Channels group of the agent consoles of one shop (queue updates)."""
    return f"agents.shop.{shop_id}"


def message_frame(message: Message) -> MessageFrame:
    """A stored message as the WebSocket protocol's ``message`` frame."""
    frame: MessageFrame = {
        "type": "message",
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender": message.sender,
        "text": message.text,
        "quick_replies": message.payload.get("quick_replies", []),
        "products": message.payload.get("products", []),
        "created_at": message.created_at.isoformat(),
    }
    if "order" in message.payload:
        frame["order"] = message.payload["order"]
    if "citations" in message.payload:
        frame["citations"] = message.payload["citations"]
    if message.sender == Message.Sender.BOT and message.intent == Intent.SATISFACTION:
        frame["survey"] = True
    if "attachments" in message.payload:
        frame["attachments"] = [
            {
                "id": item["id"],
                "name": item["name"],
                "size": item["size"],
                "content_type": item["content_type"],
                "url": reverse("chat:attachment", args=[item["id"]]),
            }
            for item in message.payload["attachments"]
        ]
        frame["attachments_too_large"] = list(message.payload.get("attachments_too_large", []))
    return frame


def new_message(
    conversation: Conversation,
    sender: str,
    text: str,
    *,
    payload: dict[str, Any] | None = None,
    agent=None,
    intent: str = "",
    confidence: float | None = None,
    client_msg_id: str = "",
) -> Message:
    """An unsaved message of the conversation (``store_message`` / ``store_messages`` store it)."""
    return Message(
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


def store_messages(conversation: Conversation, messages: list[Message], *, touch: bool = True) -> list[Message]:
    """Store new messages in one INSERT; listeners hear of each after commit. The shop's messages of a
    conversation on another channel than the web are queued for it (``chat.channels.delivery``).

    ``touch`` moves the conversation's ``last_message_at``; a caller that writes the conversation row
    anyway (the bot turn saves the dialogue state) passes False and sets it in that same UPDATE.
    """
    if not messages:
        return messages
    # No savepoint: a message without a client id cannot collide, so there is nothing to roll back to.
    with transaction.atomic(savepoint=False):
        rows.insert(messages)
        conversation.last_message_at = messages[-1].created_at
        if touch:
            rows.update(conversation, ["last_message_at"])
        # The conversation's row is locked by now (the caller's lock or the UPDATE above): a channel
        # conversation's outbound rows go in in commit order.
        record_messages(conversation, messages)
        for message in messages:
            transaction.on_commit(partial(message_stored.send, sender=Message, message=message))
    return messages


_CLIENT_MESSAGE_SQL = f"SELECT id FROM {Message._meta.db_table} WHERE conversation_id = %s AND client_msg_id = %s"


def stored_client_message(conversation: Conversation, client_msg_id: str) -> Message | None:
    """The conversation's message with this client id, if the client sent it before.

    Asked for every shopper message and almost always None: the lookup is plain SQL on the unique
    index, a tenth of the ORM's cost; the rare hit loads the message.
    """
    row = rows.first_row(_CLIENT_MESSAGE_SQL, [conversation.pk, client_msg_id])
    return Message.objects.get(pk=row[0]) if row else None


def store_message(conversation: Conversation, sender: str, text: str, **fields: Any) -> tuple[Message, bool]:
    """Store a message once. A repeated ``client_msg_id`` returns the stored message and False."""
    message = new_message(conversation, sender, text, **fields)
    if not message.client_msg_id:
        return store_messages(conversation, [message])[0], True
    existing = stored_client_message(conversation, message.client_msg_id)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            store_messages(conversation, [message])
    except IntegrityError:
        # Two deliveries of the same client message raced; the other one stored it.
        return Message.objects.get(conversation=conversation, client_msg_id=message.client_msg_id), False
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


async def send_events(layer: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    for group, event in events:
        await layer.group_send(group, event)


def publish(outbox: Outbox) -> None:
    """Send an outbox's events from synchronous code once its service call has returned (a Celery task, a
    benchmark's thread): one trip to the event loop for all of them, where each event sent on its own
    (``deliver`` without an outbox) costs a trip of its own, a few milliseconds each."""
    if outbox.events:
        events = list(outbox.events)
        # At once outside a transaction; inside one (a caller's own atomic block), once it commits.
        transaction.on_commit(lambda: async_to_sync(send_events)(get_channel_layer(), events))


def deliver(group: str, event: dict[str, Any], outbox: Outbox | None = None) -> None:
    """Send a group event after commit, or hand it to the consumer's outbox."""
    if outbox is not None:
        outbox.add(group, event)
    else:
        transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, event))


def announce_messages(conversation: Conversation, messages: list[Message], outbox: Outbox | None = None) -> None:
    """Deliver stored messages to whoever is connected to the conversation: one group event for all of
    them (a shopper's question with the bot's answers), since each event costs channel-layer round trips."""
    if messages:
        frames = [message_frame(message) for message in messages]
        deliver(conversation_group(conversation.pk), {"type": "chat.messages", "frames": frames}, outbox)


def post_message(
    conversation: Conversation, sender: str, text: str, *, outbox: Outbox | None = None, **fields: Any
) -> Message:
    """Store a message and deliver it to whoever is connected (a repeated client_msg_id is neither
    stored nor delivered again)."""
    message, created = store_message(conversation, sender, text, **fields)
    if created:
        announce_messages(conversation, [message], outbox)
    return message


# --- what the consoles and the shopper are told of a conversation's status ---------------------------


def agent_user_group(user_id: int) -> str:
    """The Channels group of every console one agent has open (assignments reach all their tabs)."""
    return f"agents.user.{user_id}"


def announce_status(conversation: Conversation, outbox: Outbox | None) -> None:
    deliver(conversation_group(conversation.pk), {"type": "chat.status", "frame": status_frame(conversation)}, outbox)


def announce_queue(shop_id: int, outbox: Outbox | None) -> None:
    deliver(shop_agents_group(shop_id), {"type": "chat.queue", "shop": shop_id}, outbox)


def announce_assignment(conversation: Conversation, outbox: Outbox | None) -> None:
    assert conversation.assigned_agent_id is not None  # announced once an agent holds it
    event = {"type": "chat.assigned", "conversation": conversation.pk}
    deliver(agent_user_group(conversation.assigned_agent_id), event, outbox)


def status_frame(conversation: Conversation) -> StatusFrame:
    agent = conversation.assigned_agent if conversation.assigned_agent_id else None
    return {
        "type": "status",
        "conversation": conversation.pk,
        "status": conversation.status,
        "agent": agent_name(agent) if agent else "",
        "agent_id": conversation.assigned_agent_id,
    }
