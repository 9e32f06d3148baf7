"""Secrets a shop gives Shopbee that must be read back (a model provider's API key): encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under ``SHOPBEE_SECRETS_KEY`` from the
environment; without it, a key derived from ``SECRET_KEY``, so a database copied without the
environment reads as noise. Rotating the key makes stored secrets unreadable: ``reveal`` then returns ""
and the shop enters its key again.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    configured: str = getattr(settings, "SHOPBEE_SECRETS_KEY", "")
    if configured:
        return Fernet(configured.encode())
    derived = hashlib.sha256(b"shopbee.secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str) -> str:
    """The secret encrypted, as text to store ("" stays "")."""
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def reveal(sealed: str) -> str:
    """The secret back, or "" when nothing is stored or it was sealed under another key."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""


def hint(secret: str) -> str:
    """What may be shown of a secret: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"
