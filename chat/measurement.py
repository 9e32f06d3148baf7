"""A shop's measurement policy: the durable-resolution window and the bot holdout.

The holdout is drawn per shopper (the signed customer, else the visitor token) by a stable hash
(``core.splits``), so a shopper in it meets the agents in each new conversation while the share stands.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from core import rows
from core.splits import bot_holdout_experiment, in_share

from .models import MeasurementPolicy

DEFAULT_WINDOW_DAYS = 7


def measurement_policy(shop_id: int) -> MeasurementPolicy:
    """The shop's policy, or the defaults (7-day window, no holdout) when it has none."""
    policy = MeasurementPolicy.objects.filter(shop_id=shop_id).first()
    return policy if policy is not None else MeasurementPolicy(shop_id=shop_id)


def window_days(shop_ids: list[int]) -> dict[int, int]:
    """Each shop's durable-resolution window in days."""
    stored = dict(MeasurementPolicy.objects.filter(shop_id__in=shop_ids).values_list("shop_id", "durable_window_days"))
    return {shop_id: stored.get(shop_id, DEFAULT_WINDOW_DAYS) for shop_id in shop_ids}


@transaction.atomic
def save_measurement_policy(policy: MeasurementPolicy) -> MeasurementPolicy:
    """The one write of a policy (the admin's): a changed holdout share restarts the comparison from now,
    since conversations drawn under another share are not one randomised group."""
    policy.full_clean(validate_unique=False)  # a second policy of the shop is merged onto its first
    before = MeasurementPolicy.objects.select_for_update().filter(shop_id=policy.shop_id).first()
    previous = before.bot_holdout_percent if before is not None else 0
    if policy.bot_holdout_percent != previous or (policy.bot_holdout_percent and policy.bot_holdout_since is None):
        policy.bot_holdout_since = timezone.now() if policy.bot_holdout_percent else None
    if before is not None:
        policy.pk = before.pk
    policy.save()
    return policy


def shopper_key(customer_id: Any, visitor_token: str) -> str:
    """Who a shopper is for a split: the customer when known, else the visitor token."""
    return f"c{customer_id}" if customer_id is not None else f"v{visitor_token}"


_HOLDOUT_SQL = f"SELECT bot_holdout_percent FROM {MeasurementPolicy._meta.db_table} WHERE shop_id = %s"


def in_bot_holdout(shop_id: int, customer_id: Any, visitor_token: str) -> bool:
    """Whether a new conversation of this shopper goes straight to the agents (the shop's bot holdout)."""
    # Read for every new conversation: plain SQL on the policy's one row per shop, not the ORM's query building.
    row = rows.first_row(_HOLDOUT_SQL, [shop_id])
    percent = row[0] if row else 0
    if not percent:
        return False
    return in_share(bot_holdout_experiment(shop_id), shopper_key(customer_id, visitor_token), percent)
