"""Secrets Shopbee must read back (a channel's app secret, its signing key): encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under ``FIELD_ENCRYPTION_KEY`` from the
environment; without one the key is derived from ``SECRET_KEY`` (HKDF-SHA256), so rotating SECRET_KEY
then makes the stored secrets unreadable: set FIELD_ENCRYPTION_KEY in production. Secrets that are only
compared (API keys) are hashed instead (``api.models.hash_api_key``).
"""

import base64
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(ValueError):
    """The stored value was written under another key, or altered."""


@cache
def _fernet(key_material: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"shopbee.field-encryption").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _current() -> Fernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


def encrypt(values: dict[str, str]) -> str:
    """The encrypted form of a dict of secret strings (what a model stores)."""
    return _current().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    """The secrets ``encrypt`` stored; ``{}`` for an empty column."""
    if not token:
        return {}
    try:
        values = json.loads(_current().decrypt(token.encode()))
    except InvalidToken:
        raise SecretUnreadable("stored secrets cannot be decrypted with the current key") from None
    if not isinstance(values, dict):
        raise SecretUnreadable("stored secrets are not a mapping")
    return {str(name): str(value) for name, value in values.items()}


def encrypt_text(secret: str) -> str:
    """One secret string encrypted, as text to store ("" stays "")."""
    return encrypt({"value": secret}) if secret else ""


def decrypt_text(token: str) -> str:
    """The secret ``encrypt_text`` stored; "" when nothing is stored or it was written under another key
    (whoever owns it then enters it again)."""
    try:
        return decrypt(token).get("value", "")
    except SecretUnreadable:
        return ""


def hint(secret: str) -> str:
    """What may be shown of a secret: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"
