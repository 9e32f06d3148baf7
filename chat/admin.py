from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminPasswordWidget, UnfoldAdminTextInputWidget

from shops.models import Membership
from shops.scoping import ShopScopedAdmin, take_saved

from . import assignment
from .channels import CHANNELS
from .channels.base import ChannelError, secrets_of
from .channels.connections import check_connection, save_connection
from .intents import HANDOFF_REASON_LABELS, handoff_reason_label, intent_label
from .measurement import save_measurement_policy
from .models import (
    AgentSeat,
    CannedReply,
    ChannelConnection,
    ChannelDelivery,
    Conversation,
    EmailRecord,
    InvoiceRequest,
    MeasurementPolicy,
    Message,
    ServiceDesk,
    SlaBreach,
    SlaPolicy,
    WorkOrder,
    agent_name,
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
                "who": agent_name(message.agent) if message.agent else message.get_sender_display(),
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
        "channel",
        "status",
        "assigned_agent",
        "handoff",
        "satisfaction",
        "started_local",
        "last_message_local",
    ]
    list_filter = ["shop", "status", "channel", HandoffReasonFilter, "satisfaction"]
    search_fields = [
        "customer__nickname",
        "customer__external_id",
        "visitor_token",
        "external_id",
        "external_name",
        "messages__text",
    ]
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


def _field_key(kind: str, name: str) -> str:
    return f"{kind}__{name}"


