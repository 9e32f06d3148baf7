"""The Content-Security-Policy header of every response (Django 5.2 has none built in).

The policy is the ``CONTENT_SECURITY_POLICY`` setting. A view that sets its own header keeps it.

A page other sites may frame (the embedded chat of the widget) sets ``response.frame_ancestors`` to the
site origins allowed to embed it: its policy's ``frame-ancestors`` directive names exactly those, or
``'none'`` when there are none.
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin


def with_frame_ancestors(policy: str, origins: Iterable[str]) -> str:
    """``policy`` with its ``frame-ancestors`` directive replaced (or added) to allow only ``origins``."""
    sources = " ".join(origins) or "'none'"
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    kept = [d for d in directives if d.split()[0].lower() != "frame-ancestors"]
    return "; ".join([*kept, f"frame-ancestors {sources}"])


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    def process_response(self, request, response):
        policy = settings.CONTENT_SECURITY_POLICY
        origins = getattr(response, "frame_ancestors", None)
        if origins is not None:
            # Without a policy setting, the embedding limit still applies.
            response.setdefault("Content-Security-Policy", with_frame_ancestors(policy or "", origins))
        elif policy:
            response.setdefault("Content-Security-Policy", policy)
        return response
