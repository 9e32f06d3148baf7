from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from .services.reports import build_reports


@shared_task(name="analytics.build_daily_reports")
def build_daily_reports(day: str | None = None) -> int:
    """Build the QA reports of ``day`` (ISO date; yesterday by default). Scheduled nightly by Celery beat."""
    target = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return build_reports(target)
