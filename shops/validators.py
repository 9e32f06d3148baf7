"""Validators for shop data: Chinese business identifiers, widget colours, the sites that embed the widget."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the unified social credit code (统一社会信用代码) alphabet and check-digit weights.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    code = code.strip().upper()
    if len(code) != 18 or any(ch not in CREDIT_CODE_ALPHABET for ch in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


def validate_credit_code(value: str) -> None:
    if not is_valid_credit_code(value):
        raise ValidationError(
            _("%(value)s is not a valid unified social credit code (18 characters with a correct check digit)."),
            code="invalid_credit_code",
            params={"value": value},
        )


_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# scheme://host[:port], nothing else: a CSP source that names exactly one site.
_ORIGIN = re.compile(
    r"(https?)://([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(\d{1,5}))?"
)


def validate_hex_colour(value: str) -> None:
    if not _HEX_COLOUR.fullmatch(value or ""):
        raise ValidationError(
            _("%(value)s is not a colour: use # and six hexadecimal digits, such as #ffb400."),
            code="invalid_colour",
            params={"value": value},
        )


def normalise_origin(value: str) -> str:
    """The origin as browsers send it: lower case, no trailing slash, no default port."""
    origin = (value or "").strip().lower().rstrip("/")
    for scheme, port in (("http", ":80"), ("https", ":443")):
        if origin.startswith(f"{scheme}://") and origin.endswith(port):
            origin = origin[: -len(port)]
    return origin


def validate_embed_origin(value: str) -> None:
    """A site origin (``https://www.example.com``, ``http://127.0.0.1:8080``): scheme, host, optional port;
    no path, query, wildcard or credentials, so it is one exact ``frame-ancestors`` source."""
    match = _ORIGIN.fullmatch(normalise_origin(value))
    if match is None or (match.group(3) is not None and not 0 < int(match.group(3)) < 65536):
        raise ValidationError(
            _(
                "%(value)s is not a site origin: give the scheme, host and optional port only, such as https://www.example.com."
            ),
            code="invalid_origin",
            params={"value": value},
        )
