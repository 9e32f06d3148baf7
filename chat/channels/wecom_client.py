"""Calling WeCom's API for one connection: the access token, cached until it expires and fetched once when
many callers need it at the same time; ``errcode`` turned into ``ChannelError`` with a message the shop's
admin can act on (Simplified Chinese); rate limits and WeCom's busy answer marked retryable."""

import hashlib
import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from chat.models import ChannelConnection
from core import outbound

from .base import ChannelError, secrets_of

CORP_ID = "corp_id"
SECRET = "secret"
# Tokens are cached this much shorter than WeCom says they live (7,200 s), so none is used as it expires.
TOKEN_MARGIN_SECONDS = 300
# A process waiting for another one's token fetch gives up after this long and fetches itself.
FETCH_WAIT_SECONDS = 5.0

EXPIRED_TOKEN = {40014, 42001}
RETRYABLE = {-1, 45009, 45033}
MESSAGES = {
    -1: "企业微信系统繁忙，稍后会自动重试",
    40001: "Secret 不正确：请在企业微信后台「微信客服」→「API」中核对 Secret",
    40013: "企业 ID 不正确：请在企业微信后台「我的企业」中核对企业 ID",
    40014: "access_token 无效",
    41001: "缺少 access_token",
    42001: "access_token 已过期",
    45009: "调用接口过于频繁，超过了企业微信的频率限制，稍后会自动重试",
    45033: "并发调用超过了企业微信的限制，稍后会自动重试",
    48002: "没有调用这个接口的权限：请在「微信客服」→「API」中把客服账号交给 Shopbee 所用的应用管理",
    60020: "Shopbee 服务器的 IP 不在企业可信 IP 列表中：请在企业微信后台把它加入可信 IP",
    95000: "客服账号 ID（open_kfid）不正确",
    95001: "给这位客户发送的消息数已达企业微信的上限，需等客户再次发消息后才能继续发送",
    95004: "客服账号不存在：请核对客服账号 ID（open_kfid）",
    95007: "同步消息用的回调 token 无效或已过期",
}

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def error_for(code: int) -> ChannelError:
    message = MESSAGES.get(code, f"企业微信返回错误码 {code}")
    return ChannelError(f"{message}（{code}）", retryable=code in RETRYABLE)


def _process_lock(key: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


def _answer(answer: outbound.Answer) -> dict[str, Any]:
    if not answer.ok:
        raise ChannelError(f"无法连接企业微信：{answer.error}", retryable=answer.retryable)
    try:
        data = json.loads(answer.body)
    except ValueError:
        raise ChannelError("企业微信的回答无法解析", retryable=True) from None
    if not isinstance(data, dict):
        raise ChannelError("企业微信的回答无法解析", retryable=True)
    return data


class WeComClient:
    def __init__(self, connection: ChannelConnection) -> None:
        secrets = secrets_of(connection)
        self.connection = connection
        self.corp_id = str(connection.config.get(CORP_ID, ""))
        self.secret = secrets.get(SECRET, "")
        # A changed corp id or secret is another token.
        fingerprint = hashlib.sha256(f"{self.corp_id}:{self.secret}".encode()).hexdigest()[:16]
        self.token_key = f"wecom:token:{connection.pk}:{fingerprint}"

    def _url(self, path: str, query: dict[str, str]) -> str:
        return f"{settings.WECOM_API_BASE.rstrip('/')}/cgi-bin/{path}?{urlencode(query)}"

    def fetch_token(self) -> str:
        answer = outbound.get(
            self._url("gettoken", {"corpid": self.corp_id, "corpsecret": self.secret}),
            {"Accept": "application/json"},
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        )
        data = _answer(answer)
        code = int(data.get("errcode", 0) or 0)
        if code:
            raise error_for(code)
        token, lives = str(data.get("access_token", "")), int(data.get("expires_in", 7200))
        if not token:
            raise ChannelError("企业微信没有返回 access_token", retryable=True)
        usable = max(lives - TOKEN_MARGIN_SECONDS, 60)
        # The expiry travels with the token: every process reads the same clock-based deadline (the cache's
        # own timeout only clears it away later).
        cache.set(self.token_key, {"token": token, "until": time.time() + usable}, timeout=usable + 60)
        return token

    def _cached(self, stale: str) -> str:
        """The cached token if it is still usable and not ``stale``, else ""."""
        entry = cache.get(self.token_key)
        if not isinstance(entry, dict) or entry.get("until", 0) <= time.time() or entry.get("token") == stale:
            return ""
        return str(entry["token"])

    def access_token(self, *, stale: str = "") -> str:
        """The cached token, unless it is missing or is ``stale`` (WeCom just called it expired): then one
        caller fetches a new one (one thread per process, one process through a cache lock) and the others
        use it."""
        token = self._cached(stale)
        if token:
            return token
        with _process_lock(self.token_key):
            token = self._cached(stale)
            if token:
                return token
            lock_key = f"{self.token_key}:fetching"
            if cache.add(lock_key, 1, timeout=int(FETCH_WAIT_SECONDS * 2)):
                try:
                    return self.fetch_token()
                finally:
                    cache.delete(lock_key)
            deadline = time.monotonic() + FETCH_WAIT_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.05)
                token = self._cached(stale)
                if token:
                    return token
            return self.fetch_token()

    def _post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        answer = outbound.post(
            self._url(path, {"access_token": token}),
            json.dumps(body, ensure_ascii=False).encode(),
            {"Content-Type": "application/json; charset=utf-8"},
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        )
        return _answer(answer)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/cgi-bin/<path>``; an expired token is replaced once and the call repeated."""
        token = self.access_token()
        data = self._post(path, body, token)
        if int(data.get("errcode", 0) or 0) in EXPIRED_TOKEN:
            data = self._post(path, body, self.access_token(stale=token))
        code = int(data.get("errcode", 0) or 0)
        if code:
            raise error_for(code)
        return data
