"""Request and response shapes of the open API. References to other rows are resolved inside the key's shop
only, so another shop's order or customer reads exactly like a missing one."""

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from analytics.models import QAFinding
from chat.models import Conversation, InvoiceRequest, Message, WorkOrder
from knowledge.models import FAQCard
from marketing.models import Campaign, LiveSession
from shops.models import Customer, Order, OrderLine, Product

from .models import WebhookEvent, WebhookSubscription

MAX_BATCH = 500


class InShop:
    """A related field whose choices are the rows of the shop in the serializer context."""

    def get_queryset(self):
        return super().get_queryset().filter(shop=self.context["shop"])


class ShopSlugField(InShop, serializers.SlugRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:  # PostgreSQL refuses NUL even in a lookup
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class ShopPrimaryKeyField(InShop, serializers.PrimaryKeyRelatedField):
    pass


def text_list(max_length: int = 50):
    return serializers.ListField(child=serializers.CharField(max_length=max_length), required=False, max_length=100)


class ProductSerializer(serializers.ModelSerializer):
    colors = text_list()
    sizes = text_list()
    uses = text_list()

    class Meta:
        model = Product
        fields = [
            "sku", "title", "category", "price", "colors", "sizes", "uses",
            "selling_points", "stock", "warranty_months", "on_sale", "image_url", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["updated_at"]
        extra_kwargs = {"price": {"min_value": 0}}


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["external_id", "nickname", "phone", "email", "wechat", "marketing_opt_out", "created_at"]
        read_only_fields = ["created_at"]


class OrderLineSerializer(serializers.ModelSerializer):
    sku = ShopSlugField(
        source="product", slug_field="sku", queryset=Product.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = OrderLine
        fields = ["sku", "title", "color", "size", "unit_price", "quantity"]
        extra_kwargs = {"unit_price": {"min_value": 0}, "quantity": {"min_value": 1}}


class OrderSerializer(serializers.ModelSerializer):
    customer = ShopSlugField(slug_field="external_id", queryset=Customer.objects.all())
    lines = OrderLineSerializer(many=True, required=False, max_length=200)

    class Meta:
        model = Order
        fields = [
            "external_id", "customer", "status", "total_amount", "discount_amount", "deposit_amount",
            "paid_amount", "receiver_name", "receiver_phone", "shipping_address", "carrier", "tracking_number",
            "final_payment_due", "created_at", "paid_at", "shipped_at", "updated_at", "lines",
        ]  # fmt: skip
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            name: {"min_value": 0} for name in ("total_amount", "discount_amount", "deposit_amount", "paid_amount")
        }

    def validate(self, attrs):
        total, paid = attrs.get("total_amount"), attrs.get("paid_amount")
        if total is not None and paid is not None and paid > total:
            raise serializers.ValidationError({"paid_amount": _("The paid amount cannot exceed the total.")})
        return attrs


class UpsertOutcomeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The SKU or external id of the item."))
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    items = UpsertOutcomeSerializer(many=True)


def batch_serializer(item_serializer: type[serializers.Serializer], key: str) -> type[serializers.Serializer]:
    """``{"items": [...]}`` of up to MAX_BATCH items; a key repeated within the batch is an error on that item.

    Errors come back as ``{"items": {"<index>": {"<field>": [...]}}}``, for the bad items only."""

    def validate_items(self: serializers.Serializer, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        errors: dict[int, dict] = {}
        for index, item in enumerate(items):
            if item[key] in seen:
                errors[index] = {key: [_("This %(key)s appears earlier in the batch.") % {"key": key}]}
            seen.add(item[key])
        if errors:
            # Keyed by item index, like DRF's own per-item errors of a list.
            raise serializers.ValidationError(errors)
        return items

    name = item_serializer.__name__.removesuffix("Serializer") + "Batch"
    return type(
        name,
        (serializers.Serializer,),
        {
            "items": item_serializer(many=True, min_length=1, max_length=MAX_BATCH),
            "validate_items": validate_items,
            "__doc__": f"Up to {MAX_BATCH} items, written all together or not at all.",
        },
    )


class ConversationSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="external_id", read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id", "customer", "channel", "external_id", "status", "handoff_reason", "started_at", "handed_over_at",
            "last_message_at", "ended_at", "satisfaction",
        ]  # fmt: skip


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "conversation", "sender", "text", "intent", "confidence", "payload", "created_at"]


class WorkOrderSerializer(serializers.ModelSerializer):
    order = ShopSlugField(slug_field="external_id", queryset=Order.objects.all(), required=False, allow_null=True)
    customer = ShopSlugField(slug_field="external_id", queryset=Customer.objects.all(), required=False, allow_null=True)
    conversation = ShopPrimaryKeyField(queryset=Conversation.objects.all(), required=False, allow_null=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id", "kind", "status", "details", "data", "order", "customer", "conversation", "resolution",
            "due_at", "created_at", "updated_at", "resolved_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at", "resolved_at"]

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Expected a JSON object."))
        if "\\u0000" in json.dumps(value):  # PostgreSQL's jsonb cannot store a NUL character
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return value


class WorkOrderUpdateSerializer(WorkOrderSerializer):
    """What an ISV's ticket system may change; the links to chat and orders stay as raised."""

    order = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    conversation = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(WorkOrderSerializer.Meta):
        read_only_fields = ["kind", "order", "customer", "conversation", "created_at", "updated_at", "resolved_at"]


class InvoiceRequestSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="external_id", read_only=True)

    class Meta:
        model = InvoiceRequest
        fields = [
            "id", "title", "tax_id", "email", "status", "invoice_url", "note", "order", "customer",
            "conversation", "created_at", "updated_at", "issued_at",
        ]  # fmt: skip
        read_only_fields = fields


