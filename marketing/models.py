"""Proactive marketing: campaigns and the touches they send, coupons, bundle rules and live sessions."""

import string
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chat.models import Message
from shops.models import Customer, Order, Product, Refund, Shop

from .money import yuan


@dataclass
class KindDeclarations:
    """What the campaign kinds declare that these models check: the template variables any kind fills and
    each kind's own checks. ``marketing.kinds`` reads these models, so it hands them over from
    ``MarketingConfig.ready()`` rather than being imported here."""

    template_variables: tuple[str, ...] = ()
    checks: dict[str, tuple[Callable[["Campaign"], None], ...]] = field(default_factory=dict)


declared = KindDeclarations()


def validate_message_template(template: str) -> None:
    """Reject unknown ``{variables}`` and broken braces with a message naming them."""
    allowed = declared.template_variables
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValidationError(
            _("The template has unbalanced braces (%(error)s). Write {{ and }} for literal braces."),
            params={"error": exc},
        ) from exc
    unknown = sorted({name for name in names if name not in allowed})
    if unknown:
        raise ValidationError(
            _("Unknown template variables: %(unknown)s. Allowed: %(allowed)s."),
            params={
                "unknown": ", ".join(f"{{{name}}}" for name in unknown),
                "allowed": ", ".join(f"{{{name}}}" for name in allowed),
            },
        )


class Coupon(models.Model):
    """A 满减 coupon: ``discount`` off an order of at least ``threshold``, within a valid window."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="coupons", verbose_name=_("shop"))
    name = models.CharField(_("name"), max_length=100)
    threshold = models.DecimalField(_("minimum spend"), max_digits=10, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=10, decimal_places=2)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["shop", "threshold"]
        constraints = [
            models.CheckConstraint(condition=Q(discount__gt=0), name="coupon_discount_positive"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="coupon_threshold_not_negative"),
            models.CheckConstraint(
                condition=Q(threshold=0) | Q(discount__lt=F("threshold")), name="coupon_discount_below_threshold"
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="coupon_window_ordered"),
            models.UniqueConstraint(fields=["shop", "name"], name="coupon_name_unique_per_shop"),
        ]
        indexes = [models.Index(fields=["shop", "is_active", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.label}）"

    @property
    def label(self) -> str:
        """满199减20, as shoppers read it."""
        if self.threshold:
            return f"满{yuan(self.threshold)}减{yuan(self.discount)}"
        return f"无门槛减{yuan(self.discount)}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("The coupon must end after it starts.")})
        if self.threshold and self.discount and self.discount >= self.threshold:
            raise ValidationError({"discount": _("The discount must be below the minimum spend.")})


class Campaign(models.Model):
    class Kind(models.TextChoices):
        WAKE_UP = "wake_up", _("Wake-up (asked about products, went quiet, no order)")
        CART = "cart", _("催拍: asked about a product and did not order")
        PAYMENT = "payment", _("催付: order not paid")
        PRESALE_FINAL = "presale_final", _("Presale final payment due")
        REFUND_RETENTION = "refund_retention", _("Refund retention (refund requested)")

    class Channel(models.TextChoices):
        IN_CHAT = "in_chat", _("In-chat message")
        WEBHOOK = "webhook", _("Outbound webhook (SMS / outbound call provider)")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="campaigns", verbose_name=_("shop"))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    delay_minutes = models.PositiveIntegerField(
        _("delay after the trigger (minutes)"),
        default=60,
        help_text=_("For presale final payment the trigger is 24 hours before the final payment deadline."),
    )
    window_hours = models.PositiveIntegerField(
        _("give up after (hours)"),
        default=72,
        help_text=_("Triggers older than this are no longer followed up."),
    )
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    template = models.TextField(
        _("message template"),
        # The admin lists each kind's variables (marketing.admin.template_help).
        validators=[validate_message_template],
    )
    coupon = models.ForeignKey(
        Coupon, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns", verbose_name=_("coupon")
    )
    daily_cap = models.PositiveSmallIntegerField(
        _("touches per customer per day"),
        default=1,
        help_text=_("Counts the touches of every campaign of the shop on the shop's calendar day."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.IN_CHAT)
    control_percent = models.PositiveSmallIntegerField(
        _("control group (%)"),
        default=10,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "This share of the eligible customers, drawn by a stable hash of the campaign and the customer, gets "
            "no touch: comparing them with the touched ones shows what the campaign itself brings (0-50)."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["shop", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="campaign_name_unique_per_shop"),
            models.CheckConstraint(condition=Q(daily_cap__gte=1), name="campaign_daily_cap_at_least_one"),
            models.CheckConstraint(condition=Q(window_hours__gte=1), name="campaign_window_at_least_one_hour"),
            models.CheckConstraint(condition=Q(control_percent__lte=50), name="campaign_control_at_most_50"),
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="campaign_quiet_hours_both_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["shop", "enabled"])]

    def __str__(self) -> str:
        return f"{self.name} · {self.get_kind_display()}"

    def save(self, *args, **kwargs) -> None:
        # The template rule holds for every writer (admin, API, copy, demo), not only model forms.
        validate_message_template(self.template)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError(_("Give both the start and the end of the quiet hours, or neither."))
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValidationError({"quiet_end": _("Quiet hours must end at another time than they start.")})
        if self.coupon is not None and self.shop_id and self.coupon.shop_id != self.shop_id:
            raise ValidationError({"coupon": _("The coupon belongs to another shop.")})
        for check in declared.checks.get(self.kind, ()):
            check(self)


class Touch(models.Model):
    """One marketing contact of one customer by one campaign. The idempotency key makes it happen once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")

    class SkipReason(models.TextChoices):
        GOAL_REACHED = "goal_reached", _("Goal reached before sending")
        OPTED_OUT = "opted_out", _("Customer opted out")
        CAMPAIGN_DISABLED = "campaign_disabled", _("Campaign disabled")
        NO_CONVERSATION = "no_conversation", _("No conversation to post in")
        NO_WEBHOOK = "no_webhook", _("No webhook subscribed to marketing.touch")
        CONTROL = "control", _("Control group: held out to measure the campaign")

    # Every index slows the scan's bulk insert: the composite indexes below lead with campaign, shop and
    # customer (no single-column index on them), and the other foreign keys, empty on most touches, are
    # indexed only where they are set (deleting an order, refund, product or message finds its touches there).
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="touches", verbose_name=_("campaign"), db_index=False
    )
    # Denormalised from the campaign: scoping and the per-customer daily cap filter on it. No constraint of
    # its own in the database: the campaign's implies it (a touch's shop is its campaign's, and a shop goes
    # only after its campaigns), and each one costs the scan a lookup per inserted touch.
    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="touches",
        verbose_name=_("shop"),
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="touches", verbose_name=_("customer"), db_index=False
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="touches",
        verbose_name=_("order"),
        db_index=False,
    )
    refund = models.ForeignKey(
        Refund,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="touches",
        verbose_name=_("refund"),
        db_index=False,
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="touches",
        verbose_name=_("product"),
        db_index=False,
    )
    # The chat message that started the episode (wake-up, 催拍): one touch per episode.
    trigger_message = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("triggering message"),
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Campaign.Channel.choices)
    # Unique through a constraint, not unique=True: on PostgreSQL that would add a second, pattern-matching
    # index nothing searches with.
    idempotency_key = models.CharField(_("idempotency key"), max_length=120)
    trigger_at = models.DateTimeField(_("triggered at"))
    scheduled_at = models.DateTimeField(_("scheduled at"))
    enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(_("skip reason"), max_length=20, choices=SkipReason.choices, blank=True)
    text = models.TextField(_("text sent"), blank=True)
    message = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chat message"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("touch")
        verbose_name_plural = _("touches")
        ordering = ["-scheduled_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="touch_sent_has_time"),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(skip_reason=""), name="touch_skipped_has_reason"
            ),
            models.UniqueConstraint(fields=["idempotency_key"], name="touch_idempotency_key_unique"),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "scheduled_at"]),
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["customer", "status", "sent_at"]),
            *(
                models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"touch_{name}_set")
                for name in ("order", "refund", "product", "trigger_message", "message")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign.name} → {self.customer} · {self.get_status_display()}"


