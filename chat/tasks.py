from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import assignment, services
from .mail import inbound, outbound
from .models import EmailMailbox
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
    return sum(len(assignment.assign_waiting(shop_id)) for shop_id in assignment.queued_shop_ids())


@shared_task
def poll_mailboxes() -> int:
    """Beat task (EMAIL_CHANNEL_POLL_SECONDS): each active mailbox polled in a task of its own, and reply
    mails the SMTP server refused sent again. Returns the mailboxes queued."""
    mailbox_ids = list(EmailMailbox.objects.filter(is_active=True, shop__is_active=True).values_list("pk", flat=True))
    for mailbox_id in mailbox_ids:
        poll_mailbox.delay(mailbox_id)
    outbound.retry_unsent()
    return len(mailbox_ids)


@shared_task
def poll_mailbox(mailbox_id: int) -> int:
    """New mail of one mailbox into its shop's conversations. Returns the shopper messages stored."""
    return inbound.poll_mailbox(mailbox_id).stored


@shared_task
def send_email_replies(conversation_id: int) -> str:
    """The conversation's replies not mailed yet, as one mail. Returns its outcome ("" for nothing to send)."""
    record = outbound.send_replies(conversation_id)
    return record.outcome if record is not None else ""
