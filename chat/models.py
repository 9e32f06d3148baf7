"""Conversations between shoppers and the shop (bot or human), and the service records they produce."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.models import Customer, Order, Shop
from shops.validators import validate_credit_code


class SkillGroup(models.TextChoices):
    """What a hand-off is about, and which agents take it (an agent without a group takes both)."""

    PRESALES = "presales", _("Pre-sales")
    AFTERSALES = "aftersales", _("After-sales")


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", _("With the bot")
        WAITING = "waiting", _("Waiting for an agent")
        AGENT = "agent", _("With an agent")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        """Where the shopper writes from; every value has one module in ``chat.channels.CHANNELS``."""

        WEB = "web", _("Web widget")
        WECOM = "wecom", _("WeCom customer service")
        API = "api", _("Channel API (marketplace bridge)")
        EMAIL = "email", _("Email")

    # No index of its own: the composite indexes below all lead with the shop.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("shop"), db_index=False
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("customer"),
    )
    # Anonymous shoppers are known by a random token the widget keeps; it resumes the conversation.
    visitor_token = models.CharField(_("visitor token"), max_length=64)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    # A conversation of another channel than the web: the shop's connection it came through, and the
    # shopper's id there (a WeCom external user, a bridge's conversation id). Empty for the web widget.
    connection = models.ForeignKey(
        "ChannelConnection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("channel connection"),
        db_index=False,
    )
    external_id = models.CharField(_("external conversation id"), max_length=200, blank=True)
    external_name = models.CharField(_("shopper's name on the channel"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOT)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assigned agent"),
    )
    handoff_reason = models.CharField(_("hand-off reason"), max_length=30, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    # Dialogue state (slots, last results, pending question): in the database so it survives a restart.
    state = models.JSONField(_("dialogue state"), default=dict, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="conversation_satisfaction_1_to_5",
            ),
        ]
        # last_message_at and state change with every chat message and are in no index, so PostgreSQL
        # can update the row in place (a HOT update) without touching any index. Conversations left
        # open with the bot are few (closed after CHAT_IDLE_CLOSE_MINUTES): the idle check finds them
        # by the partial index and reads their last message time from the rows.
        indexes = [
            models.Index(fields=["shop", "status"]),
            models.Index(fields=["started_at"], condition=Q(status="bot"), name="conversation_open_with_bot"),
            models.Index(fields=["shop", "visitor_token", "started_at"]),
            models.Index(fields=["shop", "customer", "started_at"]),
            models.Index(fields=["shop", "started_at"]),
            models.Index(
                fields=["connection", "external_id", "started_at"],
                condition=Q(connection__isnull=False),
                name="conversation_by_external_id",
            ),
        ]

    def __str__(self) -> str:
        who = self.customer or self.external_name or self.visitor_token[:8]
        return f"#{self.pk} {who} · {self.get_status_display()}"


def agent_name(user) -> str:
    """How an agent is named to shoppers, channels and colleagues: the full name, else the username."""
    return user.get_full_name() or user.get_username()


class Message(models.Model):
    class Sender(models.TextChoices):
        SHOPPER = "shopper", _("Shopper")
        BOT = "bot", _("Bot")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    # Neither foreign key has an index of its own: (conversation, id), the client id constraint and
    # (shop, sender, created_at) lead with them, and every index costs each stored message.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
        db_index=False,
    )
    # Denormalised from the conversation: every per-shop query and inspection filters on it.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="messages", verbose_name=_("shop"), db_index=False
    )
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_messages",
        verbose_name=_("agent"),
    )
    text = models.TextField(_("text"))
    # Structured parts of a reply: {"quick_replies": [...], "products": [...]}.
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    intent = models.CharField(_("intent"), max_length=30, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    client_msg_id = models.CharField(_("client message id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="message_client_id_unique_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=1),
                name="message_confidence_0_to_1",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"]),
            models.Index(fields=["shop", "sender", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.text[:40]}"


class WorkOrder(models.Model):
    """A task for the shop team raised from chat, the admin or an ISV's ticket system."""

    class Kind(models.TextChoices):
        ADDRESS_CHANGE = "address_change", _("Address change")
        EXCHANGE = "exchange", _("Exchange")
        COMPLAINT = "complaint", _("Complaint")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CANCELLED = "cancelled", _("Cancelled")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="work_orders", verbose_name=_("shop"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("conversation"),
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_orders", verbose_name=_("order")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("customer"),
    )
    details = models.TextField(_("details"))
    # Structured data of the request, e.g. {"new_address": "..."} for an address change.
    data = models.JSONField(_("data"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("assignee"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shop", "status", "created_at"]), models.Index(fields=["shop", "updated_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} · {self.get_status_display()}"


class InvoiceRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")
        REJECTED = "rejected", _("Rejected")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invoice_requests", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_requests",
        verbose_name=_("conversation"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_requests",
        verbose_name=_("order"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_requests",
        verbose_name=_("customer"),
    )
    title = models.CharField(_("invoice title"), max_length=100)
    tax_id = models.CharField(_("unified social credit code"), max_length=18, validators=[validate_credit_code])
    email = models.EmailField(_("e-mail"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    invoice_url = models.URLField(_("invoice URL"), blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoice requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shop", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.title} · {self.get_status_display()}"


class AgentPresence(models.Model):
    """One open agent console. Rows live in the database so every ASGI process sees who is online;
    a console refreshes ``last_seen_at`` while open, so rows of a crashed process simply go stale."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_presences", verbose_name=_("agent")
    )
    channel_name = models.CharField(_("channel name"), max_length=200, unique=True)
    connected_at = models.DateTimeField(_("connected at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen at"))

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presences")
        indexes = [models.Index(fields=["user", "last_seen_at"]), models.Index(fields=["last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


# --- service-level operations: canned replies and macros, tags, SLA policies ------------------------


class CannedReply(models.Model):
    """A 快捷短语: a shop's (managers write it) or one agent's own (``owner`` set). Its text may hold
    variables ({顾客昵称}, {店铺名}, {订单号}, {物流单号}, {客服昵称}) filled from the conversation when used.
    With any action set it is a macro: the reply is sent, then the tag added, the conversation handed to
    a skill group (back to the queue, assigned by the shop's rule) or closed, in that order."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="canned_replies", verbose_name=_("shop"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("personal to"),
        help_text=_("Empty: the whole shop's. Set: only this agent sees it."),
    )
    category = models.CharField(_("category"), max_length=30, blank=True)
    shortcut = models.CharField(
        _("shortcut"), max_length=30, help_text=_("Typed after / in the console's reply box, e.g. 发货.")
    )
    text = models.TextField(
        _("text"),
        max_length=2000,
        help_text=_("Variables: {顾客昵称} {店铺名} {订单号} {物流单号} {客服昵称}"),
    )
    add_tag = models.CharField(_("macro: add tag"), max_length=20, blank=True)
    transfer_group = models.CharField(
        _("macro: requeue for group"), max_length=20, choices=SkillGroup.choices, blank=True
    )
    close_after = models.BooleanField(_("macro: close the conversation"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("canned reply or macro")
        verbose_name_plural = _("canned replies and macros")
        ordering = ["shop", "category", "shortcut"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shortcut"], condition=Q(owner__isnull=True), name="canned_reply_shortcut_per_shop"
            ),
            models.UniqueConstraint(
                fields=["shop", "owner", "shortcut"],
                condition=Q(owner__isnull=False),
                name="canned_reply_shortcut_per_agent",
            ),
            models.CheckConstraint(
                condition=Q(transfer_group="") | Q(close_after=False), name="canned_macro_requeues_or_closes"
            ),
        ]
        indexes = [models.Index(fields=["shop", "owner", "shortcut"])]

    def __str__(self) -> str:
        return f"/{self.shortcut} · {self.text[:30]}"

    def clean(self) -> None:
        if self.transfer_group and self.close_after:
            raise ValidationError({"close_after": _("A macro either requeues the conversation or closes it.")})


class ConversationTag(models.Model):
    """A label on a conversation (by an agent, a macro); a customer's tags are those of their conversations."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="conversation_tags", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="tags", verbose_name=_("conversation")
    )
    name = models.CharField(_("tag"), max_length=20)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation tag")
        verbose_name_plural = _("conversation tags")
        constraints = [models.UniqueConstraint(fields=["conversation", "name"], name="conversation_tag_unique")]
        indexes = [models.Index(fields=["shop", "name"])]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """A shop's response targets for conversations with the human agents: the first response after the
    hand-off, and every next response after the shopper wrote to an agent who already answered."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="sla_policy", verbose_name=_("shop"))
    first_response_minutes = models.PositiveIntegerField(_("first response target (minutes)"), default=2)
    next_response_minutes = models.PositiveIntegerField(_("next response target (minutes)"), default=5)
    business_hours_only = models.BooleanField(
        _("count business hours only"),
        default=False,
        help_text=_("The clock runs only within the shop's service hours (weekly hours, holidays), in its timezone."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0, next_response_minutes__gt=0), name="sla_targets_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop} · {self.first_response_minutes}/{self.next_response_minutes} min"


class SlaBreach(models.Model):
    """A response target missed: recorded once per timer (conversation, kind, when the clock started) by the
    periodic check, which alerts the shop's managers when it records one."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="sla_breaches", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_breaches", verbose_name=_("conversation")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sla_breaches",
        verbose_name=_("agent"),
    )
    started_at = models.DateTimeField(_("clock started at"))
    due_at = models.DateTimeField(_("due at"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "kind", "started_at"], name="sla_breach_once_per_timer")
        ]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.conversation_id} · {self.get_kind_display()}"


class MeasurementPolicy(models.Model):
    """How a shop measures what its bot is worth: the window a bot resolution must hold for, and the
    optional bot holdout (a share of new conversations, drawn by a stable hash of the shopper, goes straight
    to the human agents, so the bot's effect on conversion and satisfaction can be measured without bias)."""

    shop = models.OneToOneField(
        Shop, on_delete=models.CASCADE, related_name="measurement_policy", verbose_name=_("shop")
    )
    durable_window_days = models.PositiveSmallIntegerField(
        _("durable resolution window (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_(
            "A conversation the bot closed counts as durably resolved when, for this many days, the shopper "
            "did not ask for a human, did not come back about the same topic and opened no refund or complaint."
        ),
    )
    bot_holdout_percent = models.PositiveSmallIntegerField(
        _("bot holdout (%)"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_("0: off. Otherwise this share of new conversations goes straight to the human agents (0-50)."),
    )
    # When the holdout share last changed: only conversations since then are compared.
    bot_holdout_since = models.DateTimeField(_("bot holdout since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("measurement policy")
        verbose_name_plural = _("measurement policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(durable_window_days__gte=1, durable_window_days__lte=60),
                name="measurement_window_1_to_60_days",
            ),
            models.CheckConstraint(condition=Q(bot_holdout_percent__lte=50), name="measurement_holdout_at_most_50"),
        ]

    def __str__(self) -> str:
        return f"{self.shop} · {self.durable_window_days} d · {self.bot_holdout_percent}%"


# --- assignment: seats, the shop's desk, the queue (chat.assignment) ------------------------------


class AgentSeat(models.Model):
    """An agent's place at one shop's service desk: whether they take chats now, how many at once, which."""

    class Presence(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_seats", verbose_name=_("agent")
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="agent_seats", verbose_name=_("shop"))
    presence = models.CharField(_("presence"), max_length=10, choices=Presence.choices, default=Presence.OFFLINE)
    max_chats = models.PositiveSmallIntegerField(
        _("maximum concurrent chats"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Conversations assigned to this agent at once (1-50)."),
    )
    skill_group = models.CharField(
        _("skill group"), max_length=20, choices=SkillGroup.choices, blank=True, help_text=_("Empty: both groups.")
    )
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    presence_changed_at = models.DateTimeField(_("presence changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent seat")
        verbose_name_plural = _("agent seats")
        ordering = ["shop", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="agent_seat_one_per_shop"),
            models.CheckConstraint(
                condition=Q(max_chats__gte=1, max_chats__lte=50), name="agent_seat_max_chats_1_to_50"
            ),
        ]
        indexes = [models.Index(fields=["shop", "presence"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.shop} · {self.get_presence_display()}"


class ServiceDesk(models.Model):
    """A shop's assignment settings. Its row is also the lock every assignment of the shop takes."""

    class Rule(models.TextChoices):
        MANUAL = "manual", _("Manual (agents accept)")
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_BUSY = "least_busy", _("Least busy")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="service_desk", verbose_name=_("shop"))
    rule = models.CharField(_("assignment rule"), max_length=20, choices=Rule.choices, default=Rule.MANUAL)
    away_message = models.TextField(
        _("away message"),
        blank=True,
        max_length=500,
        help_text=_("Told to a shopper asking for a human outside service hours; empty: a standard message."),
    )

    class Meta:
        verbose_name = _("service desk")
        verbose_name_plural = _("service desks")

    def __str__(self) -> str:
        return f"{self.shop} · {self.get_rule_display()}"


class QueueEntry(models.Model):
    """A waiting conversation's place in its shop's queue: first the entries at the head (requeued from an
    agent who went offline, messages left outside hours), each part first come, first served."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="queue_entry", verbose_name=_("conversation")
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="queue_entries", verbose_name=_("shop"))
    skill_group = models.CharField(_("skill group"), max_length=20, choices=SkillGroup.choices, blank=True)
    at_head = models.BooleanField(_("at the head"), default=False)
    left_message = models.BooleanField(_("left a message outside hours"), default=False)
    queued_at = models.DateTimeField(_("queued at"))

    class Meta:
        verbose_name = _("queue entry")
        verbose_name_plural = _("queue entries")
        ordering = ["shop", "-at_head", "queued_at", "id"]
        indexes = [models.Index(fields=["shop", "-at_head", "queued_at", "id"], name="queue_entry_order")]

    def __str__(self) -> str:
        return f"#{self.conversation_id} · {self.queued_at:%Y-%m-%d %H:%M:%S}"


class ChannelConnection(models.Model):
    """A shop's account on a channel other than the web widget (a WeCom customer-service account, a
    marketplace bridge): what Shopbee needs to receive and answer there, and how that last went.

    What the merchant enters is declared per kind in ``chat.channels`` (``ChannelSpec.fields``): the plain
    values in ``config``, the secret ones encrypted in ``secrets`` (``core.crypto``), never shown again.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="channel_connections", verbose_name=_("shop"))
    kind = models.CharField(_("channel"), max_length=10, choices=Conversation.Channel.choices)
    name = models.CharField(_("name"), max_length=100, help_text=_("How the shop's staff tell it apart."))
    is_active = models.BooleanField(_("active"), default=True)
    config = models.JSONField(_("settings"), default=dict, blank=True)
    secrets = models.TextField(_("secrets (encrypted)"), blank=True, editable=False)
    # Where pulling messages goes on from (WeCom's sync_msg cursor).
    cursor = models.CharField(_("sync cursor"), max_length=200, blank=True, editable=False)
    last_inbound_at = models.DateTimeField(_("last message received"), null=True, blank=True, editable=False)
    last_outbound_at = models.DateTimeField(_("last message sent"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel connection")
        verbose_name_plural = _("channel connections")
        ordering = ["shop", "kind", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="web"), name="channel_connection_not_web"),
            models.UniqueConstraint(fields=["shop", "kind", "name"], name="channel_connection_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"


class ChannelReceipt(models.Model):
    """A message a channel handed in, by the channel's own message id: handed in again (a retried callback
    or request), it is recognised and nothing is stored or answered twice."""

    connection = models.ForeignKey(
        ChannelConnection, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("channel connection")
    )
    external_id = models.CharField(_("external message id"), max_length=128)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("message")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel receipt")
        verbose_name_plural = _("channel receipts")
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="channel_receipt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} · {self.external_id}"


class ChannelDelivery(models.Model):
    """One thing to send to a channel conversation (a bot or agent message, or the close), written in the
    transaction that stored it. Sent one at a time per conversation in id order (``chat.channels.delivery``)."""

    class Event(models.TextChoices):
        MESSAGE = "message", _("Message")
        CLOSE = "close", _("Conversation closed")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(
        ChannelConnection, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("channel connection")
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="channel_deliveries",
        verbose_name=_("conversation"),
        db_index=False,
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("message")
    )
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel delivery")
        verbose_name_plural = _("channel deliveries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event="close") | Q(message__isnull=False), name="channel_delivery_message_has_message"
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="channel_delivery_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "status", "id"]),
            models.Index(fields=["status", "next_attempt_at"], condition=Q(status="pending"), name="channel_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_event_display()} · {self.get_status_display()}"


# --- the email channel (chat.channels.email) -------------------------------------------------------------


class EmailRecord(models.Model):
    """One mail an email connection received or sent, by its Message-ID: how a reply finds its conversation
    (In-Reply-To / References name a mail of this connection), and what was received and never answered."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Received")
        OUTBOUND = "out", _("Sent")

    class Outcome(models.TextChoices):
        STORED = "stored", _("Stored in the conversation")
        BOUNCE = "bounce", _("Bounce, not answered")
        AUTO_REPLY = "auto_reply", _("Auto-reply, not answered")
        BULK = "bulk", _("Bulk or list mail, not answered")
        OWN = "own", _("Our own mail, not answered")
        TOO_LARGE = "too_large", _("Too large, not downloaded")
        SENT = "sent", _("Sent")

    # Denormalised from the connection: the admin scopes by it.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="email_records", verbose_name=_("shop"), db_index=False
    )
    connection = models.ForeignKey(
        ChannelConnection, on_delete=models.CASCADE, related_name="email_records", verbose_name=_("mailbox")
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_records",
        verbose_name=_("conversation"),
    )
    # The shopper's message (received) or the reply the mail carried (sent).
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("message")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    mail_id = models.CharField(_("Message-ID"), max_length=255)
    # The ids of the thread this mail belongs to (its References, then In-Reply-To), oldest first.
    references = models.JSONField(_("references"), default=list, blank=True)
    counterpart = models.EmailField(_("shopper address"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("mail record")
        verbose_name_plural = _("mail records")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "mail_id"], name="email_record_mail_id_per_connection"),
        ]
        indexes = [
            models.Index(fields=["conversation", "direction", "id"], name="email_record_thread"),
            models.Index(fields=["shop", "created_at"], name="email_record_shop"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.mail_id[:40]} · {self.get_outcome_display()}"


def attachment_path(attachment: "EmailAttachment", filename: str) -> str:
    # Never the sender's name on disk: a random name under the shop's folder; the name is in the row.
    return f"mail/{attachment.shop_id}/{secrets.token_hex(16)}"


class EmailAttachment(models.Model):
    """A file a shopper sent by mail, kept with their message and shown to the shop's agents."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="email_attachments", verbose_name=_("shop"), db_index=False
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    filename = models.CharField(_("file name"), max_length=100)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("mail attachment")
        verbose_name_plural = _("mail attachments")
        ordering = ["id"]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return self.filename
