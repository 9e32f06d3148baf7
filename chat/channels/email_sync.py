"""Reading an email connection's mailbox: new mail becomes shopper messages of email conversations, through
``chat.channels.inbound.receive`` (the same bot, hand-off and queue as the web chat).

The cursor (``ChannelConnection.cursor``, "UIDVALIDITY:last UID") moves past each mail in the transaction
that stores it. A reply joins the conversation of the mail it answers (its In-Reply-To or References name a
mail this connection received or sent); any other mail starts a conversation, keyed by its own Message-ID.
A bounce, an auto-reply, bulk mail or our own mail coming back is recorded and never answered.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import ChannelConnection, Conversation, EmailAttachment, EmailRecord, Message
from chat.services import MAX_TEXT_LENGTH

from .connections import note_error
from .email import IMAP_FOLDER, MAX_REFERENCES, address_of, imap_login
from .inbound import MAX_EXTERNAL_ID, receive
from .mail.imap import ImapSession
from .mail.parsing import InboundMail, parse_mail
from .mail.servers import MailServerError

logger = logging.getLogger(__name__)

POLL_TASK = "chat.tasks.poll_mailbox"
Outcome = EmailRecord.Outcome
# One poll of a mailbox at a time, across processes (the lease outlives a stuck IMAP call).
_POLL_LEASE_SECONDS = 600
# Conversation.external_id's length: a longer Message-ID keys its thread by its digest.
_MAX_THREAD_KEY = 200


@dataclass(frozen=True)
class PollResult:
    received: int = 0  # mails read from the server this poll
    stored: int = 0  # of which became shopper messages
    error: str = ""


@dataclass
class Cursor:
    """Mail above ``last_uid`` within ``uid_validity`` is new; None: the mailbox was never read."""

    uid_validity: int | None
    last_uid: int

    @classmethod
    def parse(cls, value: str) -> "Cursor":
        validity, _colon, last = value.partition(":")
        if not (validity.isdigit() and last.isdigit()):
            return cls(None, 0)
        return cls(int(validity), int(last))

    def __str__(self) -> str:
        return f"{self.uid_validity}:{self.last_uid}"


def _lease_key(connection_id: int) -> str:
    return f"chat.email.poll.{connection_id}"


def poll(connection_id: int) -> PollResult:
    """Read the mailbox's new mail (at most EMAIL_CHANNEL_FETCH_LIMIT) and store each mail with the cursor
    moved past it, in one transaction. The first poll only sets the cursor: mail already in the mailbox
    when it was connected is history, never answered."""
    if not cache.add(_lease_key(connection_id), 1, _POLL_LEASE_SECONDS):
        return PollResult()
    try:
        connection = (
            ChannelConnection.objects.select_related("shop")
            .filter(pk=connection_id, kind=Conversation.Channel.EMAIL)
            .first()
        )
        if connection is None or not connection.is_active or not connection.shop.is_active:
            return PollResult()
        return _poll(connection)
    finally:
        cache.delete(_lease_key(connection_id))


def _poll(connection: ChannelConnection) -> PollResult:
    cursor = Cursor.parse(connection.cursor)
    received = stored = 0
    try:
        with ImapSession(imap_login(connection)) as session:
            folder = session.open(str(connection.config.get(IMAP_FOLDER) or "INBOX"))
            if cursor.uid_validity is None:
                _move(connection, Cursor(folder.uid_validity, max(0, folder.uid_next - 1)))
                return PollResult()
            if cursor.uid_validity != folder.uid_validity:
                # The server renumbered the folder: read what came since the last mail again; mails already
                # seen are recognised by their Message-ID.
                since = (connection.last_inbound_at or timezone.now()) - timedelta(days=1)
                uids = session.uids_since(since.date())
                cursor = Cursor(folder.uid_validity, 0)
            else:
                uids = session.uids_after(cursor.last_uid)
            uids = uids[: settings.EMAIL_CHANNEL_FETCH_LIMIT]
            sizes = session.sizes(uids)
            for uid in uids:
                received += 1
                cursor.last_uid = max(cursor.last_uid, uid)
                try:
                    if sizes.get(uid, 0) > settings.EMAIL_CHANNEL_MAX_MAIL_BYTES:
                        record = record_too_large(connection, session.fetch_header(uid), sizes[uid], cursor)
                    else:
                        record = receive_mail(connection, session.fetch(uid), cursor)
                except MailServerError:
                    raise
                except Exception:
                    # One mail Shopbee cannot read must not hold up every mail after it.
                    logger.exception("Mailbox %s: mail UID %s could not be stored; skipped", connection.pk, uid)
                    _move(connection, cursor)
                    note_error(connection, f"邮件 UID {uid} 无法读取，已跳过（请在邮箱中查看）")
                    continue
                stored += record is not None and record.outcome == Outcome.STORED
    except MailServerError as error:
        note_error(connection, error.message)
        logger.warning("Mailbox %s: %s", connection.pk, error.message)
        return PollResult(received, stored, error.message)
    return PollResult(received, stored)


def _move(connection: ChannelConnection, cursor: Cursor) -> None:
    connection.cursor = str(cursor)
    ChannelConnection.objects.filter(pk=connection.pk).update(cursor=connection.cursor)


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _thread(connection: ChannelConnection, mail: InboundMail) -> Conversation | None:
    """The conversation of the nearest mail this one answers, among this connection's mails only."""
    ids = mail.thread_ids
    if not ids:
        return None
    records = EmailRecord.objects.filter(connection=connection, mail_id__in=ids, conversation__isnull=False)
    by_id = {record.mail_id: record.conversation_id for record in records if record.conversation_id is not None}
    for mail_id in ids:
        if mail_id in by_id:
            return Conversation.objects.get(pk=by_id[mail_id])
    return None


