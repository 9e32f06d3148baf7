"""The admin's login form with a limit on failed attempts (the agent console logs in through it too).

Failures are counted per client address and per username in the shared cache (core.limits), so every
process agrees; once either is used up, the form refuses before checking the password, even a right one,
until the window ends. A success does not reset the counts: the window does.
"""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import limits


class RateLimitedAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "too_many_attempts": _("Too many failed logins. Please try again in %(minutes)s minutes."),
    }

    def clean(self) -> dict[str, Any]:
        checks = [
            ("admin.login.ip", self.request.META.get("REMOTE_ADDR", "unknown") if self.request else "unknown"),
            ("admin.login.username", self.cleaned_data.get("username", "")),
        ]
        for name, ident in checks:
            if limits.exceeded(name, ident):
                raise ValidationError(
                    self.error_messages["too_many_attempts"],
                    code="too_many_attempts",
                    params={"minutes": -(-limits.seconds_left(name) // 60)},
                )
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                for name, ident in checks:
                    limits.hit(name, ident)
            raise
