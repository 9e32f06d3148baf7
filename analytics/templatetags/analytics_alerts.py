from django import template

from shops.services import visible_shop_ids

from ..roles import MANAGER_ROLES, QA_ROLES, TRAINING_ROLES

register = template.Library()


@register.inclusion_tag("analytics/alert_bar.html", takes_context=True)
def alert_bar(context) -> dict:
    """The links to the QA and KPI pages, and the live alert bar for managers and QA reviewers."""
    user = context["request"].user
    return {
        "alerts": bool(visible_shop_ids(user, QA_ROLES)),
        "manages": bool(visible_shop_ids(user, MANAGER_ROLES)),
        "trains": bool(visible_shop_ids(user, TRAINING_ROLES)),
    }
