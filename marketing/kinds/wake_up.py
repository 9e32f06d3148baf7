"""唤醒: the customer showed interest in products within the window, then went silent without ordering."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from chat.models import Message

from ..models import Campaign
from .base import CampaignKindSpec
from .common import (
    COUPON_DEADLINE,
    INTEREST,
    NICKNAME,
    PRODUCT_SHOWN,
    customer_messages,
    customer_targets,
    ordered_since_trigger,
)


def targets(campaign: Campaign, now: datetime) -> QuerySet:
    # The trigger is the customer's last message, provided they showed interest within the window.
    interested = Exists(
        customer_messages().filter(INTEREST, created_at__gte=now - timedelta(hours=campaign.window_hours))
    )
    return customer_targets(campaign, now, Q(sender=Message.Sender.SHOPPER), Q(interested))


def goal_reached(now: datetime) -> Q:
    # Woken: an order since the trigger, or the customer wrote again.
    came_back = Exists(
        Message.objects.filter(
            sender=Message.Sender.SHOPPER,
            conversation__customer=OuterRef("customer"),
            created_at__gt=OuterRef("trigger_at"),
        )
    )
    return ordered_since_trigger() | Q(came_back)


KIND = CampaignKindSpec(
    targets=targets,
    goal_reached=goal_reached,
    variables={"nickname": NICKNAME, "product": PRODUCT_SHOWN, "deadline": COUPON_DEADLINE},
)
