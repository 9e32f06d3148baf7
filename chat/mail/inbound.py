"""New mail in a shop's mailbox becomes shopper messages of email conversations, answered by the same bot
and queued for the same agents as the web chat.

A reply joins the conversation of the mail it answers (its In-Reply-To or References name a mail this shop
received or sent); any other mail starts a conversation. A bounce, an auto-reply, bulk mail or our own mail
coming back is recorded and never answered.
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

from chat import services
from chat.models import Conversation, EmailAttachment, EmailMailbox, EmailRecord, Message
from shops.models import Customer

from .accounts import imap_login
from .imap import ImapSession
from .parsing import InboundMail, parse_mail
from .servers import MailServerError

logger = logging.getLogger(__name__)

Outcome = EmailRecord.Outcome
MAX_REFERENCES = 20
# One poll of a mailbox at a time, across processes (the lease outlives a stuck IMAP call).
_POLL_LEASE_SECONDS = 600


@dataclass(frozen=True)
class PollResult:
    received: int = 0  # mails read from the server this poll
    stored: int = 0  # of which became shopper messages
    error: str = ""


def _lease_key(mailbox_id: int) -> str:
    return f"chat.mail.poll.{mailbox_id}"


def poll_mailbox(mailbox_id: int) -> PollResult:
    """Read the mailbox's new mail (at most EMAIL_CHANNEL_FETCH_LIMIT) and store each mail with the cursor
    moved past it, in one transaction. The first poll only sets the cursor: mail already in the mailbox
    when it was connected is history, never answered."""
    if not cache.add(_lease_key(mailbox_id), 1, _POLL_LEASE_SECONDS):
        return PollResult()
    try:
        mailbox = EmailMailbox.objects.select_related("shop").get(pk=mailbox_id)
        if not mailbox.is_active or not mailbox.shop.is_active:
            return PollResult()
        return _poll(mailbox)
    finally:
        cache.delete(_lease_key(mailbox_id))


def _poll(mailbox: EmailMailbox) -> PollResult:
    now = timezone.now()
    received = stored = 0
    try:
        with ImapSession(imap_login(mailbox)) as session:
            folder = session.open(mailbox.imap_folder)
            if mailbox.uid_validity is None:
                uids: list[int] = []
                mailbox.last_uid = max(0, folder.uid_next - 1)
            elif mailbox.uid_validity != folder.uid_validity:
                # The server renumbered the folder: read what came since the last poll again; mails already
                # seen are recognised by their Message-ID.
                since = (mailbox.last_polled_at or now) - timedelta(days=1)
                uids = session.uids_since(since.date())
                mailbox.last_uid = 0
            else:
                uids = session.uids_after(mailbox.last_uid)
            mailbox.uid_validity = folder.uid_validity
            uids = uids[: settings.EMAIL_CHANNEL_FETCH_LIMIT]
            sizes = session.sizes(uids)
            failed = ""
            for uid in uids:
                received += 1
                try:
                    if sizes.get(uid, 0) > settings.EMAIL_CHANNEL_MAX_MAIL_BYTES:
                        record = record_too_large(mailbox, session.fetch_header(uid), sizes[uid], uid=uid)
                    else:
                        record = receive_mail(mailbox, session.fetch(uid), uid=uid)
                except MailServerError:
                    raise
                except Exception:
                    # One mail Shopbee cannot read must not hold up every mail after it.
                    logger.exception("Mailbox %s: mail UID %s could not be stored; skipped", mailbox.pk, uid)
                    _advance(mailbox, uid)
                    failed = f"邮件 UID {uid} 无法读取，已跳过（请在邮箱中查看）"
                    continue
                stored += record is not None and record.outcome == Outcome.STORED
    except MailServerError as error:
        mailbox.imap_error, mailbox.last_error_at = error.message[:300], now
        logger.warning("Mailbox %s: %s", mailbox.pk, error.message)
    else:
        mailbox.imap_error = failed
        if failed:
            mailbox.last_error_at = now
    mailbox.last_polled_at = now
    EmailMailbox.objects.filter(pk=mailbox.pk).update(
        uid_validity=mailbox.uid_validity,
        last_uid=mailbox.last_uid,
        last_polled_at=now,
        imap_error=mailbox.imap_error,
        last_error_at=mailbox.last_error_at,
    )
    return PollResult(received, stored, mailbox.imap_error)


def _advance(mailbox: EmailMailbox, uid: int | None) -> None:
    if uid is not None and uid > mailbox.last_uid:
        mailbox.last_uid = uid
        EmailMailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid, uid_validity=mailbox.uid_validity)


def _thread_conversation(mailbox: EmailMailbox, mail: InboundMail) -> Conversation | None:
    """The conversation of the nearest mail this one answers, among this shop's mails only."""
    ids = mail.thread_ids
    if not ids:
        return None
    records = EmailRecord.objects.filter(shop_id=mailbox.shop_id, mail_id__in=ids, conversation__isnull=False)
    by_id = {record.mail_id: record.conversation_id for record in records if record.conversation_id is not None}
    for message_id in ids:
        if message_id in by_id:
            return Conversation.objects.select_related("shop").get(pk=by_id[message_id])
    return None


