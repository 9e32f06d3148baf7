"""Multi-shop tool: copy a campaign (and its coupon) into another shop."""

from shops.models import Shop

from ..models import Campaign, Coupon

CAMPAIGN_FIELDS = [
    "kind",
    "enabled",
    "delay_minutes",
    "window_hours",
    "quiet_start",
    "quiet_end",
    "template",
    "daily_cap",
    "channel",
]
COUPON_FIELDS = ["threshold", "discount", "valid_from", "valid_until", "is_active"]


def copy_campaign_to_shop(campaign: Campaign, shop: Shop) -> Campaign:
    """Create or refresh the campaign of the same name in ``shop``; its coupon is copied by name too."""
    coupon = None
    if campaign.coupon is not None:
        coupon, _ = Coupon.objects.update_or_create(
            shop=shop,
            name=campaign.coupon.name,
            defaults={name: getattr(campaign.coupon, name) for name in COUPON_FIELDS},
        )
    copy, _ = Campaign.objects.update_or_create(
        shop=shop,
        name=campaign.name,
        defaults={**{name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}, "coupon": coupon},
    )
    return copy
