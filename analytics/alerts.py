"""Real-time QA alerts: a Channels group per shop that its managers' and QA reviewers' sockets join,
plus ``analytics.signals.alert_raised``, which the API turns into the shop's ``qa.alert`` webhook for
anyone who wants them elsewhere (DingTalk, WeCom, a pager)."""

from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from chat.frames import AlertFrame

from .signals import alert_raised

if TYPE_CHECKING:
    from .models import QAFinding


def managers_group(shop_id: int) -> str:
    """The Channels group of every alert socket of the shop's managers and QA reviewers."""
    return f"analytics.alerts.shop.{shop_id}"


def alert_frame(finding: "QAFinding") -> AlertFrame:
    """A finding as the alert socket's ``alert`` frame (also the webhook's data)."""
    message = finding.message
    return {
        "type": "alert",
        "finding": finding.pk,
        "shop": finding.shop_id,
        "shop_name": finding.shop.name,
        "conversation": finding.conversation_id,
        "message": finding.message_id,
        "rule": finding.rule.name,
        "kind": finding.kind,
        "kind_display": str(finding.get_kind_display()),
        "severity": finding.severity,
        "evidence": finding.evidence,
        "text": message.text[:200] if message is not None else "",
        "url": reverse("admin:analytics_qafinding_change", args=[finding.pk]),
        "created_at": finding.created_at.isoformat(),
    }


def alert_managers(finding: "QAFinding") -> None:
    """Push a high-severity finding to the shop's alert sockets now, and announce it (``qa.alert`` webhooks)."""
    frame = alert_frame(finding)
    async_to_sync(get_channel_layer().group_send)(managers_group(finding.shop_id), {"type": "qa.alert", "frame": frame})
    alert_raised.send(sender=type(finding), finding=finding, frame=frame)
