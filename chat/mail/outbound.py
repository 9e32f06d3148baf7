"""The shop's answers in an email conversation go out as one reply mail per turn, in the thread.

The bot's replies to one mail (and a hand-off notice after them) are one mail, not one each. The mail is
claimed first (a ``pending`` record with its own Message-ID, in the conversation's lock), then handed to
the SMTP server; a failed send is retried with the same Message-ID and the same messages, so the shopper
never gets a reply twice under two ids. Replies nobody wrote (the bot, system notices) carry
``Auto-Submitted: auto-replied`` (RFC 3834), so the shopper's own robots do not answer them.
"""

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.models import Conversation, EmailMailbox, EmailRecord, Message
from core import rows

from .accounts import smtp_login
from .servers import MailServerError
from .smtp import send

Sender = Message.Sender
Outcome = EmailRecord.Outcome
REPLY_SENDERS = (Sender.BOT, Sender.AGENT, Sender.SYSTEM)
_REPLY_PREFIXES = ("re:", "回复:", "回复：", "答复:", "答复：", "aw:")


def reply_subject(subject: str) -> str:
    subject = subject.strip() or "您的咨询"
    return subject if subject.lower().startswith(_REPLY_PREFIXES) else f"Re: {subject}"


def message_as_text(message: Message) -> str:
    """A chat message as mail text: product cards as lines with price, quick replies as numbered options."""
    lines = [message.text]
    payload: dict[str, Any] = message.payload or {}
    for product in payload.get("products") or []:
        lines.append(f"· {product.get('title', '')}  ¥{product.get('price', '')}")
    order = payload.get("order")
    if order:
        lines.append(f"订单 {order.get('number', '')}：{order.get('status_text', '')}")
        if order.get("tracking_number"):
            lines.append(f"物流：{order.get('carrier', '')} {order['tracking_number']}")
    options = payload.get("quick_replies") or []
    if options:
        lines.append("您可以回复：")
        lines.extend(f"{index}. {option}" for index, option in enumerate(options, start=1))
    return "\n".join(line for line in lines if line)


def compose_reply(
    mailbox: EmailMailbox, inbound: EmailRecord, messages: list[Message], message_id: str
) -> EmailMessage:
    """The reply mail to ``inbound`` carrying ``messages``, in its thread (In-Reply-To, References)."""
    mail = EmailMessage()
    mail["From"] = formataddr((mailbox.display_name or mailbox.shop.name, mailbox.address))
    mail["To"] = inbound.counterpart
    mail["Subject"] = reply_subject(inbound.subject)
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = f"<{message_id}>"
    mail["In-Reply-To"] = f"<{inbound.mail_id}>"
    mail["References"] = " ".join(f"<{ref}>" for ref in [*inbound.references, inbound.mail_id][-20:])
    if all(message.sender != Sender.AGENT for message in messages):
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content("\n\n".join(message_as_text(message) for message in messages))
    return mail


def _reply_messages(conversation_id: int, after_id: int, up_to_id: int | None) -> list[Message]:
    messages = Message.objects.filter(conversation_id=conversation_id, pk__gt=after_id, sender__in=REPLY_SENDERS)
    if up_to_id is not None:
        messages = messages.filter(pk__lte=up_to_id)
    return list(messages.order_by("pk"))


