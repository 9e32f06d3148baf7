"""Where channel work runs off the request path: Celery workers with a broker, a small pool of background
threads without one (``core.outbound.run_later``)."""

from collections.abc import Callable
from typing import Any

from django.conf import settings

from core import outbound
from core.background import BackgroundExecutor

executor = BackgroundExecutor("channels", workers=2, capacity=5000)


def run_later(task_name: str, job: Callable[..., Any], *args: Any, delay: float = 0) -> None:
    """``job(*args)`` ``delay`` seconds from now: the Celery task ``task_name`` (which calls ``job``), by name."""
    outbound.run_later(executor, task_name, job, *args, delay=delay)


def backoff_seconds(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): ``CHANNEL_RETRY_SECONDS`` (10 s), doubling, at most 15 minutes."""
    return outbound.backoff_seconds(settings.CHANNEL_RETRY_SECONDS, attempt, cap=900)
