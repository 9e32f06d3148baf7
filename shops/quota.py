"""Plans and the basic plan's monthly bot-conversation quota.

Every feature is on every plan; the plans differ only in how many conversations the bot may take per
calendar month (in the shop's timezone). Past the quota a basic shop's new conversations start with the
human agents instead: never dropped. Managers are warned once a month at 80% and at 100%.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import shoptime

from .models import QuotaWarning, Shop
from .signals import quota_warning

# Conversation.handoff_reason of a conversation that went straight to agents because of the quota; those
# are not bot conversations and do not count against it.
QUOTA_HANDOFF_REASON = "quota"
# ... and of one the shop's bot holdout (chat.MeasurementPolicy) sent straight to agents: no bot conversation either.
HOLDOUT_HANDOFF_REASON = "bot_holdout"
# Conversations the bot never serves.
WITHOUT_BOT_REASONS = (QUOTA_HANDOFF_REASON, HOLDOUT_HANDOFF_REASON)


def monthly_bot_quota(shop: Shop) -> int | None:
    """Bot conversations per month the shop's plan includes; None for no limit."""
    if shop.plan == Shop.Plan.UNLIMITED:
        return None
    return settings.SHOPBEE_BASIC_MONTHLY_BOT_CONVERSATIONS


def month_start(shop: Shop, now: datetime | None = None) -> datetime:
    """The first moment of the shop's current calendar month, in the shop's timezone."""
    return shoptime.month_start(now or timezone.now(), shop.tz)


def bot_conversations_this_month(shop: Shop, now: datetime | None = None, *, up_to: int | None = None) -> int:
    """The month's bot conversations; with ``up_to``, counted no further than that (enough to compare
    with a quota, and it keeps a busy shop's check from reading its whole month on every new chat)."""
    conversation = apps.get_model("chat", "Conversation")
    started = conversation.objects.filter(shop=shop, started_at__gte=month_start(shop, now)).exclude(
        handoff_reason__in=WITHOUT_BOT_REASONS
    )
    return started[:up_to].count() if up_to is not None else started.count()


@dataclass(frozen=True)
class QuotaUsage:
    used: int
    quota: int | None

    @property
    def percent(self) -> int | None:
        return None if not self.quota else self.used * 100 // self.quota

    @property
    def exceeded(self) -> bool:
        return self.quota is not None and self.used >= self.quota


def quota_usage(shop: Shop, now: datetime | None = None) -> QuotaUsage:
    return QuotaUsage(used=bot_conversations_this_month(shop, now), quota=monthly_bot_quota(shop))


def bot_quota_exceeded(shop: Shop, now: datetime | None = None) -> bool:
    """True when a new conversation of this shop must go to human agents instead of the bot."""
    quota = monthly_bot_quota(shop)
    return quota is not None and bot_conversations_this_month(shop, now, up_to=quota) >= quota


def warn_quota_thresholds(shop: Shop, now: datetime | None = None) -> list[QuotaWarning]:
    """Record (and announce with ``quota_warning``) each threshold the month's usage reached for the first time."""
    quota = monthly_bot_quota(shop)
    if quota is None:
        return []  # checked on every new conversation: an unlimited shop's month is never counted
    usage = QuotaUsage(used=bot_conversations_this_month(shop, now, up_to=quota), quota=quota)
    month: date = month_start(shop, now).date()
    reached = [t for t in QuotaWarning.Threshold.values if usage.used * 100 >= t * quota]
    if not reached:
        return []  # most of the month: no need to read which warnings were given
    already = set(QuotaWarning.objects.filter(shop=shop, month=month).values_list("threshold", flat=True))
    warnings = []
    for threshold in sorted(set(reached) - already):
        try:
            with transaction.atomic():
                warning = QuotaWarning.objects.create(
                    shop=shop, month=month, threshold=threshold, used=usage.used, quota=quota
                )
        except IntegrityError:
            continue  # another worker warned for this threshold a moment ago
        quota_warning.send(sender=QuotaWarning, warning=warning)
        warnings.append(warning)
    return warnings


def current_warnings(shops: Iterable[Shop], now: datetime | None = None) -> list[QuotaWarning]:
    """This month's highest quota warning of each of ``shops`` that has one."""
    shops = list(shops)
    months = {shop.pk: month_start(shop, now).date() for shop in shops}
    if not months:
        return []
    highest: dict[int, QuotaWarning] = {}
    recent = QuotaWarning.objects.filter(shop__in=shops, month__gte=min(months.values())).select_related("shop")
    for warning in recent.order_by("threshold"):
        if warning.month == months[warning.shop_id]:
            highest[warning.shop_id] = warning
    return list(highest.values())


def warning_text(warning: QuotaWarning) -> str:
    if warning.threshold >= QuotaWarning.Threshold.REACHED:
        return _("%(shop)s has used its %(quota)d bot conversations this month: new conversations go to agents.") % {
            "shop": warning.shop,
            "quota": warning.quota,
        }
    return _("%(shop)s has used %(used)d of its %(quota)d bot conversations this month.") % {
        "shop": warning.shop,
        "used": warning.used,
        "quota": warning.quota,
    }