def shopper_text(mail: InboundMail, *, first: bool) -> str:
    """What the bot reads: the new words of the mail (the subject too, when it starts a thread), within the
    chat's length limit; an attachment-only mail reads as its file names."""
    parts = []
    subject = mail.subject.strip()
    if first and subject and subject not in mail.visible:
        parts.append(subject)
    if mail.visible:
        parts.append(mail.visible)
    if not parts:
        names = [attachment.filename for attachment in mail.attachments] + list(mail.too_large)
        parts.append("（附件）" + "、".join(names) if names else "（空白邮件）")
    text = "\n".join(parts)
    return text if len(text) <= MAX_TEXT_LENGTH else text[: MAX_TEXT_LENGTH - 1] + "…"


def _record(connection: ChannelConnection, mail: InboundMail, outcome: str, **fields: object) -> EmailRecord:
    return EmailRecord.objects.create(
        shop_id=connection.shop_id,
        connection=connection,
        direction=EmailRecord.Direction.INBOUND,
        outcome=outcome,
        mail_id=mail.message_id,
        references=list(dict.fromkeys([*mail.references, *mail.in_reply_to]))[-MAX_REFERENCES:],
        counterpart=mail.sender[:254],
        subject=mail.subject[:255],
        **fields,
    )


def _keep_attachments(message: Message, mail: InboundMail) -> None:
    kept = []
    for attachment in mail.attachments:
        row = EmailAttachment(
            shop_id=message.shop_id,
            message=message,
            filename=attachment.filename,
            content_type=attachment.content_type[:100],
            size=len(attachment.content),
        )
        row.file.save(attachment.filename, ContentFile(attachment.content), save=True)
        kept.append({"id": row.pk, "name": row.filename, "size": row.size, "content_type": row.content_type})
    if kept or mail.too_large:
        message.payload = {**message.payload, "attachments": kept, "attachments_too_large": list(mail.too_large)}
        Message.objects.filter(pk=message.pk).update(payload=message.payload)


def receive_mail(connection: ChannelConnection, raw: bytes, cursor: Cursor) -> EmailRecord | None:
    """Store one received mail and move the cursor, in one transaction. None when this connection had
    stored it already (the same Message-ID)."""
    mail = parse_mail(
        raw,
        max_attachment_bytes=settings.EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES,
        max_attachments=settings.EMAIL_CHANNEL_MAX_ATTACHMENTS,
    )
    try:
        with transaction.atomic():
            _move(connection, cursor)
            if EmailRecord.objects.filter(connection=connection, mail_id=mail.message_id).exists():
                return None
            thread = _thread(connection, mail)
            if mail.sender == address_of(connection):
                return _record(connection, mail, Outcome.OWN, conversation=thread)
            if mail.guard is not None:
                return _record(connection, mail, mail.guard.kind, conversation=thread, detail=mail.guard.reason[:300])
            received = receive(
                connection,
                conversation_id=thread.external_id if thread is not None else _short(mail.message_id, _MAX_THREAD_KEY),
                message_id=_short(mail.message_id, MAX_EXTERNAL_ID),
                text=shopper_text(mail, first=thread is None),
                sender_name=mail.sender_name or mail.sender,
            )
            message = received.message
            assert message is not None  # a new Message-ID is a new receipt
            _keep_attachments(message, mail)
            return _record(connection, mail, Outcome.STORED, conversation=message.conversation, message=message)
    except IntegrityError:
        return None  # another poll stored the same mail in the meantime


def record_too_large(connection: ChannelConnection, header: bytes, size: int, cursor: Cursor) -> EmailRecord | None:
    """A mail past EMAIL_CHANNEL_MAX_MAIL_BYTES: recorded from its header (the merchant reads it in their
    own mail client), never downloaded or answered."""
    mail = parse_mail(header, max_attachment_bytes=0, max_attachments=0)
    try:
        with transaction.atomic():
            _move(connection, cursor)
            if EmailRecord.objects.filter(connection=connection, mail_id=mail.message_id).exists():
                return None
            detail = f"{size // (1024 * 1024)} MB"
            return _record(connection, mail, Outcome.TOO_LARGE, conversation=_thread(connection, mail), detail=detail)
    except IntegrityError:
        return None
