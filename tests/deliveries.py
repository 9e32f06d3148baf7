"""Waiting for webhook deliveries, which run in ``api.dispatch``'s background threads (the embedded setup)."""

from api.dispatch import executor


def settle() -> None:
    """Return once no delivery attempt runs or is due (a retry waiting out its back-off does not count)."""
    assert executor.wait_idle(timeout=60), "webhook deliveries still running after 60 s"
