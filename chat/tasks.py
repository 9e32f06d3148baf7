from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import assignment, services
from .channels import delivery, email_sync, wecom_sync
from .channels.delivery import DELIVER_TASK
from .channels.wecom_sync import SYNC_TASK
from .messaging import Outbox, publish
from .models import ChannelConnection, Conversation
from .services import close_idle_bot_conversations
from .sla import check_breaches


@shared_task
def close_idle_conversations() -> int:
    """Beat task: close bot conversations idle for CHAT_IDLE_CLOSE_MINUTES."""
    return close_idle_bot_conversations(timedelta(minutes=settings.CHAT_IDLE_CLOSE_MINUTES))


@shared_task
def check_sla_breaches() -> int:
    """Beat task: record each SLA clock past its due time once, and alert the shop's managers."""
    return len(check_breaches())


@shared_task
def offline_if_gone(user_id: int) -> bool:
    """Scheduled CHAT_PRESENCE_GRACE_SECONDS after an agent's last console closed: offline, unless back."""
    return services.offline_if_gone(user_id)


@shared_task
def assign_queues() -> int:
    """Beat task: agents whose consoles all went silent (a process died) go offline, and the queue of every
    shop with waiting shoppers is assigned (service hours starting let the messages left overnight through).
    Returns the conversations assigned."""
    services.sweep_silent_agents()
    assigned = 0
    for shop_id in assignment.queued_shop_ids():
        outbox = Outbox()
        assigned += len(assignment.assign_waiting(shop_id, outbox=outbox))
        publish(outbox)
    return assigned


@shared_task(acks_late=True, name=DELIVER_TASK)
def deliver_channel(conversation_id: int) -> int:
    """Send a channel conversation's pending replies in order (``chat.channels.delivery``); a retry after its
    back-off is queued by the delivery itself."""
    return delivery.deliver_conversation(conversation_id)


@shared_task
def sweep_channel_deliveries() -> int:
    """Beat task: conversations whose next reply is overdue (its job was lost) are queued again."""
    return delivery.requeue_overdue()


@shared_task(acks_late=True, name=SYNC_TASK)
def sync_wecom(connection_id: int, token: str = "", attempt: int = 1) -> int:
    """Pull a WeCom connection's new messages after its callback (``chat.channels.wecom_sync``)."""
    return wecom_sync.sync(connection_id, token, attempt)


@shared_task
def poll_mailboxes() -> int:
    """Beat task (EMAIL_CHANNEL_POLL_SECONDS): each active email connection's mailbox read in a task of its own.
    Returns the mailboxes queued."""
    connection_ids = list(
        ChannelConnection.objects.filter(
            kind=Conversation.Channel.EMAIL, is_active=True, shop__is_active=True
        ).values_list("pk", flat=True)
    )
    for connection_id in connection_ids:
        poll_mailbox.delay(connection_id)
    return len(connection_ids)


@shared_task(name=email_sync.POLL_TASK)
def poll_mailbox(connection_id: int) -> int:
    """New mail of one email connection into its shop's conversations. Returns the shopper messages stored."""
    return email_sync.poll(connection_id).stored
