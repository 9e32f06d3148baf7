"""The staff alert socket (/ws/alerts/): high-severity QA findings of the shops the user manages or reviews."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chat.frames import AlertSocketFrame
from shops.services import visible_shops

from .alerts import managers_group
from .roles import QA_ROLES


@database_sync_to_async
def alert_shop_ids(user) -> list[int]:
    return list(visible_shops(user, QA_ROLES).values_list("pk", flat=True))


class AlertConsumer(AsyncJsonWebsocketConsumer):
    """Joins one group per shop the user may see alerts of; a socket with no such shop is refused.

    Frames sent: ``{"type": "ready", "shops": [ids]}`` once, then ``{"type": "alert", ...}`` per finding
    (see ``analytics.alerts.alert_frame``). The client sends ``{"type": "ping"}`` to keep alive.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=4401)
            return
        self.shop_ids = await alert_shop_ids(user)
        if not self.shop_ids:
            await self.close(code=4403)
            return
        for shop_id in self.shop_ids:
            await self.channel_layer.group_add(managers_group(shop_id), self.channel_name)
        await self.accept()
        await self.send_frame({"type": "ready", "shops": self.shop_ids})

    async def disconnect(self, code: int) -> None:
        for shop_id in getattr(self, "shop_ids", []):
            await self.channel_layer.group_discard(managers_group(shop_id), self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None:
            await self.send_frame({"type": "error", "code": "unknown_frame", "message": "只支持 JSON 文本帧。"})
            return
        await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_frame({"type": "pong"})
            return
        await self.send_frame({"type": "error", "code": "unknown_frame", "message": "只支持 ping 帧。"})

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def qa_alert(self, event: dict[str, Any]) -> None:
        await self.send_frame(event["frame"])

    async def send_frame(self, frame: AlertSocketFrame) -> None:
        await self.send_json(frame)