class BundleRule(models.Model):
    """A merchant's own 搭配: show ``companion`` with ``product``; ranked before co-purchase counts."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="bundle_rules", verbose_name=_("shop"))
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="bundle_rules", verbose_name=_("product")
    )
    companion = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("goes well with"))
    reason = models.CharField(_("reason shown to the shopper"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("bundle rule")
        verbose_name_plural = _("bundle rules")
        ordering = ["shop", "product", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "companion"], name="bundle_rule_pair_unique"),
            models.CheckConstraint(condition=~Q(product=F("companion")), name="bundle_rule_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} + {self.companion.title}"

    def clean(self) -> None:
        for name in ("product", "companion"):
            related = getattr(self, name, None) if getattr(self, f"{name}_id") else None
            if related is not None and self.shop_id and related.shop_id != self.shop_id:
                raise ValidationError({name: _("The product belongs to another shop.")})


class LiveSession(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="live_sessions", verbose_name=_("shop"))
    title = models.CharField(_("title"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    featured_products = models.ManyToManyField(
        Product, blank=True, related_name="live_sessions", verbose_name=_("featured products")
    )
    room_url = models.URLField(_("live room URL"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        ordering = ["shop", "starts_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="live_session_ordered")]
        indexes = [models.Index(fields=["shop", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.title} · {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The live session must end after it starts.")})


class FollowUpCustomer(Customer):
    """The follow-up assistant's admin page: customers ranked by purchase intent."""

    class Meta:
        proxy = True
        verbose_name = _("follow-up candidate")
        verbose_name_plural = _("follow-up assistant")
