"""Real-time QA alerts: a Channels group per shop that its managers' and QA reviewers' sockets join,
plus ``analytics.signals.alert_raised``, which the API turns into the shop's ``qa.alert`` webhook for
anyone who wants them elsewhere (DingTalk, WeCom, a pager)."""

from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from chat.frames import AlertFrame, SlaBreachFrame
from chat.models import SlaBreach
from chat.services import agent_name

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


def sla_breach_frame(breach: SlaBreach) -> SlaBreachFrame:
    """An SLA breach as the alert socket's ``sla_breach`` frame."""
    conversation = breach.conversation
    last = conversation.messages.filter(sender="shopper").order_by("-pk").values_list("text", flat=True).first()
    return {
        "type": "sla_breach",
        "breach": breach.pk,
        "shop": breach.shop_id,
        "shop_name": breach.shop.name,
        "conversation": breach.conversation_id,
        "kind": breach.kind,
        "kind_display": str(breach.get_kind_display()),
        "agent": agent_name(breach.agent) if breach.agent is not None else "",
        "due_at": breach.due_at.isoformat(),
        "text": (last or "")[:200],
        "url": reverse("admin:chat_conversation_change", args=[breach.conversation_id]),
        "created_at": breach.created_at.isoformat(),
    }


def alert_sla_breach(breach: SlaBreach) -> None:
    """Push a missed response target to the shop's alert sockets (the managers' alert bar), now."""
    frame = sla_breach_frame(breach)
    async_to_sync(get_channel_layer().group_send)(managers_group(breach.shop_id), {"type": "qa.alert", "frame": frame})
