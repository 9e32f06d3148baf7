"""The open API's endpoints: each one authenticates the key, checks its scope, and works inside its shop."""

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.models import QAFinding, Severity
from analytics.services.value import campaign_lift
from chat.channels.inbound import receive
from chat.models import ChannelConnection, Conversation, InvoiceRequest, Message, WorkOrder
from chat.records import fulfil_invoice, open_work_order, update_work_order
from chat.services import ChatError
from knowledge.models import FAQCard
from knowledge.services import disable_faq_card, save_faq_card
from marketing.models import Campaign, LiveSession
from marketing.services import campaign_arms, follow_up_candidates, with_results
from shops.models import Customer, Order, Product, Shop
from shops.services import upsert_customers, upsert_orders, upsert_products

from . import serializers as s
from .authentication import ApiKeyAuthentication, ApiKeyRateThrottle, ShopApiPermission
from .models import WebhookSubscription


class ShopRow(Protocol):
    """What the shop API serves: rows of one shop."""

    shop_id: int


class ShopApiViewSet(viewsets.GenericViewSet):
    """Base of every open-API view: one authentication, one permission, one throttle, one shop."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ShopApiPermission]
    throttle_classes = [ApiKeyRateThrottle]
    scope_area: str = ""

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation has no key
            return queryset.none()
        return queryset.filter(shop_id=self.request.auth.shop_id)

    def shop_id_of(self, obj: "ShopRow") -> int:
        return obj.shop_id

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["shop"] = self.request.auth.shop
        return context


class ExportPagination(CursorPagination):
    """Stable pages over a growing table: a cursor never skips or repeats a row added meanwhile."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class TimeRange(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text=_("Only rows at or after this time (ISO 8601)."))
    until = serializers.DateTimeField(required=False, help_text=_("Only rows before this time (ISO 8601)."))

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": _("Must be later than 'since'.")})
        return attrs


TIME_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Only rows at or after this time (ISO 8601)."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Only rows before this time (ISO 8601)."),
]


def filter_time(queryset, request: Request, field: str):
    """Apply ``?since=&until=`` to ``field``; a malformed time is a 400 with the parameter named."""
    time_range = TimeRange(data=request.query_params)
    time_range.is_valid(raise_exception=True)
    if "since" in time_range.validated_data:
        queryset = queryset.filter(**{f"{field}__gte": time_range.validated_data["since"]})
    if "until" in time_range.validated_data:
        queryset = queryset.filter(**{f"{field}__lt": time_range.validated_data["until"]})
    return queryset


def choice_filter(queryset, request: Request, field: str, choices: type[models.TextChoices]):
    value = request.query_params.get(field)
    if value is None:
        return queryset
    if value not in choices.values:
        raise serializers.ValidationError({field: [_("Unknown value '%(value)s'.") % {"value": value}]})
    return queryset.filter(**{field: value})


class UpsertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopApiViewSet):
    """List, read, and upsert by the external key: ``PUT /<key>/`` for one item, ``POST /batch/`` for many."""

    lookup_value_regex = "[^/\x00]+"  # no NUL: PostgreSQL refuses it even in a lookup
    upsert: Callable[[Shop, list[dict[str, Any]]], Sequence[tuple[models.Model, str]]]
    batch_serializer_class: type[serializers.Serializer]

    def _outcomes(self, items: list[dict]):
        return self.upsert(self.request.auth.shop, items)

    def update(self, request: Request, *args, **kwargs) -> Response:
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Send one JSON object.")]})
        key = kwargs[self.lookup_field]
        body_key = request.data.get(self.lookup_field, key)
        if body_key != key:
            raise serializers.ValidationError({self.lookup_field: [_("Differs from the one in the URL.")]})
        serializer = self.get_serializer(data={**request.data, self.lookup_field: key})
        serializer.is_valid(raise_exception=True)
        [(row, outcome)] = self._outcomes([serializer.validated_data])
        code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
        return Response(self.get_serializer(row).data, status=code)

    @action(detail=False, methods=["post"])
    def batch(self, request: Request) -> Response:
        serializer = self.batch_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        outcomes = self._outcomes(serializer.validated_data["items"])
        counts = Counter(outcome for _row, outcome in outcomes)
        return Response(
            {
                "created": counts["created"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "items": [{"key": getattr(row, self.lookup_field), "outcome": outcome} for row, outcome in outcomes],
            }
        )


def upsert_schema(item: type[serializers.Serializer], batch: type[serializers.Serializer], what: str):
    return extend_schema_view(
        update=extend_schema(
            summary=f"Create or update one {what}",
            request=item,
            responses={200: item, 201: item},
            description="Idempotent: a repeated identical call changes nothing.",
        ),
        batch=extend_schema(
            summary=f"Create or update {what}s in one batch",
            request=batch,
            responses={200: s.BatchResultSerializer},
            description="Atomic: either every item is valid and written, or the answer is 400 with an error "
            "list parallel to `items` and nothing is written.",
        ),
    )


ProductBatch = s.batch_serializer(s.ProductSerializer, "sku")
CustomerBatch = s.batch_serializer(s.CustomerSerializer, "external_id")
OrderBatch = s.batch_serializer(s.OrderSerializer, "external_id")


@upsert_schema(s.ProductSerializer, ProductBatch, "product")
class ProductViewSet(UpsertViewSet):
    scope_area = "products"
    queryset = Product.objects.all().order_by("sku")
    serializer_class = s.ProductSerializer
    batch_serializer_class = ProductBatch
    lookup_field = "sku"
    upsert = staticmethod(upsert_products)


@upsert_schema(s.CustomerSerializer, CustomerBatch, "customer")
class CustomerViewSet(UpsertViewSet):
    scope_area = "customers"
    queryset = Customer.objects.all().order_by("external_id")
    serializer_class = s.CustomerSerializer
    batch_serializer_class = CustomerBatch
    lookup_field = "external_id"
    upsert = staticmethod(upsert_customers)


@upsert_schema(s.OrderSerializer, OrderBatch, "order")
class OrderViewSet(UpsertViewSet):
    scope_area = "orders"
    queryset = Order.objects.select_related("customer").prefetch_related("lines__product").order_by("-created_at", "pk")
    serializer_class = s.OrderSerializer
    batch_serializer_class = OrderBatch
    lookup_field = "external_id"
    upsert = staticmethod(upsert_orders)


@extend_schema_view(list=extend_schema(parameters=TIME_PARAMETERS, description="Filtered on `started_at`."))
class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopApiViewSet):
    scope_area = "conversations"
    queryset = Conversation.objects.select_related("customer")
    serializer_class = s.ConversationSerializer
    pagination_class = ExportPagination

    def filter_queryset(self, queryset):
        return filter_time(queryset, self.request, "started_at") if self.action == "list" else queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            *TIME_PARAMETERS,
            OpenApiParameter("conversation", OpenApiTypes.INT, description="Only this conversation's messages."),
        ],
        description="Filtered on `created_at`.",
    )
)
class MessageViewSet(mixins.ListModelMixin, ShopApiViewSet):
    scope_area = "conversations"
    queryset = Message.objects.all()
    serializer_class = s.MessageSerializer
    pagination_class = ExportPagination

    def filter_queryset(self, queryset):
        queryset = filter_time(queryset, self.request, "created_at")
        conversation = self.request.query_params.get("conversation")
        if conversation is not None:
            try:
                conversation_id = int(conversation)
            except ValueError:
                conversation_id = 0
            # Ids are 64-bit: a bigger number is no id, not a database error.
            if not 0 < conversation_id < 2**63:
                raise serializers.ValidationError({"conversation": [_("A conversation id is a whole number.")]})
            queryset = queryset.filter(conversation_id=conversation_id)
        return queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=WorkOrder.Status.values),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="Only work orders changed at or after this time."
            ),
        ]
    ),
    partial_update=extend_schema(request=s.WorkOrderUpdateSerializer, responses=s.WorkOrderSerializer),
)
class WorkOrderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ShopApiViewSet
):
    scope_area = "work_orders"
    queryset = WorkOrder.objects.select_related("order", "customer")
    serializer_class = s.WorkOrderSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return s.WorkOrderUpdateSerializer if self.action == "partial_update" else s.WorkOrderSerializer

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        queryset = choice_filter(queryset, self.request, "status", WorkOrder.Status)
        if "updated_since" in self.request.query_params:
            since = serializers.DateTimeField().run_validation  # reuse DRF's parsing and its error message
            try:
                queryset = queryset.filter(updated_at__gte=since(self.request.query_params["updated_since"]))
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"updated_since": exc.detail}) from exc
        return queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = open_work_order(self.request.auth.shop_id, data.pop("kind"), data.pop("details"), **data)

    def perform_update(self, serializer):
        # Through the chat service: the webhook fires and a resolution is told to the shopper.
        serializer.instance = update_work_order(serializer.instance, **serializer.validated_data)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=InvoiceRequest.Status.values)]),
    fulfil=extend_schema(
        request=s.InvoiceFulfilSerializer,
        responses={200: s.InvoiceRequestSerializer, 400: OpenApiResponse(description="Not fulfillable.")},
        summary="Mark an invoice request issued, with the invoice's URL",
    ),
)
class InvoiceRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopApiViewSet):
    scope_area = "invoices"
    queryset = InvoiceRequest.objects.select_related("order", "customer")
    serializer_class = s.InvoiceRequestSerializer

    def filter_queryset(self, queryset):
        return (
            choice_filter(queryset, self.request, "status", InvoiceRequest.Status)
            if self.action == "list"
            else queryset
        )

    @action(detail=True, methods=["post"])
    def fulfil(self, request: Request, pk=None) -> Response:
        invoice = self.get_object()
        body = s.InvoiceFulfilSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            invoice = fulfil_invoice(invoice, **body.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(s.InvoiceRequestSerializer(invoice).data)


class ChannelViewSet(ShopApiViewSet):
    """The channel API for marketplace bridges: shopper messages in; replies go out to the bridge's URL."""

    scope_area = "channels"
    queryset = ChannelConnection.objects.filter(kind=Conversation.Channel.API).select_related("shop")

    @extend_schema(
        request=s.ChannelMessageSerializer,
        responses={201: s.ChannelMessageAcceptedSerializer, 200: s.ChannelMessageAcceptedSerializer},
        summary="Hand in a shopper's message (the bot answers through the bridge's URL)",
    )
    def messages(self, request: Request, pk=None) -> Response:
        connection = self.get_object()
        body = s.ChannelMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not connection.is_active:
            return Response({"detail": _("This channel is switched off.")}, status=status.HTTP_409_CONFLICT)
        data = body.validated_data
        try:
            received = receive(
                connection,
                conversation_id=data["conversation_id"],
                message_id=data["message_id"],
                text=data["text"],
                sender_name=data["sender"],
            )
        except ChatError as error:
            raise serializers.ValidationError({"text": [error.message]}) from error
        message = received.message
        answer = {
            "created": received.created,
            "conversation": message.conversation_id if message is not None else None,
            "message": message.pk if message is not None else None,
            "replies": len(received.replies),
        }
        return Response(answer, status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK)


@extend_schema_view(
    create=extend_schema(responses={201: s.WebhookSubscriptionCreatedSerializer}),
)
class WebhookSubscriptionViewSet(viewsets.ModelViewSet, ShopApiViewSet):
    scope_area = "webhooks"
    queryset = WebhookSubscription.objects.all().order_by("pk")
    serializer_class = s.WebhookSubscriptionSerializer

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = serializer.save(shop=request.auth.shop)
        return Response(s.WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("enabled", OpenApiTypes.BOOL)]),
    disable=extend_schema(request=None, responses=s.FAQCardSerializer, summary="Stop answering with this card"),
)
class FAQCardViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ShopApiViewSet
):
    """The shop's FAQ cards (industry templates are not the shop's and are not listed)."""

    scope_area = "knowledge"
    queryset = FAQCard.objects.prefetch_related("similar_questions", "products").order_by("pk")
    serializer_class = s.FAQCardSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def filter_queryset(self, queryset):
        if self.action != "list" or "enabled" not in self.request.query_params:
            return queryset
        enabled = serializers.BooleanField().run_validation
        try:
            return queryset.filter(enabled=enabled(self.request.query_params["enabled"]))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"enabled": exc.detail}) from exc

    def _save(self, serializer, card: FAQCard | None) -> None:
        fields = dict(serializer.validated_data)
        similar, products = fields.pop("similar_questions", None), fields.pop("products", None)
        try:
            serializer.instance = save_faq_card(self.request.auth.shop, card, fields, similar, products)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk=None) -> Response:
        return Response(s.FAQCardSerializer(disable_faq_card(self.get_object())).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            *TIME_PARAMETERS,
            OpenApiParameter("status", OpenApiTypes.STR, enum=QAFinding.Status.values),
            OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values),
        ],
        description="Quality-inspection findings, oldest first, filtered on `created_at`.",
    )
)
class QAFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopApiViewSet):
    scope_area = "qa"
    queryset = QAFinding.objects.select_related("rule", "agent")
    serializer_class = s.QAFindingSerializer
    pagination_class = ExportPagination

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        queryset = filter_time(queryset, self.request, "created_at")
        queryset = choice_filter(queryset, self.request, "status", QAFinding.Status)
        return choice_filter(queryset, self.request, "severity", Severity)