def visitor_token(address: str) -> str:
    """The conversation's visitor token for a sender: stable, and never a token the web widget issues."""
    return "mail:" + hashlib.sha256(address.encode()).hexdigest()[:40]


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
    limit = services.MAX_TEXT_LENGTH
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _references(mail: InboundMail) -> list[str]:
    ids = list(dict.fromkeys([*mail.references, *mail.in_reply_to]))
    return ids[-MAX_REFERENCES:]


def _record(mailbox: EmailMailbox, mail: InboundMail, outcome: str, **fields: object) -> EmailRecord:
    return EmailRecord.objects.create(
        shop_id=mailbox.shop_id,
        mailbox=mailbox,
        direction=EmailRecord.Direction.INBOUND,
        outcome=outcome,
        mail_id=mail.message_id,
        references=_references(mail),
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


def receive_mail(mailbox: EmailMailbox, raw: bytes, *, uid: int | None = None) -> EmailRecord | None:
    """Store one received mail (and move the cursor to ``uid``) in one transaction. None when this shop had
    already stored it (the same Message-ID)."""
    mail = parse_mail(
        raw,
        max_attachment_bytes=settings.EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES,
        max_attachments=settings.EMAIL_CHANNEL_MAX_ATTACHMENTS,
    )
    try:
        with transaction.atomic():
            _advance(mailbox, uid)
            if EmailRecord.objects.filter(shop_id=mailbox.shop_id, mail_id=mail.message_id).exists():
                return None
            thread = _thread_conversation(mailbox, mail)
            if mail.sender == mailbox.address.lower():
                return _record(mailbox, mail, Outcome.OWN, conversation=thread)
            if mail.guard is not None:
                return _record(mailbox, mail, mail.guard.kind, conversation=thread, detail=mail.guard.reason[:300])
            record = _store(mailbox, mail, thread)
    except IntegrityError:
        return None  # another poll stored the same mail in the meantime
    mailbox.last_received_at = timezone.now()
    EmailMailbox.objects.filter(pk=mailbox.pk).update(last_received_at=mailbox.last_received_at)
    return record


def _store(mailbox: EmailMailbox, mail: InboundMail, thread: Conversation | None) -> EmailRecord:
    conversation = thread
    if conversation is None:
        customer = Customer.objects.filter(shop_id=mailbox.shop_id, email__iexact=mail.sender).first()
        conversation = services.new_conversation(
            mailbox.shop,
            channel=Conversation.Channel.EMAIL,
            visitor_token=visitor_token(mail.sender),
            customer=customer,
        )
    turn = services.receive_shopper_message(conversation, shopper_text(mail, first=thread is None))
    _keep_attachments(turn.message, mail)
    return _record(mailbox, mail, Outcome.STORED, conversation=turn.message.conversation, message=turn.message)


def record_too_large(mailbox: EmailMailbox, header: bytes, size: int, *, uid: int | None = None) -> EmailRecord | None:
    """A mail past EMAIL_CHANNEL_MAX_MAIL_BYTES: recorded from its header (the merchant reads it in their
    own mail client), never downloaded or answered."""
    mail = parse_mail(header, max_attachment_bytes=0, max_attachments=0)
    try:
        with transaction.atomic():
            _advance(mailbox, uid)
            if EmailRecord.objects.filter(shop_id=mailbox.shop_id, mail_id=mail.message_id).exists():
                return None
            detail = f"{size // (1024 * 1024)} MB"
            return _record(
                mailbox, mail, Outcome.TOO_LARGE, conversation=_thread_conversation(mailbox, mail), detail=detail
            )
    except IntegrityError:
        return None
