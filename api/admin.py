from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shops.scoping import ShopScopedAdmin

from .keys import revoke_key, save_new_key
from .models import ApiKey, Scope, WebhookDelivery, WebhookEvent, WebhookSubscription
from .publishing import retry_delivery


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["shop", "name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(ShopScopedAdmin):
    """Managers issue, scope and revoke their shops' keys. The plaintext is shown once, right after adding."""

    form = ApiKeyForm
    view_roles = ()  # keys are the managers' business only
    list_display = ["name", "shop", "display_prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["shop", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    readonly_fields = ["display_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # A key never moves to another shop: its integrations would silently read someone else's data.
        return [*self.readonly_fields, "shop"] if obj is not None else self.readonly_fields

    @admin.display(description=_("key"))
    def display_prefix(self, obj: ApiKey) -> str:
        return f"sb_{obj.prefix}_…" if obj.prefix else ""

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        assert isinstance(request.user, User)  # the admin serves signed-in staff only
        obj.created_by = request.user
        obj.issued_plaintext = save_new_key(obj)

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": _("API key created"),
            "opts": self.model._meta,
            "key": obj,
            "plaintext": obj.issued_plaintext,
        }
        response = TemplateResponse(request, "admin/api/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"  # the only copy of the key must not linger in a cache
        return response

    @admin.action(description=_("Revoke selected API keys"))
    def revoke(self, request: HttpRequest, queryset) -> None:
        keys = [revoke_key(key) for key in queryset.filter(revoked_at__isnull=True)]
        self.log_action(request, keys, "revoked_at")
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", len(keys)) % {"count": len(keys)},
            messages.SUCCESS,
        )


class WebhookSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["shop", "url", "events", "is_active", "description"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ShopScopedAdmin):
    form = WebhookSubscriptionForm
    view_roles = ()
    list_display = ["url", "shop", "event_list", "is_active", "description", "created_at"]
    list_filter = ["shop", "is_active"]
    search_fields = ["url", "description"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    readonly_fields = ["secret", "created_at"]

    @admin.display(description=_("events"))
    def event_list(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.events)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ShopScopedAdmin):
    """The delivery log: read-only, with a retry for deliveries that gave up or wait for their next attempt."""

    view_roles = ()
    list_display = [
        "event",
        "subscription",
        "shop",
        "status",
        "attempts",
        "response_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["shop", "status", "event", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["subscription__url", "last_error"]
    list_select_related = ["shop", "subscription"]
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        # The retry action changes rows; it needs the edit role, not the (read-only) change permission.
        actions = super().get_actions(request)
        if not self._allowed(request, self.edit_roles):
            actions.pop("retry", None)
        return actions

    @admin.action(description=_("Retry selected pending or failed deliveries now"))
    def retry(self, request: HttpRequest, queryset) -> None:
        retryable = queryset.exclude(status=WebhookDelivery.Status.DELIVERED)
        retried = [d for d in retryable if retry_delivery(d)]
        self.log_action(request, retried, "status", "attempts", "next_attempt_at")
        count = len(retried)
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
