"""What an agent sees beside a conversation: the hand-off packet (why it reached a human, what the bot
learnt) and the customer panel (who they are, their past conversations, orders and refunds).

Everything is read within the conversation's own shop: a customer, an order or a product of another
shop never appears, whatever ids the dialogue state holds.
"""

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch

from shops.models import Order, Product

from .frames import HandoffPacket, LabelledValue, PanelConversation, PanelCustomer, PanelFrame, PanelOrder
from .intents import HandoffReason, Intent
from .models import Conversation, ConversationTag, Message

REASON_LABELS: dict[str, str] = {
    HandoffReason.REQUESTED: "顾客要求转人工",
    HandoffReason.ANGRY: "顾客情绪激动",
    HandoffReason.FALLBACKS: "机器人多次没答上来",
    HandoffReason.QUOTA: "机器人本月额度已用完",
    HandoffReason.HOLDOUT: "对照组：本店抽样直接由人工接待",
}

INTENT_LABELS: dict[str, str] = {
    Intent.GREETING: "打招呼",
    Intent.SMALLTALK: "闲聊",
    Intent.FAQ: "常见问题",
    Intent.CLARIFY: "确认问题",
    Intent.FALLBACK: "未能回答",
    Intent.RECOMMEND: "商品推荐",
    Intent.PRODUCT_DETAIL: "商品详情",
    Intent.ORDER_STATUS: "订单与物流",
    Intent.PRESALE: "预售",
    Intent.WARRANTY: "保修",
    Intent.INVOICE: "开发票",
    Intent.ADDRESS_CHANGE: "修改地址",
    Intent.HANDOFF: "转人工",
    Intent.BUNDLE: "搭配购",
    Intent.LIVE: "直播",
    Intent.SATISFACTION: "满意度评价",
    Intent.AGENT_REPLY: "客服回复",
    Intent.WORK_ORDER_RESOLVED: "工单完成",
    Intent.MARKETING: "营销触达",
    Intent.MODEL_ANSWER: "模型回答",
}

# Intents that say nothing about what the shopper came for: the summary looks past them.
_NOT_A_TOPIC = {Intent.GREETING, Intent.SMALLTALK, Intent.CLARIFY, Intent.FALLBACK, Intent.HANDOFF, Intent.SATISFACTION}
UNANSWERED_SHOWN = 5
PAST_CONVERSATIONS_SHOWN = 10
ORDERS_SHOWN = 10
_ENCODER = DjangoJSONEncoder()


def _when(moment: Any) -> str:
    return _ENCODER.default(moment)


def _slots(conversation: Conversation) -> list[LabelledValue]:
    state = conversation.state or {}
    slots = state.get("slots") or {}
    found: list[LabelledValue] = []
    if slots.get("categories"):
        found.append({"label": "品类", "value": "、".join(slots["categories"])})
    if slots.get("keywords"):
        found.append({"label": "关键词", "value": "、".join(slots["keywords"])})
    low, high = slots.get("low"), slots.get("high")
    if low or high:
        found.append({"label": "预算", "value": f"{low or '不限'} – {high or '不限'} 元"})
    for key, label in (("colour", "颜色"), ("size", "尺码"), ("use", "用途")):
        if slots.get(key):
            found.append({"label": label, "value": str(slots[key])})
    if isinstance(state.get("focus"), int):
        product = Product.objects.filter(pk=state["focus"], shop_id=conversation.shop_id).first()
        if product is not None:
            found.append({"label": "在看的商品", "value": product.title})
    if isinstance(state.get("order"), int):
        order = Order.objects.filter(pk=state["order"], shop_id=conversation.shop_id).first()
        if order is not None:
            found.append({"label": "在问的订单", "value": order.external_id})
    return found


