"""The load test's floor: a bare Channels JSON echo consumer, served only when ``BENCH_ECHO`` is on.

``loadtest_chat --floor`` opens the same number of sockets to ``/ws/bench/echo/`` on the same server (same
ASGI server, same settings, same middleware) and asks the same questions; each question gets the frames
a shopper socket sends (an ack, then one reply) with no database, no dialogue and no storing. Its server CPU
per reply and replies per second are what a bare Channels socket costs on that machine at that moment.

Off by default; it answers strangers without limits, so it is never switched on in production.
"""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class EchoConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.next_id = 0
        await self.accept()
        await self.send_json({"type": "welcome"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "message":
            await self.send_json({"type": "error", "code": "invalid_frame", "message": "只回显 message 帧"})
            return
        self.next_id += 2
        await self.send_json({"type": "ack", "client_msg_id": content.get("client_msg_id"), "id": self.next_id - 1})
        await self.send_json({"type": "message", "id": self.next_id, "sender": "bot", "text": content.get("text")})
