"""Reading a mailbox over IMAP (imaplib): new mail after a stored UID, within one UIDVALIDITY.

The folder is opened read-only and bodies are fetched with ``BODY.PEEK[]``, so the merchant's own mail
client still shows the mails as unread.
"""

import contextlib
import imaplib
import re
from dataclasses import dataclass
from datetime import date
from types import TracebackType

from django.conf import settings

from .servers import MailServerError, Security, ServerLogin, tls_context

_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_IMAP_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class FolderState:
    uid_validity: int
    uid_next: int


def _number(client: imaplib.IMAP4, name: str) -> int:
    _, values = client.response(name)
    if not values or values[0] is None:
        raise MailServerError(f"IMAP 服务器没有返回 {name}")
    return int(values[0])


def _check(result: tuple[str, list], doing: str) -> list:
    status, data = result
    if status != "OK":
        detail = b" ".join(part for part in data if isinstance(part, bytes)).decode(errors="replace")
        raise MailServerError(f"IMAP {doing}失败：{detail[:200]}")
    return data


class ImapSession:
    """One IMAP connection, logged in; use as a context manager."""

    def __init__(self, login: ServerLogin) -> None:
        self.login = login
        self.client: imaplib.IMAP4 | None = None

    def __enter__(self) -> "ImapSession":
        timeout = settings.EMAIL_CHANNEL_TIMEOUT_SECONDS
        login = self.login
        try:
            if login.security == Security.SSL:
                client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    login.host, login.port, ssl_context=tls_context(), timeout=timeout
                )
            else:
                client = imaplib.IMAP4(login.host, login.port, timeout=timeout)
                if login.security == Security.STARTTLS:
                    client.starttls(tls_context())
            self.client = client
            client.login(login.username, login.password)
        except imaplib.IMAP4.error as error:
            self._close()
            raise MailServerError(f"IMAP 登录失败（请检查账号和授权码）：{error}"[:300]) from error
        except (TimeoutError, OSError) as error:
            self._close()
            raise MailServerError(f"无法连接 IMAP 服务器 {login.host}:{login.port}：{error}"[:300]) from error
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.client is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.client.logout()
        self._close()

    def _close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(OSError):
                self.client.shutdown()
        self.client = None

    @property
    def _client(self) -> imaplib.IMAP4:
        assert self.client is not None, "used outside its with block"
        return self.client

    def open(self, folder: str) -> FolderState:
        client = self._client
        _check(client.select(_quoted(folder), readonly=True), f"打开文件夹 {folder} ")
        return FolderState(_number(client, "UIDVALIDITY"), _number(client, "UIDNEXT"))

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, ascending. (``n:*`` also matches the last mail when none is above n.)"""
        data = _check(self._client.uid("SEARCH", "UID", f"{last_uid + 1}:*"), "查找新邮件")
        return sorted(uid for uid in _uids(data) if uid > last_uid)

    def uids_since(self, day: date) -> list[int]:
        since = f"{day.day}-{_IMAP_MONTHS[day.month - 1]}-{day.year}"
        return sorted(_uids(_check(self._client.uid("SEARCH", "SINCE", since), "查找新邮件")))

    def sizes(self, uids: list[int]) -> dict[int, int]:
        if not uids:
            return {}
        data = _check(self._client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"), "读取邮件大小")
        sizes = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _FETCH_UID.search(line or b""), _FETCH_SIZE.search(line or b"")
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def fetch(self, uid: int) -> bytes:
        return self._fetch_part(uid, "BODY.PEEK[]")

    def fetch_header(self, uid: int) -> bytes:
        return self._fetch_part(uid, "BODY.PEEK[HEADER]")

    def _fetch_part(self, uid: int, part: str) -> bytes:
        data = _check(self._client.uid("FETCH", str(uid), f"({part})"), "读取邮件")
        for item in data:
            if isinstance(item, tuple) and _FETCH_UID.search(item[0]):
                return bytes(item[1])
        raise MailServerError(f"IMAP 服务器没有返回邮件 UID {uid}")


def _uids(data: list) -> list[int]:
    return [int(token) for token in b" ".join(part for part in data if part).split()]


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
