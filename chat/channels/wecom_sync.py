"""Pulling a WeCom connection's new messages (``kf/sync_msg``) after a callback said there are some.

One pull at a time per connection (a cache lock; a callback arriving meanwhile makes the running pull go
round once more), from the cursor stored after each page. Each shopper message enters through
``chat.channels.inbound.receive`` under its WeCom ``msgid``: a message pulled twice (a repeated callback,
a page read again after a crash) is stored and answered once.
"""

import xml.etree.ElementTree as ElementTree
from typing import Any

from django.core.cache import cache

from chat.models import ChannelConnection, Conversation
from chat.services import MAX_TEXT_LENGTH, ChatError

from .base import ChannelError
from .connections import note_error
from .inbound import receive
from .jobs import backoff_seconds, run_later
from .wecom import crypto_of
from .wecom_client import WeComClient
from .wecom_crypto import CryptoError

SYNC_TASK = "chat.tasks.sync_wecom"
MAX_SYNC_ATTEMPTS = 5
# What a shopper sent that is not text, as the agents see it.
PLACEHOLDERS = {
    "image": "[图片]",
    "voice": "[语音]",
    "video": "[视频]",
    "file": "[文件]",
    "location": "[位置]",
    "link": "[链接]",
    "business_card": "[名片]",
    "miniprogram": "[小程序]",
    "msgmenu": "[菜单消息]",
    "channels_shop_product": "[视频号商品]",
    "channels_shop_order": "[视频号订单]",
}
SHOPPER_ORIGIN = 3  # 3: the WeChat user; 4: a system event; 5: a servicer answering inside WeCom
LOCK_SECONDS = 300


def message_text(item: dict[str, Any]) -> str | None:
    """The text a pulled message stands for, or None when it is no shopper's message."""
    if item.get("origin") != SHOPPER_ORIGIN:
        return None
    kind = str(item.get("msgtype", ""))
    if kind == "text":
        return str((item.get("text") or {}).get("content", ""))[:MAX_TEXT_LENGTH]
    return PLACEHOLDERS.get(kind)


def _pull(connection: ChannelConnection, token: str) -> int:
    client = WeComClient(connection)
    cursor, stored = connection.cursor, 0
    while True:
        body: dict[str, Any] = {"limit": 1000}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        data = client.call("kf/sync_msg", body)
        for item in data.get("msg_list") or []:
            text = message_text(item)
            if text is None or not item.get("msgid"):
                continue
            try:
                received = receive(
                    connection,
                    conversation_id=f"{item.get('open_kfid', '')}/{item.get('external_userid', '')}",
                    message_id=str(item["msgid"])[:128],
                    text=text,
                )
            except ChatError:
                continue  # an empty text: nothing to answer
            stored += received.created
        cursor = str(data.get("next_cursor") or cursor)
        ChannelConnection.objects.filter(pk=connection.pk).update(cursor=cursor)
        if not data.get("has_more"):
            return stored


def sync(connection_id: int, token: str = "", attempt: int = 1) -> int:
    """Pull and answer the connection's new messages; returns how many were stored. A rate limit or a
    network error is tried again later (back-off), up to ``MAX_SYNC_ATTEMPTS`` times."""
    connection = ChannelConnection.objects.filter(pk=connection_id, is_active=True).select_related("shop").first()
    if connection is None:
        return 0
    lock, again = f"wecom:sync:{connection_id}", f"wecom:sync-again:{connection_id}"
    if not cache.add(lock, 1, timeout=LOCK_SECONDS):
        cache.set(again, token or "-", timeout=LOCK_SECONDS)
        return 0
    stored = 0
    try:
        while True:
            stored += _pull(connection, token)
            follow_up = cache.get(again)
            if follow_up is None:
                return stored
            cache.delete(again)
            token = "" if follow_up == "-" else str(follow_up)
            connection.refresh_from_db(fields=["cursor"])
    except ChannelError as error:
        note_error(connection, error.message)
        if error.retryable and attempt < MAX_SYNC_ATTEMPTS:
            run_later(SYNC_TASK, sync, connection_id, token, attempt + 1, delay=backoff_seconds(attempt))
        return stored
    finally:
        cache.delete(lock)


MAX_CALLBACK_BYTES = 64 * 1024


def callback_connection(connection_id: int) -> ChannelConnection | None:
    return ChannelConnection.objects.filter(pk=connection_id, kind=Conversation.Channel.WECOM, is_active=True).first()


def _xml_fields(data: bytes) -> dict[str, str]:
    """The child elements of a WeCom XML document; CryptoError for anything else (no DTDs, no entities)."""
    if len(data) > MAX_CALLBACK_BYTES or b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise CryptoError("not a WeCom XML document")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise CryptoError("not XML") from None
    return {child.tag: (child.text or "") for child in root}


def verify_url(connection: ChannelConnection, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> bytes:
    """WeCom's check of the callback URL: the decrypted ``echostr`` when its signature is right (CryptoError else)."""
    codec = crypto_of(connection)
    codec.verify(msg_signature, timestamp, nonce, echostr)
    return codec.decrypt(echostr)


def accept_callback(connection: ChannelConnection, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> bool:
    """A callback WeCom posted: checked and decrypted (CryptoError for a forged or damaged one). A
    ``kf_msg_or_event`` event queues a pull with its token; returns whether one was queued. The pull
    itself runs off the request: WeCom wants its answer within seconds."""
    codec = crypto_of(connection)
    encrypted = _xml_fields(body).get("Encrypt", "")
    codec.verify(msg_signature, timestamp, nonce, encrypted)
    event = _xml_fields(codec.decrypt(encrypted))
    if event.get("Event") != "kf_msg_or_event":
        return False
    run_later(SYNC_TASK, sync, connection.pk, event.get("Token", "")[:128])
    return True