@extend_schema_view(
    list=extend_schema(
        parameters=TIME_PARAMETERS, description="The shop's live-stream sessions, filtered on `starts_at`."
    )
)
class LiveSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopApiViewSet):
    scope_area = "marketing"
    queryset = LiveSession.objects.prefetch_related("featured_products").order_by("starts_at", "pk")
    serializer_class = s.LiveSessionSerializer

    def filter_queryset(self, queryset):
        return filter_time(queryset, self.request, "starts_at") if self.action == "list" else queryset


class CampaignResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopApiViewSet):
    """Marketing campaigns with their results: touches sent, woken up, converted, refunds retained."""

    scope_area = "marketing"
    queryset = Campaign.objects.all()
    serializer_class = s.CampaignResultSerializer

    def get_queryset(self):
        return with_results(super().get_queryset()).order_by("pk")

    @extend_schema(responses=s.CampaignLiftSerializer)
    @action(detail=True, methods=["get"])
    def lift(self, request: Request, pk=None) -> Response:
        """The campaign's lift: its touched targets against its control group, with 95% confidence intervals."""
        campaign = self.get_object()
        [arms] = campaign_arms([campaign])
        return Response(s.CampaignLiftSerializer(campaign_lift(arms)).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[s.FollowUpQuery],
        responses=s.FollowUpCandidateSerializer(many=True),
        description="The follow-up assistant's list: customers most likely to buy, best first, with reasons.",
    )
)
class FollowUpViewSet(ShopApiViewSet):
    scope_area = "marketing"
    serializer_class = s.FollowUpCandidateSerializer

    def list(self, request: Request) -> Response:
        query = s.FollowUpQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        candidates = follow_up_candidates(
            request.auth.shop, query.validated_data["limit"], days=query.validated_data["days"]
        )
        return Response(s.FollowUpCandidateSerializer(candidates, many=True).data)
