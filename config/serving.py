"""The HTTP protocol Shopbee is served with: uvicorn's own, plus a deadline for each request's headers.

uvicorn waits for a request line and its headers without limit (its keep-alive timeout starts only once
a response is sent), so a client that sends half a request, or half a WebSocket handshake, holds a
connection and its memory for as long as it likes: a cheap way to use up the server's sockets
(slowloris). Here a connection whose headers are not complete within ``HTTP_HEADER_TIMEOUT`` seconds
(default 10) of its first byte, or of the connection opening, is closed. Run uvicorn with
``--http config.serving:HeaderDeadlineProtocol`` (``make run`` and the production start in the README do).
"""

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout = float(os.environ.get("HTTP_HEADER_TIMEOUT", "10"))
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_deadline()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._stop_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_deadline()
        super().connection_lost(exc)

    def _start_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
