from django.contrib import admin, messages
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shops.models import Membership
from shops.scoping import ShopScopedAdmin, take_saved

from . import assignment
from .intents import HANDOFF_REASON_LABELS, handoff_reason_label, intent_label
from .measurement import save_measurement_policy
from .models import (
    AgentSeat,
    CannedReply,
    Conversation,
    InvoiceRequest,
    MeasurementPolicy,
    Message,
    ServiceDesk,
    SlaBreach,
    SlaPolicy,
    WorkOrder,
)
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


TRANSCRIPT_LIMIT = 500


def transcript_rows(conversation: Conversation) -> list[dict]:
    """The conversation as people read it: who said what and when (the shop's local time), what the bot
    understood (translated), the quick replies and product cards it offered. Text stays text: the template
    escapes it."""
    tz = conversation.shop.tz
    rows = []
    messages_ = conversation.messages.select_related("agent").order_by("pk")[:TRANSCRIPT_LIMIT]
    for message in messages_:
        payload = message.payload if isinstance(message.payload, dict) else {}
        products = [p for p in payload.get("products") or [] if isinstance(p, dict)]
        replies = [r for r in payload.get("quick_replies") or [] if isinstance(r, str)]
        rows.append(
            {
                "sender": message.sender,
                "who": message.agent.get_full_name() or message.agent.get_username()
                if message.agent
                else message.get_sender_display(),
                "time": message.created_at.astimezone(tz).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),  # not |date: that is the server's zone
                "text": message.text,
                "intent": intent_label(message.intent) if message.sender != Message.Sender.SHOPPER else "",
                "shopper_intent": intent_label(message.intent) if message.sender == Message.Sender.SHOPPER else "",
                "confidence": message.confidence,
                "quick_replies": replies,
                "products": [(str(p.get("title", "")), str(p.get("price", ""))) for p in products],
            }
        )
    return rows


class HandoffReasonFilter(admin.SimpleListFilter):
    title = _("hand-off reason")
    parameter_name = "handoff_reason"

    def lookups(self, request, model_admin):
        return [(reason.value, label) for reason, label in HANDOFF_REASON_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(handoff_reason=self.value()) if self.value() else queryset


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
        "handoff",
        "satisfaction",
        "started_local",
        "last_message_local",
    ]
    list_filter = ["shop", "status", "channel", HandoffReasonFilter, "satisfaction"]
    search_fields = ["customer__nickname", "customer__external_id", "visitor_token", "messages__text"]
    list_select_related = ["shop", "customer", "assigned_agent"]
    date_hierarchy = "started_at"
    summary_fields = (
        "shop",
        "customer",
        "channel",
        "status",
        "outcome",
        "assigned_agent",
        "satisfaction",
        "started_local",
        "ended_local",
        "links",
    )
    fieldsets = [(None, {"fields": summary_fields}), (_("Transcript"), {"fields": ["transcript"]})]
    readonly_fields = (*summary_fields, "transcript")  # a conversation is read here, changed by its services
    actions = ["close_selected"]

    def has_add_permission(self, request):
        return False  # conversations start in the chat, never in the admin

    def has_delete_permission(self, request, obj=None):
        return False  # transcripts are records; quality inspection and analytics read them

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: a page to read, with no save buttons (closing is the list's action).
        read_only = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**read_only, **(extra_context or {})})

    def _local(self, moment):
        return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"

    @admin.display(description=_("hand-off reason"), ordering="handoff_reason")
    def handoff(self, obj: Conversation) -> str:
        return handoff_reason_label(obj.handoff_reason) or "-"

    @admin.display(description=_("started at (shop time)"), ordering="started_at")
    def started_local(self, obj: Conversation) -> str:
        return self._local(obj.started_at.astimezone(obj.shop.tz) if obj.started_at else None)

    @admin.display(description=_("last message (shop time)"), ordering="last_message_at")
    def last_message_local(self, obj: Conversation) -> str:
        return self._local(obj.last_message_at.astimezone(obj.shop.tz) if obj.last_message_at else None)

    @admin.display(description=_("ended at (shop time)"))
    def ended_local(self, obj: Conversation) -> str:
        return self._local(obj.ended_at.astimezone(obj.shop.tz) if obj.ended_at else None)

    @admin.display(description=_("outcome"))
    def outcome(self, obj: Conversation) -> str:
        if obj.handed_over_at is not None:
            reason = handoff_reason_label(obj.handoff_reason)
            return str(_("Handed over to an agent: %(reason)s") % {"reason": reason} if reason else _("Handed over"))
        if obj.status == Conversation.Status.CLOSED:
            return str(_("Resolved by the bot"))
        return str(obj.get_status_display())

    @admin.display(description=_("links"))
    def links(self, obj: Conversation):
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a> · '
            '<a class="text-primary-600 underline" href="{}" target="_blank" rel="noopener">{}</a>',
            "/agent/",
            _("Agent console"),
            reverse("chat:shopper", args=[obj.shop.slug]),
            _("Shop chat page"),
        )

    @admin.display(description=_("transcript"))
    def transcript(self, obj: Conversation):
        return render_to_string(
            "admin/chat/conversation/transcript.html",
            {"rows": transcript_rows(obj), "limit": TRANSCRIPT_LIMIT, "tz": obj.shop.timezone},
        )

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


@admin.register(ServiceDesk)
class ServiceDeskAdmin(ShopScopedAdmin):
    """A shop's assignment rule and away message; managers edit, agents see."""

    view_roles = SERVICE_STAFF
    list_display = ["shop", "rule"]
    list_filter = ["shop", "rule"]
    list_select_related = ["shop"]

    def save_model(self, request, obj, form, change):
        assignment.save_desk(obj)


@admin.register(MeasurementPolicy)
class MeasurementPolicyAdmin(ShopScopedAdmin):
    """A shop's durable-resolution window and bot holdout; managers edit."""

    view_roles = (Role.MANAGER,)
    list_display = ["shop", "durable_window_days", "bot_holdout_percent", "bot_holdout_since"]
    list_select_related = ["shop"]
    fields = ["shop", "durable_window_days", "bot_holdout_percent", "bot_holdout_since"]
    readonly_fields = ["bot_holdout_since"]

    def save_model(self, request, obj, form, change):
        save_measurement_policy(obj)


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
