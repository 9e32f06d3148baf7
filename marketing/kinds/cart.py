"""催拍: the customer showed interest in a product and has not ordered since."""

from datetime import datetime

from django.db.models import Q, QuerySet

from ..models import Campaign
from .base import CampaignKindSpec
from .common import (
    COUPON_DEADLINE,
    INTEREST,
    NICKNAME,
    PRODUCT_SHOWN,
    customer_targets,
    ordered_since_trigger,
)


def targets(campaign: Campaign, now: datetime) -> QuerySet:
    # The trigger is the last time the customer showed interest in a product.
    return customer_targets(campaign, now, INTEREST, Q())


def goal_reached(now: datetime) -> Q:
    return ordered_since_trigger()


KIND = CampaignKindSpec(
    targets=targets,
    goal_reached=goal_reached,
    variables={"nickname": NICKNAME, "product": PRODUCT_SHOWN, "deadline": COUPON_DEADLINE},
)
