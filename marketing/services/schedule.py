"""One django-celery-beat PeriodicTask per shop runs its campaign scan; superusers edit it in the admin."""

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from shops.models import Shop

from ..models import Campaign

SCAN_TASK = "marketing.tasks.scan_shop_campaigns"
DEFAULT_SCAN_MINUTES = 5


def scan_task_name(shop: Shop) -> str:
    return f"marketing scan · shop {shop.pk} ({shop.slug})"


def ensure_scan_schedule(shop: Shop) -> PeriodicTask:
    """Create the shop's scan task, or switch it on or off with its enabled campaigns.

    An existing task keeps its schedule: an interval or crontab set in the admin is never overwritten.
    """
    enabled = shop.is_active and Campaign.objects.filter(shop=shop, enabled=True).exists()
    args = json.dumps([shop.pk])
    task = PeriodicTask.objects.filter(task=SCAN_TASK, args=args).first()
    if task is None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=DEFAULT_SCAN_MINUTES, period=IntervalSchedule.MINUTES
        )
        return PeriodicTask.objects.create(
            name=scan_task_name(shop),
            task=SCAN_TASK,
            args=args,
            interval=interval,
            enabled=enabled,
            description=f"Finds due marketing touches of {shop.name} and enqueues them.",
        )
    if task.enabled != enabled:
        task.enabled = enabled
        task.save(update_fields=["enabled"])
    return task
