"""The one way Shopbee calls a URL someone else chose (a shop's webhook, a channel's bridge or provider).

A URL typed by a shop must never make Shopbee call its own network (SSRF). So the URL is parsed once,
strictly, by this module's parser only (no second parser that could read another host out of it); the
host is resolved once and every address checked; the connection goes to the checked address (the name
is not looked up again, so a DNS answer that changes in between cannot steer it), with the original
``Host`` header and, for https, the name as SNI and for the certificate check. Redirects are never
followed (a 3xx is an answer like any other), time is bounded, at most ``max_body`` bytes of the answer
are read, and an error is a short phrase of our own: never the other side's words.

The mechanics of the queues that send this way (a shop's webhook deliveries, a channel's replies) live here
too: rows with a status, an attempt count and the next attempt's time; an attempt claims its row, a failure
worth another call waits out a back-off, and a sweep queues again the rows whose job was lost.
"""

import hashlib
import hmac
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from celery import current_app
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .background import BackgroundExecutor

SCHEMES = {"http": 80, "https": 443}
# An attempt claims its row this long: longer than any attempt takes, so no second attempt of the same row
# starts meanwhile; a claim that runs out (the worker died) makes the row due again.
CLAIM = timedelta(minutes=5)
# A task may start a little before the time another machine's clock wrote down.
CLOCK_SLACK = timedelta(seconds=5)
# A pending row this long past its attempt time was lost (its worker died, or the queue was full).
OVERDUE = timedelta(minutes=1)
# Letters, digits and hyphens, dot-separated: what DNS resolves. IP literals are matched separately.
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_URL = re.compile(r"^(?P<scheme>[a-z]+)://(?P<authority>[^/?#]+)(?P<path>/[^#]*)?(#.*)?$", re.IGNORECASE)
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]+$")


class TargetRefused(ValueError):
    """The URL is not one Shopbee will call; ``reason`` is short and safe to store and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NameNotResolved(TargetRefused):
    """The name has no address now: unlike a refusal, this may change, so trying later makes sense."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case name or IP literal (IPv6 without brackets)
    port: int
    path: str  # path and query, at least "/"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """Split ``url`` into what will be called, or raise ``TargetRefused``.

    Refused: anything but printable ASCII (no spaces, no backslashes), schemes other than http(s), user
    names or passwords (``user@host``), ports outside 1-65535 and hosts that are neither a DNS name nor an
    IP address.
    """
    if not _PRINTABLE_ASCII.match(url or "") or "\\" in url:
        raise TargetRefused("refused: invalid URL")
    match = _URL.match(url)
    if not match:
        raise TargetRefused("refused: invalid URL")
    scheme = match["scheme"].lower()
    if scheme not in SCHEMES:
        raise TargetRefused("refused: only http and https")
    authority = match["authority"]
    if "@" in authority:
        raise TargetRefused("refused: user info in URL")
    bracketed = re.match(r"^\[(?P<host>[0-9a-fA-F:.]+)\](:(?P<port>\d{1,5}))?$", authority)
    plain = re.match(r"^(?P<host>[^:\[\]]+)(:(?P<port>\d{1,5}))?$", authority)
    parts = bracketed or plain
    if not parts:
        raise TargetRefused("refused: invalid host")
    host = parts["host"].lower().rstrip(".")
    if bracketed:
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise TargetRefused("refused: invalid host") from None
    elif not _HOST_NAME.match(host):
        raise TargetRefused("refused: invalid host")
    port = int(parts["port"]) if parts["port"] else SCHEMES[scheme]
    if not 0 < port < 65536:
        raise TargetRefused("refused: invalid port")
    return Target(scheme=scheme, host=host, port=port, path=match["path"] or "/")


def checked_url(url: str, *, allow_private: bool) -> Target:
    """``parse_target``, and an IP address written in the URL must be public (what a name resolves to is
    checked at each call): how a form or an API checks a URL before saving it."""
    target = parse_target(url)
    try:
        literal = ipaddress.ip_address(target.host)
    except ValueError:
        return target
    if not allow_private and not is_public(str(literal)):
        raise TargetRefused("refused: private address")
    return target


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` has now (an IP literal is its own address)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """Whether ``address`` is on the public internet (not private, loopback, link-local, multicast, reserved,
    shared or unspecified, also when written as an IPv4-mapped IPv6 address)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_link_local)


def checked_address(target: Target, *, allow_private: bool) -> str:
    """The one address to connect to: the name is resolved once here and every address it has is checked."""
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        raise NameNotResolved("name not resolved") from None
    if not addresses:
        raise NameNotResolved("name not resolved")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise TargetRefused("refused: private address")
    return addresses[0]


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all
    error: str  # "" on 2xx; else a short phrase of ours ("HTTP 500", "timeout", "refused: private address")
    body: bytes = b""  # at most ``max_body`` bytes of it
    refused: bool = False  # the URL or its address is refused: calling again changes nothing

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """Whether calling again later may get another answer: no answer at all (a network error, a timeout, a
        name not resolved yet), a 5xx, 408 or 429. Never a refused target, a redirect or any other 4xx."""
        if self.status is None:
            return not self.refused
        return self.status >= 500 or self.status in (408, 429)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Shopbee-Signature`` of a signed POST (webhooks, channel bridges): ``sha256=<hex>`` of
    HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post(url: str, body: bytes, headers: dict[str, str], **options: Any) -> Answer:
    """POST ``body`` to ``url`` once (see ``request``)."""
    return request("POST", url, body, headers, **options)


