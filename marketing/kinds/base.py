"""What a campaign kind declares, and the columns its targets query must produce.

A kind is one module of this package exposing ``KIND = CampaignKindSpec(...)``, registered with one line in
``marketing/kinds/__init__.py``. The scan, the retiring of pending touches, the message rendering and the
campaign's validation read the registry; none of them knows the kinds by name.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import BigIntegerField, CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.functional import Promise

from ..models import Campaign, Coupon, Touch

# Touch column -> the annotation every targets query carries. The scan inserts the rows with one
# INSERT ... SELECT ... ON CONFLICT (idempotency_key) DO NOTHING: rows never pass through Python.
TARGET_COLUMNS = {
    "customer_id": "t_customer",
    "order_id": "t_order",
    "refund_id": "t_refund",
    "trigger_message_id": "t_message",
    "trigger_at": "t_trigger",
    "idempotency_key": "t_key",
}
NO_ID = Cast(Value(None), BigIntegerField())


def target_key(campaign: Campaign, what: str, id_expression) -> Concat:
    """The idempotency key ``<campaign>:<what>:<id>``: one touch per campaign and trigger."""
    return Concat(Value(f"{campaign.pk}:{what}:"), Cast(id_expression, CharField()), output_field=CharField())


@dataclass(frozen=True)
class TouchContext:
    """What the template variables are filled from when a touch is sent."""

    touch: Touch
    tz: ZoneInfo
    # The product card sent with the touch, or the order line's title when its product is gone.
    product_title: str
    # The campaign's coupon when it is valid now, else None.
    coupon: Coupon | None


@dataclass(frozen=True)
class TemplateVariable:
    description: str | Promise
    fill: Callable[[TouchContext], str]


@dataclass(frozen=True)
class CampaignKindSpec:
    # Rows of the due targets, annotated with every TARGET_COLUMNS alias; the scan filters nothing more.
    targets: Callable[[Campaign, datetime], QuerySet]
    # On Touch: the campaign's goal happened (or can no longer happen); pending touches are then skipped.
    goal_reached: Callable[[datetime], Q]
    # ``{name}`` -> variable, in the order the admin lists them.
    variables: Mapping[str, TemplateVariable]
    # Extra checks of a campaign of this kind, run by Campaign.clean(); each raises ValidationError.
    checks: tuple[Callable[[Campaign], None], ...] = field(default=())
