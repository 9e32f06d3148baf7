"""Product recommendation over several turns, and questions about the products just shown.

Slots (``state["slots"]``): categories, keywords (title words), low/high price, colour, size, use, and
``asked`` (the questions already put, so none is asked twice). The ranked result ids of the last search
are in ``state["results"]`` (``ids``, ``offset``, ``shown``) for "换一批", "有便宜点的吗", "第二个…";
``state["focus"]`` is the product last talked about ("这款有42码吗").
"""

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from itertools import combinations

from chat.intents import Intent
from shops.models import Product

from . import faq
from .catalogue import Catalogue, Item, Mentions
from .handler import Handler, Responder, Stage
from .prices import CHEAPER, PRICIER, PriceRange, parse_budget
from .replies import DialogueResult, money, product_card, reply
from .state import Slots
from .turn import Turn

PAGE = 3
MAX_QUESTIONS = 2  # besides the category: budget, use or colour, at most two before showing products

_ORDINAL = re.compile(r"第\s*([一二三四五六七八九十\d])\s*(?:个|款|双|件|条|种|只|套|项)?|最后一?[个款双件条]")
_REFERENCE = re.compile(r"这[个款双件条只套]|那[个款双件条只套]|它|刚才[那这]")
_MORE = re.compile(
    r"换一批|换一些|换几[个款]|还有(?:别的|其他|其它|没有别的)|其他的?款|别的款|再推荐|再来几[个款]|更多"
)
_STRONG_CUE = re.compile(
    r"推荐|想买|想要|想找|要买|买(?:一|个|双|件|条|套|啥|什么)|求推荐|看看|挑|哪款|哪个好|给我(?:找|来)"
)
_WEAK_CUE = re.compile(r"有没有|有什么|有啥|有吗|有卖|卖吗|适合|预算|的呢|什么样|哪些")
_FAQ_MARKERS = re.compile(
    r"怎么|如何|多久|几天|保修|退货|换货|退款|运费|包邮|[能可]以?[机水手干]?洗|保养|发票|正品|质量|尺码表|偏大|偏小|偏码|"
    r"能退|售后|发货|快递"
)
_DETAIL_QUESTION = re.compile(
    r"多少钱|价格|价钱|有货|库存|还有吗|有吗|有没有|什么颜色|哪些颜色|几个颜色|什么码|尺码|码数"
)
_OPTIONS_QUESTION = re.compile(r"(?:别的|其他|其它|哪些|什么|几个|几种)(?:颜色|色|尺码|码)")
_ASKS = re.compile(r"[吗么嘛?]|什么|怎|哪|几|多少|如何|是否|能不能|可不可以|会不会")
_SKIP = re.compile(r"^(?:都可以|都行|随便|不限|无所谓|没要求|没有要求|都好|看着推荐|你推荐吧|不知道)")
_CN_ORDINALS = "一二三四五六七八九十"

_SLOT_QUESTIONS = {
    "category": "好的～您想看哪一类商品呢？",
    "budget": "预算大概多少呢？",
    "use": "主要在什么场景用呢？",
    "colour": "喜欢什么颜色呢？",
}


def detect(turn: Turn) -> Responder | None:
    """Choosing products; when that is uncertain, only if shop knowledge has no confident answer."""
    kind, certain = classify(turn, turn.catalogue)
    if kind and (certain or not faq.knows(turn)):
        return lambda: respond(turn, turn.catalogue, kind)
    return None


def classify(turn: Turn, catalogue: Catalogue) -> tuple[str, bool]:
    """What the message asks of the products, and whether that is certain.

    The kind is "detail", "more", "recommend" or "" (not about choosing products). An uncertain one
    ("跑步鞋偏码吗" names a category but may be a sizing question) goes to shop knowledge first.
    """
    text = turn.text
    shown = turn.state.get("results", {}).get("shown", [])
    mentions = catalogue.read(text)
    faq_like = bool(_FAQ_MARKERS.search(text))
    asks_detail = bool(mentions.size or mentions.colour or _DETAIL_QUESTION.search(text))
    if shown and _ORDINAL.search(text):
        return "detail", not faq_like
    one_in_view = bool(turn.state.get("focus") or len(shown) == 1)
    if one_in_view and _REFERENCE.search(text) and asks_detail:
        return "detail", not faq_like
    if one_in_view and _OPTIONS_QUESTION.search(text):
        return "detail", not faq_like  # "还有别的颜色吗" about the product in view
    if catalogue.named_item(mentions) and asks_detail:
        return "detail", False
    if shown and _MORE.search(text):
        return "more", True
    in_flow = bool(turn.state.get("slots"))
    if in_flow and (CHEAPER.search(text) or PRICIER.search(text)) and not faq_like:
        return "recommend", True
    if _STRONG_CUE.search(text) and not faq_like:
        return "recommend", True
    budget = parse_budget(text)
    if mentions and budget:
        return "recommend", True
    if faq_like or not (mentions or budget):
        return "", False
    if in_flow and not _ASKS.search(text):
        return "recommend", True  # "速干的", "XL码": a detail added to the search under way
    if _WEAK_CUE.search(text) or in_flow or len(turn.plain) <= 8:
        return "recommend", False
    return "", False


