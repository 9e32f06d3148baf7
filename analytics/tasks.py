from datetime import date

from celery import shared_task
from django.utils import timezone

from .services.reports import build_reports, build_yesterdays_reports


@shared_task(name="analytics.build_daily_reports")
def build_daily_reports(day: str | None = None) -> int:
    """Build the QA reports of ``day`` (ISO date) for every shop; by default each shop's own yesterday
    in its timezone. Scheduled nightly by Celery beat."""
    if day:
        return build_reports(date.fromisoformat(day))
    return build_yesterdays_reports(timezone.now())
