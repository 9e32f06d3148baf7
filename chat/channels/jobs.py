"""Where channel work runs off the request path: Celery workers with a broker, a small pool of background
threads without one (Celery eager would run it in the committing thread: ``core.background``)."""

from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings

from core.background import BackgroundExecutor

executor = BackgroundExecutor("channels", workers=2, capacity=5000)


def run_later(task_name: str, job: Callable[..., Any], *args: Any, delay: float = 0) -> None:
    """``job(*args)`` ``delay`` seconds from now: the Celery task ``task_name`` (which calls ``job``), by name."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        executor.submit(job, *args, delay=delay)
    else:
        current_app.send_task(task_name, args, countdown=delay)


def backoff_seconds(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): ``CHANNEL_RETRY_SECONDS`` (10 s), doubling, at most 15 minutes."""
    return int(min(settings.CHANNEL_RETRY_SECONDS * 2 ** (attempt - 1), 900))
