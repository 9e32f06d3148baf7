"""What the shopper wrote in this mail: quoted history, forwarded blocks and the signature cut off.

Mail clients quote the mail answered below (or above) a header line, in many languages and shapes:
Gmail's "On … wrote:", Chinese clients' "在 … 写道：", Outlook's and Foxmail's "发件人: … 发送时间: …" block,
QQ Mail's "------------------ 原始邮件 ------------------", and ``>`` lines. The reply is what comes
before the first of these. A signature starts at the "-- " line or at a closing (此致 敬礼, 祝好, Best
regards…, 发自我的iPhone) near the end.
"""

import re

# A line that starts the quoted or forwarded mail: everything from it on is history.
_HISTORY_STARTS = (
    re.compile(r"^\s*on\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*在.{0,200}写道[:：]\s*$"),
    re.compile(r"^\s*-{2,}\s*(original message|forwarded message|原始邮件|转发邮件信息|邮件原文)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*(begin forwarded message|以下为转发的邮件)\s*[:：]?\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above its header block
)
# Gmail wraps a long "On …, Name <address> wrote:" over two lines.
_WROTE_CONTINUED = re.compile(r"^.{0,200}\bwrote:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*on\b", re.IGNORECASE)
# Outlook / Foxmail / QQ Mail header block of the quoted mail: "From:" then "Sent:"/"Date:"/"To:" lines.
_HEADER_FROM = re.compile(r"^\s*\**\s*(from|发件人)\s*\**\s*[:：]", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**\s*(sent|date|to|subject|发送时间|日期|时间|收件人|主题)\s*\**\s*[:：]", re.IGNORECASE
)

_SIGNATURE_DELIMITER = re.compile(r"^(-- ?|—— ?)$")
# Closings that start a signature when they stand on their own line near the end of the mail.
_CLOSINGS = re.compile(
    r"^\s*(此致|此致敬礼|此致\s*敬礼|祝好|祝商祺|顺颂商祺|顺祝商祺|顺颂时祺|祝工作顺利|best regards|best|regards|"
    r"kind regards|cheers|thanks and regards|sincerely)\s*[,，!！.。]?\s*$",
    re.IGNORECASE,
)
# Lines a phone or webmail adds on its own: dropped wherever they are.
_SENT_FROM = re.compile(
    r"^\s*(发自我的\S{0,20}|来自\S{0,10}(邮箱|邮件)\S{0,10}|发自\S{0,10}(邮箱|邮件)\S{0,10}|"
    r"sent from my \S.{0,40}|sent from (mail|outlook) for \S.{0,30}|get outlook for \S.{0,20})\s*$",
    re.IGNORECASE,
)
# How far from the end a closing may stand and still be taken for the signature's start.
_CLOSING_WINDOW = 6


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _HISTORY_STARTS):
            return index
        if _ON_START.match(line) and index + 1 < len(lines) and _WROTE_CONTINUED.match(lines[index + 1]):
            return index
        if _HEADER_FROM.match(line) and any(
            _HEADER_NEXT.match(following) for following in lines[index + 1 : index + 5]
        ):
            return index
    return len(lines)


def _signature_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line.rstrip("\r")):
            return index
    for index in range(max(0, len(lines) - _CLOSING_WINDOW), len(lines)):
        if _CLOSINGS.match(lines[index]):
            return index
    return len(lines)


def visible_text(text: str) -> str:
    """The new words of a mail's plain text: before the quoted history, without ``>`` lines, the signature
    or a "sent from my phone" line."""
    lines = text.replace("\r\n", "\n").split("\n")
    lines = lines[: _history_start(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">") and not _SENT_FROM.match(line)]
    while lines and not lines[-1].strip():
        lines.pop()
    lines = lines[: _signature_start(lines)]
    return "\n".join(line.rstrip() for line in lines).strip()
