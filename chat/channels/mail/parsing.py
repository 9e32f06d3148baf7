"""A raw mail read into what the email channel works with (the standard library's ``email``, policy.default)."""

import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import PurePosixPath, PureWindowsPath

from .html_text import html_to_text
from .loops import LoopGuard, loop_guard
from .quoting import visible_text

_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
MAX_ATTACHMENT_NAME = 100


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMail:
    """One received mail. Ids are without their angle brackets; ``visible`` is what the bot reads."""

    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str
    sender_name: str
    subject: str
    text: str
    visible: str
    attachments: tuple[Attachment, ...]
    too_large: tuple[str, ...]  # names of the attachments past the size limit, not kept
    guard: LoopGuard | None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The ids of the mails this one answers, nearest first."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))


def message_ids(value: object) -> tuple[str, ...]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References header, in order."""
    return tuple(_MESSAGE_ID.findall(str(value or "")))


def _attachment_name(part: Message, index: int) -> str:
    raw = part.get_filename() or ""
    # A name is never a path: keep its last component, whichever separator it uses.
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = _UNSAFE_NAME.sub("", name).strip()[:MAX_ATTACHMENT_NAME]
    return name or f"attachment-{index}"


def _body_text(message: EmailMessage) -> tuple[str, MIMEPart | None]:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "", None
    content = body.get_content()
    if body.get_content_subtype() == "html":
        return html_to_text(content), body
    return content, body


def _is_body_alternative(part: Message, body: MIMEPart | None) -> bool:
    """A text part that is only another rendering of the body (the HTML beside the plain text)."""
    return (
        body is not None
        and part.get_content_maintype() == "text"
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _attachments(
    message: EmailMessage, body: MIMEPart | None, max_bytes: int, max_count: int
) -> tuple[tuple[Attachment, ...], tuple[str, ...]]:
    kept: list[Attachment] = []
    too_large: list[str] = []
    for index, part in enumerate(message.walk(), start=1):
        if part.is_multipart() or part is body or _is_body_alternative(part, body):
            continue
        name = _attachment_name(part, index)
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if len(content) > max_bytes or len(kept) >= max_count:
            too_large.append(name)
            continue
        kept.append(Attachment(name, part.get_content_type(), content))
    return tuple(kept), tuple(too_large)


def parse_mail(raw: bytes, *, max_attachment_bytes: int, max_attachments: int) -> InboundMail:
    """Read a raw RFC 5322 message. A mail without a Message-ID gets one from its content's digest, so the same
    mail fetched twice is still recognised."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
    own_id = message_ids(message.get("Message-ID"))
    message_id = own_id[0] if own_id else f"{hashlib.sha256(raw).hexdigest()}@missing-id.shopbee"
    try:
        from_header = message.get("From")
        addresses = getattr(from_header, "addresses", ())
        sender, sender_name = (addresses[0].addr_spec, addresses[0].display_name) if addresses else ("", "")
    except (IndexError, TypeError, ValueError):
        sender_name, sender = parseaddr(str(message.get("From", "")))
    text, body = _body_text(message)
    attachments, too_large = _attachments(message, body, max_attachment_bytes, max_attachments)
    return InboundMail(
        message_id=message_id,
        in_reply_to=message_ids(message.get("In-Reply-To")),
        references=message_ids(message.get("References")),
        sender=sender.strip().lower(),
        sender_name=sender_name.strip(),
        subject=str(message.get("Subject", "")).strip(),
        text=text,
        visible=visible_text(text),
        attachments=attachments,
        too_large=too_large,
        guard=loop_guard(message),
    )
