"""``Authorization: Bearer <key>`` for the open API, its one permission and its per-key throttle."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import SimpleRateThrottle

from core import limits

from .keys import find_key, record_use
from .models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """The caller is a shop's integration, not a person: ``request.user`` stays anonymous, ``request.auth``
    is the ApiKey."""

    keyword = b"bearer"

    def authenticate(self, request):
        # Invalid keys are counted per client address: guessing stops at the limit, for every key.
        address = request.META.get("REMOTE_ADDR", "unknown")
        if limits.exceeded("api.invalid_key.ip", address):
            raise exceptions.Throttled(
                wait=limits.seconds_left("api.invalid_key.ip"),
                # Evaluated now: DRF appends the wait to the text, which a lazy string cannot take.
                detail=gettext("Too many requests with an invalid API key from your address; try again later."),
            )
        try:
            return self._authenticate(request)
        except exceptions.AuthenticationFailed:
            limits.hit("api.invalid_key.ip", address)
            raise

    def _authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        if parts[0].lower() != self.keyword or len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Use the header 'Authorization: Bearer <API key>'."))
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from exc
        key = find_key(plaintext)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        record_use(key)
        return AnonymousUser(), key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when the key is missing or bad.
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A shop's API key: `sb_<prefix>_<secret>`."}


class ShopApiPermission(BasePermission):
    """The one permission of the open API: a live key, the scope the view needs, and its own shop only.

    A view names its area in ``scope_area``; reads need ``<area>:read``, anything else ``<area>:write``.
    Objects of other shops are reported as missing (404) so that their existence is never confirmed.
    """

    message = _("This API key lacks the scope this endpoint needs.")

    @staticmethod
    def required_scope(request, view) -> str:
        access = "read" if request.method in SAFE_METHODS else "write"
        return f"{view.scope_area}:{access}"

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(_("Send your shop's API key: 'Authorization: Bearer <API key>'."))
        scope = self.required_scope(request, view)
        if not request.auth.has_scope(scope):
            raise exceptions.PermissionDenied(_("This API key lacks the scope %(scope)s.") % {"scope": scope})
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if view.shop_id_of(obj) != request.auth.shop_id:
            raise exceptions.NotFound()
        return True


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per key, counted in the shared cache (Redis in production), so every worker agrees."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.SHOPBEE_API_KEY_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        # The prefix, not the pk: unique per key and never reused by a later key.
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
