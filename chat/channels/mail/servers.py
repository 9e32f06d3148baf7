"""How Shopbee reaches a merchant's mail servers: address, port, transport security and login."""

import ssl
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings


class Security(StrEnum):
    SSL = "ssl"  # TLS from the first byte (IMAP 993, SMTP 465)
    STARTTLS = "starttls"  # plain connect, then STARTTLS before the login (IMAP 143, SMTP 587)
    NONE = "none"  # no TLS: a server on the same machine or network only


@dataclass(frozen=True)
class ServerLogin:
    host: str
    port: int
    security: Security
    username: str
    password: str = field(repr=False)


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's CAs, plus EMAIL_CHANNEL_CA_FILE when a merchant's
    self-hosted server uses a private CA."""
    return ssl.create_default_context(cafile=settings.EMAIL_CHANNEL_CA_FILE or None)


class MailServerError(Exception):
    """A mail server refused or could not be reached; ``message`` is for the merchant, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
