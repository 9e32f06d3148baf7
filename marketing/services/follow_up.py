"""Follow-up assistant: a shop's customers ranked by purchase intent, each with reasons in words."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from chat.intents import Intent
from chat.models import Conversation, Message
from shops.models import Customer, Order, Shop

from ..money import yuan

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Keywords of a shopper's question, in Simplified and Traditional (messages are stored as typed).
ASKED = {
    "price": ("多少钱", "价格", "價格", "价钱", "價錢", "优惠", "優惠", "便宜", "打折", "几块"),
    "size": (
        "尺码",
        "尺碼",
        "码数",
        "碼數",
        "码吗",
        "碼嗎",
        "码的",
        "碼的",
        "几码",
        "幾碼",
        "多大",
        "大小",
        "身高",
        "体重",
        "體重",
        "偏大",
        "偏小",
    ),
    "stock": ("库存", "庫存", "有货", "有貨", "现货", "現貨", "缺货", "缺貨", "补货", "補貨", "还有吗", "還有嗎"),
}
WEIGHTS = {"unpaid": 40, "accepted": 25, "price": 15, "size": 15, "stock": 15, "visit": 5}
MAX_VISITS_COUNTED = 5


@dataclass(frozen=True)
class FollowUpCandidate:
    customer_id: int
    nickname: str
    external_id: str
    score: int
    reasons: list[str] = field(default_factory=list)
    last_seen: datetime | None = None


def _asked(kind: str, messages: QuerySet[Message]) -> Exists:
    words = Q()
    for word in ASKED[kind]:
        words |= Q(text__contains=word)
    return Exists(messages.filter(words))


def _flag(condition: Q, weight: int) -> Case:
    return Case(When(condition, then=Value(weight)), default=Value(0), output_field=IntegerField())


def follow_up_candidates(
    shop: Shop, limit: int = 20, *, days: int = 30, now: datetime | None = None
) -> list["FollowUpCandidate"]:
    """The ``limit`` customers of ``shop`` most likely to buy, best first, over the last ``days``.

    Signals: asked about price, size or stock; asked about a product after the bot recommended one
    (accepted a recommendation); has an unpaid order; came back in several conversations. Customers
    who opted out of marketing are left out. Scoring and ranking run in one SQL query.
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    # Through the customer's conversations (indexed by customer), not the shop's whole message table.
    said = Message.objects.filter(
        sender=Message.Sender.SHOPPER, conversation__customer=OuterRef("pk"), created_at__gte=since
    )
    recommended_before = Message.objects.filter(
        conversation=OuterRef("conversation"), sender=Message.Sender.BOT, intent=Intent.RECOMMEND, pk__lt=OuterRef("pk")
    )
    accepted = Exists(said.filter(intent=Intent.PRODUCT_DETAIL).filter(Exists(recommended_before)))
    unpaid = Order.objects.filter(customer=OuterRef("pk"), status=Order.Status.UNPAID, created_at__gte=since)
    unpaid_count = Subquery(
        unpaid.order_by().values("customer").annotate(n=Count("pk")).values("n"), output_field=IntegerField()
    )
    unpaid_total = Subquery(unpaid.order_by().values("customer").annotate(t=Sum("total_amount")).values("t"))
    visits = Subquery(
        Conversation.objects.filter(customer=OuterRef("pk"), started_at__gte=since)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )
    last_seen = Subquery(said.order_by("-created_at").values("created_at")[:1])
    ranked = (
        Customer.objects.filter(shop=shop, marketing_opt_out=False)
        .annotate(
            asked_price=_asked("price", said),
            asked_size=_asked("size", said),
            asked_stock=_asked("stock", said),
            accepted=accepted,
            unpaid_orders=Coalesce(unpaid_count, 0),
            unpaid_total=unpaid_total,
            visits=Coalesce(visits, 0),
            last_seen=last_seen,
        )
        .annotate(
            score=_flag(Q(asked_price=True), WEIGHTS["price"])
            + _flag(Q(asked_size=True), WEIGHTS["size"])
            + _flag(Q(asked_stock=True), WEIGHTS["stock"])
            + _flag(Q(accepted=True), WEIGHTS["accepted"])
            + _flag(Q(unpaid_orders__gt=0), WEIGHTS["unpaid"])
            + Least("visits", Value(MAX_VISITS_COUNTED)) * WEIGHTS["visit"]
        )
        .filter(Q(score__gt=WEIGHTS["visit"]) | Q(visits__gte=2))
        .order_by("-score", "-last_seen", "pk")[:limit]
    )
    return [
        FollowUpCandidate(
            customer_id=c.pk,
            nickname=c.nickname or c.external_id,
            external_id=c.external_id,
            score=c.score,
            reasons=_reasons(c, days),
            last_seen=c.last_seen,
        )
        for c in ranked
    ]


class _Signals(TypedDict):
    """What ``follow_up_candidates`` annotates each customer with."""

    asked_price: bool
    asked_size: bool
    asked_stock: bool
    accepted: bool
    unpaid_orders: int
    unpaid_total: Decimal | None
    visits: int


def _reasons(customer: "WithAnnotations[Customer, _Signals]", days: int) -> list[str]:
    reasons = []
    if customer.unpaid_orders:
        reasons.append(f"有 {customer.unpaid_orders} 笔未付款订单（共 ¥{yuan(customer.unpaid_total or Decimal(0))}）")
    if customer.accepted:
        reasons.append("机器人推荐商品后追问了详情")
    topics = ((customer.asked_price, "价格"), (customer.asked_size, "尺码"), (customer.asked_stock, "库存"))
    asked = [label for flag, label in topics if flag]
    if asked:
        reasons.append(f"问过{'、'.join(asked)}")
    if customer.visits >= 2:
        reasons.append(f"近 {days} 天来咨询了 {customer.visits} 次")
    return reasons
