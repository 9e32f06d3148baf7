"""The Content-Security-Policy header of every response (Django 5.2 has none built in).

The policy is the ``CONTENT_SECURITY_POLICY`` setting. A view that sets its own header keeps it.
"""

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    def process_response(self, request, response):
        if settings.CONTENT_SECURITY_POLICY:
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
