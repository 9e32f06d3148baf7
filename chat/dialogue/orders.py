"""The shopper's own orders: where is it, has it shipped, the presale final payment, the refund.

A conversation linked to a Customer (the merchant's site signed who they are) sees that customer's
orders in this shop. An anonymous shopper first proves an order is theirs with its number and the last
four digits of the receiver's phone; verified order ids are kept in ``state["verified_orders"]``.
Nothing is said about an order that is not the shopper's, not even whether it exists.
"""

import re
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import translation

from chat.intents import Intent
from shops.models import Order, Refund

from .handler import Handler, Responder, Stage, Verified
from .replies import DialogueResult, money, reply
from .state import PendingQuestion
from .turn import Turn

ORDER_NUMBER = re.compile(r"(?<![a-z0-9])([a-z]{0,4}\d{6,24})(?![a-z0-9])")
_LAST_FOUR = re.compile(r"(?<![a-z0-9])(\d{4})(?!\d)")
_BARE_NUMBER = re.compile(r"(?:订单号?|单号)?[a-z]{0,4}\d{6,24}(?:(?:手机)?尾号)?(?:\d{4})?")
MAX_VERIFY_FAILURES = 3
REFUND = "refund"  # a purpose (which order to pick), answered with Intent.ORDER_STATUS

_PRESALE = re.compile(r"尾款|定金|订金|预售")
_REFUND = re.compile(r"退款|退钱|退的钱")
_REFUND_STATUS = re.compile(r"到账|进度|怎么样|到哪|处理|状态|什么时候|了吗|了没|没到|审核|多久|退了吗|查")
_STATUS = re.compile(
    r"物流|快递单号|运单|单号多少|到哪了|到哪儿|到哪里|发货了[吗没]|发了[吗没]|发货没|发出了?[吗没]|"
    r"(?:订单|快递|包裹).{0,4}(?:状态|到|在哪|怎么样|查)|查(?:一下|下)?(?:我的)?(?:订单|物流|快递)|"
    r"什么时候(?:能)?到|还没(?:收到|到)|没收到货|我的(?:订单|快递|包裹|货)|我买的|我下的单|订单号是?多少"
)
_PRESALE_STATUSES = (Order.Status.DEPOSIT_PAID, Order.Status.AWAITING_FINAL)
_RECEIVED = (Order.Status.SHIPPED, Order.Status.COMPLETED)

_REFUND_TEXT: dict[str, str] = {
    Refund.Status.REQUESTED: "退款申请已提交，正在等待商家审核，一般 1-2 个工作日内处理",
    Refund.Status.APPROVED: "商家已同意退款，款项正在原路退回",
    Refund.Status.REJECTED: "退款申请未通过审核，如有疑问可以转人工客服为您查看原因",
    Refund.Status.WITHDRAWN: "退款申请已撤销",
    Refund.Status.REFUNDED: "已退款，款项已原路退回",
}


def intent_of(purpose: str) -> Intent:
    """The intent of the answer to a purpose (what was asked: an Intent, or REFUND)."""
    return Intent.ORDER_STATUS if purpose == REFUND else Intent(purpose)


def detect(turn: Turn) -> Responder | None:
    intent = _intent(turn)
    return None if intent is None else lambda: respond(turn, intent)


def _intent(turn: Turn) -> Intent | None:
    """Intent.PRESALE, Intent.ORDER_STATUS (also for refunds) or None."""
    text = turn.text
    if _PRESALE.search(text) and re.search(r"多少|什么时候|几号|截止|付|交|补|我的|时间|要", text):
        return Intent.PRESALE
    if _REFUND.search(text) and _REFUND_STATUS.search(text):
        return Intent.ORDER_STATUS
    if _STATUS.search(text) or (ORDER_NUMBER.search(text) and re.search(r"订单|单号|查", text)):
        return Intent.ORDER_STATUS
    if _BARE_NUMBER.fullmatch(turn.plain):
        return Intent.ORDER_STATUS  # just an order number (and maybe the phone digits): look it up
    return None


def accessible_orders(turn: Turn) -> QuerySet[Order]:
    """The orders this conversation may talk about: the customer's own, or those the visitor verified."""
    orders = Order.objects.filter(shop_id=turn.conversation.shop_id)
    if turn.conversation.customer_id:
        return orders.filter(customer_id=turn.conversation.customer_id)
    return orders.filter(pk__in=turn.state.get("verified_orders", []))


