"""Where webhook attempts run: Celery workers with a broker, a small pool of background threads without.

Without a broker Celery runs tasks eagerly in the committing thread (for the sockets, the ASGI process's
one database thread), and a countdown is ignored: a target that hangs held up every conversation of the
process, and retries came at once. So the embedded setup runs attempts in ``executor`` and waits out the
back-off there; with a broker ``api.tasks.deliver_webhook`` runs them on the workers.
"""

from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.utils import timezone

from core.background import BackgroundExecutor

from .models import WebhookDelivery
from .webhooks import attempt_delivery

executor = BackgroundExecutor("webhooks", workers=2, capacity=1000)

# A pending delivery this long past its attempt time was lost (its worker died, or the queue was full).
OVERDUE = timedelta(minutes=1)


def queue_delivery(delivery_id: int, delay: int = 0) -> None:
    """Attempt the delivery ``delay`` seconds from now, off the caller's thread."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        executor.submit(run_delivery, delivery_id, delay=delay)
    else:
        # By name: the task module imports this one.
        current_app.send_task("api.tasks.deliver_webhook", (delivery_id,), countdown=delay)


def run_delivery(delivery_id: int) -> bool:
    """One attempt; the next one is queued after its back-off until delivered or given up.

    The attempt count and the next attempt's time live in the delivery row, so a duplicated or late job
    neither sends twice nor beyond the limit.
    """
    result = attempt_delivery(delivery_id)
    if result.retry_in is not None:
        queue_delivery(delivery_id, delay=result.retry_in)
    return result.delivered


def requeue_overdue(now=None) -> int:
    """Queue again every pending delivery whose attempt is overdue: its job was lost with a worker killed
    while it waited, or never queued. Returns how many."""
    cutoff = (now or timezone.now()) - OVERDUE
    overdue = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )
    for delivery_id in overdue:
        queue_delivery(delivery_id)
    return len(overdue)
