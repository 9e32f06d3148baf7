"""Every log line is printed once: Django's own console handler no longer doubles the root's."""

import logging

import pytest


def console_handlers_reached(name: str) -> list[logging.Handler]:
    """The console handlers a record of logger ``name`` is written by, following propagation to the root."""
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        found += [h for h in logger.handlers if h.get_name() == "console"]
        if not logger.propagate:
            break
        logger = logger.parent
    return found


@pytest.mark.parametrize("name", ["django.request", "django.security.csrf", "chat.consumers", "celery"])
def test_a_log_line_reaches_one_console_handler(name):
    assert len(console_handlers_reached(name)) == 1
