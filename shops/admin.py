from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Customer, Membership, Order, OrderLine, Product, Refund, Shop
from .scoping import ShopScopedAdmin, ShopScopedInline, copy_to_shops
from .services import copy_product_to_shop

Role = Membership.Role
ORDER_READERS = (Role.MANAGER, Role.AGENT, Role.QA)


class MembershipInline(ShopScopedInline, admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Shop)
class ShopAdmin(ShopScopedAdmin):
    shop_field = "pk"
    list_display = ["name", "slug", "industry", "plan", "timezone", "is_active"]
    list_filter = ["industry", "plan", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Product)
class ProductAdmin(ShopScopedAdmin):
    list_display = ["title", "sku", "shop", "category", "price", "stock", "on_sale"]
    list_filter = ["shop", "category", "on_sale"]
    list_editable = ["on_sale"]
    search_fields = ["title", "sku", "category"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    actions = [copy_to_shops]

    def copy_to_shop(self, obj: Product, shop: Shop) -> Product:
        return copy_product_to_shop(obj, shop)


@admin.register(Customer)
class CustomerAdmin(ShopScopedAdmin):
    view_roles = ORDER_READERS
    list_display = ["external_id", "nickname", "shop", "phone", "marketing_opt_out", "created_at"]
    list_filter = ["shop", "marketing_opt_out"]
    search_fields = ["external_id", "nickname", "phone", "email"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]


class OrderLineInline(ShopScopedInline, admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ["product"]
    view_roles = ORDER_READERS


class RefundInline(ShopScopedInline, admin.TabularInline):
    model = Refund
    extra = 0
    fields = ["amount", "reason", "status", "created_at", "resolved_at"]
    readonly_fields = ["created_at"]
    view_roles = ORDER_READERS


@admin.register(Order)
class OrderAdmin(ShopScopedAdmin):
    view_roles = ORDER_READERS
    list_display = ["external_id", "shop", "customer", "status", "total_amount", "paid_amount", "created_at"]
    list_filter = ["shop", "status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["external_id", "customer__nickname", "customer__external_id", "tracking_number"]
    list_select_related = ["shop", "customer"]
    autocomplete_fields = ["shop", "customer"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, RefundInline]

    def save_formset(self, request, form, formset, change):
        # Refund rows belong to the order's shop; the inline never asks for it.
        for instance in formset.save(commit=False):
            if isinstance(instance, Refund):
                instance.shop_id = form.instance.shop_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Refund)
class RefundAdmin(ShopScopedAdmin):
    view_roles = ORDER_READERS
    list_display = ["order", "shop", "amount", "status", "reason", "created_at"]
    list_filter = ["shop", "status"]
    search_fields = ["order__external_id", "reason"]
    list_select_related = ["shop", "order"]
    autocomplete_fields = ["shop", "order"]
    readonly_fields = ["created_at"]


admin.site.empty_value_display = _("(none)")
