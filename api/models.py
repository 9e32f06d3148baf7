"""The open platform's stored state: outbound webhook subscriptions and their delivery log."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import outbound
from shops.models import Shop


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


def validate_webhook_url(value: str) -> None:
    """The outbound client's own parser (``core.outbound``): what is saved is what will be called."""
    try:
        outbound.checked_url(value, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    except outbound.TargetRefused as refused:
        raise ValidationError(
            _("This URL cannot receive webhooks (%(reason)s)."), code="refused_url", params={"reason": refused.reason}
        ) from None


class WebhookEvent(models.TextChoices):
    CONVERSATION_CLOSED = "conversation.closed", _("Conversation closed")
    WORK_ORDER_CREATED = "work_order.created", _("Work order created")
    WORK_ORDER_UPDATED = "work_order.updated", _("Work order updated")
    INVOICE_REQUESTED = "invoice.requested", _("Invoice requested")
    QA_ALERT = "qa.alert", _("QA alert")
    MARKETING_TOUCH = "marketing.touch", _("Marketing touch (SMS / outbound call provider)")
    QUOTA_WARNING = "quota.warning", _("Bot-conversation quota warning (80% and 100%)")


class WebhookSubscription(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="webhook_subscriptions", verbose_name=_("shop")
    )
    url = models.URLField(_("URL"), max_length=500, validators=[validate_webhook_url])
    # Kept in clear: it signs every delivery. Receivers verify X-Shopbee-Signature with it.
    secret = models.CharField(_("signing secret"), max_length=64, default=new_webhook_secret)
    events = models.JSONField(_("events"), default=list, help_text=_("Event names this URL receives."))
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["shop", "url"]
        indexes = [models.Index(fields=["shop", "is_active"])]

    def __str__(self) -> str:
        return f"{self.shop} → {self.url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_deliveries", verbose_name=_("shop"))
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    # When the next attempt is due (while pending; an attempt in flight holds it a few minutes ahead).
    # The sweep queues again a pending delivery left well past it.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="webhook_delivered_has_time",
            )
        ]
        indexes = [
            models.Index(fields=["shop", "status", "created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.url} · {self.get_status_display()}"


class Scope(models.TextChoices):
    """What an API key may do. ``<area>:read`` lists and exports, ``<area>:write`` creates and changes."""

    PRODUCTS_READ = "products:read", _("Products: read")
    PRODUCTS_WRITE = "products:write", _("Products: write")
    CUSTOMERS_READ = "customers:read", _("Customers: read")
    CUSTOMERS_WRITE = "customers:write", _("Customers: write")
    ORDERS_READ = "orders:read", _("Orders: read")
    ORDERS_WRITE = "orders:write", _("Orders: write")
    KNOWLEDGE_READ = "knowledge:read", _("Knowledge (FAQ cards): read")
    KNOWLEDGE_WRITE = "knowledge:write", _("Knowledge (FAQ cards): write")
    CONVERSATIONS_READ = "conversations:read", _("Conversations and messages: read")
    WORK_ORDERS_READ = "work_orders:read", _("Work orders: read")
    WORK_ORDERS_WRITE = "work_orders:write", _("Work orders: write")
    INVOICES_READ = "invoices:read", _("Invoice requests: read")
    INVOICES_WRITE = "invoices:write", _("Invoice requests: fulfil")
    WEBHOOKS_READ = "webhooks:read", _("Webhook subscriptions: read")
    WEBHOOKS_WRITE = "webhooks:write", _("Webhook subscriptions: write")
    MARKETING_READ = "marketing:read", _("Marketing (live sessions, campaigns, follow-ups): read")
    QA_READ = "qa:read", _("Quality inspection findings: read")
    CHANNELS_WRITE = "channels:write", _("Channel API: hand in shoppers' messages (marketplace bridges)")


KEY_PREFIX_LENGTH = 8


def hash_api_key(plaintext: str) -> str:
    # The key carries 256 random bits, so one round of SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(plaintext.encode()).hexdigest()


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Scopes must be a list of scope names."), code="invalid_scopes")
    unknown = sorted(set(value) - set(Scope.values))
    if unknown:
        raise ValidationError(
            _("Unknown scopes: %(scopes)s."), code="unknown_scopes", params={"scopes": ", ".join(unknown)}
        )


class ApiKey(models.Model):
    """A shop's key to the open API. Only its SHA-256 hash is stored; the plaintext is shown once."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("shop"))
    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses it, e.g. the ISV or the system."))
    # The first characters after "sb_": finds the row, and lets people tell their keys apart.
    prefix = models.CharField(_("prefix"), max_length=KEY_PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, validators=[validate_scopes])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("created by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Not a column: the plaintext of a key issued in this request, from the admin's save to its "issued" page.
    issued_plaintext = ""

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["shop", "-created_at"]
        indexes = [models.Index(fields=["shop", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} (sb_{self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
