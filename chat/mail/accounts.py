"""A mailbox's logins, with its passwords sealed at rest (``core.sealing``)."""

from chat.models import EmailMailbox
from core.sealing import seal, unseal

from .servers import Security, ServerLogin


def set_passwords(mailbox: EmailMailbox, *, imap_password: str | None = None, smtp_password: str | None = None) -> None:
    """Seal new passwords onto the mailbox (None: keep the stored one); the caller saves it."""
    if imap_password is not None:
        mailbox.imap_password_sealed = seal(imap_password)
    if smtp_password is not None:
        mailbox.smtp_password_sealed = seal(smtp_password)


def imap_login(mailbox: EmailMailbox) -> ServerLogin:
    return ServerLogin(
        mailbox.imap_host,
        mailbox.imap_port,
        Security(mailbox.imap_security),
        mailbox.imap_username,
        unseal(mailbox.imap_password_sealed),
    )


def smtp_login(mailbox: EmailMailbox) -> ServerLogin:
    """The SMTP login; an empty SMTP username means the IMAP account's (most providers use one account)."""
    username = mailbox.smtp_username or mailbox.imap_username
    sealed = mailbox.smtp_password_sealed or mailbox.imap_password_sealed
    return ServerLogin(mailbox.smtp_host, mailbox.smtp_port, Security(mailbox.smtp_security), username, unseal(sealed))