def get(url: str, headers: dict[str, str], **options: Any) -> Answer:
    """GET ``url`` once (see ``request``)."""
    return request("GET", url, None, headers, **options)


def request(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    allow_private: bool,
    connect_timeout: float = 3.0,
    read_timeout: float = 5.0,
    max_body: int = 64 * 1024,
) -> Answer:
    """Call ``url`` once, by the rules of this module. Never raises for what the target does."""
    try:
        target = parse_target(url)
        address = checked_address(target, allow_private=allow_private)
    except TargetRefused as refused:
        return Answer(status=None, error=refused.reason, refused=not isinstance(refused, NameNotResolved))
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if target.scheme == "https":
        # Connect to the checked address; SNI and the certificate are checked against the name.
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    try:
        response = pool.urlopen(
            method,
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            content = response.read(max_body, decode_content=False)
        finally:
            response.release_conn()
    except (urllib3.exceptions.NewConnectionError, ConnectionRefusedError):  # before TimeoutError: a subclass
        return Answer(status=None, error="connection failed")
    except (TimeoutError, urllib3.exceptions.TimeoutError):
        return Answer(status=None, error="timeout")
    except urllib3.exceptions.SSLError:
        return Answer(status=None, error="TLS error")
    except (urllib3.exceptions.HTTPError, OSError):
        return Answer(status=None, error="connection error")
    finally:
        pool.close()
    status = response.status
    return Answer(status=status, error="" if 200 <= status < 300 else f"HTTP {status}", body=content)


# --- the delivery queues: rows of a model with ``status`` (its ``Status`` has PENDING, DELIVERED, FAILED),
# ``attempts``, ``next_attempt_at`` and ``delivered_at`` ------------------------------------------------------


def run_later(
    executor: BackgroundExecutor, task_name: str, job: Callable[..., Any], *args: Any, delay: float = 0
) -> None:
    """``job(*args)`` ``delay`` seconds from now, off the caller's thread: the Celery task ``task_name`` (which
    calls ``job``; by name, as the task module imports the caller's) with a broker, ``executor`` without (Celery
    eager would run it in the committing thread: ``core.background``)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        executor.submit(job, *args, delay=delay)
    else:
        current_app.send_task(task_name, args, countdown=delay)


def backoff_seconds(first: int, attempt: int, *, cap: int) -> int:
    """Seconds before retry ``attempt`` (1-based): ``first``, doubling, at most ``cap``."""
    return int(min(first * 2 ** (attempt - 1), cap))


def claim(pending: QuerySet[Any], pk: int) -> bool:
    """Take row ``pk`` of ``pending`` for one attempt if it is due; False when it is not (sent or given up, or
    another attempt holds it: a duplicate task, or the sweep's requeue of a running one)."""
    now = timezone.now()
    return bool(pending.filter(pk=pk, next_attempt_at__lte=now + CLOCK_SLACK).update(next_attempt_at=now + CLAIM))


def note_attempt(
    row: Any, *, sent: bool, retryable: bool, max_attempts: int, wait: Callable[[int], float]
) -> float | None:
    """Count one attempt of the claimed ``row`` and set what follows (the caller saves it): delivered; or, for a
    failure worth another call before the last attempt, the next attempt ``wait(attempts)`` seconds from now
    (returned: the caller queues it); else failed. None when no further attempt follows."""
    now = timezone.now()
    row.attempts += 1
    retry_in = None
    if sent:
        row.status, row.delivered_at = row.Status.DELIVERED, now
    elif retryable and row.attempts < max_attempts:
        retry_in = wait(row.attempts)
    else:
        row.status = row.Status.FAILED
    row.next_attempt_at = None if retry_in is None else now + timedelta(seconds=retry_in)
    return retry_in


def requeue_overdue(
    pending: QuerySet[Any], queue: Callable[[Any], None], *, by: str = "pk", now: datetime | None = None
) -> int:
    """The beat's sweep: queue again, once each, the ``by`` (the row, or what it is sent in order within) of every
    row of ``pending`` whose attempt is overdue (its job was lost with a worker killed while it waited, or was
    never queued), longest overdue first. Returns how many were queued."""
    cutoff = (now or timezone.now()) - OVERDUE
    keys = dict.fromkeys(
        pending.filter(next_attempt_at__lt=cutoff).order_by("next_attempt_at").values_list(by, flat=True)
    )
    for key in keys:
        queue(key)
    return len(keys)