def _claim(conversation_id: int) -> EmailRecord | None:
    """The reply mail to send: a pending or failed one first, else a new one for the replies not yet
    mailed. None when there is nothing to send (or the conversation was never by mail)."""
    with transaction.atomic():
        rows.locked(Conversation, conversation_id)
        records = EmailRecord.objects.filter(conversation_id=conversation_id).select_related("mailbox__shop")
        unsent = records.filter(direction=EmailRecord.Direction.OUTBOUND, outcome__in=[Outcome.PENDING, Outcome.FAILED])
        claimed = unsent.order_by("pk").first()
        if claimed is not None:
            return claimed
        inbound = (
            records.filter(direction=EmailRecord.Direction.INBOUND, outcome=Outcome.STORED).order_by("-pk").first()
        )
        if inbound is None:
            return None
        last_out = records.filter(direction=EmailRecord.Direction.OUTBOUND).order_by("-pk").first()
        after_id = max((inbound.message_id or 0), (last_out.message_id or 0) if last_out else 0)
        messages = _reply_messages(conversation_id, after_id, None)
        if not messages:
            return None
        mailbox = inbound.mailbox
        return EmailRecord.objects.create(
            shop_id=mailbox.shop_id,
            mailbox=mailbox,
            conversation_id=conversation_id,
            message=messages[-1],
            direction=EmailRecord.Direction.OUTBOUND,
            outcome=Outcome.PENDING,
            mail_id=make_msgid(idstring="shopbee", domain=mailbox.address.rsplit("@", 1)[-1])[1:-1],
            references=[*inbound.references, inbound.mail_id][-20:],
            counterpart=inbound.counterpart,
            subject=reply_subject(inbound.subject)[:255],
        )


# A reply mail the SMTP server refused this many times stays failed (shown in the admin) and is not retried.
MAX_ATTEMPTS = 10
# How long a claimed mail may stay pending (a worker died mid-send) before the sweep sends it again.
PENDING_GRACE = timedelta(minutes=5)


def send_replies(conversation_id: int) -> EmailRecord | None:
    """Mail the conversation's replies not mailed yet (one mail). A refusal is recorded on the mail and the
    mailbox (``failed``); ``retry_unsent`` tries it again."""
    record = _claim(conversation_id)
    if record is None or record.attempts >= MAX_ATTEMPTS:
        return None
    inbound = (
        EmailRecord.objects.filter(
            conversation_id=conversation_id,
            direction=EmailRecord.Direction.INBOUND,
            outcome=Outcome.STORED,
            pk__lt=record.pk,
        )
        .order_by("-pk")
        .first()
    )
    previous = (
        EmailRecord.objects.filter(
            conversation_id=conversation_id, direction=EmailRecord.Direction.OUTBOUND, pk__lt=record.pk
        )
        .order_by("-pk")
        .first()
    )
    assert inbound is not None  # a reply is only ever claimed after a stored mail
    after_id = max((inbound.message_id or 0), (previous.message_id or 0) if previous else 0)
    messages = _reply_messages(conversation_id, after_id, record.message_id)
    mailbox = record.mailbox
    record.attempts += 1
    try:
        send(smtp_login(mailbox), compose_reply(mailbox, inbound, messages, record.mail_id))
    except MailServerError as error:
        record.outcome, record.detail = Outcome.FAILED, error.message[:300]
        EmailMailbox.objects.filter(pk=mailbox.pk).update(smtp_error=record.detail, last_error_at=timezone.now())
    else:
        record.outcome, record.detail = Outcome.SENT, ""
        if mailbox.smtp_error:
            EmailMailbox.objects.filter(pk=mailbox.pk).update(smtp_error="")
    EmailRecord.objects.filter(pk=record.pk).update(
        outcome=record.outcome, detail=record.detail, attempts=record.attempts
    )
    return record


def retry_unsent(now: datetime | None = None) -> int:
    """Send again the reply mails that failed, or stayed pending past PENDING_GRACE. Returns how many were
    sent now."""
    now = now or timezone.now()
    unsent = EmailRecord.objects.filter(
        Q(outcome=Outcome.FAILED) | Q(outcome=Outcome.PENDING, created_at__lt=now - PENDING_GRACE),
        direction=EmailRecord.Direction.OUTBOUND,
        attempts__lt=MAX_ATTEMPTS,
    )
    sent = 0
    for conversation_id in unsent.values_list("conversation_id", flat=True).distinct():
        record = send_replies(conversation_id)
        sent += record is not None and record.outcome == Outcome.SENT
    return sent
