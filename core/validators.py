"""Validators of shared field types."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .shoptime import is_timezone_name


def validate_timezone_name(value: str) -> None:
    """Only IANA timezone names ("Asia/Shanghai"), so a shop's local time can always be computed."""
    if not is_timezone_name(value):
        raise ValidationError(
            _("“%(value)s” is not a known timezone: use an IANA name such as Asia/Shanghai."),
            code="invalid_timezone",
            params={"value": value},
        )
