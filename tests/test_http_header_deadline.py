"""A half-sent request (or WebSocket handshake) does not hold a connection: the headers have a deadline."""

import socket
import threading
import time

import pytest
import uvicorn

from config.serving import HeaderDeadlineProtocol


class QuickDeadline(HeaderDeadlineProtocol):
    header_timeout = 0.2


async def hello(scope, receive, send) -> None:
    assert scope["type"] == "http"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture
def server_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, http=QuickDeadline, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield port
    server.should_exit = True
    thread.join(10)


def test_a_connection_that_never_finishes_its_headers_is_closed(server_port):
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: shop.example\r\nX-Slow: ")
        assert client.recv(1024) == b""  # closed by the server, long before the client's own 10 s


def test_a_half_sent_websocket_handshake_is_closed_too(server_port):
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as client:
        client.sendall(b"GET /ws/chat/shop/ HTTP/1.1\r\nHost: shop.example\r\nUpgrade: websocket\r\n")
        assert client.recv(1024) == b""


def test_a_complete_request_is_answered_and_its_kept_alive_connection_serves_the_next(server_port):
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as client:
        for _ in range(2):
            client.sendall(b"GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n")
            answer = b""
            while not answer.endswith(b"hello"):
                answer += client.recv(1024)
            assert answer.startswith(b"HTTP/1.1 200")
