"""催付: an order left unpaid."""

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from shops.models import Order

from ..models import Campaign
from .base import CampaignKindSpec
from .common import AMOUNT_DUE, COUPON_DEADLINE, NICKNAME, ORDER_PRODUCT, order_targets


def targets(campaign: Campaign, now: datetime) -> QuerySet:
    # The trigger is the order's creation.
    unpaid = Order.objects.filter(
        status=Order.Status.UNPAID,
        created_at__lte=now - timedelta(minutes=campaign.delay_minutes),
        created_at__gte=now - timedelta(hours=campaign.window_hours),
    )
    return order_targets(campaign, unpaid, F("created_at"))


def goal_reached(now: datetime) -> Q:
    # Paid, or closed: either way there is nothing left to remind of.
    return ~Q(order__status=Order.Status.UNPAID)


KIND = CampaignKindSpec(
    targets=targets,
    goal_reached=goal_reached,
    variables={"nickname": NICKNAME, "product": ORDER_PRODUCT, "amount": AMOUNT_DUE, "deadline": COUPON_DEADLINE},
)
