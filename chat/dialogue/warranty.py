"""查询保修: how long a product's warranty is, and whether the shopper's own purchase is still covered.

The period comes from the product (``Product.warranty_months``, 0: the shop states none). A question
about a product ("这个保修多久", "拖把保修多久") names it or has it in view; one about the shopper's
purchase ("我买的耳机还在保修期吗", "坏了能保修吗") is answered for their order, found and verified as
order questions are (orders.py). The warranty runs from receipt; orders record when they shipped, so
the end date is counted from the shipping date and said to be so.
"""

import calendar
import re
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from chat.intents import Intent
from shops.models import Order, OrderLine, Product

from . import faq, orders
from .handler import Handler, Responder, Stage, Verified
from .replies import DialogueResult, product_card, reply
from .turn import Turn

_CUE = re.compile(r"保修|质保|保固|三包|过保")
# The shopper asks about something they bought, not about a product on sale.
_PURCHASE = re.compile(r"我买的|买的|我的|订单|单号|收到|到手|坏了|用了|出问题|故障|还在保|过保|保修期内|还能保")
# With the goods: their warranty has started (or would have, for a refund under way).
_WITH_SHOPPER = (Order.Status.SHIPPED, Order.Status.COMPLETED, Order.Status.REFUND_REQUESTED)
_NOT_COVERED = (Order.Status.REFUNDED, Order.Status.CLOSED)

_NEXT_STEPS = (
    "在保修期内出现质量问题可以这样处理：\n"
    "1. 在订单详情页点「申请售后」，写明问题并上传照片，选择维修或换新；\n"
    "2. 或者回复「转人工」，客服帮您登记保修。"
)
_EXPIRED = (
    "过了保修期的商品不能免费保修了；如果实际签收比发货晚了好几天，或者想了解付费维修，"
    "可以回复「转人工」请客服帮您核实。"
)


def detect(turn: Turn) -> Responder | None:
    if not _CUE.search(turn.text):
        return None
    if _PURCHASE.search(turn.text) or orders.ORDER_NUMBER.search(turn.text):
        return lambda: respond_for_order(turn)
    product_id = _product_in_question(turn)
    if product_id is not None:
        return lambda: respond_for_product(turn, product_id)
    if faq.knows(turn):
        return None  # "保修期多长" with no product in view: the shop's own policy card answers
    return lambda: reply(
        Intent.WARRANTY, "请问想了解哪款商品的保修呢？发商品名称给我，或者告诉我订单号帮您查已购商品的保修～"
    )


def _product_in_question(turn: Turn) -> int | None:
    """The product named in the message (by its title's words, or a category of one product), else the one
    in view."""
    catalogue = turn.catalogue
    mentions = catalogue.read(turn.text)
    if (named := catalogue.named_item(mentions)) is not None:
        return named.id
    in_categories = [i.id for i in catalogue.items if i.category in mentions.categories]
    if len(in_categories) == 1:
        return in_categories[0]
    shown = turn.state.get("results", {}).get("shown", [])
    return turn.state.get("focus") or (shown[0] if len(shown) == 1 else None)


def respond_for_product(turn: Turn, product_id: int) -> DialogueResult:
    product = Product.objects.filter(shop_id=turn.conversation.shop_id, pk=product_id).first()
    if product is None:
        return reply(Intent.WARRANTY, "没有找到这款商品，发商品名称给我再帮您查一下保修吧～")
    turn.state["focus"] = product.pk
    name = f"「{product.title}」"
    if not product.warranty_months:
        text = f"{name}没有标注保修期，售后按店铺的退换货规则处理，具体可以回复「转人工」问问客服。"
        return reply(Intent.WARRANTY, text, ["转人工"], products=[product_card(product)])
    text = (
        f"{name}保修 {product.warranty_months} 个月，从签收之日起算。"
        "买了之后出现质量问题，在订单详情页点「申请售后」就可以申请维修或换新。"
    )
    return reply(Intent.WARRANTY, text, ["我买的还在保修期吗"], products=[product_card(product)])


