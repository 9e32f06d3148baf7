"""Who may see which shop: the one place every admin page, API view and socket asks."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from .models import Membership, Product, Shop

ALL_ROLES: tuple[str, ...] = tuple(Membership.Role.values)


def visible_shops(user: AbstractBaseUser | AnonymousUser, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Shop]:
    """Shops in which ``user`` holds one of ``roles``; every shop for a superuser, none for anonymous."""
    if not user.is_authenticated or not user.is_active:
        return Shop.objects.none()
    if user.is_superuser:
        return Shop.objects.all()
    return Shop.objects.filter(memberships__user=user, memberships__role__in=list(roles)).distinct()


def visible_shop_ids(user: AbstractBaseUser | AnonymousUser, roles: Iterable[str] = ALL_ROLES) -> set[int]:
    return set(visible_shops(user, roles).values_list("pk", flat=True))


def has_shop_role(user: AbstractBaseUser | AnonymousUser, shop_id: int, roles: Iterable[str] = ALL_ROLES) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, shop_id=shop_id, role__in=list(roles)).exists()


def copy_product_to_shop(product: Product, shop: Shop) -> Product:
    """Put the product into another shop's catalogue, refreshing the row with the same SKU there."""
    fields = ["title", "category", "price", "colors", "sizes", "uses", "selling_points", "stock", "on_sale"]
    copy, _ = Product.objects.update_or_create(
        shop=shop, sku=product.sku, defaults={name: getattr(product, name) for name in fields}
    )
    return copy