def respond(turn: Turn, catalogue: Catalogue, kind: str) -> DialogueResult:
    if kind == "detail":
        return _detail(turn, catalogue)
    if kind == "more":
        return _more(turn, catalogue)
    return _recommend(turn, catalogue)


def answer_pending(turn: Turn, catalogue: Catalogue) -> DialogueResult | None:
    """The shopper answers the slot question the bot asked; None if the message is about something else."""
    pending = turn.pending
    if pending is None:
        return None
    slot = pending.get("slot", "")
    if _SKIP.match(turn.plain):
        slots = turn.state.setdefault("slots", {})
        if slot == "category":
            slots["any_category"] = True
        slots.setdefault("asked", []).append(slot)
        turn.clear_pending()
        return _recommend(turn, catalogue)
    mentions = catalogue.read(turn.text)
    budget = parse_budget(turn.text, bare_number=(slot == "budget"))
    if _FAQ_MARKERS.search(turn.text) and not budget:
        return None  # "跑步鞋怎么洗" while asked for the budget: a question, not the answer
    shown = turn.state.get("results", {}).get("shown")
    if mentions or budget or (shown and CHEAPER.search(turn.text)):
        turn.clear_pending()
        return _recommend(turn, catalogue, budget=budget)
    return None


def _update_slots(turn: Turn, catalogue: Catalogue, budget: PriceRange | None) -> Slots:
    slots = turn.state.get("slots", Slots()).copy()
    mentions = catalogue.read(turn.text)
    restart = _STRONG_CUE.search(turn.text) and mentions.categories
    if restart or (mentions.categories and set(mentions.categories) != set(slots.get("categories", []))):
        slots = {"categories": mentions.categories}  # a new kind of product: the old details no longer apply
    if not mentions.categories and (mentions.keywords or mentions.use) and not _refines(catalogue, slots, mentions):
        slots = {}  # "双肩包" after talking about jackets, "去油污的" after detergents: a new search
    if mentions.keywords:
        slots["keywords"] = mentions.keywords
    if mentions.colour:
        slots["colour"] = mentions.colour
    if mentions.size:
        slots["size"] = mentions.size
    if mentions.use:
        slots["use"] = mentions.use
    budget = budget or parse_budget(turn.text)
    shown = [i for i in (catalogue.by_id(pk) for pk in turn.state.get("results", {}).get("shown", [])) if i]
    if budget:
        slots["low"] = str(budget.low) if budget.low is not None else None
        slots["high"] = str(budget.high) if budget.high is not None else None
    elif CHEAPER.search(turn.text):
        if shown:
            slots["high"] = str(min(i.price for i in shown) - Decimal("0.01"))
            slots["low"] = None
        slots["cheaper"] = True
    elif PRICIER.search(turn.text) and shown:
        slots["low"] = str(max(i.price for i in shown) + Decimal("0.01"))
        slots["high"] = None
    return slots


def _refines(catalogue: Catalogue, slots: Slots, mentions: Mentions) -> bool:
    """Whether title words or a use narrow the current search rather than start another one."""
    current = search(catalogue, slots, relax=False)[0] if slots.get("categories") or slots.get("keywords") else []
    keywords, use = mentions.keywords, mentions.use
    return any((not keywords or any(k in i.key for k in keywords)) and (not use or i.has_use(use)) for i in current)


def _bounds(slots: Slots) -> tuple[Decimal | None, Decimal | None]:
    """The budget's low and high ends (stored as text: the state is JSON)."""
    low, high = slots.get("low"), slots.get("high")
    return Decimal(low) if low else None, Decimal(high) if high else None


