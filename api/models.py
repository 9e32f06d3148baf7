"""The open platform's stored state: outbound webhook subscriptions and their delivery log."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.models import Shop


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookEvent(models.TextChoices):
    CONVERSATION_CLOSED = "conversation.closed", _("Conversation closed")
    WORK_ORDER_CREATED = "work_order.created", _("Work order created")
    WORK_ORDER_UPDATED = "work_order.updated", _("Work order updated")
    INVOICE_REQUESTED = "invoice.requested", _("Invoice requested")
    QA_ALERT = "qa.alert", _("QA alert")
    MARKETING_TOUCH = "marketing.touch", _("Marketing touch (SMS / outbound call provider)")


class WebhookSubscription(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="webhook_subscriptions", verbose_name=_("shop")
    )
    url = models.URLField(_("URL"), max_length=500)
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
        indexes = [models.Index(fields=["shop", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.url} · {self.get_status_display()}"
