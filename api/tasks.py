from celery import shared_task

from .dispatch import requeue_overdue, run_delivery


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> bool:
    """One delivery attempt on a worker; ``api.dispatch.run_delivery`` queues the next one after its back-off."""
    return run_delivery(delivery_id)


@shared_task
def sweep_webhook_deliveries() -> int:
    """Requeue pending deliveries past their attempt time (Celery beat, every minute)."""
    return requeue_overdue()
