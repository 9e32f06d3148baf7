"""Grounded answers from the shop's large model (docs/llm.md): what it is given, and which replies are kept.

When the retrieval engine is unsure (the clarify band), the model gets the shop's top cards, the attributes
of the products in the conversation and of the cards' products, and the shopper's own verified order the
dialogue already holds, nothing else and nothing of another shop. It answers briefly in the shop's voice,
citing each card as [C<id>] and each product as [P<id>]. A reply that cites nothing, or anything it was not
given, is discarded, and so is "不知道": the retrieval engine's reply goes out instead.
"""

import re
from dataclasses import dataclass, field

from core.llm import ChatMessage, Completion
from knowledge.models import FAQCard
from knowledge.services import Answer
from shops.llm import Outcome
from shops.models import Order, Product, Shop

from . import guard
from .models import Conversation

MAX_CARDS = 4
MAX_PRODUCTS = 5
CITATION = re.compile(r"\[([CP])(\d{1,12})\]")
# Text that may be the start of a citation still arriving ("[", "[C", "[C12").
OPEN_CITATION = re.compile(r"\[(?:[CP]\d{0,12})?$")
UNKNOWN = "不知道"
# How many characters of a streamed answer stay unseen until more arrive: a rule word of up to this length
# that is still arriving is checked whole before any of it is shown.
HOLD_BACK = 10