class ChannelConnectionForm(forms.ModelForm):
    """The connection's own columns, then every channel's declared fields (``chat.channels``), each channel's
    in its own section; only the chosen channel's are checked and saved. Secrets are write-only: left empty,
    the stored one stays."""

    class Meta:
        model = ChannelConnection
        fields = ["shop", "kind", "name", "is_active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields.get("kind")  # read-only (absent) once the connection exists
        if isinstance(kind, forms.ChoiceField):
            kind.choices = [(value, label) for value, label in Conversation.Channel.choices if CHANNELS[value].fields]
        stored = self.instance.config if self.instance.pk else {}
        for kind, spec in connectable_channels():
            for field in spec.fields:
                widget = UnfoldAdminPasswordWidget() if field.secret else UnfoldAdminTextInputWidget()
                help_text = field.help_text
                if field.secret and self.instance.pk:
                    help_text = _("Stored encrypted; leave empty to keep it.")
                self.fields[_field_key(kind, field.name)] = forms.CharField(
                    label=field.label,
                    help_text=help_text,
                    required=False,
                    max_length=500,
                    widget=widget,
                    initial=stored.get(field.name, "") if not field.secret else "",
                )

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or self.instance.kind
        if kind not in CHANNELS:
            return cleaned
        stored_secrets = secrets_of(self.instance) if self.instance.pk else {}
        for field in CHANNELS[kind].fields:
            key = _field_key(kind, field.name)
            value = (cleaned.get(key) or "").strip()
            if not value and field.required and not (field.secret and stored_secrets.get(field.name)):
                self.add_error(key, _("This channel needs this value."))
            elif value and field.validate is not None:
                try:
                    field.validate(value)
                except ChannelError as error:
                    self.add_error(key, error.message)
        return cleaned

    def channel_values(self) -> dict[str, str]:
        kind = self.cleaned_data.get("kind") or self.instance.kind
        return {field.name: self.cleaned_data.get(_field_key(kind, field.name), "") for field in CHANNELS[kind].fields}


def endpoint_path(connection: ChannelConnection) -> str:
    """What the merchant gives the other side: WeCom's callback URL, or the bridge's inbound URL."""
    if connection.kind == Conversation.Channel.WECOM:
        return reverse("chat:wecom-callback", args=[connection.pk])
    if connection.kind == Conversation.Channel.API:
        return reverse("api:channel-messages", args=[connection.pk])
    return ""


def connectable_channels():
    return [(kind, spec) for kind, spec in CHANNELS.items() if spec.fields]


@admin.register(ChannelConnection)
class ChannelConnectionAdmin(ShopScopedAdmin):
    """A shop's channels besides the web widget (WeCom, marketplace bridges): their settings, their state (last
    message each way, last error) and a "test connection" button. Managers only: they hold the credentials."""

    form = ChannelConnectionForm
    view_roles = ()
    change_form_template = "admin/chat/channelconnection/change_form.html"
    list_display = ["name", "shop", "kind", "is_active", "last_inbound_at", "last_outbound_at", "error_state"]
    list_filter = ["shop", "kind", "is_active"]
    search_fields = ["name"]
    list_select_related = ["shop"]
    state_fields = ("signing_secret", "last_inbound_at", "last_outbound_at", "last_error", "last_error_at")
    readonly_fields = state_fields
    actions = ["check_selected"]

    def get_readonly_fields(self, request, obj=None):
        # A connection never moves to another shop or channel: its conversations belong to both.
        return [*self.state_fields, "shop", "kind"] if obj is not None else self.state_fields

    def _state_fields(self, obj: ChannelConnection) -> list[str]:
        shown = list(self.state_fields)
        if obj.kind != Conversation.Channel.API:
            shown.remove("signing_secret")  # only a bridge verifies signatures
        return shown

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The channels' fields are the form's own (built per kind), not model fields the admin could list.
        own = [name for name in ChannelConnectionForm.Meta.fields if name not in self.get_readonly_fields(request, obj)]
        return super().get_form(request, obj, change, **{**kwargs, "fields": own})

    def get_fieldsets(self, request, obj=None):
        sections = [(None, {"fields": ["shop", "kind", "name", "is_active"]})]
        for kind, spec in connectable_channels():
            if obj is None or obj.kind == kind:
                label = Conversation.Channel(kind).label
                sections.append((label, {"fields": [_field_key(kind, field.name) for field in spec.fields]}))
        if obj is not None:
            sections.append((_("State"), {"fields": self._state_fields(obj)}))
        return sections

    def save_model(self, request, obj: ChannelConnection, form, change: bool) -> None:
        save_connection(obj, form.channel_values())

    @admin.display(description=_("last error"))
    def error_state(self, obj: ChannelConnection) -> str:
        return obj.last_error or "-"

    @admin.display(description=_("signing secret"))
    def signing_secret(self, obj: ChannelConnection) -> str:
        """The bridge checks each webhook's X-Shopbee-Signature with it (docs/api.md)."""
        return secrets_of(obj).get("signing_secret", "-")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))  # another shop's: 404
        info = self.opts.app_label, self.opts.model_name
        endpoint = endpoint_path(obj)
        context = {
            "check_url": reverse("admin:{}_{}_check".format(*info), args=[quote(obj.pk)]),
            "endpoint_url": request.build_absolute_uri(endpoint) if endpoint else "",
        }
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.check_view)
        return [path("<path:object_id>/check/", view, name="{}_{}_check".format(*info)), *super().get_urls()]

    def _check(self, request, connection: ChannelConnection) -> None:
        try:
            result = check_connection(connection)
        except ChannelError as error:
            self.message_user(request, f"{connection}：{error.message}", messages.ERROR)
        else:
            self.message_user(request, f"{connection}：{result}", messages.SUCCESS)

    def check_view(self, request, object_id: str):
        """The change page's "test connection" button (a POST with the page's CSRF token)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self.get_object(request, unquote(object_id))  # another shop's: 404
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        self._check(request, connection)
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[quote(connection.pk)]))

    @admin.action(description=_("Test the selected connections"))
    def check_selected(self, request, queryset) -> None:
        for connection in self.editable(request, queryset):
            self._check(request, connection)


@admin.register(ChannelDelivery)
class ChannelDeliveryAdmin(ShopScopedAdmin):
    """What was sent to each channel conversation, in order: read-only, for finding out why a reply did not arrive."""

    shop_field = "connection__shop"
    view_roles = SERVICE_STAFF
    list_display = [
        "id",
        "connection",
        "conversation",
        "event",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["connection__shop", "status", "event", "connection__kind"]
    list_select_related = ["connection", "conversation"]
    search_fields = ["last_error", "conversation__external_id"]


@admin.register(EmailRecord)
class EmailRecordAdmin(ShopScopedAdmin):
    """The email channel's mail log, read-only: every mail received (stored, or never answered and why) and
    every reply sent, with the conversation it belongs to."""

    view_roles = SERVICE_STAFF
    edit_roles = ()
    list_display = ["created_at", "direction", "outcome", "counterpart", "subject", "connection", "conversation"]
    list_filter = ["shop", "direction", "outcome"]
    search_fields = ["counterpart", "subject", "mail_id"]
    list_select_related = ["shop", "connection", "conversation"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
