"""The all-shops view of a manager of many shops: one row of key figures per shop, a few queries in all."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Count
from django.utils import timezone

from .models import Shop
from .quota import QuotaUsage, bot_conversations_this_month, current_warnings, monthly_bot_quota


@dataclass(frozen=True)
class ShopFigures:
    shop: Shop
    usage: QuotaUsage
    waiting: int  # conversations waiting for an agent now
    open_work_orders: int
    pending_invoices: int
    open_findings: int
    warned: int | None  # the highest quota threshold (80, 100) warned about this month


def _counts(model_label: str, shop_ids: list[int], **filters) -> dict[int, int]:
    model = apps.get_model(model_label)
    rows = model.objects.filter(shop_id__in=shop_ids, **filters).values("shop_id").annotate(n=Count("pk"))
    return {row["shop_id"]: row["n"] for row in rows}


def shop_figures(shops: Iterable[Shop], now: datetime | None = None) -> list[ShopFigures]:
    shops = list(shops)
    ids = [shop.pk for shop in shops]
    now = now or timezone.now()
    # Months start at different instants in different timezones: one usage count per shop.
    used = {shop.pk: bot_conversations_this_month(shop, now) for shop in shops}
    waiting = _counts("chat.Conversation", ids, status="waiting")
    work_orders = _counts("chat.WorkOrder", ids, status__in=["open", "in_progress"])
    invoices = _counts("chat.InvoiceRequest", ids, status="requested")
    findings = _counts("analytics.QAFinding", ids, status="open")
    warned = {warning.shop_id: warning.threshold for warning in current_warnings(shops, now)}
    return [
        ShopFigures(
            shop=shop,
            usage=QuotaUsage(used=used[shop.pk], quota=monthly_bot_quota(shop)),
            waiting=waiting.get(shop.pk, 0),
            open_work_orders=work_orders.get(shop.pk, 0),
            pending_invoices=invoices.get(shop.pk, 0),
            open_findings=findings.get(shop.pk, 0),
            warned=warned.get(shop.pk),
        )
        for shop in shops
    ]
