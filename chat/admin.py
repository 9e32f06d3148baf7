from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.models import Membership
from shops.scoping import ShopScopedAdmin, ShopScopedInline, take_saved

from .models import CannedReply, Conversation, InvoiceRequest, Message, SlaBreach, SlaPolicy, WorkOrder
from .records import open_work_order, request_invoice, update_invoice_request, update_work_order
from .services import ChatError, close_as_staff

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
        # Through the services the API calls: webhooks fire and a resolved order is told to the shopper.
        if change:
            update_work_order(obj, **{name: form.cleaned_data[name] for name in form.changed_data})
            return
        fields = dict(form.cleaned_data)
        take_saved(obj, open_work_order(fields.pop("shop").pk, fields.pop("kind"), fields.pop("details"), **fields))


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

    def save_model(self, request, obj, form, change):
        # Through the services the chat and the API call: the request's webhook fires, an issued invoice
        # gets its time and the shopper their link.
        if change:
            update_invoice_request(obj, **{name: form.cleaned_data[name] for name in form.changed_data})
            return
        fields = dict(form.cleaned_data)
        status = fields.pop("status")
        invoice = request_invoice(
            fields.pop("conversation"), fields.pop("shop").pk, fields.pop("title"), fields.pop("tax_id"), **fields
        )
        if status != invoice.status:
            invoice = update_invoice_request(invoice, status=status)
        take_saved(obj, invoice)


class MessageInline(ShopScopedInline, admin.TabularInline):
    """The transcript, read-only: messages are only ever written by the chat itself."""

    model = Message
    fields = readonly_fields = ("created_at", "sender", "agent", "text", "intent", "confidence")
    extra = 0
    can_delete = False
    show_change_link = False
    view_roles = SERVICE_STAFF
    edit_roles = ()


@admin.register(Conversation)
class ConversationAdmin(ShopScopedAdmin):
    view_roles = SERVICE_STAFF
    edit_roles = SERVICE_STAFF
    list_display = [
        "id",
        "shop",
        "customer",
        "status",
        "assigned_agent",
        "handoff_reason",
        "satisfaction",
        "started_at",
        "last_message_at",
    ]
    list_filter = ["shop", "status", "channel", "handoff_reason", "satisfaction"]
    search_fields = ["customer__nickname", "customer__external_id", "visitor_token", "messages__text"]
    list_select_related = ["shop", "customer", "assigned_agent"]
    date_hierarchy = "started_at"
    fields = readonly_fields = (
        "shop",
        "customer",
        "visitor_token",
        "channel",
        "status",
        "assigned_agent",
        "handoff_reason",
        "handed_over_at",
        "service_group",
        "started_at",
        "last_message_at",
        "ended_at",
        "satisfaction",
        "state",
    )
    inlines = [MessageInline]
    actions = ["close_selected"]

    def has_add_permission(self, request):
        return False  # conversations start in the chat, never in the admin

    def has_delete_permission(self, request, obj=None):
        return False  # transcripts are records; quality inspection and analytics read them

    @admin.action(description=_("Close selected conversations (the shopper is asked for a rating)"))
    def close_selected(self, request, queryset):
        closed = []
        still_open = queryset.exclude(status=Conversation.Status.CLOSED)
        for conversation_id in still_open.values_list("pk", flat=True):
            try:  # the chat service, with the agent console's check of who serves which shop
                closed.append(close_as_staff(request.user, conversation_id))
            except ChatError:
                continue  # closed meanwhile (by its agent, the shopper's idle close)
        self.log_action(request, closed, "status", "ended_at")
        self.message_user(request, _("%(count)d conversations closed.") % {"count": len(closed)}, messages.SUCCESS)


@admin.register(CannedReply)
class CannedReplyAdmin(ShopScopedAdmin):
    """快捷短语 and macros: managers keep the shop's, every agent their own personal ones. A personal reply
    is only ever its owner's to see and change, a shop-wide one only a manager's to change."""

    view_roles = SERVICE_STAFF
    edit_roles = SERVICE_STAFF
    list_display = ["shortcut", "category", "shop", "owner", "text", "add_tag", "transfer_group", "close_after"]
    list_filter = ["shop", "category", "transfer_group", "close_after"]
    search_fields = ["shortcut", "category", "text"]
    list_select_related = ["shop", "owner"]
    fields = ["shop", "owner", "category", "shortcut", "text", "add_tag", "transfer_group", "close_after"]

    def _manages(self, request, shop_id: int | None) -> bool:
        return self._allowed(request, (Role.MANAGER,), shop_id)

    def get_queryset(self, request):
        # Personal replies are their owner's alone, a manager's or superuser's included.
        return super().get_queryset(request).filter(Q(owner__isnull=True) | Q(owner=request.user))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.owner_id is None and not self._manages(request, obj.shop_id):
            return False  # an agent reads the shop's replies and uses them in the console
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "owner" and field is not None:
            field.queryset = field.queryset.model.objects.filter(pk=request.user.pk)
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        model_admin = self

        class CannedReplyForm(form):
            def clean(self):
                cleaned = super().clean()
                shop = cleaned.get("shop")
                if shop is not None and cleaned.get("owner") is None and not model_admin._manages(request, shop.pk):
                    self.add_error("owner", _("Only the shop's managers write shop-wide replies: make it yours."))
                return cleaned

        return CannedReplyForm


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ShopScopedAdmin):
    view_roles = SERVICE_STAFF
    list_display = [
        "shop",
        "first_response_minutes",
        "next_response_minutes",
        "business_hours_only",
        "opens_at",
        "closes_at",
        "business_days",
    ]
    list_select_related = ["shop"]


@admin.register(SlaBreach)
class SlaBreachAdmin(ShopScopedAdmin):
    """Missed response targets, as the periodic check recorded them: read only."""

    view_roles = SERVICE_STAFF
    edit_roles = ()
    list_display = ["conversation", "shop", "kind", "agent", "started_at", "due_at", "created_at"]
    list_filter = ["shop", "kind"]
    list_select_related = ["shop", "agent", "conversation"]
    date_hierarchy = "created_at"
    fields = readonly_fields = ("shop", "conversation", "kind", "agent", "started_at", "due_at", "created_at")
