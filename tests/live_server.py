"""A real uvicorn server on 127.0.0.1:8101 (or ``SHOPBEE_TEST_SERVER_PORT``) serving ``config.asgi:application``,
for tests over real sockets.

The server runs in a thread of the test process on purpose: it then uses the very test database
pytest-django set up (the SQLite test file, see config/test_settings.py, or the PostgreSQL test database
under DATABASE_URL) and the same channel layer, so rows a test creates are what the server sees.
Tests using it need
``pytest.mark.django_db(transaction=True)``: rows must be committed for the server thread to see them.

``chat_server`` is registered in tests/conftest.py, so the browser tests and the load-test test share it.
"""

import os
import socket
import threading
import time

import pytest

# Another port lets two suites (two checkouts, say) run side by side on one machine.
HOST, PORT = "127.0.0.1", int(os.environ.get("SHOPBEE_TEST_SERVER_PORT", "8101"))


def _wait_for_port(timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, PORT)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"uvicorn did not start on {HOST}:{PORT}")


def wait_until_idle(server, timeout: float = 10) -> None:
    """Wait until every connection to ``server`` has ended, so the server is not still writing (a console's
    goodbye, say) while the test database is flushed."""
    deadline = time.monotonic() + timeout
    while server.server_state.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the last disconnect handlers finish their database writes


@pytest.fixture(scope="module")
def chat_server():
    import uvicorn

    from config.asgi import application

    with socket.socket() as probe:
        if probe.connect_ex((HOST, PORT)) == 0:
            raise RuntimeError(f"{HOST}:{PORT} is taken by another process: stop it before the live-server tests")
    server = uvicorn.Server(uvicorn.Config(application, host=HOST, port=PORT, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{PORT}", daemon=True)
    thread.start()
    _wait_for_port()
    yield server
    server.should_exit = True
    thread.join(timeout=10)
