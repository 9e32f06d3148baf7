from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import assignment, services
from .messaging import Outbox, publish
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
