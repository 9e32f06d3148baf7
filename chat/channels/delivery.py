"""Sending a channel conversation's messages out: in order, once, with retries.

Every bot, agent and system message of a conversation that came through a connection (and its close,
where the channel has that event) becomes a ``ChannelDelivery`` row in the transaction that stored it
(``record_messages`` from ``chat.messaging.store_messages``, ``record_close`` from ``close_conversation``).
Both run with the conversation's row locked (the bot turn's lock, the message's UPDATE of
``last_message_at``, the close's lock), so a conversation's rows are inserted in commit order.

``deliver_conversation`` sends a conversation's pending rows oldest first, one at a time: the oldest is
claimed (no second attempt of it starts meanwhile), sent, and only then the next. A failure the channel
calls retryable leaves it at the head with its next attempt after a back-off (or the channel's own wait);
nothing later overtakes it. A final failure (or the last attempt) marks it failed and the next goes.
Channels de-duplicate on the delivery id: an attempt whose answer was lost is sent again under it.
"""

from django.db import transaction
from django.utils import timezone

from chat.models import ChannelConnection, ChannelDelivery, Conversation, Message
from core import outbound

from . import CHANNELS
from .base import ChannelError, Outgoing
from .connections import note_error, note_outbound
from .jobs import backoff_seconds, run_later
from .rendering import as_text

DELIVER_TASK = "chat.tasks.deliver_channel"
MAX_ATTEMPTS = 10


def queue(conversation_id: int, delay: float = 0) -> None:
    """Run ``deliver_conversation`` ``delay`` seconds from now, off the caller's thread."""
    run_later(DELIVER_TASK, deliver_conversation, conversation_id, delay=delay)


def _record(conversation: Conversation, rows: list[ChannelDelivery]) -> None:
    ChannelDelivery.objects.bulk_create(rows)
    conversation_id = conversation.pk
    transaction.on_commit(lambda: queue(conversation_id))


def record_messages(conversation: Conversation, messages: list[Message]) -> None:
    """Inside the storing transaction: the shop's side of ``messages`` to send on the conversation's channel."""
    if conversation.connection_id is None:
        return
    now = timezone.now()
    rows = [
        ChannelDelivery(
            connection_id=conversation.connection_id,
            conversation_id=conversation.pk,
            message=message,
            event=ChannelDelivery.Event.MESSAGE,
            next_attempt_at=now,
        )
        for message in messages
        if message.sender != Message.Sender.SHOPPER
    ]
    if rows:
        _record(conversation, rows)


def record_close(conversation: Conversation) -> None:
    """Inside the closing transaction, after the closing survey was stored: the close, where the channel
    has such an event (elsewhere the survey's text tells the shopper)."""
    if conversation.connection_id is None or not CHANNELS[conversation.channel].sends_closes:
        return
    row = ChannelDelivery(
        connection_id=conversation.connection_id,
        conversation_id=conversation.pk,
        event=ChannelDelivery.Event.CLOSE,
        next_attempt_at=timezone.now(),
    )
    _record(conversation, [row])


def outgoing(delivery: ChannelDelivery) -> Outgoing:
    connection, message = delivery.connection, delivery.message
    if message is None:
        text = ""
    elif CHANNELS[connection.kind].rich:
        text = message.text
    else:
        text = as_text(message, str(connection.config.get("product_url", "")))
    return Outgoing(
        delivery_id=delivery.pk,
        event="close" if delivery.event == ChannelDelivery.Event.CLOSE else "message",
        conversation_id=delivery.conversation_id,
        external_id=delivery.conversation.external_id,
        text=text,
        message=message,
    )


def _attempt(delivery: ChannelDelivery) -> float | None:
    """Send the claimed row once and record the outcome: None when the conversation may go on to its next
    row (sent, or given up), else the seconds until this one is tried again."""
    connection: ChannelConnection = delivery.connection
    send = CHANNELS[connection.kind].send
    error: ChannelError | None = None
    try:
        if not connection.is_active:
            raise ChannelError("通道已停用，消息未发送")
        if send is None:
            raise ChannelError("该渠道不经此处发送")
        send(connection, outgoing(delivery))
    except ChannelError as failed:
        error = failed
    delivery.last_error = error.message[:300] if error else ""
    channel_wait = error.retry_in if error else None  # the channel's own wait (a rate limit's), else the back-off
    retry_in = outbound.note_attempt(
        delivery,
        sent=error is None,
        retryable=error is not None and error.retryable,
        max_attempts=MAX_ATTEMPTS,
        wait=lambda attempts: channel_wait or backoff_seconds(attempts),
    )
    delivery.save(update_fields=["last_error", "attempts", "status", "delivered_at", "next_attempt_at"])
    if error:
        note_error(connection, error.message)
    else:
        note_outbound(connection.pk)
    return retry_in


def deliver_conversation(conversation_id: int) -> int:
    """Send the conversation's pending rows in order until one must wait (its retry is queued) or none is
    left; returns how many were sent. A second run at the same time sends nothing: the head is claimed."""
    sent = 0
    pending = ChannelDelivery.objects.filter(conversation_id=conversation_id, status=ChannelDelivery.Status.PENDING)
    while True:
        head = pending.order_by("pk").only("pk").first()
        if head is None or not outbound.claim(pending, head.pk):
            return sent
        delivery = ChannelDelivery.objects.select_related("connection", "conversation", "message__agent").get(
            pk=head.pk
        )
        retry_in = _attempt(delivery)
        if retry_in is not None:
            queue(conversation_id, delay=retry_in)
            return sent
        sent += delivery.status == ChannelDelivery.Status.DELIVERED


def requeue_overdue(now=None) -> int:
    """Queue again every conversation whose pending head is overdue (its job was lost with a worker killed
    while it waited, or never queued). Returns how many conversations."""
    pending = ChannelDelivery.objects.filter(status=ChannelDelivery.Status.PENDING)
    return outbound.requeue_overdue(pending, queue, by="conversation_id", now=now)
