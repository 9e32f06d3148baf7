"""退款挽留: the customer requested a refund."""

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from shops.models import Refund

from ..models import Campaign
from ..money import yuan
from .base import NO_ID, CampaignKindSpec, TemplateVariable, TouchContext, target_key
from .common import COUPON_DEADLINE, NICKNAME, ORDER_PRODUCT


def targets(campaign: Campaign, now: datetime) -> QuerySet:
    # The trigger is the refund request.
    return (
        Refund.objects.filter(
            shop=campaign.shop,
            status=Refund.Status.REQUESTED,
            created_at__lte=now - timedelta(minutes=campaign.delay_minutes),
            created_at__gte=now - timedelta(hours=campaign.window_hours),
            order__customer__marketing_opt_out=False,
        )
        .order_by()
        .annotate(
            t_customer=F("order__customer_id"),
            t_order=F("order_id"),
            t_refund=F("pk"),
            t_message=NO_ID,
            t_trigger=F("created_at"),
            t_key=target_key(campaign, "refund", "pk"),
        )
    )


def goal_reached(now: datetime) -> Q:
    # Withdrawn (retained), or decided either way.
    return ~Q(refund__status=Refund.Status.REQUESTED)


def _refund_amount(context: TouchContext) -> str:
    refund = context.touch.refund
    assert refund is not None  # this kind targets refunds
    return yuan(refund.amount)


KIND = CampaignKindSpec(
    targets=targets,
    goal_reached=goal_reached,
    variables={
        "nickname": NICKNAME,
        "product": ORDER_PRODUCT,
        "amount": TemplateVariable(_("the refund amount"), _refund_amount),
        "deadline": COUPON_DEADLINE,
    },
)
