"""Changing the delivery address: a request for the shop team before shipping, advice after."""

import re

from chat.intents import Intent
from chat.models import WorkOrder
from chat.records import open_work_order
from shops.models import Order

from . import orders
from .handler import Handler, Responder, Stage, Verified
from .replies import DialogueResult, reply
from .turn import Turn

_CUE = re.compile(
    r"(?:改|修改|更改|换|变更)(?:一下|下)?(?:收货|收件|配送|寄送)?(?:地址|收货信息)|地址(?:写|填|弄|选)?错|"
    r"(?:地址|收货地址)(?:改|换)(?:成|为|到|一下)|寄到别的地方|送到另一个地址"
)
_NEW_ADDRESS = re.compile(r"(?:改成|改为|改到|换成|换到|变更为|新地址(?:是|为)?[:：]?|地址(?:是|为)[:：]?)\s*(.+)")
_ADDRESS_PARTS = re.compile(r"省|市|区|县|镇|乡|村|路|街|道|号|弄|巷|栋|幢|单元|室|楼|小区|大厦|园")
_QUESTION = re.compile(r"[吗么嘛?]|怎么|什么|能不能|可以吗|多少|哪")
_SHIPPED = (Order.Status.SHIPPED, Order.Status.COMPLETED)


def detect(turn: Turn) -> Responder | None:
    return (lambda: respond(turn)) if _CUE.search(turn.text) else None


def looks_like_address(text: str) -> bool:
    text = text.strip()
    return len(text) >= 6 and len(_ADDRESS_PARTS.findall(text)) >= 2 and not _QUESTION.search(text)


def respond(turn: Turn) -> DialogueResult:
    order = orders.resolve(turn, Intent.ADDRESS_CHANGE)
    return order if isinstance(order, DialogueResult) else for_order(turn, order, turn.text)


def for_order(turn: Turn, order: Order, text: str) -> DialogueResult:
    """What can be done for this order; records the change when the new address came with the request."""
    turn.state["order"] = order.pk
    if order.status in _SHIPPED:
        tracking = f"（{order.carrier}，运单号 {order.tracking_number}）" if order.tracking_number else ""
        return reply(
            Intent.ADDRESS_CHANGE,
            f"订单 {order.external_id} 已经发货了{tracking}，仓库这边没法再改地址了。您可以：\n"
            f"1. 联系快递公司，凭运单号申请改派或转寄到新地址（可能产生额外运费）；\n"
            f"2. 拒收包裹，退回后为您重新发货或办理退款。\n需要的话我可以为您转接人工客服协助处理。",
            ["转人工", "查物流"],
        )
    if not order.is_before_shipping:
        return reply(
            Intent.ADDRESS_CHANGE, f"订单 {order.external_id} 当前{order.get_status_display()}，不需要修改地址哦。"
        )
    if (m := _NEW_ADDRESS.search(text)) and looks_like_address(m.group(1)):
        return _record(turn, order, m.group(1).strip())
    turn.ask({"kind": "new_address", "order": order.pk})
    return reply(
        Intent.ADDRESS_CHANGE,
        f"订单 {order.external_id} 还没有发货，可以修改。"
        "请发送新的收货地址（省市区 + 详细地址，收件人或电话有变化也请一起写上）。",
    )


def answer_pending(turn: Turn) -> DialogueResult | None:
    """The new address the bot asked for; None if the message is something else."""
    order_id = turn.pending.get("order") if turn.pending else None
    if not looks_like_address(turn.text) or order_id is None:
        return None
    order = orders.accessible_orders(turn).filter(pk=order_id).first()
    turn.clear_pending()
    if order is None:
        return reply(Intent.ADDRESS_CHANGE, "没有找到要修改的订单，请重新告诉我订单号哦～")
    if not order.is_before_shipping:
        return for_order(turn, order, "")
    stated = _NEW_ADDRESS.search(turn.text)
    return _record(turn, order, (stated.group(1) if stated else turn.text).strip())


def _record(turn: Turn, order: Order, new_address: str) -> DialogueResult:
    work_order = open_work_order(
        turn.conversation.shop_id,
        WorkOrder.Kind.ADDRESS_CHANGE,
        f"订单 {order.external_id} 申请修改收货地址：{order.shipping_address} → {new_address}",
        conversation=turn.conversation,
        order=order,
        customer=order.customer,
        data={"new_address": new_address, "old_address": order.shipping_address},
    )
    turn.clear_pending()
    return reply(
        Intent.ADDRESS_CHANGE,
        f"已为您提交订单 {order.external_id} 的地址修改申请（工单 #{work_order.pk}），新地址：{new_address}。"
        f"店铺同事确认后会通知您～",
    )


def after_verification(turn: Turn, verified: Verified) -> DialogueResult:
    """The visitor proved the order: the new address may have come with the first request."""
    return for_order(turn, verified.order, Turn.start(turn.conversation, verified.asked).text)


HANDLER = Handler(
    name="address",
    stage=Stage.TASK,
    intents=frozenset({Intent.ADDRESS_CHANGE}),
    detect=detect,
    pending=frozenset({"new_address"}),
    answer_pending=answer_pending,
    recall=lambda pending: "（修改地址还需要您发送新的收货地址哦）",
    cancel_intent=Intent.ADDRESS_CHANGE,
    after_verification=after_verification,
)
