"""The admin header's multi-shop parts: ``{% shop_switcher %}`` (staff of more than one shop) and
``{% quota_notice %}`` (managers whose shop is near or past its monthly bot-conversation quota)."""

from django import template

from shops.models import Membership
from shops.quota import current_warnings, warning_text
from shops.services import visible_shops
from shops.switcher import current_shop_id

register = template.Library()


@register.inclusion_tag("admin/shops/shop_switcher.html", takes_context=True)
def shop_switcher(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"shops": []}
    shops = list(visible_shops(user).order_by("name")[:200])
    return {
        "shops": shops if len(shops) > 1 else [],
        "current": current_shop_id(request),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("admin/shops/quota_notice.html", takes_context=True)
def quota_notice(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"notices": []}
    warnings = current_warnings(visible_shops(user, (Membership.Role.MANAGER,)))
    return {"notices": [(warning.threshold, warning_text(warning)) for warning in warnings]}