def _filters(slots: Slots) -> list[tuple[str, Callable[[Item], bool] | None]]:
    low, high = _bounds(slots)
    cats = set(slots.get("categories", []))
    keywords = slots.get("keywords", [])
    return [
        ("category", (lambda i: i.category in cats) if cats else None),
        (
            "price",
            (lambda i: (low is None or i.price >= low) and (high is None or i.price <= high)) if low or high else None,
        ),
        ("keywords", (lambda i: any(k in i.key for k in keywords)) if keywords else None),
        ("use", (lambda i: i.has_use(slots["use"])) if slots.get("use") else None),
        ("colour", (lambda i: i.has_colour(slots["colour"])) if slots.get("colour") else None),
        ("size", (lambda i: i.has_size(slots["size"])) if slots.get("size") else None),
    ]


# Dropped one by one, in this order, when nothing matches everything; category and price never are.
_RELAXABLE = ("colour", "size", "use", "keywords")
_RELAXED_NAMES = {"colour": "颜色", "size": "尺码", "use": "用途", "keywords": "款式"}


def search(catalogue: Catalogue, slots: Slots, *, relax: bool = True) -> tuple[list[Item], list[str]]:
    """Matching items, best first, and the slot names that had to be dropped to find any.

    When nothing matches everything, the fewest relaxable conditions are dropped (colour before size,
    use and title words); category and price are kept: they are what the shopper asked for first.
    """
    filters = [(name, f) for name, f in _filters(slots) if f is not None]
    relaxable = [name for name, _ in filters if name in _RELAXABLE] if relax else []
    drops = [()] + [
        combo
        for size in range(1, len(relaxable) + 1)
        for combo in combinations(sorted(relaxable, key=_RELAXABLE.index), size)
    ]
    items: list[Item] = []
    dropped: tuple[str, ...] = ()
    for dropped in drops:
        kept = [f for name, f in filters if name not in dropped]
        items = [i for i in catalogue.items if all(f(i) for f in kept)]
        if items:
            break
    keywords = slots.get("keywords", [])
    items.sort(key=lambda i: (i.stock == 0, -sum(k in i.key for k in keywords), i.price))
    return items, list(dropped) if items else []


def _next_question(slots: Slots, candidates: list[Item]) -> str:
    asked = slots.get("asked", [])
    if len(candidates) <= PAGE or len([a for a in asked if a != "category"]) >= MAX_QUESTIONS:
        return ""
    priced = slots.get("low") is not None or slots.get("high") is not None or slots.get("cheaper")
    if "budget" not in asked and not priced and len({i.price for i in candidates}) > 1:
        return "budget"
    if "use" not in asked and not slots.get("use") and len(_top_uses(candidates)) > 1:
        return "use"
    if "colour" not in asked and not slots.get("colour") and len(_top_colours(candidates)) > 1:
        return "colour"
    return ""


def _top_uses(items: list[Item]) -> list[str]:
    return [u for u, _ in Counter(u for i in items for u in i.uses).most_common(4)]


def _top_colours(items: list[Item]) -> list[str]:
    return [c for c, _ in Counter(c for i in items for c in i.colors).most_common(4)]


def _nice(value: Decimal) -> int:
    step = 100 if value >= 300 else 50
    return max(step, round(value / step) * step)


