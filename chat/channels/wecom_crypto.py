"""WeCom's callback message encryption (WXBizMsgCrypt), as WeCom specifies it.

- ``msg_signature`` = SHA-1 hex of the sorted, concatenated [token, timestamp, nonce, encrypted text];
- the AES-256 key is base64(EncodingAESKey + "="), 32 bytes; the IV is its first 16 bytes; CBC mode;
- the plaintext is 16 random bytes, the message's length (4 bytes, network order), the message and the
  receive id (the corp id), padded PKCS#7-style to a multiple of 32 bytes; the ciphertext is base64.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
MAX_ENCRYPTED = 64 * 1024


class CryptoError(ValueError):
    """A forged or damaged callback: the signature does not match, or the text does not decrypt."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise CryptoError("EncodingAESKey is not base64") from None
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise CryptoError("EncodingAESKey must be 43 characters")
        self.token = token
        self.key = key
        self.receive_id = receive_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise CryptoError("signature mismatch")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside ``encrypted``; CryptoError unless it decrypts, unpads and names our corp id."""
        if len(encrypted) > MAX_ENCRYPTED:
            raise CryptoError("too long")
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise CryptoError("not base64") from None
        if not data or len(data) % 16:
            raise CryptoError("not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", content[:4])
        message, receive_id = content[4 : 4 + length], content[4 + length :]
        if len(message) != length or receive_id.decode(errors="replace") != self.receive_id:
            raise CryptoError("not for this corp")
        return message

    def encrypt(self, message: bytes, timestamp: str, nonce: str) -> tuple[str, str]:
        """``(encrypted, msg_signature)`` for ``message``: what WeCom sends (and a passive reply would)."""
        content = os.urandom(16) + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        pad = BLOCK - len(content) % BLOCK
        encryptor = self._cipher().encryptor()
        data = encryptor.update(content + bytes([pad]) * pad) + encryptor.finalize()
        encrypted = base64.b64encode(data).decode()
        return encrypted, signature(self.token, timestamp, nonce, encrypted)
