from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from shops.models import Membership
from shops.scoping import ShopScopedAdmin, ShopScopedInline, take_saved

from . import assignment
from .models import AgentSeat, Conversation, InvoiceRequest, Message, ServiceDesk, WorkOrder
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


@admin.register(ServiceDesk)
class ServiceDeskAdmin(ShopScopedAdmin):
    """A shop's assignment rule and away message; managers edit, agents see."""

    view_roles = SERVICE_STAFF
    list_display = ["shop", "rule"]
    list_filter = ["shop", "rule"]
    list_select_related = ["shop"]

    def save_model(self, request, obj, form, change):
        assignment.save_desk(obj)


@admin.register(AgentSeat)
class AgentSeatAdmin(ShopScopedAdmin):
    """Each agent's maximum of concurrent chats and skill group per shop, set by managers; presence is the
    agent's own (the console's switch)."""

    view_roles = SERVICE_STAFF
    list_display = ["user", "shop", "presence", "max_chats", "skill_group", "last_assigned_at"]
    list_editable = ["max_chats", "skill_group"]
    list_filter = ["shop", "presence", "skill_group"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user", "shop"]
    fields = ["user", "shop", "presence", "max_chats", "skill_group", "last_assigned_at", "presence_changed_at"]
    readonly_fields = ["user", "shop", "presence", "last_assigned_at", "presence_changed_at"]

    def has_add_permission(self, request):
        return False  # a seat is made when the agent first opens a console

    def save_model(self, request, obj, form, change):
        assignment.save_seat(obj)