def resolve(turn: Turn, purpose: str) -> Order | DialogueResult:
    """The order the message is about, or the reply to send instead (verification, not found)."""
    number = ORDER_NUMBER.search(turn.text)
    if not number and not turn.conversation.customer_id and not turn.state.get("verified_orders"):
        return _ask_verification(turn, purpose)  # a visitor's orders are unknown until verified
    orders = accessible_orders(turn)
    if number:
        order = orders.filter(external_id__iexact=number.group(1)).first()
        if order is not None:
            return order
        if turn.conversation.customer_id:
            missing = f"在您的账户下没有找到订单 {number.group(1).upper()}，请核对一下订单号哦～"
            return reply(intent_of(purpose), missing)
        # A visitor may send the number and the phone digits with the question itself.
        asked = _ask_verification(turn, purpose)
        if not turn.pending:
            return asked
        outcome = answer_verification(turn)
        if isinstance(outcome, Verified):
            return outcome.order
        return outcome or asked  # the message holds the number, so it always answers
    order = _default_order(orders, purpose, turn.state.get("order"))
    if order is not None:
        return order
    if turn.conversation.customer_id:
        return reply(intent_of(purpose), _NONE_TEXT.get(purpose, "没有查到您在本店的订单哦～"))
    return _ask_verification(turn, purpose)  # a visitor's other orders are unknown until verified


_NONE_TEXT: dict[str, str] = {
    Intent.PRESALE: "您目前没有待付尾款的预售订单哦～",
    REFUND: "没有查到您的退款记录哦～",
}


def _default_order(orders: QuerySet[Order], purpose: str, current_id: int | None) -> Order | None:
    if purpose == Intent.PRESALE:
        return orders.filter(status__in=_PRESALE_STATUSES).order_by("-created_at").first()
    if purpose == REFUND:
        return orders.filter(refunds__isnull=False).order_by("-created_at").distinct().first()
    if purpose == Intent.WARRANTY:  # the goods the shopper has: the latest order shipped to them
        received = orders.filter(status__in=_RECEIVED).order_by("-created_at").first()
        return received or orders.order_by("-created_at").first()
    if purpose == Intent.ADDRESS_CHANGE:
        before = orders.filter(status__in=Order.BEFORE_SHIPPING).order_by("-created_at").first()
        return before or orders.order_by("-created_at").first()
    if current_id and (current := orders.filter(pk=current_id).first()):
        return current
    return orders.order_by("-created_at").first()


def _ask_verification(turn: Turn, purpose: str) -> DialogueResult:
    if turn.state.get("verify_failures", 0) >= MAX_VERIFY_FAILURES:
        return reply(intent_of(purpose), "订单验证多次未通过，为了保护订单信息，请联系人工客服为您核实。", ["转人工"])
    turn.ask({"kind": "verify_order", "then": purpose, "raw": turn.raw})
    return reply(
        intent_of(purpose),
        "为了保护您的隐私，请提供订单号和收货人手机号后四位，例如：订单号 SW000123，手机尾号 5678",
    )


def answer_verification(turn: Turn) -> DialogueResult | Verified | None:
    """The visitor's order number and phone digits; None if the message holds neither."""
    pending: PendingQuestion = turn.pending or {}
    number = ORDER_NUMBER.search(turn.text)
    order_number = number.group(1) if number else pending.get("number", "")
    rest = turn.text.replace(number.group(1), " ") if number else turn.text
    four = _LAST_FOUR.search(rest)
    if not number and not four:
        return None
    purpose = pending["then"]
    if not four:
        pending["number"] = order_number
        return reply(intent_of(purpose), "好的，再告诉我收货人手机号的后四位就可以查询啦～")
    if not order_number:
        return reply(intent_of(purpose), "还需要您的订单号哦（在订单详情页可以找到）～")
    turn.clear_pending()
    order = Order.objects.filter(shop_id=turn.conversation.shop_id, external_id__iexact=order_number).first()
    phone_digits = re.sub(r"\D", "", order.receiver_phone) if order else ""
    if order is None or len(phone_digits) < 4 or phone_digits[-4:] != four.group(1):
        failures = turn.state.get("verify_failures", 0) + 1
        turn.state["verify_failures"] = failures
        if failures >= MAX_VERIFY_FAILURES:
            return reply(
                intent_of(purpose), "订单验证多次未通过，为了保护订单信息，请联系人工客服为您核实。", ["转人工"]
            )
        turn.ask({"kind": "verify_order", "then": purpose, "raw": pending.get("raw", "")})
        return reply(intent_of(purpose), "订单号和手机尾号对不上哦，请核对后重新发送（订单号 + 收货人手机号后四位）。")
    turn.state["verified_orders"] = [*turn.state.get("verified_orders", []), order.pk]
    turn.state["order"] = order.pk
    return Verified(order, purpose, intent_of(purpose), pending.get("raw", ""))