def handoff_packet(conversation: Conversation) -> HandoffPacket:
    """Why the conversation went to a human and the bot's summary of it: what the shopper was about, the
    slots the bot filled and the questions it could not answer."""
    shopper = conversation.messages.filter(sender=Message.Sender.SHOPPER)
    intents = shopper.exclude(intent="").order_by("-pk").values_list("intent", flat=True)[:50]
    topic = next((i for i in intents if i not in _NOT_A_TOPIC), "")
    unanswered = list(shopper.filter(intent=Intent.FALLBACK).order_by("-pk").values_list("text", flat=True))
    reason = conversation.handoff_reason
    return {
        "reason": reason,
        "reason_display": REASON_LABELS.get(reason, reason),
        "intent": topic,
        "intent_display": INTENT_LABELS.get(topic, topic),
        "slots": _slots(conversation),
        "unanswered": [text[:200] for text in reversed(unanswered[:UNANSWERED_SHOWN])],
    }


def _outcome(conversation: Conversation) -> str:
    if conversation.status != Conversation.Status.CLOSED:
        return str(conversation.get_status_display())
    return "机器人独立解决" if conversation.handed_over_at is None else "人工处理后结束"


def _orders(conversation: Conversation) -> list[Order]:
    orders = Order.objects.filter(shop_id=conversation.shop_id).prefetch_related(
        "lines", Prefetch("refunds", to_attr="refund_list")
    )
    if conversation.customer_id is not None:
        orders = orders.filter(customer_id=conversation.customer_id)
    else:
        # An anonymous shopper: only the orders they proved are theirs in this conversation.
        state = conversation.state or {}
        proved = [i for i in state.get("verified_orders", []) if isinstance(i, int)]
        orders = orders.filter(pk__in=proved)
    return list(orders.order_by("-created_at")[:ORDERS_SHOWN])


def _order(order: Order) -> PanelOrder:
    return {
        "number": order.external_id,
        "status": order.status,
        "status_display": str(order.get_status_display()),
        "total": str(order.total_amount),
        "created_at": _when(order.created_at),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "items": [
            {
                "title": line.title,
                "options": " / ".join(filter(None, [line.color, line.size])),
                "quantity": line.quantity,
            }
            for line in order.lines.all()
        ],
        "refunds": [
            {
                "amount": str(refund.amount),
                "status": refund.status,
                "status_display": str(refund.get_status_display()),
                "reason": refund.reason,
            }
            for refund in order.refund_list  # type: ignore[attr-defined]  # the Prefetch's to_attr
        ],
    }


def customer_panel(conversation: Conversation) -> PanelFrame:
    """The shopper beside the chat, from the conversation's shop only: name and tags, their conversations
    (this one and the past ones, with how each ended) and their orders with items, tracking and refunds."""
    same_shopper = Conversation.objects.filter(shop_id=conversation.shop_id)
    if conversation.customer_id is not None:
        same_shopper = same_shopper.filter(customer_id=conversation.customer_id)
    else:
        same_shopper = same_shopper.filter(visitor_token=conversation.visitor_token)
    past = list(
        same_shopper.exclude(pk=conversation.pk)
        .prefetch_related("tags")
        .order_by("-started_at", "-pk")[:PAST_CONVERSATIONS_SHOWN]
    )
    tags = ConversationTag.objects.filter(conversation__in=same_shopper).order_by("name")
    customer = conversation.customer
    who: PanelCustomer = {
        "name": str(customer) if customer is not None else f"访客 {conversation.visitor_token[:6]}",
        "known": customer is not None,
        "tags": sorted(set(tags.values_list("name", flat=True))),
    }
    history: list[PanelConversation] = [
        {
            "id": c.pk,
            "started_at": _when(c.started_at),
            "status": c.status,
            "outcome": _outcome(c),
            "satisfaction": c.satisfaction,
            "tags": sorted(t.name for t in c.tags.all()),
        }
        for c in past
    ]
    return {
        "type": "panel",
        "conversation": conversation.pk,
        "customer": who,
        "conversations": history,
        "orders": [_order(order) for order in _orders(conversation)],
    }
