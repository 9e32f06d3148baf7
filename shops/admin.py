from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.widgets import UnfoldAdminPasswordWidget

from core import crypto

from . import llm
from .models import (
    Customer,
    EmbedOrigin,
    Holiday,
    Membership,
    ModelProvider,
    ModelUsage,
    OpeningHours,
    Order,
    OrderLine,
    Product,
    QuotaWarning,
    Refund,
    Shop,
)
from .overview import shop_figures
from .quota import current_warnings, quota_usage, warning_text
from .scoping import CURRENT_SHOP_SESSION_KEY, ShopScopedAdmin, ShopScopedInline, copy_to_shops, take_saved
from .services import copy_product_to_shop, update_products, visible_shops

Role = Membership.Role
ORDER_READERS = (Role.MANAGER, Role.AGENT, Role.QA)


class MembershipInline(ShopScopedInline, admin.TabularInline):
    model = Membership
    extra = 0


class OpeningHoursInline(ShopScopedInline, admin.TabularInline):
    """Weekly service hours in the shop's timezone: outside them a hand-off becomes a left message."""

    model = OpeningHours
    extra = 0


class HolidayInline(ShopScopedInline, admin.TabularInline):
    model = Holiday
    extra = 0


class EmbedOriginInline(ShopScopedInline, admin.TabularInline):
    """The sites allowed to embed the chat widget (docs/chat.md#the-widget)."""

    model = EmbedOrigin
    extra = 0
    fields = ["origin", "created_at"]
    readonly_fields = ["created_at"]


def format_usage(used: int, quota: int | None) -> str:
    if quota is None:
        return _("%(used)d (no limit)") % {"used": used}
    return f"{used} / {quota} ({used * 100 // quota}%)"