@dataclass(frozen=True)
class Facts:
    """What the model may use for one question: every id in here is the conversation's own shop's."""

    shop_name: str
    question: str
    cards: dict[int, str] = field(default_factory=dict)  # id -> "问：… 答：…"
    products: dict[int, str] = field(default_factory=dict)  # id -> attributes
    orders: list[str] = field(default_factory=list)

    def prompt(self) -> list[ChatMessage]:
        lines = [f"[C{pk}] {text}" for pk, text in self.cards.items()]
        lines += [f"[P{pk}] {text}" for pk, text in self.products.items()]
        lines += [f"订单：{text}" for text in self.orders]
        system = (
            f"你是「{self.shop_name}」的客服小蜂。只根据下面给出的资料回答顾客，用简体中文，语气亲切，"
            "不超过三句话。每句用到的资料都要在句末标注编号，卡片写 [C编号]，商品写 [P编号]。"
            f"资料里没有答案时只回答“{UNKNOWN}”。不要承诺资料里没有的事情。\n资料：\n" + "\n".join(lines)
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": self.question}]


def _product_text(product: Product) -> str:
    parts = [product.title, f"价格 {product.price} 元", f"库存 {product.stock}"]
    if product.colors:
        parts.append("颜色 " + "、".join(map(str, product.colors)))
    if product.sizes:
        parts.append("尺码 " + "、".join(map(str, product.sizes)))
    if product.warranty_months:
        parts.append(f"保修 {product.warranty_months} 个月")
    if product.selling_points:
        parts.append(product.selling_points[:200])
    return "；".join(parts)


def _order_text(order: Order) -> str:
    items = "、".join(f"{line.title}×{line.quantity}" for line in order.lines.all())
    shipped = f"，{order.carrier} {order.tracking_number}" if order.tracking_number else ""
    return f"{order.external_id}：{order.get_status_display()}，共 {order.total_amount} 元，{items}{shipped}"


def _own_orders(conversation: Conversation) -> list[Order]:
    """The order the dialogue is on, if the shopper proved it theirs (signed in as its customer, or verified)."""
    state = conversation.state or {}
    order_id = state.get("order")
    if not order_id:
        return []
    orders = Order.objects.filter(shop_id=conversation.shop_id, pk=order_id).prefetch_related("lines")
    if conversation.customer_id:
        orders = orders.filter(customer_id=conversation.customer_id)
    else:
        orders = orders.filter(pk__in=state.get("verified_orders", []))
    return list(orders)


def facts_for(
    shop: Shop, question: str, answers: list[Answer], conversation: Conversation | None = None
) -> Facts | None:
    """The facts for the model, or None when retrieval found no card to start from. Without a conversation
    (the evaluation), the cards and their products only."""
    card_ids = list(dict.fromkeys(c.card_id for answer in answers for c in answer.candidates))[:MAX_CARDS]
    if not card_ids:
        return None
    cards = FAQCard.objects.filter(shop=shop, pk__in=card_ids, enabled=True).prefetch_related("products")
    by_id = {card.pk: card for card in cards}
    state = (conversation.state or {}) if conversation is not None else {}
    product_ids = [state["focus"]] if state.get("focus") else []
    product_ids += list(state.get("results", {}).get("shown", []))
    product_ids += [p.pk for pk in card_ids if pk in by_id for p in by_id[pk].products.all()]
    products = Product.objects.filter(shop=shop, on_sale=True, pk__in=product_ids)
    ordered = sorted(products, key=lambda p: product_ids.index(p.pk))[:MAX_PRODUCTS]
    return Facts(
        shop_name=shop.name,
        question=question,
        cards={pk: f"问：{by_id[pk].question} 答：{by_id[pk].answer}" for pk in card_ids if pk in by_id},
        products={p.pk: _product_text(p) for p in ordered},
        orders=[_order_text(order) for order in _own_orders(conversation)] if conversation is not None else [],
    )


@dataclass(frozen=True)
class Judged:
    text: str  # the reply without its citation marks
    cards: list[int]
    products: list[int]
    problem: str  # "" when grounded; "unknown", "uncited" or "wrong citation"


def judge(facts: Facts, reply: str) -> Judged:
    """Whether the model's reply may go out: it knows, cites something, and cites only what it was given."""
    cited = CITATION.findall(reply)
    cards = list(dict.fromkeys(int(pk) for kind, pk in cited if kind == "C"))
    products = list(dict.fromkeys(int(pk) for kind, pk in cited if kind == "P"))
    text = visible(reply)
    if not text or UNKNOWN in text:
        return Judged(text, cards, products, "unknown")
    if not cited:
        return Judged(text, cards, products, "uncited")
    if not set(cards) <= set(facts.cards) or not set(products) <= set(facts.products):
        return Judged(text, cards, products, "wrong citation")
    return Judged(text, cards, products, "")


def outcome_of(shop_id: int, facts: Facts, completion: Completion) -> tuple[Outcome, Judged]:
    """What becomes of a model call (the chat's answer and the evaluation alike): failed, unknown, ungrounded,
    guarded (it breaks one of the shop's QA rules) or sent; with the judged reply."""
    judged = judge(facts, completion.text)
    if not completion.ok:
        return Outcome.FAILED, judged
    if judged.problem == "unknown":
        return Outcome.UNKNOWN, judged
    if judged.problem:
        return Outcome.UNGROUNDED, judged
    if not guard.check(shop_id, "bot", judged.text).ok:
        return Outcome.GUARDED, judged
    return Outcome.SENT, judged


def every_sentence_cited(reply: str) -> bool:
    """Whether each sentence of the reply carries a citation (the evaluation's "grounded")."""
    sentences = [part for part in re.split(r"(?<=[。！？!?])", reply) if visible(part)]
    return bool(sentences) and all(CITATION.search(part) for part in sentences)


def visible(text: str) -> str:
    """What the shopper reads of the model's text: citation marks removed."""
    return re.sub(r"\s{2,}", " ", CITATION.sub("", text)).strip()


def showable(text: str, *, final: bool) -> str:
    """The part of a streamed answer that may be shown now: without citation marks, and without the last
    ``HOLD_BACK`` characters (nor a citation still arriving) until the answer is complete."""
    if final:
        return visible(text)
    text = OPEN_CITATION.sub("", text)
    return CITATION.sub("", text)[:-HOLD_BACK] if len(text) > HOLD_BACK else ""