def respond(turn: Turn, intent: Intent) -> DialogueResult:
    purpose: str = intent
    if intent == Intent.ORDER_STATUS and _REFUND.search(turn.text):
        purpose = REFUND
    order = resolve(turn, purpose)
    return order if isinstance(order, DialogueResult) else answer(turn, order, purpose)


def answer(turn: Turn, order: Order, purpose: str) -> DialogueResult:
    turn.state["order"] = order.pk
    intent = Intent.PRESALE if purpose == Intent.PRESALE or order.status in _PRESALE_STATUSES else Intent.ORDER_STATUS
    text = describe(order)
    quick = []
    if turn.conversation.customer_id:
        others = accessible_orders(turn).exclude(pk=order.pk).order_by("-created_at")[:2]
        quick = [f"查订单 {o.external_id}" for o in others]
    if order.status == Order.Status.SHIPPED:
        quick.append("修改收货地址")
    return reply(intent, text, quick, order=order_card(order))


# Lines shown on an order card; the rest are counted.
ORDER_CARD_LINES = 3


def order_card(order: Order) -> dict[str, Any]:
    """The order card of the chat protocol: what the shopper sees of their order at a glance."""
    lines = list(order.lines.order_by("pk"))
    with translation.override("zh-hans"):
        status = str(order.get_status_display())
    return {
        "number": order.external_id,
        "status": order.status,
        "status_text": status,
        "total": money(order.total_amount),
        "created_at": _local(order.created_at, order),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "lines": [
            {"title": line.title, "quantity": line.quantity, "options": " ".join(filter(None, [line.color, line.size]))}
            for line in lines[:ORDER_CARD_LINES]
        ],
        "more_lines": max(0, len(lines) - ORDER_CARD_LINES),
    }


def _local(moment: datetime, order: Order) -> str:
    return moment.astimezone(order.shop.tz).strftime("%m月%d日 %H:%M")


def describe(order: Order) -> str:
    """The shopper-facing status of one order, from its own fields."""
    head = f"订单 {order.external_id}"
    status = order.status
    if status == Order.Status.UNPAID:
        return f"{head} 还未付款（应付 ¥{money(order.total_amount)}），付款后我们会尽快为您安排发货。"
    if status == Order.Status.PAID:
        return f"{head} 已付款，正在仓库备货，还没有发货。发货后物流单号会第一时间同步给您。"
    if status in _PRESALE_STATUSES:
        due = order.total_amount - order.deposit_amount
        deadline = f"，请在 {_local(order.final_payment_due, order)} 前支付" if order.final_payment_due else ""
        opened = "尾款已开放支付" if status == Order.Status.AWAITING_FINAL else "尾款支付开放后会提醒您"
        return (
            f"{head} 是预售订单，定金 ¥{money(order.deposit_amount)} 已付，"
            f"尾款 ¥{money(due)}（总价 ¥{money(order.total_amount)} − 定金）{deadline}。{opened}。"
        )
    tracking = f"{order.carrier}，运单号 {order.tracking_number}" if order.tracking_number else order.carrier
    if status == Order.Status.SHIPPED:
        when = f"已于 {_local(order.shipped_at, order)} 发货" if order.shipped_at else "已发货"
        return f"{head} {when}，{tracking}。可以凭运单号在快递官网查看实时物流。"
    if status == Order.Status.COMPLETED:
        return f"{head} 已签收，交易完成（{tracking}）。" if tracking else f"{head} 已签收，交易完成。"
    if status in (Order.Status.REFUND_REQUESTED, Order.Status.REFUNDED):
        refund = order.refunds.order_by("-created_at").first()
        if refund is None:
            return f"{head} 的退款正在处理中。"
        text = f"{head} 的退款 ¥{money(refund.amount)}：{_REFUND_TEXT[refund.status]}"
        if refund.resolved_at and refund.status == Refund.Status.REFUNDED:
            text += f"（{_local(refund.resolved_at, order)}）"
        return text + "。"
    return f"{head} 已关闭。"


def after_verification(turn: Turn, verified: Verified) -> DialogueResult:
    return answer(turn, verified.order, verified.purpose)


HANDLER = Handler(
    name="orders",
    stage=Stage.TASK,
    intents=frozenset({Intent.ORDER_STATUS, Intent.PRESALE}),
    detect=detect,
    # Other handlers ask for verification too (address.py, warranty.py); this one reads the answer.
    pending=frozenset({"verify_order"}),
    answer_pending=answer_verification,
    recall=lambda pending: "（查询订单还需要您的订单号和收货人手机号后四位哦）",
    cancel_intent=Intent.ORDER_STATUS,
    after_verification=after_verification,
)
