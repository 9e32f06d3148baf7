from datetime import timedelta

from celery import shared_task
from django.conf import settings

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
