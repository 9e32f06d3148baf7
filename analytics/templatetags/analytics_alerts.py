from django import template

from shops.services import visible_shop_ids

from ..roles import QA_ROLES

register = template.Library()


@register.inclusion_tag("analytics/alert_bar.html", takes_context=True)
def alert_bar(context) -> dict:
    """The live alert bar for managers and QA reviewers (the pages are in the sidebar, config.backoffice)."""
    return {"alerts": bool(visible_shop_ids(context["request"].user, QA_ROLES))}
