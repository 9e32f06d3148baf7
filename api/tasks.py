from celery import shared_task

from .webhooks import attempt_delivery, backoff_seconds


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> bool:
    """One delivery attempt; schedules the next one with exponential back-off until delivered or given up.

    The attempt count lives in the delivery row, so a redelivered task never sends beyond the limit.
    """
    result = attempt_delivery(delivery_id)
    if result.retry:
        deliver_webhook.apply_async((delivery_id,), countdown=backoff_seconds(result.attempts))
    return result.delivered