def respond_for_order(turn: Turn) -> DialogueResult:
    order = _order_with_named_product(turn) or orders.resolve(turn, Intent.WARRANTY)
    return order if isinstance(order, DialogueResult) else answer(turn, order, turn.text)


def after_verification(turn: Turn, verified: Verified) -> DialogueResult:
    return answer(turn, verified.order, Turn.start(turn.conversation, verified.asked).text)


def _named_lines(turn: Turn, text: str) -> Q | None:
    """Order lines of the products the message names ("耳机"), or None when it names none."""
    mentions = turn.catalogue.read(text)
    if not (mentions.categories or mentions.keywords):
        return None
    named = Q(product__category__in=mentions.categories)
    for word in mentions.keywords:
        named |= Q(title__icontains=word)
    return named


def _order_with_named_product(turn: Turn) -> Order | None:
    """The shopper's latest received order holding the product the message names, if any."""
    named = _named_lines(turn, turn.text)
    if named is None or orders.ORDER_NUMBER.search(turn.text):
        return None
    lines = OrderLine.objects.filter(named, order__in=orders.accessible_orders(turn), order__status__in=_WITH_SHOPPER)
    line = lines.select_related("order").order_by("-order__created_at").first()
    return line.order if line is not None else None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it is shorter (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _day(moment: date) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def answer(turn: Turn, order: Order, text: str) -> DialogueResult:
    """The warranty of each item of the order (those the message names, if it names some)."""
    turn.state["order"] = order.pk
    head = f"订单 {order.external_id}"
    if order.status in _NOT_COVERED:
        status = order.get_status_display()
        return reply(Intent.WARRANTY, f"{head} {status}，不在保修范围内了。如有疑问可以回复「转人工」。", ["转人工"])
    lines = list(order.lines.select_related("product").order_by("pk"))
    named = _named_lines(turn, text)
    if named is not None and (picked := list(order.lines.filter(named).select_related("product").order_by("pk"))):
        lines = picked
    months = {line.pk: line.product.warranty_months if line.product else 0 for line in lines}
    if not any(months.values()):
        return reply(
            Intent.WARRANTY,
            f"{head} 的商品没有标注保修期，售后按店铺的退换货规则处理，可以回复「转人工」请客服帮您看看。",
            ["转人工"],
        )
    if order.status not in _WITH_SHOPPER or order.shipped_at is None:
        periods = "；".join(f"「{line.title}」保修 {months[line.pk]} 个月" for line in lines if months[line.pk])
        return reply(Intent.WARRANTY, f"{head} 还没有发货，保修期从签收之日起算：{periods}。")
    tz = ZoneInfo(order.shop.timezone)
    shipped = timezone.localtime(order.shipped_at, tz).date()
    today = timezone.localtime(timezone.now(), tz).date()
    items, covered, expired = [], False, False
    for line in lines:
        if not months[line.pk]:
            items.append(f"- 「{line.title}」没有标注保修期；")
            continue
        until = add_months(shipped, months[line.pk])
        period = f"- 「{line.title}」保修 {months[line.pk]} 个月"
        if today <= until:
            covered = True
            items.append(f"{period}，到 {_day(until)}，目前在保修期内；")
        else:
            expired = True
            items.append(f"{period}，已于 {_day(until)} 到期，很抱歉已经过了保修期；")
    intro = f"{head} 于 {_day(shipped)} 发货（保修期从签收起算，这里按发货日计算）："
    notes = [_NEXT_STEPS] if covered else []
    if expired:
        notes.append(_EXPIRED)
    text = "\n".join([intro, *items, *notes])
    return reply(Intent.WARRANTY, text, ["转人工"])


HANDLER = Handler(
    name="warranty",
    stage=Stage.TASK,
    intents=frozenset({Intent.WARRANTY}),
    detect=detect,
    after_verification=after_verification,
)
