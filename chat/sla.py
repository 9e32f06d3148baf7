"""SLA timers: a shop's response targets for the conversations its agents serve.

A timer is never stored while it runs: it follows from the conversation and its messages. The first
response clock starts at the hand-off and stops at the first agent message after it; once an agent has
answered, each shopper message that follows the agent's last one starts a next-response clock. A clock
past its due time is a breach, recorded once (``SlaBreach``) by the periodic check, which announces it
with ``chat.signals.sla_breached`` (analytics alerts the shop's managers).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.shoptime import add_working_time
from shops.hours import ServiceHours, service_hours
from shops.models import Shop

from .frames import SlaTimerInfo
from .models import Conversation, Message, SlaBreach, SlaPolicy
from .signals import sla_breached

logger = logging.getLogger(__name__)

Kind = SlaBreach.Kind
OPEN_STATUSES = (Conversation.Status.WAITING, Conversation.Status.AGENT)
_ENCODER = DjangoJSONEncoder()


@dataclass(frozen=True)
class Timer:
    kind: str
    started_at: datetime
    due_at: datetime


def policy_of(shop: Shop) -> SlaPolicy | None:
    try:
        return shop.sla_policy
    except SlaPolicy.DoesNotExist:
        return None


def due_at(policy: SlaPolicy, started_at: datetime, minutes: int, hours: ServiceHours | None = None) -> datetime:
    """When a clock started at ``started_at`` runs out. A business-hours-only clock counts only the time
    inside the shop's service hours (``shops.hours``, the hours its queue is assigned in: the weekly
    windows minus the holidays, in the shop's timezone) unless ``hours`` is given; for a shop without any
    window it runs around the clock."""
    target = timedelta(minutes=minutes)
    if not policy.business_hours_only:
        return started_at + target
    hours = hours or service_hours(policy.shop_id)
    if hours.always_open:
        return started_at + target
    return add_working_time(started_at, hours.tz, hours.weekly, target, hours.holidays)


def running_timer(conversation: Conversation, policy: SlaPolicy | None) -> Timer | None:
    """The clock running on a waiting or assigned conversation, or None (no policy, nobody waiting on an answer)."""
    if policy is None or conversation.status not in OPEN_STATUSES or conversation.handed_over_at is None:
        return None
    since = conversation.messages.filter(created_at__gte=conversation.handed_over_at)
    last_answer = since.filter(sender=Message.Sender.AGENT).order_by("-pk").values_list("pk", flat=True).first()
    if last_answer is None:
        started = conversation.handed_over_at
        return Timer(Kind.FIRST_RESPONSE, started, due_at(policy, started, policy.first_response_minutes))
    waiting_since = (
        since.filter(sender=Message.Sender.SHOPPER, pk__gt=last_answer)
        .order_by("pk")
        .values_list("created_at", flat=True)
        .first()
    )
    if waiting_since is None:
        return None
    return Timer(Kind.NEXT_RESPONSE, waiting_since, due_at(policy, waiting_since, policy.next_response_minutes))


def timer_info(conversation: Conversation) -> SlaTimerInfo | None:
    """The running clock as the console shows it (queue items and histories)."""
    timer = running_timer(conversation, policy_of(conversation.shop))
    if timer is None:
        return None
    return {
        "kind": timer.kind,
        "started_at": _ENCODER.default(timer.started_at),
        "due_at": _ENCODER.default(timer.due_at),
    }


def record_breach(conversation: Conversation, timer: Timer) -> SlaBreach | None:
    """Record the breach of ``timer`` unless it is recorded already; announced after commit."""
    try:
        with transaction.atomic():
            breach = SlaBreach.objects.create(
                shop_id=conversation.shop_id,
                conversation=conversation,
                kind=timer.kind,
                agent_id=conversation.assigned_agent_id,
                started_at=timer.started_at,
                due_at=timer.due_at,
            )
    except IntegrityError:
        return None  # another check recorded it first: alerted once
    transaction.on_commit(lambda: sla_breached.send(sender=SlaBreach, breach=breach))
    return breach


def check_breaches(now: datetime | None = None) -> list[SlaBreach]:
    """Record every running clock past its due time (once per clock) and announce each new breach."""
    now = now or timezone.now()
    policies = {p.shop_id: p for p in SlaPolicy.objects.select_related("shop")}
    breaches = []
    conversations = (
        Conversation.objects.filter(shop_id__in=policies, status__in=OPEN_STATUSES, handed_over_at__isnull=False)
        .select_related("shop")
        .order_by("pk")
    )
    for conversation in conversations.iterator(chunk_size=500):
        try:
            timer = running_timer(conversation, policies[conversation.shop_id])
            if timer is None or timer.due_at > now:
                continue
            breach = record_breach(conversation, timer)
        except Exception:
            # One conversation's trouble must not stop the others' alerts.
            logger.exception("SLA check failed for conversation %s", conversation.pk)
            continue
        if breach is not None:
            breaches.append(breach)
    return breaches
