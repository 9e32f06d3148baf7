"""A small pool of threads that runs jobs off the request path, each at or after its due time.

The embedded setup (no broker, Celery eager) sends webhooks and channel replies here: an eager task would
run in the thread that committed, which under Channels is the ASGI process's one database thread, so a slow
target stalled every socket of the process. Production (a broker) uses Celery workers instead
(``api.dispatch``, ``chat.channels.delivery``).
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)


class BackgroundExecutor:
    """``workers`` daemon threads, started with the first job, and a queue of at most ``capacity`` jobs.

    A job submitted to a full queue is refused (``submit`` returns False) rather than held in memory
    without limit. Each job ends by closing the database connections its thread opened.
    """

    def __init__(self, name: str, *, workers: int = 2, capacity: int = 1000) -> None:
        self.name = name
        self.workers = workers
        self.capacity = capacity
        self._condition = threading.Condition()
        self._jobs: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []  # a heap, soonest first
        self._order = itertools.count()
        self._running = 0
        self._threads: list[threading.Thread] = []

    def submit(self, job: Callable[..., Any], *args: Any, delay: float = 0.0) -> bool:
        """Run ``job(*args)`` in a worker thread ``delay`` seconds from now or later; False when the queue is full."""
        with self._condition:
            if len(self._jobs) >= self.capacity:
                logger.warning("%s: queue full (%d jobs), %s refused", self.name, self.capacity, job.__qualname__)
                return False
            heapq.heappush(self._jobs, (time.monotonic() + delay, next(self._order), job, args))
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._work, name=f"{self.name}-{n}", daemon=True)
                    for n in range(self.workers)
                ]
                for thread in self._threads:
                    thread.start()
            self._condition.notify_all()
        return True

    def _next_due(self) -> float | None:
        """Seconds until the soonest job is due (0 or less: due now); None when there is none."""
        return self._jobs[0][0] - time.monotonic() if self._jobs else None

    def _work(self) -> None:
        while True:
            with self._condition:
                while (wait := self._next_due()) is None or wait > 0:
                    self._condition.wait(timeout=wait)
                _, _, job, args = heapq.heappop(self._jobs)
                self._running += 1
            try:
                job(*args)
            except Exception:
                logger.exception("%s: %s%r failed", self.name, job.__qualname__, args)
            finally:
                connections.close_all()
                with self._condition:
                    self._running -= 1
                    self._condition.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no job runs and none is due (jobs due later, such as a retry after its back-off, do not
        count); False if that did not happen within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._running or ((wait := self._next_due()) is not None and wait <= 0):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(timeout=min(remaining, 0.1))
        return True

    def discard_waiting(self) -> int:
        """Drop the jobs not started yet (a process shutting down, or a test ending); how many were dropped."""
        with self._condition:
            dropped = len(self._jobs)
            self._jobs.clear()
        return dropped
