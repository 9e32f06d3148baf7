"""尾款: the final payment of a presale order falls due within a day."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from shops.models import Order

from ..models import Campaign
from .base import CampaignKindSpec, TemplateVariable, TouchContext
from .common import AMOUNT_DUE, NICKNAME, ORDER_PRODUCT, coupon_deadline, local_time, order_targets

PRESALE_STATUSES = (Order.Status.DEPOSIT_PAID, Order.Status.AWAITING_FINAL)
# Presale reminders are triggered this long before the final payment deadline.
PRESALE_NOTICE = timedelta(hours=24)


def targets(campaign: Campaign, now: datetime) -> QuerySet:
    awaiting = Order.objects.filter(
        status__in=PRESALE_STATUSES,
        final_payment_due__gt=now,
        final_payment_due__lte=now + PRESALE_NOTICE - timedelta(minutes=campaign.delay_minutes),
    )
    trigger = ExpressionWrapper(F("final_payment_due") - PRESALE_NOTICE, output_field=DateTimeField())
    return order_targets(campaign, awaiting, trigger)


def goal_reached(now: datetime) -> Q:
    # Paid (the order left the presale statuses), or too late: the deadline passed.
    return ~Q(order__status__in=PRESALE_STATUSES) | Q(order__final_payment_due__lte=now)


def _deadline(context: TouchContext) -> str:
    order = context.touch.order
    assert order is not None  # this kind targets orders
    due = order.final_payment_due
    return local_time(due, context.tz) if due else coupon_deadline(context)


def delay_within_notice(campaign: Campaign) -> None:
    # The trigger is a day before the deadline: a delay of a day or more would never find an order.
    if campaign.delay_minutes is not None and timedelta(minutes=campaign.delay_minutes) >= PRESALE_NOTICE:
        raise ValidationError(
            {"delay_minutes": _("For presale final payment the delay must be under 24 hours (1440 minutes).")}
        )


KIND = CampaignKindSpec(
    targets=targets,
    goal_reached=goal_reached,
    variables={
        "nickname": NICKNAME,
        "product": ORDER_PRODUCT,
        "amount": TemplateVariable(_("the final payment still due"), AMOUNT_DUE.fill),
        "deadline": TemplateVariable(_("the final payment deadline, in the shop's timezone"), _deadline),
    },
    checks=(delay_within_notice,),
)
