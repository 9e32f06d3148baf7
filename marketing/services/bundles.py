"""搭配 and 凑单: what goes with a product or cart, and the cheapest add-on reaching the next 满减."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from shops.models import Order, OrderLine, Product, Shop

from ..models import BundleRule, Coupon
from ..money import yuan

# Orders that say nothing about what people buy together.
IGNORED_ORDER_STATUSES = (Order.Status.CLOSED, Order.Status.REFUNDED)


@dataclass(frozen=True)
class BundleSuggestion:
    product: Product
    reason: str
    bought_together: int = 0


def bundle_suggestions(shop: Shop, product_ids: Iterable[int], limit: int = 3) -> list[BundleSuggestion]:
    """Products to suggest with ``product_ids`` (a product or a cart): the shop's own rules first, in
    their order, then the products most often in the same orders. Only on-sale, in-stock products of
    ``shop`` that are not already in the cart."""
    base = set(Product.objects.filter(shop=shop, pk__in=list(product_ids)).values_list("pk", flat=True))
    if not base or limit <= 0:
        return []
    available = Product.objects.filter(shop=shop, on_sale=True, stock__gt=0).exclude(pk__in=base)
    suggestions: list[BundleSuggestion] = []
    seen: set[int] = set()
    rules = (
        BundleRule.objects.filter(shop=shop, product__in=base, companion__in=available)
        .select_related("companion")
        .order_by("position", "pk")
    )
    for rule in rules:
        if rule.companion_id not in seen:
            seen.add(rule.companion_id)
            suggestions.append(BundleSuggestion(rule.companion, rule.reason or "店铺推荐搭配"))
    if len(suggestions) < limit:
        together = (
            OrderLine.objects.filter(order__shop=shop, order__lines__product__in=base, product__in=available)
            .exclude(order__status__in=IGNORED_ORDER_STATUSES)
            .exclude(product__in=seen)
            .values("product")
            .annotate(orders=Count("order", distinct=True))
            .order_by("-orders", "product")[: limit - len(suggestions)]
        )
        counts = {row["product"]: row["orders"] for row in together}
        products = Product.objects.in_bulk(list(counts))
        for product_id, orders in counts.items():
            suggestions.append(
                BundleSuggestion(products[product_id], f"{orders} 位顾客一起买过", bought_together=orders)
            )
    return suggestions[:limit]


@dataclass(frozen=True)
class AddonSuggestion:
    coupon: Coupon
    gap: Decimal
    products: list[Product]
    text: str


def usable_coupons(shop: Shop, now: datetime | None = None) -> list[Coupon]:
    now = now or timezone.now()
    return list(Coupon.objects.filter(shop=shop, is_active=True, valid_from__lte=now, valid_until__gt=now))


def addon_suggestions(
    shop: Shop,
    cart_total: Decimal,
    coupons: Iterable[Coupon] | None = None,
    *,
    exclude_product_ids: Iterable[int] = (),
    limit: int = 3,
) -> AddonSuggestion | None:
    """凑单: the nearest 满减 threshold above ``cart_total`` and the cheapest on-sale, in-stock products
    that reach it alone. ``coupons`` defaults to the shop's usable coupons. None when no coupon's
    threshold is above the cart, or no single product reaches it."""
    cart_total = Decimal(cart_total)
    candidates = [c for c in (usable_coupons(shop) if coupons is None else coupons) if c.shop_id == shop.pk]
    above = sorted((c for c in candidates if c.threshold > cart_total), key=lambda c: (c.threshold, -c.discount))
    for coupon in above:
        gap = coupon.threshold - cart_total
        products = list(
            Product.objects.filter(shop=shop, on_sale=True, stock__gt=0, price__gte=gap)
            .exclude(pk__in=list(exclude_product_ids))
            .order_by("price", "pk")[:limit]
        )
        if products:
            text = f"再买 ¥{yuan(gap)} 就能用{coupon.label}的券"
            return AddonSuggestion(coupon=coupon, gap=gap, products=products, text=text)
    return None