class InvoiceFulfilSerializer(serializers.Serializer):
    invoice_url = serializers.URLField(max_length=200)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=len(WebhookEvent)
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "description", "created_at"]
        read_only_fields = ["created_at"]

    def validate_events(self, value):
        return sorted(set(value))


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """Shown once, on creation: the secret that signs every delivery (X-Shopbee-Signature)."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = ["created_at", "secret"]


class SimilarQuestionsField(serializers.ListField):
    def to_representation(self, data):
        return [question.text for question in data.all()]


class FAQCardSerializer(serializers.ModelSerializer):
    similar_questions = SimilarQuestionsField(
        child=serializers.CharField(max_length=200), required=False, max_length=200
    )
    quick_replies = text_list(max_length=30)
    products = ShopSlugField(slug_field="sku", queryset=Product.objects.all(), many=True, required=False)

    class Meta:
        model = FAQCard
        fields = [
            "id", "question", "answer", "category", "similar_questions", "quick_replies", "products", "image_url",
            "enabled", "valid_from", "valid_to", "hit_count", "last_hit_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["hit_count", "last_hit_at", "created_at", "updated_at"]

    def validate(self, attrs):
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs.get("valid_to", getattr(self.instance, "valid_to", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"valid_to": _("The end must come after the start.")})
        return attrs


class QAFindingSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="name", read_only=True)
    agent = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = QAFinding
        fields = [
            "id", "conversation", "message", "rule", "kind", "severity", "actor", "agent", "evidence", "status",
            "comment", "reviewed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class LiveSessionSerializer(serializers.ModelSerializer):
    featured_products = serializers.SlugRelatedField(slug_field="sku", many=True, read_only=True)

    class Meta:
        model = LiveSession
        fields = ["id", "title", "starts_at", "ends_at", "room_url", "featured_products", "created_at"]
        read_only_fields = fields


class CampaignResultSerializer(serializers.ModelSerializer):
    """A campaign with its results, counted by marketing.services.with_results."""

    touches_sent = serializers.IntegerField(read_only=True)
    woken = serializers.IntegerField(read_only=True, help_text=_("Replied or came back within 24 h of a touch."))
    converted = serializers.IntegerField(read_only=True, help_text=_("Paid an order within 72 h of a touch."))
    refunds_retained = serializers.IntegerField(read_only=True, help_text=_("Refund withdrawn after the touch."))

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "kind", "enabled", "channel", "touches_sent", "woken", "converted", "refunds_retained",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class IntervalSerializer(serializers.Serializer):
    estimate = serializers.FloatField(help_text=_("Treated minus control."))
    low = serializers.FloatField(help_text=_("Lower end of the 95-percent confidence interval."))
    high = serializers.FloatField(help_text=_("Upper end of the 95-percent confidence interval."))


VERDICT_HELP = _("too_small (sample too small to conclude), higher, lower or no_difference (the interval holds 0).")


class ProportionLiftSerializer(serializers.Serializer):
    treated = serializers.IntegerField(source="first")
    treated_of = serializers.IntegerField(source="first_n")
    control = serializers.IntegerField(source="second")
    control_of = serializers.IntegerField(source="second_n")
    difference_points = IntervalSerializer(
        source="difference", allow_null=True, help_text=_("In percentage points (Newcombe's hybrid score interval).")
    )
    verdict = serializers.CharField(help_text=VERDICT_HELP)


class AmountLiftSerializer(serializers.Serializer):
    treated_mean = serializers.FloatField(source="first_mean", allow_null=True)
    control_mean = serializers.FloatField(source="second_mean", allow_null=True)
    difference = IntervalSerializer(
        allow_null=True, help_text=_("Paid per target, in yuan (percentile bootstrap, fixed seed).")
    )
    verdict = serializers.CharField(help_text=VERDICT_HELP)


class CampaignLiftSerializer(serializers.Serializer):
    """A campaign's targets touched against its control group (never touched), over the targets whose window
    (the campaign's delay plus 72 hours after the trigger) has closed."""

    campaign = serializers.IntegerField(source="campaign.pk")
    control_percent = serializers.IntegerField(source="campaign.control_percent")
    treated_targets = serializers.IntegerField(source="arms.treated.targets")
    control_targets = serializers.IntegerField(source="arms.control.targets")
    in_window = serializers.IntegerField(source="arms.in_window", help_text=_("Targets still in their window."))
    conversion = ProportionLiftSerializer()
    paid = AmountLiftSerializer()
    refunds_retained = ProportionLiftSerializer(source="refunds", allow_null=True)


class FollowUpQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    days = serializers.IntegerField(min_value=1, max_value=365, default=30)


class FollowUpCandidateSerializer(serializers.Serializer):
    customer = serializers.CharField(source="external_id", help_text=_("The customer's external id."))
    nickname = serializers.CharField()
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    last_seen = serializers.DateTimeField(allow_null=True)


class ChannelMessageSerializer(serializers.Serializer):
    """A shopper's message a bridge hands in (``POST /api/v1/channels/<id>/messages``)."""

    conversation_id = serializers.CharField(
        max_length=200, help_text="The conversation's id on the marketplace (one per shopper and shop there)."
    )
    message_id = serializers.CharField(
        max_length=128, help_text="The message's id on the marketplace: a message sent again with it is ignored."
    )
    sender = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="The shopper's name there."
    )
    text = serializers.CharField(max_length=2000, trim_whitespace=True)


class ChannelMessageAcceptedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: this message_id was handed in before; nothing was done.")
    conversation = serializers.IntegerField(help_text="Shopbee's conversation id.")
    message = serializers.IntegerField(help_text="Shopbee's id of the stored message.")
    replies = serializers.IntegerField(help_text="How many replies were queued for the bridge's URL.")
