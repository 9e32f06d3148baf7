"""A mainland mobile number or a resident ID number (with a valid checksum) in an agent's message."""

import re

from .base import AGENT, RuleKindSpec

# On folded text (no spaces): mobile numbers (optionally +86) and 18-digit resident ID numbers.
PHONE = re.compile(r"(?<![0-9])(?:\+?86-?)?(1[3-9][0-9](?:-?[0-9]{4}){2})(?![0-9])")
ID_NUMBER = re.compile(
    r"(?<![0-9])([1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9x])(?![0-9])"
)
# Both need a run of at least 11 digits with at most dashes between: most messages have none.
DIGITS = re.compile(r"[0-9][0-9-]{9,}[0-9x]")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10x98765432"


def id_number_checksum_ok(number: str) -> bool:
    """GB 11643: the 18th character is the weighted sum of the first 17 digits mod 11, mapped."""
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11] == number[17].lower()


def find_personal_data(folded: str) -> str:
    """The first phone or ID number in folded text, masked for the record; "" when there is none."""
    if DIGITS.search(folded) is None:
        return ""
    for match in ID_NUMBER.finditer(folded):
        number = match.group(1)
        if id_number_checksum_ok(number):
            return f"{number[:6]}********{number[-4:]}"
    phone = PHONE.search(folded)
    if phone:
        digits = phone.group(1).replace("-", "")
        return f"{digits[:3]}****{digits[-4:]}"
    return ""


def check_message(rule, facts, folded: str) -> str:
    return find_personal_data(folded)


KIND = RuleKindSpec(senders=AGENT, check_message=check_message, reads_text=True, before_send=True)
