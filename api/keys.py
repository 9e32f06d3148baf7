"""API keys: issued server-side, shown once, stored as a SHA-256 hash, revocable.

A key reads ``sb_<prefix>_<secret>``: the prefix finds the row, the hash of the whole key proves it.
"""

import hmac
import secrets
import string
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from shops.models import Shop

from .models import KEY_PREFIX_LENGTH, ApiKey, hash_api_key, validate_scopes

KEY_LABEL = "sb_"
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# last_used_at is a hint for people, not an audit log: one write a minute per key is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _new_plaintext() -> tuple[str, str]:
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(KEY_PREFIX_LENGTH))
    return prefix, f"{KEY_LABEL}{prefix}_{secrets.token_urlsafe(32)}"


def issue_key(shop: Shop, name: str, scopes: list[str], created_by=None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plaintext, which is never stored and cannot be shown again."""
    key = ApiKey(shop=shop, name=name, scopes=scopes, created_by=created_by)
    return key, save_new_key(key)


def save_new_key(key: ApiKey) -> str:
    """Give an unsaved key its secret, save it, and return the plaintext (the only time it exists)."""
    validate_scopes(key.scopes)
    key.scopes = sorted(set(key.scopes))
    for _attempt in range(5):
        key.prefix, plaintext = _new_plaintext()
        key.key_hash = hash_api_key(plaintext)
        try:
            with transaction.atomic():
                key.save()
            return plaintext
        except IntegrityError:
            key.pk = None  # two keys drew the same prefix: draw again
    raise RuntimeError("Could not draw a free API key prefix.")


def find_key(plaintext: str) -> ApiKey | None:
    """The live key ``plaintext`` names, or None when it is malformed, unknown or revoked."""
    if not plaintext.startswith(KEY_LABEL):
        return None
    prefix = plaintext[len(KEY_LABEL) : len(KEY_LABEL) + KEY_PREFIX_LENGTH]
    key = ApiKey.objects.select_related("shop").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(plaintext)):
        return None
    if key.is_revoked or not key.shop.is_active:
        return None
    return key


def record_use(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def revoke_key(key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
