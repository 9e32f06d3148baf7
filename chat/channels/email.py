"""Email: shoppers write to the shop's customer-service mailbox and get the answers by mail, in the thread.

The merchant enters the mailbox's address, its IMAP and SMTP servers and the login (usually an app password,
授权码; encrypted at rest). ``chat.channels.email_sync`` reads new mail over IMAP on Celery beat; each reply
goes out here over SMTP as one mail answering the shopper's last mail (In-Reply-To, References), with a
Message-ID made from the delivery id, so a retry after a lost answer is the same mail. Replies nobody typed
(the bot's, system notices) carry ``Auto-Submitted: auto-replied`` (RFC 3834), so the shopper's own robots
leave them unanswered; bounces and auto-replies reaching the mailbox are never answered
(``chat.channels.mail.loops``).
"""

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import ChannelConnection, EmailRecord, Message

from .base import PRODUCT_URL, ChannelError, ChannelSpec, Field, Outgoing, secrets_of
from .mail import smtp
from .mail.imap import ImapSession
from .mail.servers import MailServerError, Security, ServerLogin

ADDRESS = "address"
DISPLAY_NAME = "display_name"
IMAP_HOST, IMAP_PORT, IMAP_SECURITY, IMAP_USERNAME, IMAP_PASSWORD, IMAP_FOLDER = (
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
)
SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME, SMTP_PASSWORD = (
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
)
MAX_REFERENCES = 20
_REPLY_PREFIXES = ("re:", "回复:", "回复：", "答复:", "答复：", "aw:")


def _port(value: str) -> int:
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else 0


def imap_login(connection: ChannelConnection) -> ServerLogin:
    config, secrets = connection.config, secrets_of(connection)
    return ServerLogin(
        str(config.get(IMAP_HOST, "")),
        _port(str(config.get(IMAP_PORT, ""))),
        Security(config.get(IMAP_SECURITY) or Security.SSL),
        str(config.get(IMAP_USERNAME) or config.get(ADDRESS, "")),
        secrets.get(IMAP_PASSWORD, ""),
    )


def smtp_login(connection: ChannelConnection) -> ServerLogin:
    """The SMTP login: its own username and password, or the IMAP account's (most providers use one)."""
    config, secrets = connection.config, secrets_of(connection)
    return ServerLogin(
        str(config.get(SMTP_HOST, "")),
        _port(str(config.get(SMTP_PORT, ""))),
        Security(config.get(SMTP_SECURITY) or Security.SSL),
        str(config.get(SMTP_USERNAME) or config.get(IMAP_USERNAME) or config.get(ADDRESS, "")),
        secrets.get(SMTP_PASSWORD) or secrets.get(IMAP_PASSWORD, ""),
    )


def address_of(connection: ChannelConnection) -> str:
    return str(connection.config.get(ADDRESS, "")).strip().lower()


def reply_subject(subject: str) -> str:
    subject = subject.strip() or "您的咨询"
    return subject if subject.lower().startswith(_REPLY_PREFIXES) else f"Re: {subject}"


def reply_mail_id(connection: ChannelConnection, outgoing: Outgoing) -> str:
    """The reply's Message-ID (without brackets): the same for every attempt of one delivery."""
    domain = address_of(connection).rpartition("@")[2] or "shopbee.invalid"
    return f"shopbee.{connection.pk}.{outgoing.conversation_id}.{outgoing.delivery_id}@{domain}"


def compose_reply(connection: ChannelConnection, answered: EmailRecord, outgoing: Outgoing) -> EmailMessage:
    """The mail carrying ``outgoing``, answering the mail ``answered`` in its thread."""
    mail = EmailMessage()
    display = str(connection.config.get(DISPLAY_NAME) or connection.shop.name)
    mail["From"] = formataddr((display, address_of(connection)))
    mail["To"] = answered.counterpart
    mail["Subject"] = reply_subject(answered.subject)
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = f"<{reply_mail_id(connection, outgoing)}>"
    mail["In-Reply-To"] = f"<{answered.mail_id}>"
    mail["References"] = " ".join(f"<{ref}>" for ref in [*answered.references, answered.mail_id][-MAX_REFERENCES:])
    if outgoing.message is None or outgoing.message.sender != Message.Sender.AGENT:
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(outgoing.text)
    return mail


