"""Secrets Shopbee must read back (a merchant's mailbox password): encrypted at rest with Fernet
(AES-128-CBC + HMAC-SHA256), under a key derived from FIELD_ENCRYPTION_KEY."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"shopbee.sealing:" + settings.FIELD_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    """The secret encrypted, as text to store ("" stays "")."""
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def unseal(token: str) -> str:
    """The stored secret in clear; ValueError when it was sealed under another key or altered."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("the secret cannot be decrypted with FIELD_ENCRYPTION_KEY") from error
