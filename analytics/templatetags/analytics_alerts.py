from django import template

from shops.models import Membership
from shops.services import visible_shop_ids

register = template.Library()
Role = Membership.Role


@register.inclusion_tag("analytics/alert_bar.html", takes_context=True)
def alert_bar(context) -> dict:
    """The links to the QA and KPI pages, and the live alert bar for managers and QA reviewers."""
    user = context["request"].user
    return {
        "alerts": bool(visible_shop_ids(user, (Role.MANAGER, Role.QA))),
        "manages": bool(visible_shop_ids(user, (Role.MANAGER,))),
        "trains": bool(visible_shop_ids(user, (Role.MANAGER, Role.AGENT))),
    }