def _budget_options(items: list[Item]) -> list[str]:
    prices = sorted(i.price for i in items)
    low, high = _nice(prices[len(prices) // 3]), _nice(prices[(2 * len(prices)) // 3])
    if high <= low:
        return [f"{low}以内", f"{low}以上", "不限"]
    return [f"{low}以内", f"{low}-{high}", f"{high}以上", "不限"]


def _ask(turn: Turn, catalogue: Catalogue, slot: str, slots: Slots, candidates: list[Item]) -> DialogueResult:
    slots.setdefault("asked", []).append(slot)
    turn.state["slots"] = slots
    turn.ask({"kind": "recommend_slot", "slot": slot})
    options = {
        "category": lambda: catalogue.categories[:6],
        "budget": lambda: _budget_options(candidates),
        "use": lambda: [*_top_uses(candidates), "都可以"],
        "colour": lambda: [*_top_colours(candidates), "都可以"],
    }[slot]()
    text = _SLOT_QUESTIONS[slot]
    if slot != "category" and slots.get("categories"):
        text = f"{'、'.join(slots['categories'])}有 {len(candidates)} 款可选，{text}"
    return reply(Intent.RECOMMEND, text, options)


def _recommend(turn: Turn, catalogue: Catalogue, budget: PriceRange | None = None) -> DialogueResult:
    if not catalogue.items:
        return reply(Intent.RECOMMEND, "店铺暂时没有在售的商品，上新后欢迎再来看看～")
    slots = _update_slots(turn, catalogue, budget)
    unspecific = not any(slots.get(name) for name in ("categories", "keywords", "use", "any_category"))
    if unspecific and len(catalogue.categories) > 1:
        return _ask(turn, catalogue, "category", slots, catalogue.items)
    candidates, _ = search(catalogue, slots, relax=False)
    if question := _next_question(slots, candidates):
        return _ask(turn, catalogue, question, slots, candidates)
    # "便宜点" / "贵一点" ask for other prices: finding none is the answer, the price is not relaxed.
    moved = bool(slots.pop("cheaper", None)) or bool(PRICIER.search(turn.text))
    items, dropped = search(catalogue, slots, relax=not moved)
    if not items:
        # The slots that found nothing are not kept: the next follow-up starts from the last results.
        shown = [i for i in (catalogue.by_id(pk) for pk in turn.state.get("results", {}).get("shown", [])) if i]
        if shown and CHEAPER.search(turn.text):
            text = f"刚才推荐的已经是最实惠的了（最低 ¥{money(min(i.price for i in shown))}），要不要看看其他类别？"
        elif shown and PRICIER.search(turn.text):
            text = f"刚才推荐的已经是这类里价位最高的了（¥{money(max(i.price for i in shown))}），要不要看看其他类别？"
        elif nearest := _nearest_in_price(catalogue, slots):
            turn.state["slots"] = slots
            turn.state["results"] = {"ids": [i.id for i in nearest], "offset": 0, "shown": []}
            return _show_page(turn, nearest, f"{_describe(slots)}暂时没有，为您挑了价格最接近的")
        else:
            text = f"抱歉，没有找到{_describe(slots)}，换个类别试试？"
        return reply(Intent.RECOMMEND, text, catalogue.categories[:4])
    turn.state["slots"] = slots
    turn.state["results"] = {"ids": [i.id for i in items], "offset": 0, "shown": []}
    intro = f"为您找到 {len(items)} 款{_describe(slots)}"
    if dropped:
        intro = f"没有完全符合的，放宽了{'、'.join(_RELAXED_NAMES[d] for d in dropped)}条件，为您找到 {len(items)} 款"
    return _show_page(turn, items, intro)


def _nearest_in_price(catalogue: Catalogue, slots: Slots) -> list[Item]:
    """Without the budget: the matching items closest to it (the shopper is told they are outside it)."""
    if slots.get("low") is None and slots.get("high") is None:
        return []
    items, _ = search(catalogue, {**slots, "low": None, "high": None})
    low, high = _bounds(slots)

    def distance(item: Item) -> Decimal:
        return max(
            low - item.price if low is not None else Decimal(0), item.price - high if high is not None else Decimal(0)
        )

    return sorted(items, key=lambda i: (distance(i), i.price))


def _describe(slots: Slots) -> str:
    """'300元以内的适合跑步的黑色42码跑步鞋'."""
    price = ""
    low, high = _bounds(slots)
    if low is not None and high is not None:
        price = f"{low:.0f}-{high:.0f}元的"
    elif high is not None:
        price = f"{high:.0f}元以内的"
    elif low is not None:
        price = f"{low:.0f}元以上的"
    use = f"适合{slots['use']}的" if slots.get("use") else ""
    size = slots.get("size", "")
    size = f"{size}码" if size and size != "均码" else size
    what = "、".join(slots.get("categories", [])) or "、".join(slots.get("keywords", [])) or "商品"
    return f"{price}{use}{slots.get('colour', '')}{size}{what}"


def _show_page(turn: Turn, items: list[Item], intro: str) -> DialogueResult:
    results = turn.state["results"]
    page = items[results["offset"] : results["offset"] + PAGE]
    results["offset"] += len(page)
    results["shown"] = [i.id for i in page]
    turn.state["focus"] = page[0].id if len(page) == 1 else None
    lines = [f"{n}. {i.title} ¥{money(i.price)}" for n, i in enumerate(page, start=1)]
    quick = ["换一批"] if results["offset"] < len(results["ids"]) else []
    quick.append("有便宜点的吗")
    if any(i.sizes for i in page):
        quick.append("第一个有什么尺码")
    if colours := [c for c in _top_colours(page) if c != turn.state.get("slots", {}).get("colour")]:
        quick.append(f"{colours[0]}的呢")
    text = f"{intro}，{'先看看这几款' if len(page) > 1 else '看看这款'}：\n" + "\n".join(lines)
    return reply(Intent.RECOMMEND, text, quick, products=[product_card(i) for i in page])


def _more(turn: Turn, catalogue: Catalogue) -> DialogueResult:
    results = turn.state["results"]
    items = [i for i in (catalogue.by_id(pk) for pk in results["ids"]) if i is not None]
    if len(items) <= PAGE:
        return reply(
            Intent.RECOMMEND,
            f"符合条件的就这 {len(items)} 款啦～换个颜色、预算或者类别看看？",
            catalogue.categories[:4],
        )
    if results["offset"] >= len(items):
        results["offset"] = 0
        return _show_page(turn, items, f"已经看完全部 {len(items)} 款了，从头再给您看看")
    return _show_page(turn, items, "好的，换一批")


def _ordinal(text: str, count: int) -> int | None:
    m = _ORDINAL.search(text)
    if m is None:
        return None
    if m.group(1) is None:
        return count - 1  # 最后一个
    n = int(m.group(1)) if m.group(1).isdigit() else _CN_ORDINALS.index(m.group(1)) + 1
    return n - 1


def _detail(turn: Turn, catalogue: Catalogue) -> DialogueResult:
    shown = turn.state.get("results", {}).get("shown", [])
    mentions = catalogue.read(turn.text)
    position = _ordinal(turn.text, len(shown)) if shown else None
    if position is not None:
        if not 0 <= position < len(shown):
            return reply(Intent.PRODUCT_DETAIL, f"刚才为您展示了 {len(shown)} 款，请说第 1 到第 {len(shown)} 个哦～")
        product_id = shown[position]
    elif named := catalogue.named_item(mentions):
        product_id = named.id
    else:
        product_id = turn.state.get("focus") or shown[0]
    product = Product.objects.filter(shop_id=turn.conversation.shop_id, pk=product_id).first()
    if product is None or not product.on_sale:
        return reply(Intent.PRODUCT_DETAIL, "这款商品已经下架了，要不要看看其他款？", ["换一批"])
    turn.state["focus"] = product.pk
    name = f"「{product.title}」"
    availability = f"目前有货（库存 {product.stock} 件）" if product.stock else "目前暂时缺货"
    if size := catalogue.find_size(turn.text):
        size_label = size if size == "均码" else f"{size}码"
        if size.lower() in (s.lower() for s in product.sizes):
            text = f"{name}有{size_label}，{'' if product.stock else '但'}{availability}。"
        else:
            text = f"{name}没有{size_label}，可选尺码：{'、'.join(product.sizes) or '均码'}。"
    elif mentions.colour:
        item = catalogue.by_id(product.pk)
        if item is not None and item.has_colour(mentions.colour):
            matching = [c for c in product.colors if mentions.colour.rstrip("色的") in c]
            text = f"{name}有{'、'.join(matching)}，{availability}。"
        else:
            text = f"{name}没有{mentions.colour}的，可选颜色：{'、'.join(product.colors)}。"
    else:
        text = (
            f"{name}售价 ¥{money(product.price)}，颜色：{'、'.join(product.colors) or '单色'}，"
            f"尺码：{'、'.join(product.sizes) or '均码'}，{availability}。"
        )
        if product.selling_points:
            text += f"\n亮点：{product.selling_points}"
    quick = [f"{c}的有吗" for c in product.colors[:2]] if product.colors else []
    return reply(Intent.PRODUCT_DETAIL, text, [*quick, "换一批"], products=[product_card(product)])


HANDLER = Handler(
    name="recommend",
    stage=Stage.TASK,
    intents=frozenset({Intent.RECOMMEND, Intent.PRODUCT_DETAIL}),
    detect=detect,
    pending=frozenset({"recommend_slot"}),  # a soft question: no recall, a new topic replaces it
    answer_pending=lambda turn: answer_pending(turn, turn.catalogue),
)
