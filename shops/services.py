"""Who may see which shop: the one place every admin page, API view and socket asks."""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.caching import bump
from core.models import ChangeStamp

from .models import Customer, Membership, Order, OrderLine, Product, Shop

ALL_ROLES: tuple[str, ...] = tuple(Membership.Role.values)


def visible_shops(user: User | AnonymousUser, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Shop]:
    """Shops in which ``user`` holds one of ``roles``; every shop for a superuser, none for anonymous."""
    if not user.is_authenticated or not user.is_active:
        return Shop.objects.none()
    if user.is_superuser:
        return Shop.objects.all()
    return Shop.objects.filter(memberships__user=user, memberships__role__in=list(roles)).distinct()


def visible_shop_ids(user: User | AnonymousUser, roles: Iterable[str] = ALL_ROLES) -> set[int]:
    return set(visible_shops(user, roles).values_list("pk", flat=True))


def has_shop_role(user: User | AnonymousUser, shop_id: int, roles: Iterable[str] = ALL_ROLES) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, shop_id=shop_id, role__in=list(roles)).exists()


def copy_product_to_shop(product: Product, shop: Shop) -> Product:
    """Put the product into another shop's catalogue, refreshing the row with the same SKU there."""
    fields = [
        "title", "category", "price", "colors", "sizes", "uses", "selling_points", "stock", "warranty_months",
        "on_sale", "image_url",
    ]  # fmt: skip
    copy, _ = Product.objects.update_or_create(
        shop=shop, sku=product.sku, defaults={name: getattr(product, name) for name in fields}
    )
    return copy


def update_products(products: QuerySet[Product], **values: Any) -> int:
    """Write ``values`` to every product of ``products`` in one UPDATE; returns how many rows changed.

    ``update()`` sends no signal, so the catalogue stamp of every shop it touched is bumped here: each
    process's dialogue sees the change as it sees a saved product.
    """
    with transaction.atomic():
        shop_ids = set(products.order_by().values_list("shop_id", flat=True).distinct())
        updated = products.update(**values, updated_at=timezone.now())
        for shop_id in shop_ids:
            bump(shop_id, ChangeStamp.Kind.CATALOGUE)
    return updated


# Upserts by external id, for the open API's product, customer and order sync. Each returns, per item,
# the row and what happened to it: "created", "updated" or "unchanged" (nothing written, so a repeated
# identical call leaves every timestamp alone).
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
M = TypeVar("M", bound=models.Model)


def _upsert_row(model: type[M], shop: Shop, key: dict[str, Any], values: dict[str, Any]) -> tuple[M, str]:
    row = model._default_manager.filter(shop=shop, **key).first()
    if row is None:
        return model._default_manager.create(shop=shop, **key, **values), CREATED
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return row, UNCHANGED
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=[*changed, *(["updated_at"] if hasattr(row, "updated_at") else [])])
    return row, UPDATED


@transaction.atomic
def upsert_products(shop: Shop, items: list[dict[str, Any]]) -> list[tuple[Product, str]]:
    return [_upsert_row(Product, shop, {"sku": item["sku"]}, _without(item, "sku")) for item in items]


@transaction.atomic
def upsert_customers(shop: Shop, items: list[dict[str, Any]]) -> list[tuple[Customer, str]]:
    return [
        _upsert_row(Customer, shop, {"external_id": item["external_id"]}, _without(item, "external_id"))
        for item in items
    ]


LINE_FIELDS = ("product", "title", "color", "size", "unit_price", "quantity")


@transaction.atomic
def upsert_orders(shop: Shop, items: list[dict[str, Any]]) -> list[tuple[Order, str]]:
    """Orders with their lines; ``item["lines"]`` replaces the order's lines when it differs from them."""
    results = []
    for item in items:
        lines = item.get("lines")
        order, outcome = _upsert_row(
            Order, shop, {"external_id": item["external_id"]}, _without(item, "external_id", "lines")
        )
        if lines is not None:
            wanted = [tuple(line.get(name, _LINE_DEFAULTS.get(name)) for name in LINE_FIELDS) for line in lines]
            stored = [tuple(getattr(line, name) for name in LINE_FIELDS) for line in order.lines.order_by("pk")]
            if wanted != stored:
                order.lines.all().delete()
                OrderLine.objects.bulk_create(
                    OrderLine(order=order, **dict(zip(LINE_FIELDS, values, strict=True))) for values in wanted
                )
                if outcome == UNCHANGED:
                    order.save(update_fields=["updated_at"])
                    outcome = UPDATED
        results.append((order, outcome))
    return results


_LINE_DEFAULTS = {"product": None, "color": "", "size": "", "quantity": 1}


def _without(item: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in names}
