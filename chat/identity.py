"""Signed shopper identity: how a merchant's site tells the chat widget who the shopper is.

The merchant's server signs the customer's external id and the current Unix time with the shop's
``widget_secret`` and hands ``customer``, ``ts`` and ``sig`` to the widget (query string of the chat
page or socket). A valid, fresh signature links the conversation to that customer, so the bot may
answer from their own orders; without one the shopper is an anonymous visitor.

    sig = hex(HMAC-SHA256(widget_secret, f"{customer}.{ts}"))
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from shops.models import Customer, Shop

# A signature older than this is refused: a leaked widget URL stops working after a day.
MAX_AGE_SECONDS = 24 * 3600
# Allow for a merchant server whose clock runs a little ahead.
CLOCK_SKEW_SECONDS = 300


class InvalidIdentity(ValueError):
    """The shopper identity was malformed, expired or signed with the wrong secret."""


@dataclass(frozen=True)
class SignedIdentity:
    customer: str
    ts: int
    sig: str


def sign_identity(secret: str, customer_external_id: str, ts: int) -> str:
    message = f"{customer_external_id}.{ts}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_identity_params(shop: Shop, customer_external_id: str, now: float | None = None) -> dict[str, str]:
    """The query parameters a merchant's server would add to the chat URL (used by tests and the demo)."""
    ts = int(time.time() if now is None else now)
    return {
        "customer": customer_external_id,
        "ts": str(ts),
        "sig": sign_identity(shop.widget_secret, customer_external_id, ts),
    }


def parse_identity(params: dict[str, str]) -> SignedIdentity | None:
    """The identity in a query string, None when the shopper gave none; InvalidIdentity when half given."""
    customer, ts, sig = (params.get(name, "").strip() for name in ("customer", "ts", "sig"))
    if not (customer or ts or sig):
        return None
    if not (customer and ts and sig):
        raise InvalidIdentity("customer, ts and sig must be given together")
    max_length = Customer._meta.get_field("external_id").max_length
    if max_length is not None and len(customer) > max_length:
        raise InvalidIdentity("customer id too long")
    try:
        return SignedIdentity(customer=customer, ts=int(ts), sig=sig.lower())
    except ValueError as exc:
        raise InvalidIdentity("ts must be a Unix time in seconds") from exc


def verify_identity(shop: Shop, identity: SignedIdentity, now: float | None = None) -> Customer:
    """The shop's customer for a valid signature (created on first sight: the merchant vouches for it)."""
    now = time.time() if now is None else now
    if identity.ts > now + CLOCK_SKEW_SECONDS or now - identity.ts > MAX_AGE_SECONDS:
        raise InvalidIdentity("signature expired")
    expected = sign_identity(shop.widget_secret, identity.customer, identity.ts)
    if not hmac.compare_digest(expected, identity.sig):
        raise InvalidIdentity("bad signature")
    customer, _ = Customer.objects.get_or_create(shop=shop, external_id=identity.customer)
    return customer
