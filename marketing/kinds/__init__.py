"""The campaign kinds: one module per ``Campaign.Kind``, registered here with one line each.

Adding a kind: docs/extending.md, "Adding a campaign kind".
"""

from ..models import Campaign
from . import cart, payment, presale_final, refund_retention, wake_up
from .base import CampaignKindSpec

Kind = Campaign.Kind

KINDS: dict[Campaign.Kind, CampaignKindSpec] = {
    Kind.WAKE_UP: wake_up.KIND,
    Kind.CART: cart.KIND,
    Kind.PAYMENT: payment.KIND,
    Kind.PRESALE_FINAL: presale_final.KIND,
    Kind.REFUND_RETENTION: refund_retention.KIND,
}

# Every name some kind declares: a template may use these (a name its own kind does not fill is left empty).
TEMPLATE_VARIABLES: tuple[str, ...] = tuple(dict.fromkeys(name for spec in KINDS.values() for name in spec.variables))
