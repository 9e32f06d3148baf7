from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from shops.models import Membership, Shop
from shops.scoping import ShopScopedAdmin, copy_to_shops
from shops.services import visible_shops

from .kinds import KINDS
from .models import BundleRule, Campaign, Coupon, FollowUpCustomer, LiveSession, Touch
from .services import CampaignResults, copy_campaign_to_shop, follow_up_candidates, with_results

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

Role = Membership.Role
FOLLOW_UP_ROLES = (Role.MANAGER, Role.AGENT)
FOLLOW_UP_LIMIT = 50


def _rate(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})" if whole else "–"


def template_help() -> str:
    """The template field's help: each campaign type with the variables it fills and what they hold."""
    kinds = (
        (kind.label, format_html_join("；", "{{{}}} {}", ((name, v.description) for name, v in spec.variables.items())))
        for kind, spec in KINDS.items()
    )
    return format_html(
        "{}<ul>{}</ul>", _("The variables each campaign type fills:"), format_html_join("", "<li>{}: {}</li>", kinds)
    )


@admin.register(Coupon)
class CouponAdmin(ShopScopedAdmin):
    list_display = ["name", "shop", "threshold", "discount", "valid_from", "valid_until", "is_active"]
    list_filter = ["shop", "is_active"]
    search_fields = ["name"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]


@admin.register(Campaign)
class CampaignAdmin(ShopScopedAdmin):
    list_display = [
        "name",
        "shop",
        "kind",
        "enabled",
        "channel",
        "sent",
        "wake_up_rate",
        "conversion",
        "refunds_retained_count",
    ]
    list_filter = ["shop", "kind", "enabled", "channel"]
    search_fields = ["name", "template"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop", "coupon"]
    actions = [copy_to_shops]
    fieldsets = [
        (None, {"fields": ["shop", "name", "kind", "enabled", "channel"]}),
        (_("Timing"), {"fields": ["delay_minutes", "window_hours", "quiet_start", "quiet_end", "daily_cap"]}),
        (_("Message"), {"fields": ["template", "coupon"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        return with_results(super().get_queryset(request))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "template":
            field.help_text = template_help()
        return field

    @admin.display(description=_("touches sent"), ordering="touches_sent")
    def sent(self, obj: "WithAnnotations[Campaign, CampaignResults]") -> int:
        return obj.touches_sent

    @admin.display(description=_("woke up within 24 h"), ordering="woken")
    def wake_up_rate(self, obj: "WithAnnotations[Campaign, CampaignResults]") -> str:
        return _rate(obj.woken, obj.touches_sent)

    @admin.display(description=_("paid within 72 h"), ordering="converted")
    def conversion(self, obj: "WithAnnotations[Campaign, CampaignResults]") -> str:
        return _rate(obj.converted, obj.touches_sent)

    @admin.display(description=_("refunds retained"), ordering="refunds_retained")
    def refunds_retained_count(self, obj: "WithAnnotations[Campaign, CampaignResults]") -> int:
        return obj.refunds_retained

    def copy_to_shop(self, obj: Campaign, shop: Shop) -> Campaign:
        return copy_campaign_to_shop(obj, shop)


@admin.register(Touch)
class TouchAdmin(ShopScopedAdmin):
    list_display = ["campaign", "customer", "channel", "status", "skip_reason", "scheduled_at", "sent_at"]
    list_filter = ["shop", "status", "channel", "campaign__kind"]
    search_fields = ["customer__nickname", "customer__external_id", "idempotency_key", "text"]
    list_select_related = ["campaign", "customer"]
    date_hierarchy = "scheduled_at"

    # Touches are written by the scan and the send tasks only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(BundleRule)
class BundleRuleAdmin(ShopScopedAdmin):
    list_display = ["product", "companion", "reason", "position", "shop"]
    list_filter = ["shop"]
    search_fields = ["product__title", "companion__title", "reason"]
    list_select_related = ["shop", "product", "companion"]
    autocomplete_fields = ["shop", "product", "companion"]


@admin.register(LiveSession)
class LiveSessionAdmin(ShopScopedAdmin):
    list_display = ["title", "shop", "starts_at", "ends_at"]
    list_filter = ["shop"]
    search_fields = ["title"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop", "featured_products"]
    date_hierarchy = "starts_at"


@admin.register(FollowUpCustomer)
class FollowUpAdmin(ShopScopedAdmin):
    """The follow-up assistant page: customers of one shop ranked by purchase intent."""

    view_roles = FOLLOW_UP_ROLES
    edit_roles = ()

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        shops = visible_shops(request.user, FOLLOW_UP_ROLES).order_by("name")
        shop_id = request.GET.get("shop")
        if shop_id is None:
            shop = shops.first()
        elif not shop_id.isdigit():
            raise Http404
        else:
            shop = shops.filter(pk=int(shop_id)).first()
            if shop is None:
                raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": _("Follow-up assistant"),
            "opts": self.model._meta,
            "shops": shops,
            "shop": shop,
            "candidates": follow_up_candidates(shop, FOLLOW_UP_LIMIT) if shop else [],
        }
        return TemplateResponse(request, "admin/marketing/follow_up.html", context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
