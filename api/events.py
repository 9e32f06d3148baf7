"""Every webhook event, declared once: the domain signal it answers and the data it carries.

The domain apps announce what happened with their own signals and never import the API;
``api.receivers`` connects each declaration below and queues the event for the shop's subscribers.
A payload builder is called with the signal's keyword arguments; the shop is the subject row's shop.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.dispatch import Signal

from analytics.signals import alert_raised
from chat.frames import AlertFrame
from chat.models import Conversation, InvoiceRequest, Message, WorkOrder
from chat.signals import conversation_closed, invoice_requested, work_order_changed
from marketing.models import Touch
from marketing.signals import touch_sent
from shops.models import QuotaWarning
from shops.signals import quota_warning

from .models import WebhookEvent


def _always(**kwargs: Any) -> bool:
    return True


@dataclass(frozen=True)
class WebhookSource:
    event: WebhookEvent
    signal: Signal
    # The signal's keyword argument holding the row the event is about; its shop_id picks the subscribers.
    subject: str
    payload: Callable[..., dict[str, Any]]
    # Whether this sending of the signal is this event (one signal may carry two events).
    when: Callable[..., bool] = field(default=_always)

    @property
    def dispatch_uid(self) -> str:
        return f"api.webhook.{self.event.value}"


def closed_payload(conversation: Conversation, **kwargs: Any) -> dict[str, Any]:
    shopper = Q(sender=Message.Sender.SHOPPER)
    counts = conversation.messages.aggregate(total=Count("pk"), shopper=Count("pk", filter=shopper))
    return {
        "id": conversation.pk,
        "channel": conversation.channel,
        "customer": conversation.customer.external_id if conversation.customer is not None else None,
        # Never the visitor token: it resumes the shopper's conversation, so it stays between them and us.
        "handoff_reason": conversation.handoff_reason,
        "agent": conversation.assigned_agent.get_username() if conversation.assigned_agent is not None else None,
        "started_at": conversation.started_at,
        "handed_over_at": conversation.handed_over_at,
        "ended_at": conversation.ended_at,
        "satisfaction": conversation.satisfaction,
        "messages": counts["total"],
        "shopper_messages": counts["shopper"],
    }


def work_order_payload(work_order: WorkOrder, **kwargs: Any) -> dict[str, Any]:
    return {
        "id": work_order.pk,
        "kind": work_order.kind,
        "status": work_order.status,
        "conversation": work_order.conversation_id,
        "order": work_order.order.external_id if work_order.order is not None else None,
        "details": work_order.details,
        "data": work_order.data,
        "resolution": work_order.resolution,
        "due_at": work_order.due_at,
        "updated_at": work_order.updated_at,
    }


def invoice_payload(invoice: InvoiceRequest, **kwargs: Any) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "status": invoice.status,
        "title": invoice.title,
        "tax_id": invoice.tax_id,
        "email": invoice.email,
        "order": invoice.order.external_id if invoice.order is not None else None,
        "conversation": invoice.conversation_id,
    }


def alert_payload(frame: AlertFrame, **kwargs: Any) -> dict[str, Any]:
    return dict(frame)  # the alert socket's frame, as the managers' consoles get it


def touch_payload(touch: Touch, text: str, content: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    customer = touch.customer
    return {
        "touch": touch.pk,
        "idempotency_key": touch.idempotency_key,
        "campaign": {"id": touch.campaign_id, "name": touch.campaign.name, "kind": touch.campaign.kind},
        "customer": {
            "id": customer.pk,
            "external_id": customer.external_id,
            "nickname": customer.nickname,
            "phone": customer.phone,
            "email": customer.email,
            "wechat": customer.wechat,
        },
        "order": touch.order.external_id if touch.order is not None else None,
        "text": text,
        **content,
    }


def quota_payload(warning: QuotaWarning, **kwargs: Any) -> dict[str, Any]:
    return {
        "threshold": warning.threshold,
        "used": warning.used,
        "quota": warning.quota,
        "month": warning.month.strftime("%Y-%m"),
    }


WEBHOOK_SOURCES: tuple[WebhookSource, ...] = (
    WebhookSource(WebhookEvent.CONVERSATION_CLOSED, conversation_closed, "conversation", closed_payload),
    WebhookSource(
        WebhookEvent.WORK_ORDER_CREATED,
        work_order_changed,
        "work_order",
        work_order_payload,
        when=lambda created, **kwargs: created,
    ),
    WebhookSource(
        WebhookEvent.WORK_ORDER_UPDATED,
        work_order_changed,
        "work_order",
        work_order_payload,
        when=lambda created, **kwargs: not created,
    ),
    WebhookSource(WebhookEvent.INVOICE_REQUESTED, invoice_requested, "invoice", invoice_payload),
    WebhookSource(WebhookEvent.QA_ALERT, alert_raised, "finding", alert_payload),
    WebhookSource(WebhookEvent.MARKETING_TOUCH, touch_sent, "touch", touch_payload),
    WebhookSource(WebhookEvent.QUOTA_WARNING, quota_warning, "warning", quota_payload),
)
