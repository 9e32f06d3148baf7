"""Where webhook attempts run: Celery workers with a broker, a small pool of background threads without.

Without a broker Celery runs tasks eagerly in the committing thread (for the sockets, the ASGI process's
one database thread), and a countdown is ignored: a target that hangs held up every conversation of the
process, and retries came at once. So the embedded setup runs attempts in ``executor`` and waits out the
back-off there; with a broker ``api.tasks.deliver_webhook`` runs them on the workers.
"""

from core import outbound
from core.background import BackgroundExecutor

from .models import WebhookDelivery
from .webhooks import attempt_delivery

executor = BackgroundExecutor("webhooks", workers=2, capacity=1000)


def queue_delivery(delivery_id: int, delay: float = 0) -> None:
    """Attempt the delivery ``delay`` seconds from now, off the caller's thread."""
    # By name: the task module imports this one.
    outbound.run_later(executor, "api.tasks.deliver_webhook", run_delivery, delivery_id, delay=delay)


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
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    return outbound.requeue_overdue(pending, queue_delivery, now=now)
