"""Shops and the merchant data every other app hangs off: staff, products, customers, orders."""

import secrets
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core import shoptime
from core.validators import validate_timezone_name

from .validators import normalise_origin, validate_embed_origin, validate_hex_colour


def new_widget_secret() -> str:
    return secrets.token_hex(32)


DEFAULT_WIDGET_COLOUR = "#ffb400"
DEFAULT_WIDGET_GREETING = "您好，我是智能客服小蜂，有什么可以帮您？"


class Shop(models.Model):
    class Industry(models.TextChoices):
        SPORTSWEAR = "sportswear", _("Sportswear and shoes")
        APPAREL = "apparel", _("Women's apparel")
        HOUSEHOLD = "household", _("Household cleaning")
        BEAUTY = "beauty", _("Beauty and personal care")
        FOOD = "food", _("Food and snacks")
        DIGITAL = "digital", _("Digital and appliances")
        OTHER = "other", _("Other")

    class Plan(models.TextChoices):
        BASIC = "basic", _("Basic")
        UNLIMITED = "unlimited", _("Unlimited")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, default=Industry.OTHER)
    plan = models.CharField(_("plan"), max_length=20, choices=Plan.choices, default=Plan.BASIC)
    timezone = models.CharField(
        _("timezone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone_name]
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Signs the shopper identity the merchant's site passes to the chat widget (HMAC), so a shopper
    # can only be linked to their own customer record and orders.
    widget_secret = models.CharField(_("widget signing secret"), max_length=64, default=new_widget_secret)
    # The chat widget's look: its button and header colour, and the greeting shown when the chat opens.
    widget_colour = models.CharField(
        _("widget colour"), max_length=7, default=DEFAULT_WIDGET_COLOUR, validators=[validate_hex_colour]
    )
    widget_greeting = models.CharField(
        _("widget greeting"),
        max_length=200,
        default=DEFAULT_WIDGET_GREETING,
        help_text=_("Shown by the bot when a shopper opens the chat, above the most asked questions."),
    )
    listed_on_front_page = models.BooleanField(
        _("listed on the front page"),
        default=False,
        help_text=_("Show a link to this shop's chat on Shopbee's front page (the demo shops are listed)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        """The shop's timezone, which its days, months and quiet hours are counted in (core.shoptime)."""
        return shoptime.zone(self.timezone)


class EmbedOrigin(models.Model):
    """A site allowed to embed the shop's chat widget (CSP ``frame-ancestors`` of the embedded chat page)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="embed_origins", verbose_name=_("shop"))
    origin = models.CharField(
        _("site origin"),
        max_length=200,
        validators=[validate_embed_origin],
        help_text=_("Scheme, host and port only, such as https://www.example.com"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("widget site")
        verbose_name_plural = _("widget sites")
        ordering = ["shop", "origin"]
        constraints = [models.UniqueConstraint(fields=["shop", "origin"], name="embed_origin_unique_per_shop")]

    def __str__(self) -> str:
        return f"{self.shop} · {self.origin}"

    def save(self, *args, **kwargs) -> None:
        self.origin = normalise_origin(self.origin)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.origin:
            self.origin = normalise_origin(self.origin)


class Membership(models.Model):
    """A staff member's role in one shop. A user may work for any number of shops."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        TRAINER = "trainer", _("AI trainer")
        AGENT = "agent", _("Agent")
        QA = "qa", _("QA reviewer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("shop"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="membership_one_role_per_shop")]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.shop} · {self.get_role_display()}"


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products", verbose_name=_("shop"))
    sku = models.CharField(_("SKU"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=50)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    colors = models.JSONField(_("colours"), default=list, blank=True)
    sizes = models.JSONField(_("sizes"), default=list, blank=True)
    uses = models.JSONField(_("functions and uses"), default=list, blank=True)
    selling_points = models.TextField(_("selling points"), blank=True)
    stock = models.PositiveIntegerField(_("stock"), default=0)
    warranty_months = models.PositiveSmallIntegerField(
        _("warranty (months)"),
        default=0,
        help_text=_("Months of warranty from receipt; 0 means no warranty is stated. The chat bot answers with it."),
    )
    on_sale = models.BooleanField(_("on sale"), default=True)
    image_url = models.URLField(
        _("image URL"),
        blank=True,
        validators=[URLValidator(schemes=["https"])],
        help_text=_("An https picture of the product, shown on its card in the chat."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["shop", "category", "price"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="product_sku_unique_per_shop"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [models.Index(fields=["shop", "category", "price"]), models.Index(fields=["shop", "on_sale"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"


class Customer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers", verbose_name=_("shop"))
    external_id = models.CharField(_("external id"), max_length=64)
    nickname = models.CharField(_("nickname"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    marketing_opt_out = models.BooleanField(_("opted out of marketing"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["shop", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="customer_external_id_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.nickname or self.external_id


class Order(models.Model):
    class Status(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")
        DEPOSIT_PAID = "deposit_paid", _("Presale deposit paid")
        AWAITING_FINAL = "awaiting_final", _("Awaiting final payment")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        REFUND_REQUESTED = "refund_requested", _("Refund requested")
        REFUNDED = "refunded", _("Refunded")
        CLOSED = "closed", _("Closed")

    # Statuses in which the parcel has not left the warehouse: the address may still change.
    BEFORE_SHIPPING = (Status.UNPAID, Status.PAID, Status.DEPOSIT_PAID, Status.AWAITING_FINAL)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders", verbose_name=_("shop"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"))
    external_id = models.CharField(_("order number"), max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UNPAID)
    total_amount = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    deposit_amount = models.DecimalField(_("presale deposit"), max_digits=12, decimal_places=2, default=Decimal("0"))
    paid_amount = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=Decimal("0"))
    receiver_name = models.CharField(_("receiver"), max_length=50, blank=True)
    receiver_phone = models.CharField(_("receiver phone"), max_length=32, blank=True)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    carrier = models.CharField(_("carrier"), max_length=50, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    final_payment_due = models.DateTimeField(_("final payment due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="order_number_unique_per_shop"),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0)
                & Q(discount_amount__gte=0)
                & Q(deposit_amount__gte=0)
                & Q(paid_amount__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(paid_amount__lte=F("total_amount")), name="order_paid_not_above_total"),
        ]
        indexes = [
            models.Index(fields=["shop", "customer", "status"]),
            models.Index(fields=["shop", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} · {self.get_status_display()}"

    def clean(self) -> None:
        if self.customer_id and self.shop_id and self.customer.shop_id != self.shop_id:
            raise ValidationError({"customer": _("The customer belongs to another shop.")})

    @property
    def is_before_shipping(self) -> bool:
        return self.status in self.BEFORE_SHIPPING


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="order_lines", verbose_name=_("product")
    )
    title = models.CharField(_("title"), max_length=200)
    color = models.CharField(_("colour"), max_length=30, blank=True)
    size = models.CharField(_("size"), max_length=30, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.title} × {self.quantity}"

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


class Refund(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REFUNDED = "refunded", _("Refunded")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("shop"))
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("order"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
        indexes = [models.Index(fields=["shop", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.order.external_id} · ¥{self.amount} · {self.get_status_display()}"

    def clean(self) -> None:
        if self.order_id and self.shop_id and self.order.shop_id != self.shop_id:
            raise ValidationError({"order": _("The order belongs to another shop.")})


class QuotaWarning(models.Model):
    """A shop's managers were warned that its monthly bot conversations reached a share of the quota.

    One row per shop, month and threshold: the unique constraint makes the warning go out once, even when
    several workers start conversations at the same moment.
    """

    class Threshold(models.IntegerChoices):
        # Translators: a label, never %-formatted.
        # xgettext:no-python-format
        NEAR = 80, _("80% of the quota")
        REACHED = 100, _("Quota reached: new conversations go to agents")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="quota_warnings", verbose_name=_("shop"))
    month = models.DateField(_("month"), help_text=_("First day of the month, in the shop's timezone."))
    threshold = models.PositiveSmallIntegerField(_("threshold"), choices=Threshold.choices)
    used = models.PositiveIntegerField(_("bot conversations used"))
    quota = models.PositiveIntegerField(_("monthly quota"))
    created_at = models.DateTimeField(_("warned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quota warning")
        verbose_name_plural = _("quota warnings")
        ordering = ["-month", "shop", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "month", "threshold"], name="quota_warning_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.shop} · {self.month:%Y-%m} · {self.threshold}% ({self.used}/{self.quota})"


class OpeningHours(models.Model):
    """One window of a shop's weekly service hours, in the shop's own timezone. A shop without any window
    serves around the clock; a window whose end is not after its start runs past midnight."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("shop"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=_("Local time; before the opening time means past midnight."))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["shop", "weekday", "opens"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "weekday", "opens"], name="opening_hours_one_window_per_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_0_to_6"),
            models.CheckConstraint(condition=~Q(opens=F("closes")), name="opening_hours_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    """A local date the shop's agents do not serve (the bot still answers)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("shop"))
    day = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["shop", "day"]
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="holiday_one_per_shop_and_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}"


class ModelProvider(models.Model):
    """A shop's large model (docs/llm.md): an OpenAI-compatible endpoint, off until the manager enables it.

    The key is stored encrypted (core.crypto) and never shown again: forms and pages show its last
    characters only. Without a provider, or with it disabled, the bot is the retrieval engine alone.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="model_provider", verbose_name=_("shop"))
    enabled = models.BooleanField(_("enabled"), default=False)
    base_url = models.CharField(
        _("endpoint"),
        max_length=300,
        help_text=_("The OpenAI-compatible base URL, e.g. https://dashscope.aliyuncs.com/compatible-mode/v1"),
    )
    model = models.CharField(_("model"), max_length=100, help_text=_("The model name the provider expects."))
    api_key_sealed = models.TextField(_("API key (encrypted)"), blank=True, editable=False)
    timeout_seconds = models.FloatField(
        _("timeout (seconds)"),
        default=3.0,
        help_text=_("Longest wait for the first words of an answer; past it the bot answers without the model."),
    )
    monthly_token_budget = models.PositiveIntegerField(
        _("monthly token budget"),
        default=1_000_000,
        help_text=_("Tokens per calendar month (shop's timezone); past it the bot answers without the model."),
    )
    input_price = models.DecimalField(
        _("price per million input tokens (yuan)"), max_digits=8, decimal_places=4, default=Decimal("0")
    )
    output_price = models.DecimalField(
        _("price per million output tokens (yuan)"), max_digits=8, decimal_places=4, default=Decimal("0")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("model provider")
        verbose_name_plural = _("model providers")
        constraints = [
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=0.5, timeout_seconds__lte=30), name="model_provider_timeout_range"
            ),
            models.CheckConstraint(
                condition=Q(input_price__gte=0, output_price__gte=0), name="model_provider_prices_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop} · {self.model}"


class ModelUsage(models.Model):
    """One call to a shop's model: what it was for, the tokens and what they cost, how it ended."""

    class Purpose(models.TextChoices):
        ANSWER = "answer", _("Grounded answer")
        DRAFT = "draft", _("Draft reply for an agent")
        SUMMARY = "summary", _("Conversation summary")
        REWRITE = "rewrite", _("Tone rewrite")
        CARD_DRAFTS = "card_drafts", _("Card drafts")
        EVALUATION = "evaluation", _("Evaluation")

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        UNKNOWN = "unknown", _("Model did not know")
        UNGROUNDED = "ungrounded", _("Discarded: citations missing or wrong")
        GUARDED = "guarded", _("Discarded: broke a QA rule")
        FAILED = "failed", _("Failed (timeout, error)")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="model_usage", verbose_name=_("shop"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    error = models.CharField(_("error"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=100)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), default=0)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), default=0)
    cost = models.DecimalField(_("cost (yuan)"), max_digits=12, decimal_places=6, default=Decimal("0"))
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("model usage")
        verbose_name_plural = _("model usage")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return f"{self.shop} · {self.get_purpose_display()} · {self.prompt_tokens + self.completion_tokens}"