@admin.register(Shop)
class ShopAdmin(ShopScopedAdmin):
    shop_field = "pk"
    list_display = ["name", "slug", "industry", "plan", "bot_usage", "timezone", "is_active", "chat_page"]
    list_filter = ["industry", "plan", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["bot_usage"]
    # The plan decides the monthly bot quota: what a shop pays for is the platform's to set, not its manager's.
    billing_fields = ["plan"]
    inlines = [MembershipInline, OpeningHoursInline, HolidayInline, EmbedOriginInline]
    change_list_template = "admin/shops/shop/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else [*fields, *self.billing_fields]

    @admin.display(description=_("Shop chat page"))
    def chat_page(self, obj: Shop):
        url = reverse("chat:shopper", args=[obj.slug])
        link = '<a class="text-primary-600 underline" href="{}" target="_blank" rel="noopener">{}</a>'
        return format_html(link, url, url)

    @admin.display(description=_("bot conversations this month"))
    def bot_usage(self, obj: Shop) -> str:
        if obj.pk is None:
            return "-"
        usage = quota_usage(obj)
        return format_usage(usage.used, usage.quota)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("overview/", wrap(self.overview_view), name="shops_shop_overview"),
            path("switch/", wrap(self.switch_shop_view), name="shops_shop_switch"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        for warning in current_warnings(visible_shops(request.user, (Role.MANAGER,))):
            messages.warning(request, warning_text(warning))
        return super().changelist_view(request, extra_context)

    def overview_view(self, request: HttpRequest) -> TemplateResponse:
        """All shops at a glance, whatever the shop switcher is set to."""
        if not self.has_module_permission(request) and not visible_shops(request.user).exists():
            raise PermissionDenied
        figures = shop_figures(visible_shops(request.user).order_by("name"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("All my shops"),
            "opts": self.model._meta,
            "rows": [(f, format_usage(f.usage.used, f.usage.quota)) for f in figures],
        }
        return TemplateResponse(request, "admin/shops/shop/overview.html", context)

    def switch_shop_view(self, request: HttpRequest) -> HttpResponse:
        """The shop switcher: narrows every admin page to one shop, or back to all of them."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        choice = request.POST.get("shop", "")
        if choice == "":
            request.session.pop(CURRENT_SHOP_SESSION_KEY, None)
        elif choice.isdigit() and visible_shops(request.user).filter(pk=int(choice)).exists():
            request.session[CURRENT_SHOP_SESSION_KEY] = int(choice)
        else:
            raise PermissionDenied
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = reverse("admin:index")
        return HttpResponseRedirect(target)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


def _set_on_sale(modeladmin: ShopScopedAdmin, request: HttpRequest, queryset, on_sale: bool) -> None:
    count = update_products(queryset, on_sale=on_sale)
    text = (
        ngettext("%(count)d product put on sale.", "%(count)d products put on sale.", count)
        if on_sale
        else ngettext("%(count)d product taken off sale.", "%(count)d products taken off sale.", count)
    )
    modeladmin.message_user(request, text % {"count": count}, messages.SUCCESS)


@admin.action(description=_("Put the selected products on sale"), permissions=["change"])
def put_on_sale(modeladmin: ShopScopedAdmin, request: HttpRequest, queryset) -> None:
    _set_on_sale(modeladmin, request, queryset, True)


@admin.action(description=_("Take the selected products off sale"), permissions=["change"])
def take_off_sale(modeladmin: ShopScopedAdmin, request: HttpRequest, queryset) -> None:
    _set_on_sale(modeladmin, request, queryset, False)


@admin.register(Product)
class ProductAdmin(ShopScopedAdmin):
    list_display = ["title", "sku", "shop", "category", "price", "stock", "warranty_months", "on_sale"]
    list_filter = ["shop", "category", "on_sale"]
    list_editable = ["on_sale"]
    search_fields = ["title", "sku", "category"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    actions = [copy_to_shops, put_on_sale, take_off_sale]

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


@admin.register(QuotaWarning)
class QuotaWarningAdmin(ShopScopedAdmin):
    view_roles = ()
    list_display = ["shop", "month", "threshold", "used", "quota", "created_at"]
    list_filter = ["shop", "threshold"]
    list_select_related = ["shop"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


admin.site.empty_value_display = _("(none)")  # type: ignore[assignment]  # lazy, as Django allows; stubs say str


class ModelProviderForm(forms.ModelForm):
    """The provider form: the key is write-only (blank keeps the stored one) and the endpoint is checked as
    every URL a shop types (core.outbound)."""

    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        max_length=500,
        widget=UnfoldAdminPasswordWidget(attrs={"autocomplete": "off"}, render_value=False),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the current key."),
    )

    class Meta:
        model = ModelProvider
        fields = [
            "shop",
            "enabled",
            "base_url",
            "model",
            "api_key",
            "timeout_seconds",
            "monthly_token_budget",
            "input_price",
            "output_price",
        ]

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"].strip()
        try:
            llm.validate_base_url(url)
        except llm.TargetRefused as refused:
            raise forms.ValidationError(
                _("This endpoint cannot be used: %(reason)s"), params=refused.__dict__
            ) from None
        return url

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("enabled") and not cleaned.get("api_key") and not self.instance.api_key_sealed:
            self.add_error("api_key", _("An enabled model needs an API key (any text for a model without one)."))
        return cleaned


@admin.register(ModelProvider)
class ModelProviderAdmin(ShopScopedAdmin):
    """A shop's large model (docs/llm.md): managers set it up; the month's use is shown beside it."""

    form = ModelProviderForm
    view_roles = (Role.MANAGER,)
    list_display = ["shop", "enabled", "model", "base_url", "key_hint", "month_use", "updated_at"]
    list_filter = ["shop", "enabled"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    readonly_fields = ["key_hint", "month_use"]

    def get_fields(self, request: HttpRequest, obj=None):
        fields = list(ModelProviderForm.Meta.fields)
        return [*fields, "key_hint", "month_use"] if obj is not None else fields

    @admin.display(description=_("stored key"))
    def key_hint(self, obj: ModelProvider) -> str:
        return crypto.hint(crypto.decrypt_text(obj.api_key_sealed)) if obj.api_key_sealed else "—"

    @admin.display(description=_("this month"))
    def month_use(self, obj: ModelProvider) -> str:
        used = llm.month_usage([obj.shop])[obj.shop_id]
        return _("%(tokens)s of %(budget)s tokens, %(cost)s yuan, %(calls)s calls") % {
            "tokens": f"{used.tokens:,}",
            "budget": f"{obj.monthly_token_budget:,}",
            "cost": f"{used.cost:.2f}",
            "calls": used.calls,
        }

    def save_model(self, request: HttpRequest, obj: ModelProvider, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in ModelProviderForm.Meta.fields if name != "api_key"}
        take_saved(obj, llm.save_provider(obj, form.cleaned_data.get("api_key", ""), **fields))


@admin.register(ModelUsage)
class ModelUsageAdmin(ShopScopedAdmin):
    view_roles = (Role.MANAGER,)
    list_display = ["created_at", "shop", "purpose", "outcome", "error", "prompt_tokens", "completion_tokens", "cost"]
    list_filter = ["shop", "purpose", "outcome", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["shop"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
