"""Outbound webhooks: how one delivery is signed and attempted. ``api.publishing`` queues deliveries and
``api.tasks.deliver_webhook`` attempts them with exponential back-off.

A receiver checks ``X-Shopbee-Signature: sha256=<hex>`` where the hex is
HMAC-SHA256(secret, f"{X-Shopbee-Timestamp}.{raw body}"), and de-duplicates on ``X-Shopbee-Delivery``.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from .models import WebhookDelivery

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 6


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff_seconds(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): 30 s, 60 s, 2 min, 4 min, ... at most an hour."""
    return min(30 * 2 ** (attempt - 1), 3600)


@dataclass(frozen=True)
class AttemptResult:
    delivered: bool
    retry: bool
    attempts: int


def forbidden_target(url: str) -> str:
    """Why ``url`` may not be called ("" when it may): a shop must not make Shopbee call its own network.

    Loopback, private and link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS is on
    (local development). A name that does not resolve is left to the request, which fails and retries.
    """
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return ""
    for address in sorted(addresses):
        if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
            return f"{host} resolves to a non-public address ({address}); refused"
    return ""


def attempt_delivery(delivery_id: int) -> AttemptResult:
    """POST one delivery once and record the outcome. 2xx delivers; 4xx other than 408/429 is final."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return AttemptResult(
            delivered=delivery.status == WebhookDelivery.Status.DELIVERED, retry=False, attempts=delivery.attempts
        )
    body = json.dumps(
        {"id": delivery.pk, "event": delivery.event, "shop": delivery.shop_id, "data": delivery.payload},
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Shopbee-Webhooks/1",
        "X-Shopbee-Event": delivery.event,
        "X-Shopbee-Delivery": str(delivery.pk),
        "X-Shopbee-Timestamp": timestamp,
        "X-Shopbee-Signature": sign(delivery.subscription.secret, timestamp, body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    retryable = True
    refused = forbidden_target(delivery.subscription.url)
    if refused:
        delivery.last_error = refused
        retryable = False
    else:
        try:
            response = requests.post(delivery.subscription.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
            delivery.response_code = response.status_code
            delivery.last_error = "" if response.ok else response.text[:300]
            retryable = not response.ok and (response.status_code >= 500 or response.status_code in (408, 429))
            if response.ok:
                delivery.status = WebhookDelivery.Status.DELIVERED
                delivery.delivered_at = delivery.last_attempt_at
        except requests.RequestException as exc:
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:300]
    if delivery.status == WebhookDelivery.Status.PENDING and (not retryable or delivery.attempts >= MAX_ATTEMPTS):
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save()
    return AttemptResult(
        delivered=delivery.status == WebhookDelivery.Status.DELIVERED,
        retry=delivery.status == WebhookDelivery.Status.PENDING,
        attempts=delivery.attempts,
    )
