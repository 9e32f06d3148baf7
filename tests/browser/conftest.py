"""A real uvicorn server on 127.0.0.1:8101 and Debian's chromium, for the browser tests.

The server runs in a thread of the test process on purpose: it then uses the very test database
pytest-django set up (the in-memory SQLite shared between threads, or the PostgreSQL test database
under DATABASE_URL) and the same channel layer, so rows a test creates are what the browser sees.
A separate process could not see an in-memory test database at all.
"""

import os
import socket
import threading
import time

import pytest

CHROMIUM = "/usr/bin/chromium"
HOST, PORT = "127.0.0.1", 8101
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

requires_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (make browser-deps installs it)"
)


def _wait_for_port(timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, PORT)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"uvicorn did not start on {HOST}:{PORT}")


@pytest.fixture(scope="module")
def chat_server():
    import uvicorn

    from config.asgi import application

    with socket.socket() as probe:
        if probe.connect_ex((HOST, PORT)) == 0:
            raise RuntimeError(f"{HOST}:{PORT} is taken by another process: stop it before the browser tests")
    server = uvicorn.Server(uvicorn.Config(application, host=HOST, port=PORT, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="uvicorn-8101", daemon=True)
    thread.start()
    _wait_for_port()
    yield server
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, which trips Django's async-safety
    # check on every ORM call the test makes; the test code itself is plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def base_url(chat_server) -> str:
    return f"http://{HOST}:{PORT}"


@pytest.fixture
def context(browser, chat_server):
    """A fresh browser profile per test; afterwards every connection to the server has ended, so the
    server is not still writing (a console's goodbye, say) while the test database is flushed."""
    context = browser.new_context()
    yield context
    context.close()
    deadline = time.monotonic() + 10
    while chat_server.server_state.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the last disconnect handlers finish their database writes
