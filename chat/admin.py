from django.contrib import admin

from shops.models import Membership
from shops.scoping import ShopScopedAdmin

from .models import InvoiceRequest, WorkOrder
from .records import update_work_order

Role = Membership.Role
SERVICE_STAFF = (Role.MANAGER, Role.AGENT)


@admin.register(WorkOrder)
class WorkOrderAdmin(ShopScopedAdmin):
    edit_roles = SERVICE_STAFF
    list_display = ["id", "shop", "kind", "status", "order", "assignee", "due_at", "created_at"]
    list_filter = ["shop", "kind", "status"]
    search_fields = ["details", "order__external_id", "customer__nickname"]
    list_select_related = ["shop", "order", "assignee"]
    autocomplete_fields = ["shop", "order", "customer"]
    raw_id_fields = ["conversation"]
    readonly_fields = ["created_at", "updated_at", "resolved_at"]

    def save_model(self, request, obj, form, change):
        if change:
            # Through the service: webhooks fire and a resolved order is told to the shopper.
            update_work_order(obj, **{name: form.cleaned_data[name] for name in form.changed_data})
        else:
            super().save_model(request, obj, form, change)


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(ShopScopedAdmin):
    edit_roles = SERVICE_STAFF
    list_display = ["title", "tax_id", "shop", "status", "order", "email", "created_at"]
    list_filter = ["shop", "status"]
    search_fields = ["title", "tax_id", "email", "order__external_id"]
    list_select_related = ["shop", "order"]
    autocomplete_fields = ["shop", "order", "customer"]
    raw_id_fields = ["conversation"]
    readonly_fields = ["created_at", "updated_at", "issued_at"]