def _retryable(error: MailServerError) -> bool:
    """Whether the SMTP failure may pass: the server unreachable or gone mid-way, or a 4xx (try again later)."""
    cause = error.__cause__
    if isinstance(cause, smtplib.SMTPResponseException):
        return 400 <= cause.smtp_code < 500
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _message in cause.recipients.values())
    return isinstance(cause, smtplib.SMTPServerDisconnected) or not isinstance(cause, smtplib.SMTPException)


def send(connection: ChannelConnection, outgoing: Outgoing) -> None:
    answered = (
        EmailRecord.objects.filter(
            connection=connection,
            conversation_id=outgoing.conversation_id,
            direction=EmailRecord.Direction.INBOUND,
            outcome=EmailRecord.Outcome.STORED,
        )
        .order_by("-pk")
        .first()
    )
    if answered is None:
        raise ChannelError("找不到这段会话中顾客的邮件，无法回复")
    mail = compose_reply(connection, answered, outgoing)
    try:
        smtp.send(smtp_login(connection), mail)
    except MailServerError as error:
        raise ChannelError(error.message, retryable=_retryable(error)) from error
    try:
        with transaction.atomic():
            EmailRecord.objects.create(
                shop_id=connection.shop_id,
                connection=connection,
                conversation_id=outgoing.conversation_id,
                message=outgoing.message,
                direction=EmailRecord.Direction.OUTBOUND,
                outcome=EmailRecord.Outcome.SENT,
                mail_id=reply_mail_id(connection, outgoing),
                references=[*answered.references, answered.mail_id][-MAX_REFERENCES:],
                counterpart=answered.counterpart,
                subject=str(mail["Subject"])[:255],
            )
    except IntegrityError:
        pass  # sent again after an answer was lost: recorded the first time


def check(connection: ChannelConnection) -> str:
    """Log in to both servers: the IMAP folder is opened, the SMTP login tried without sending anything."""
    try:
        with ImapSession(imap_login(connection)) as session:
            folder = session.open(str(connection.config.get(IMAP_FOLDER) or "INBOX"))
        smtp.check_login(smtp_login(connection))
    except MailServerError as error:
        raise ChannelError(error.message) from error
    return f"收件（IMAP）和发件（SMTP）都已连接，收件箱下一封邮件编号 {folder.uid_next}"


def validate_address(value: str) -> None:
    try:
        validate_email(value)
    except ValidationError:
        raise ChannelError("请填写有效的邮箱地址") from None


def validate_port(value: str) -> None:
    if not _port(value):
        raise ChannelError("端口应为 1-65535 之间的数字")


def validate_security(value: str) -> None:
    if value and value not in set(Security):
        raise ChannelError("加密方式填 ssl、starttls 或 none")


SECURITY_HELP = _("ssl (port 993 / 465), starttls (143 / 587) or none (a server on the same network only).")

CHANNEL = ChannelSpec(
    fields=(
        Field(ADDRESS, _("Mailbox address"), _("The address shoppers write to."), validate=validate_address),
        Field(
            DISPLAY_NAME, _("Sender name"), _("Shown as the sender of replies; empty: the shop's name."), required=False
        ),
        Field(IMAP_HOST, _("IMAP server"), _("e.g. imap.qq.com, imap.163.com, imap.exmail.qq.com, imap.gmail.com")),
        Field(IMAP_PORT, _("IMAP port"), _("993 with ssl."), validate=validate_port),
        Field(IMAP_SECURITY, _("IMAP security"), SECURITY_HELP, validate=validate_security),
        Field(IMAP_USERNAME, _("IMAP username"), _("Usually the full address."), required=False),
        Field(
            IMAP_PASSWORD,
            _("IMAP password"),
            _("The mailbox's app password (授权码 / 客户端专用密码), not the web login password."),
            secret=True,
        ),
        Field(IMAP_FOLDER, _("Folder"), _("Empty: INBOX."), required=False),
        Field(SMTP_HOST, _("SMTP server"), _("e.g. smtp.qq.com, smtp.163.com, smtp.exmail.qq.com, smtp.gmail.com")),
        Field(SMTP_PORT, _("SMTP port"), _("465 with ssl, 587 with starttls."), validate=validate_port),
        Field(SMTP_SECURITY, _("SMTP security"), SECURITY_HELP, validate=validate_security),
        Field(SMTP_USERNAME, _("SMTP username"), _("Empty: the IMAP username."), required=False),
        Field(SMTP_PASSWORD, _("SMTP password"), _("Empty: the IMAP password."), secret=True, required=False),
        PRODUCT_URL,
    ),
    send=send,
    check=check,
)
