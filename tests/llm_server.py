"""A local HTTP server speaking the OpenAI-compatible Chat Completions protocol, started by the tests.

Each test queues what the next requests get (``Reply``: a whole JSON answer, a stream of server-sent events
with pauses between chunks, an HTTP error, or a wait longer than the client's timeout) and reads back every
request the server received: its JSON body and its Authorization header.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    text: str = ""
    stream: bool = False  # answer with server-sent events, the text in ``chunks`` pieces
    chunks: int = 3
    pause: float = 0.0  # seconds before each chunk (stream) or before the answer
    status: int = 200
    usage: bool = True  # report token usage


@dataclass
class Received:
    body: dict[str, Any]
    authorization: str

    @property
    def prompt(self) -> str:
        return "\n".join(message["content"] for message in self.body["messages"])


@dataclass
class ModelServer:
    url: str = ""
    replies: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def answer(self, *replies: Reply) -> None:
        self.replies.extend(replies)


def _handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.received.append(Received(body, self.headers.get("Authorization", "")))
            reply = server.replies.pop(0) if server.replies else Reply("不知道")
            try:
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "overloaded", "type": "server_error"}})
                elif reply.stream:
                    self._stream(reply)
                else:
                    time.sleep(reply.pause)
                    self._send(200, self._completion(reply))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): as a real provider sees it

        def _completion(self, reply: Reply) -> dict[str, Any]:
            answer = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": "test-model",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
                ],
            }
            if reply.usage:
                answer["usage"] = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
            return answer

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _event(self, payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            chunk = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            size = max(1, -(-len(reply.text) // reply.chunks))
            base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "test-model"}
            for start in range(0, len(reply.text), size):
                time.sleep(reply.pause)
                piece = reply.text[start : start + size]
                self._event({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            if reply.usage:
                usage = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
                self._event({**base, "choices": [], "usage": usage})
            self._event("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


@pytest.fixture
def model_server():
    """A running OpenAI-compatible server on a free local port, for one test."""
    server = ModelServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
