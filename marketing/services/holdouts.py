"""What each campaign's control group shows: the outcomes of treated and held-out targets, side by side.

Every target the scan finds gets a touch row; the control group's are skipped at once and never sent
(``campaigns.hold_out_control``). Both arms are therefore the same kind of target, split at random, and
their outcomes are counted from the same moment, the trigger, over the same window (the campaign's delay
plus 72 hours): a campaign's effect is the difference between the arms. Every target assigned to be
touched counts in the treated arm, sent or not (intention to treat), so a campaign cannot look better by
skipping hard cases. Only targets whose window has closed are counted.

The intervals are the analytics app's (``analytics.statistics``); this module only counts.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from shops.models import Order, Refund

from ..models import Campaign, Touch
from .campaigns import CONVERSION_WINDOW


@dataclass
class Arm:
    """The targets of one arm: how many, how many paid within the window (and how much each paid), and of
    those with a refund request, how many kept the order (refund withdrawn within the window)."""

    targets: int = 0
    converted: int = 0
    paid: list[float] = field(default_factory=list)
    refunds: int = 0
    refunds_retained: int = 0


@dataclass
class CampaignArms:
    campaign: Campaign
    treated: Arm
    control: Arm
    # Targets whose window is still open: counted once it closes.
    in_window: int


def outcome_window(campaign: Campaign) -> timedelta:
    return timedelta(minutes=campaign.delay_minutes) + CONVERSION_WINDOW


def campaign_arms(campaigns: Iterable[Campaign], now: datetime | None = None) -> list[CampaignArms]:
    """Each campaign's treated and control arms, counted over the targets whose window has closed."""
    now = now or timezone.now()
    results = []
    for campaign in campaigns:
        window = outcome_window(campaign)
        touches = Touch.objects.filter(campaign=campaign)
        due = touches.filter(trigger_at__lte=now - window)
        settled = list(
            due.order_by("pk").values_list(
                "customer_id", "trigger_at", "skip_reason", "refund__status", "refund__resolved_at"
            )
        )
        in_window = touches.filter(trigger_at__gt=now - window).count()
        results.append(CampaignArms(campaign, *_count_arms(campaign, settled, due, window), in_window=in_window))
    return results


def _count_arms(campaign: Campaign, settled: list[tuple], due: QuerySet[Touch], window: timedelta) -> tuple[Arm, Arm]:
    treated, control = Arm(), Arm()
    if not settled:
        return treated, control
    customers = due.values("customer_id")  # a subquery: any number of targets
    first = min(row[1] for row in settled)
    last = max(row[1] for row in settled) + window
    payments: dict[int, list[tuple[datetime, float]]] = {}
    for customer_id, paid_at, amount in (
        Order.objects.filter(shop_id=campaign.shop_id, customer_id__in=customers, paid_at__gt=first, paid_at__lte=last)
        .filter(~Q(paid_amount=0))
        .values_list("customer_id", "paid_at", "paid_amount")
    ):
        if paid_at is not None:
            payments.setdefault(customer_id, []).append((paid_at, float(amount)))
    for customer_id, trigger_at, skip_reason, refund_status, refund_resolved_at in settled:
        arm = control if skip_reason == Touch.SkipReason.CONTROL else treated
        end = trigger_at + window
        paid = sum(amount for at, amount in payments.get(customer_id, ()) if trigger_at < at <= end)
        arm.targets += 1
        arm.converted += paid > 0
        arm.paid.append(paid)
        if refund_status is not None:
            arm.refunds += 1
            arm.refunds_retained += (
                refund_status == Refund.Status.WITHDRAWN
                and refund_resolved_at is not None
                and refund_resolved_at <= end
            )
    return treated, control
