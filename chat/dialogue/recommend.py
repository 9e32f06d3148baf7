"""Product recommendation over several turns, and questions about the products just shown.

What a message asks for is read from the shop's own catalogue (catalogue.py): categories (by name, everyday
name, abbreviation, family or head), title and selling-point words, amounts with units, colour, size, use,
and the budget (prices.py). A message describing a need is a recommendation without any buying verb
("出差路上用的小风扇"); a need and a question for the shop's FAQ in one message get both answers; a kind of
product the shop does not sell gets "没有" and no products.

Slots (``state["slots"]``): categories, keywords (title words), features (selling-point words), attrs
(amounts with units), low/high price, colour, size, use, and ``asked`` (the questions already put, so none is
asked twice). Category, title words, features and amounts are strict: a product without them is never shown
as if it had them. Colour, size and use may be relaxed, and budget moved, only with the reply saying so.
The ranked result ids of the last search are in ``state["results"]`` (``ids``, ``offset``, ``shown``) for
"换一批", "有便宜点的吗", "第二个…"; ``state["focus"]`` is the product last talked about ("这款有42码吗",
"多少钱", "有货吗", "这个防水吗"). Yes/no questions are answered yes or no first ("有的，…" / "没有…").
"""

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from itertools import combinations

import jieba

from chat.intents import Intent
from knowledge.text import STOPWORDS
from shops.models import Product

from . import faq
from .catalogue import UNIT_NAMES, Amount, Catalogue, Item, Mentions, without_amounts
from .handler import FullAnswer, Handler, Responder, Stage
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
_WEAK_CUE = re.compile(r"有没有|有什么|有啥|有吗|有卖|卖吗|适合|预算|的呢|什么样|哪些|有.{1,12}的吗")
# A need described without a buying verb: "出差路上用的小风扇", "给宝宝洗澡的温度计", "能装40升的登山包".
_NEED_CUE = re.compile(r"用的|用来|给.{1,8}(?:用|买|的)|需要|要个|要一|适合|能装|吃的|喝的|穿的|戴的|[的款]吗|有没有")
_FAQ_MARKERS = re.compile(
    r"怎么|如何|多久|几天|保修|退货|换货|退款|运费|包邮|[能可]以?[机水手干]?洗|保养|发票|正品|质量|尺码表|偏大|偏小|偏码|"
    r"能退|售后|发货|快递"
)
_DETAIL_QUESTION = re.compile(
    r"多少钱|价格|价钱|有货|库存|还有吗|有吗|有没有|什么颜色|哪些颜色|几个颜色|什么码|尺码|码数"
)
_STOCK_QUESTION = re.compile(r"有货|没货|库存|现货|缺货|卖完|还有吗|能买吗|断货")
_PRICE_QUESTION = re.compile(r"多少钱|价格|价钱|几块|多少米|售价")
_OPTIONS_QUESTION = re.compile(r"(?:别的|其他|其它|哪些|什么|几个|几种)(?:颜色|色|尺码|码)")
_ASKS = re.compile(r"[吗么嘛?]|什么|怎|哪|几|多少|如何|是否|能不能|可不可以|会不会")
_YES_NO = re.compile(r"有没有|有木有|有.{0,15}?[吗么嘛]|[吗么嘛]\s*$|是不是|是否|能不能|可不可以")
_SKIP = re.compile(r"^(?:都可以|都行|随便|不限|无所谓|没要求|没有要求|都好|看着推荐|你推荐吧|不知道)")
_CN_ORDINALS = "一二三四五六七八九十"
# "有卖烧烤架吗", "智能手表有吗", "想买个无人机": the thing asked for, to tell whether the shop sells it.
_ASKED_FOR = re.compile(
    r"^(?:请问)?(?:你们|店里|这里|你家|家里)?(?:有没有卖?|有卖|卖不卖|有|卖|想买|想要|要买|想找)(?P<a>.+?)(?:吗|嘛|么|呢|卖吗)?$"
    r"|^(?P<b>.+?)(?:有没有卖?|有卖吗|卖吗|有吗|有没有|有不)$"
)
_QUANTIFIER = re.compile(r"^(?:一|几)?(?:个|台|款|只|件|双|套|条|把|些|点|块|张|瓶|袋|包)")
# Words that ask about the shop's service or a product's details, never for another kind of product.
_NOT_GOODS = re.compile(
    r"货|颜色|色|码|尺|号|优惠|活动|赠品|发票|券|折|满减|运费|快递|链接|客服|人工|库存|款|便宜|贵|售后|保修|质保|包邮|"
    r"价|钱|评价|问题|办法|时间|地址|订单|退|换|会员|积分|礼品|包装|小样|试用|保险|安装|上门|教程|说明|什么|啥|哪|"
    r"推荐|适合|东西|好的|别的|其他|其它|新品|新款|同款|现货|图|视频|直播|点|些"
)
# Words of a request that say nothing about the product: "推荐一双…", "有没有…呢".
_FILLER = re.compile(
    r"推荐|想买|想要|想找|要买|求|看看|一下|有没有|有什么|有啥|有卖|卖吗|哪款|哪个|什么|[好呢吗吧啊的了个一双件条款只套点些下我你们请问给来买要店家这那有]"
)
# "可以连两台手机吗", "支持无线充吗": what a product can do, a question for the shop's knowledge first.
_CAPABILITY = re.compile(r"(?:可以|能否|能不能|会不会|支不支持|支持)(?!.*(?:推荐|想买|要买)).{1,12}[吗么嘛]")
# A clause that asks something ("包邮吗", "多久发货"), as against one that only tells ("出差几天").
_QUESTION = re.compile(r"[?？吗么嘛呢]|怎|多少|多久|多长|哪|是否|能不能|可不可以|有没有")
# Where a message of a need and an FAQ question is cut: "给孩子买个登山包，顺便问下包邮吗".
_CLAUSES = re.compile(r"[,;。!?，；！？\s]+|顺便问?一?下?|另外|再问一?下")

_SLOT_QUESTIONS = {
    "category": "好的～您想看哪一类商品呢？",
    "budget": "预算大概多少呢？",
    "use": "主要在什么场景用呢？",
    "colour": "喜欢什么颜色呢？",
}


def detect(turn: Turn) -> Responder | None:
    """Choosing products; when that is uncertain, only if shop knowledge has no confident answer.

    A need with a question for the shop's FAQ in the same message is answered whole (both answers), and one
    question of a message the router cut in several is taken only when it is certainly about products.
    """
    catalogue = turn.catalogue
    if not turn.of_several and (split := _need_and_questions(turn, catalogue)):
        need, questions = split
        return FullAnswer(lambda: _need_with_answers(turn, catalogue, need, questions))
    kind, certain = classify(turn, catalogue)
    if kind == "detail" and certain:
        # About the product in view ("多少钱", "第二个有货吗"): its own data answers, not an FAQ card on prices.
        return FullAnswer(lambda: respond(turn, catalogue, kind))
    if kind and (certain or (not turn.of_several and not faq.knows(turn))):
        return lambda: respond(turn, catalogue, kind)
    return None


def _need_and_questions(turn: Turn, catalogue: Catalogue) -> tuple[Turn, list[Turn]] | None:
    """A message holding both a product need and questions for the shop's knowledge, cut in the two.

    A clause with a service word that asks nothing and that shop knowledge cannot answer ("出差几天") is part
    of the need ("出差几天，猫没人喂，有自动喂食的吗"), not a question.
    """
    if not _FAQ_MARKERS.search(turn.text):
        return None
    clauses = [c for c in _CLAUSES.split(turn.raw) if c.strip()]
    if len(clauses) < 2:
        return None
    parts = [turn.part(c) for c in clauses]
    marked = [p for p in parts if _FAQ_MARKERS.search(p.text) and not catalogue.read(p.text).categories]
    wants = [p for p in parts if p not in marked]
    if not marked or not wants:
        return None
    kind, certain = classify(turn.part("，".join(p.raw for p in wants)), catalogue)
    if kind != "recommend" or not certain:
        return None
    asks = [p for p in marked if _QUESTION.search(p.text) or faq.knows(p)]
    return turn.part("，".join(p.raw for p in parts if p not in asks)), asks


def _need_with_answers(turn: Turn, catalogue: Catalogue, need: Turn, questions: list[Turn]) -> DialogueResult:
    need.of_several = False  # the recommendation is the message's main answer, not named as one of several
    result = respond(need, catalogue, "recommend", described=True)
    answers = [faq.respond(question) for question in questions]
    return DialogueResult(result.intent, [*result.replies, *(r for a in answers for r in a.replies)])


def classify(turn: Turn, catalogue: Catalogue) -> tuple[str, bool]:
    """What the message asks of the products, and whether that is certain.

    The kind is "detail", "more", "absent" (a kind of product the shop does not sell), "recommend" or ""
    (not about choosing products). An uncertain one ("跑步鞋偏码吗" names a category but may be a sizing
    question) goes to shop knowledge first.
    """
    text = turn.text
    shown = turn.state.get("results", {}).get("shown", [])
    mentions = catalogue.read(text)
    faq_like = bool(_FAQ_MARKERS.search(text) or _CAPABILITY.search(text))
    asks_detail = bool(
        mentions.size
        or mentions.colour
        or _DETAIL_QUESTION.search(text)
        or ((mentions.features or mentions.keywords) and _ASKS.search(text))
    )
    if shown and _ORDINAL.search(text):
        return "detail", not faq_like
    focus = turn.state.get("focus")
    one_in_view = bool(focus or len(shown) == 1)
    if one_in_view and _REFERENCE.search(text) and asks_detail:
        return "detail", not faq_like
    if one_in_view and _OPTIONS_QUESTION.search(text):
        return "detail", not faq_like  # "还有别的颜色吗" about the product in view
    if (
        one_in_view
        and asks_detail
        and _ASKS.search(text)
        and not mentions.categories
        and not (_MORE.search(text) or CHEAPER.search(text) or PRICIER.search(text))
        and len(turn.plain) <= 10
    ):
        return "detail", not faq_like  # "多少钱", "有货吗", "有黑色吗", "静音吗" about the product in view
    if shown and (_PRICE_QUESTION.search(text) or _STOCK_QUESTION.search(text)) and len(turn.plain) <= 6:
        return "detail", not faq_like  # "多少钱", "有货吗" about the whole list just shown
    if _absent(turn, catalogue, mentions):
        return "absent", "卖" in text or not faq_like
    if catalogue.named_item(mentions) and asks_detail:
        return "detail", False
    if shown and _MORE.search(text):
        return "more", True
    in_flow = bool(turn.state.get("slots"))
    if in_flow and (CHEAPER.search(text) or PRICIER.search(text)) and not faq_like:
        return "recommend", True
    if _STRONG_CUE.search(text) and not faq_like:
        return "recommend", True
    budget = _budget(text)
    if mentions and budget:
        return "recommend", True
    if faq_like or not (mentions or budget):
        return "", False
    if mentions.categories and _described(turn, mentions):
        return "recommend", True  # a need without a buying verb: "出差路上用的小风扇", "有没有移动电源"
    if (mentions.features or mentions.use) and _NEED_CUE.search(text):
        return "recommend", True  # "有自动喂食的吗", "有没有防水的": products with that feature
    if in_flow and not _ASKS.search(text):
        return "recommend", True  # "速干的", "XL码": a detail added to the search under way
    if _WEAK_CUE.search(text) or in_flow or len(turn.plain) <= 8:
        return "recommend", False
    return "", False


def _described(turn: Turn, mentions: Mentions) -> bool:
    """Whether the message says more than a kind of product: a use, a feature, an amount, a colour, or words
    of its own ("宝宝喝水的杯子"), as against "推荐一双跑鞋", which only names the kind."""
    if (
        mentions.use
        or mentions.features
        or mentions.attrs
        or mentions.colour
        or mentions.size
        or mentions.keywords
        or _NEED_CUE.search(turn.text)
    ):
        return True
    rest = turn.plain
    for word in mentions.naming:
        rest = rest.replace(word, "")
    return len(re.findall(r"[\u4e00-\u9fff]", _FILLER.sub("", rest))) >= 2


def _absent(turn: Turn, catalogue: Catalogue, mentions: Mentions) -> str:
    """The kind of product asked for ("有卖烧烤架吗" → 烧烤架) when the shop sells nothing of that kind, else ""."""
    if catalogue.find_categories(turn.text)[0] or mentions.attrs or _budget(turn.text):
        return ""  # named directly ("智能手表" names none: its title word 智能 is only in a speaker's title)
    m = _ASKED_FOR.match(turn.plain)
    if m is None:
        return ""
    asked = _QUANTIFIER.sub("", m.group("a") or m.group("b") or "").strip().rstrip("的")
    if len(asked) < 2 or _NOT_GOODS.search(asked) or not re.fullmatch(r"[\u4e00-\u9fffa-z0-9]+", asked):
        return ""
    words = [w for w in jieba.lcut(asked) if w.strip() and w not in STOPWORDS]
    # The thing itself is the last word ("智能手表" → 手表), with the one before it when one character ("烧烤架").
    head = "".join(words[-2:]) if len(words) > 1 and len(words[-1]) < 2 else words[-1] if words else ""
    known = catalogue.features_and_uses_words | catalogue.keywords | set(catalogue.aliases)
    known |= {c.lower() for c in catalogue.colours}
    if len(head) < 2 or head in known or any(head in k for k in known if len(k) >= 2):
        return ""
    return asked


def _budget(text: str, *, bare_number: bool = False) -> PriceRange | None:
    """The budget the message states; amounts with units ("20000毫安以上", "40升") are never prices."""
    return parse_budget(without_amounts(text), bare_number=bare_number)


def respond(turn: Turn, catalogue: Catalogue, kind: str, *, described: bool = False) -> DialogueResult:
    if kind == "detail":
        return _detail(turn, catalogue)
    if kind == "more":
        return _more(turn, catalogue)
    if kind == "absent":
        return _not_sold(turn, catalogue)
    return _recommend(turn, catalogue, described=described)


def _not_sold(turn: Turn, catalogue: Catalogue) -> DialogueResult:
    asked = _absent(turn, catalogue, catalogue.read(turn.text))
    if not catalogue.items:
        return reply(Intent.RECOMMEND, f"没有{asked}哦，店铺暂时没有在售的商品，上新后欢迎再来看看～")
    kinds = "、".join(catalogue.categories[:6])
    return reply(
        Intent.RECOMMEND,
        f"没有{asked}哦，本店没有卖这类商品。店里主要有：{kinds}，看看有没有需要的？",
        catalogue.categories[:4],
    )


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
    budget = _budget(turn.text, bare_number=(slot == "budget"))
    if _FAQ_MARKERS.search(turn.text) and not budget:
        return None  # "跑步鞋怎么洗" while asked for the budget: a question, not the answer
    shown = turn.state.get("results", {}).get("shown")
    if mentions or budget or (shown and CHEAPER.search(turn.text)):
        turn.clear_pending()
        return _recommend(turn, catalogue, budget=budget)
    return None


def _amounts_of(slots: Slots) -> list[Amount]:
    return [Amount(a["kind"], Decimal(a["value"]), a["op"], a.get("said", "")) for a in slots.get("attrs", [])]


def _update_slots(turn: Turn, catalogue: Catalogue, budget: PriceRange | None) -> Slots:
    slots = turn.state.get("slots", Slots()).copy()
    mentions = catalogue.read(turn.text)
    restart = _STRONG_CUE.search(turn.text) and mentions.categories
    if restart or (mentions.categories and set(mentions.categories) != set(slots.get("categories", []))):
        slots = {"categories": mentions.categories}  # a new kind of product: the old details no longer apply
    searched = mentions.keywords or mentions.use or mentions.features
    if not mentions.categories and searched and not _refines(catalogue, slots, mentions):
        slots = {}  # "双肩包" after talking about jackets, "去油污的" after detergents: a new search
    if mentions.keywords:
        slots["keywords"] = mentions.keywords
    if mentions.features:
        slots["features"] = sorted(set(slots.get("features", [])) | set(mentions.features))
    if mentions.attrs:
        kinds = {a.kind for a in mentions.attrs}
        kept = [a for a in slots.get("attrs", []) if a["kind"] not in kinds]
        slots["attrs"] = kept + [
            {"kind": a.kind, "value": str(a.value), "op": a.op, "said": a.said} for a in mentions.attrs
        ]
    if mentions.colour:
        slots["colour"] = mentions.colour
    if mentions.size:
        slots["size"] = mentions.size
    if mentions.use:
        slots["use"] = mentions.use
    budget = budget or _budget(turn.text)
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
    """Whether title words, features or a use narrow the current search rather than start another one."""
    if not (slots.get("categories") or slots.get("keywords") or slots.get("features")):
        return False
    current = search(catalogue, slots, relax=False)[0]
    words = mentions.keywords + mentions.features
    use = mentions.use
    return any(all(i.has_feature(w) for w in words) and (not use or i.has_use(use)) for i in current)


def _bounds(slots: Slots) -> tuple[Decimal | None, Decimal | None]:
    """The budget's low and high ends (stored as text: the state is JSON)."""
    low, high = slots.get("low"), slots.get("high")
    return Decimal(low) if low else None, Decimal(high) if high else None


def _filters(slots: Slots) -> list[tuple[str, Callable[[Item], bool] | None]]:
    low, high = _bounds(slots)
    cats = set(slots.get("categories", []))
    words = [*slots.get("keywords", []), *slots.get("features", [])]
    wanted = _amounts_of(slots)
    return [
        ("category", (lambda i: i.category in cats) if cats else None),
        (
            "price",
            (lambda i: (low is None or i.price >= low) and (high is None or i.price <= high)) if low or high else None,
        ),
        ("features", (lambda i: all(i.has_feature(w) for w in words)) if words else None),
        ("attrs", (lambda i: all(a.holds(i.attrs) for a in wanted)) if wanted else None),
        ("use", (lambda i: i.has_use(slots["use"])) if slots.get("use") else None),
        ("colour", (lambda i: i.has_colour(slots["colour"])) if slots.get("colour") else None),
        ("size", (lambda i: i.has_size(slots["size"])) if slots.get("size") else None),
    ]


# Dropped one by one, in this order, when nothing matches everything (and the reply says so); the category,
# the price, title words, features and amounts never are.
_RELAXABLE = ("colour", "size", "use")
_RELAXED_NAMES = {"colour": "颜色", "size": "尺码", "use": "用途"}


def search(
    catalogue: Catalogue, slots: Slots, *, relax: bool = True, without: tuple[str, ...] = ()
) -> tuple[list[Item], list[str]]:
    """Matching items, best first, and the slot names that had to be dropped to find any.

    When nothing matches everything, the fewest relaxable conditions are dropped (colour before size and
    use); category, price, title words, features and amounts are kept: they are what the shopper needs.
    ``without``: conditions left out altogether (to find the closest alternative).
    """
    filters = [(name, f) for name, f in _filters(slots) if f is not None and name not in without]
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
    use = slots.get("use", "")
    items.sort(key=lambda i: (i.stock == 0, not (use and i.has_use(use)), i.price))
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


def _recommend(
    turn: Turn, catalogue: Catalogue, budget: PriceRange | None = None, *, described: bool = False
) -> DialogueResult:
    if not catalogue.items:
        return reply(Intent.RECOMMEND, "店铺暂时没有在售的商品，上新后欢迎再来看看～")
    slots = _update_slots(turn, catalogue, budget)
    unspecific = not any(slots.get(name) for name in ("categories", "keywords", "features", "use", "any_category"))
    if unspecific and len(catalogue.categories) > 1 and not slots.get("attrs"):
        return _ask(turn, catalogue, "category", slots, catalogue.items)
    asks_yes_no = bool(_YES_NO.search(turn.text))
    candidates, _ = search(catalogue, slots, relax=False)
    # A need described in words or asked as a yes/no question is answered with products at once.
    direct = described or asks_yes_no or _described(turn, catalogue.read(turn.text))
    if not direct and (question := _next_question(slots, candidates)):
        return _ask(turn, catalogue, question, slots, candidates)
    # "便宜点" / "贵一点" ask for other prices: finding none is the answer, the price is not relaxed.
    moved = bool(slots.pop("cheaper", None)) or bool(PRICIER.search(turn.text))
    items, dropped = search(catalogue, slots, relax=not moved)
    if not items:
        return _nothing_matches(turn, catalogue, slots)
    turn.state["slots"] = slots
    turn.state["results"] = {"ids": [i.id for i in items], "offset": 0, "shown": []}
    intro = f"为您找到 {len(items)} 款{_describe(slots)}"
    if asks_yes_no:
        intro = f"有的，{intro}"
    if dropped:
        names = "、".join(_RELAXED_NAMES[d] for d in dropped)
        intro = f"没有{_describe(slots)}，放宽了{names}条件，为您找到 {len(items)} 款"
    return _show_page(turn, items, intro)


def _nothing_matches(turn: Turn, catalogue: Catalogue, slots: Slots) -> DialogueResult:
    """Say what was not found, and offer the closest honest alternative, said to be one."""
    # The slots that found nothing are not kept: the next follow-up starts from the last results.
    shown = [i for i in (catalogue.by_id(pk) for pk in turn.state.get("results", {}).get("shown", [])) if i]
    prefix = "没有哦，" if _YES_NO.search(turn.text) else ""
    if shown and CHEAPER.search(turn.text):
        text = f"刚才推荐的已经是最实惠的了（最低 ¥{money(min(i.price for i in shown))}），要不要看看其他类别？"
        return reply(Intent.RECOMMEND, f"{prefix}{text}", catalogue.categories[:4])
    if shown and PRICIER.search(turn.text):
        text = f"刚才推荐的已经是这类里价位最高的了（¥{money(max(i.price for i in shown))}），要不要看看其他类别？"
        return reply(Intent.RECOMMEND, f"{prefix}{text}", catalogue.categories[:4])
    if nearest := _nearest_in_price(catalogue, slots):
        return _show_alternative(turn, slots, nearest, f"{prefix}{_describe(slots)}暂时没有，为您挑了价格最接近的")
    wanted = _amounts_of(slots)
    if wanted and (items := search(catalogue, slots, without=("attrs",))[0]):
        items.sort(key=lambda i: (sum(a.distance(i.attrs) / a.value for a in wanted if a.value), i.price))
        said = "、".join(_amount_text(a) for a in wanted)
        return _show_alternative(turn, slots, items, f"没有{said}的{_what(slots)}，为您挑了最接近的")
    words = [*slots.get("keywords", []), *slots.get("features", [])]
    if words and slots.get("categories") and (items := search(catalogue, slots, without=("features",))[0]):
        return _show_alternative(turn, slots, items, f"没有{'、'.join(words)}的{_what(slots)}，看看其他{_what(slots)}")
    return reply(Intent.RECOMMEND, f"没有找到{_describe(slots)}，换个类别试试？", catalogue.categories[:4])


def _show_alternative(turn: Turn, slots: Slots, items: list[Item], intro: str) -> DialogueResult:
    turn.state["slots"] = slots
    turn.state["results"] = {"ids": [i.id for i in items], "offset": 0, "shown": []}
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


def _amount_text(amount: Amount) -> str:
    if amount.said:
        return amount.said
    return f"{amount.value.normalize():f}{UNIT_NAMES[amount.kind]}{'以上' if amount.op == '>=' else ''}"


def _what(slots: Slots) -> str:
    return "、".join(slots.get("categories", [])) or "、".join(slots.get("keywords", [])) or "商品"


def _describe(slots: Slots) -> str:
    """'300元以内的适合跑步的防水黑色42码跑步鞋'."""
    price = ""
    low, high = _bounds(slots)
    if low is not None and high is not None:
        price = f"{low:.0f}-{high:.0f}元的"
    elif high is not None:
        price = f"{high:.0f}元以内的"
    elif low is not None:
        price = f"{low:.0f}元以上的"
    use = f"适合{slots['use']}的" if slots.get("use") else ""
    words = [*slots.get("keywords", []), *slots.get("features", [])] if slots.get("categories") else []
    features = f"{''.join(words)}的" if words else ""
    amounts = _amounts_of(slots)
    attrs = "".join(f"{_amount_text(a)}的" for a in amounts)
    size = slots.get("size", "")
    if any(size.lower() == a.said.lower() for a in amounts):
        size = ""  # "2kg" said once: an amount, not a size as well
    size = f"{size}码" if re.fullmatch(r"\d+(?:\.5)?|x*[sml]|xx*l", size.lower()) else size
    what = "、".join(slots.get("categories", [])) or "、".join(slots.get("keywords", [])) or "商品"
    return f"{price}{use}{features}{attrs}{slots.get('colour', '')}{size}{what}"


def _show_page(turn: Turn, items: list[Item], intro: str) -> DialogueResult:
    results = turn.state["results"]
    page = items[results["offset"] : results["offset"] + PAGE]
    results["offset"] += len(page)
    results["shown"] = [i.id for i in page]
    turn.state["focus"] = page[0].id if len(page) == 1 else None
    lines = [
        f"{n}. {i.title} ¥{money(i.price)}{'' if i.stock else '（暂时缺货）'}" for n, i in enumerate(page, start=1)
    ]
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
    elif turn.state.get("focus") or len(shown) == 1:
        product_id = turn.state.get("focus") or shown[0]
    else:
        return _about_the_list(turn, catalogue, shown)
    product = Product.objects.filter(shop_id=turn.conversation.shop_id, pk=product_id).first()
    if product is None or not product.on_sale:
        return reply(Intent.PRODUCT_DETAIL, "这款商品已经下架了，要不要看看其他款？", ["换一批"])
    turn.state["focus"] = product.pk
    item = catalogue.by_id(product.pk)
    name = f"「{product.title}」"
    availability = f"目前有货（库存 {product.stock} 件）" if product.stock else "目前暂时缺货"
    words = [w for w in [*mentions.features, *mentions.keywords] if not (item and w in item.key)]
    if size := catalogue.find_size(turn.text):
        size_label = f"{size}码" if re.fullmatch(r"\d+(?:\.5)?|x*[sml]|xx*l", size.lower()) else size
        if size.lower() in (s.lower() for s in product.sizes):
            text = f"有的，{name}有{size_label}，{'' if product.stock else '但'}{availability}。"
        else:
            text = f"没有，{name}没有{size_label}，可选尺码：{'、'.join(product.sizes) or '均码'}。"
    elif mentions.colour and not _OPTIONS_QUESTION.search(turn.text):
        if item is not None and item.has_colour(mentions.colour):
            matching = [c for c in product.colors if mentions.colour.rstrip("色的") in c]
            text = f"有的，{name}有{'、'.join(matching)}，{availability}。"
        else:
            text = f"没有，{name}没有{mentions.colour}的，可选颜色：{'、'.join(product.colors) or '单色'}。"
    elif words and item is not None:
        missing = [w for w in words if not item.has_feature(w)]
        points = f"卖点：{product.selling_points}" if product.selling_points else ""
        if missing:
            text = f"没有，{name}的商品信息里没有写{'、'.join(missing)}。{points}"
        else:
            text = f"是的，{name}{'、'.join(words)}。{points}"
    elif _STOCK_QUESTION.search(turn.text):
        if product.stock:
            text = f"有货的，{name}目前库存 {product.stock} 件，售价 ¥{money(product.price)}。"
        else:
            text = f"没有货了，{name}目前暂时缺货，可以先收藏，或者看看其他款～"
    elif _OPTIONS_QUESTION.search(turn.text):
        others = "有的" if len(product.colors) > 1 or len(product.sizes) > 1 else "没有别的了"
        text = f"{others}，{product_details(product)}"
    else:
        text = product_details(product)
    quick = [f"{c}的有吗" for c in product.colors[:2]] if product.colors else []
    return reply(Intent.PRODUCT_DETAIL, text, [*quick, "换一批"], products=[product_card(product)])


def _about_the_list(turn: Turn, catalogue: Catalogue, shown: list[int]) -> DialogueResult:
    """ "多少钱" / "有货吗" with several products in view and none in focus: each of them, by position."""
    items = [i for i in (catalogue.by_id(pk) for pk in shown) if i is not None]
    lines = [
        f"{n}. {i.title} ¥{money(i.price)}，{'有货' if i.stock else '暂时缺货'}" for n, i in enumerate(items, start=1)
    ]
    text = "刚才的几款：\n" + "\n".join(lines) + "\n想了解哪一款，说「第几个」就可以～"
    return reply(Intent.PRODUCT_DETAIL, text, [f"第{n}个" for n in range(1, len(items) + 1)])


def product_details(product: Product) -> str:
    """Everything the catalogue says of one product: price, colours, sizes, stock, selling points."""
    availability = f"目前有货（库存 {product.stock} 件）" if product.stock else "目前暂时缺货"
    text = (
        f"「{product.title}」售价 ¥{money(product.price)}，颜色：{'、'.join(product.colors) or '单色'}，"
        f"尺码/规格：{'、'.join(product.sizes) or '均码'}，{availability}。"
    )
    if product.uses:
        text += f"\n适用：{'、'.join(product.uses)}"
    if product.selling_points:
        text += f"\n亮点：{product.selling_points}"
    if product.warranty_months:
        text += f"\n保修：{product.warranty_months} 个月"
    return text


def show_product(turn: Turn, product: Product) -> DialogueResult:
    """The shopper opened a product's card (the ``product_details`` frame): its details, and it is in focus."""
    turn.state["focus"] = product.pk
    quick = [f"{c}的有吗" for c in product.colors[:2]] if product.colors else []
    return reply(Intent.PRODUCT_DETAIL, product_details(product), [*quick, "有便宜点的吗"], [product_card(product)])


HANDLER = Handler(
    name="recommend",
    stage=Stage.TASK,
    intents=frozenset({Intent.RECOMMEND, Intent.PRODUCT_DETAIL}),
    detect=detect,
    pending=frozenset({"recommend_slot"}),  # a soft question: no recall, a new topic replaces it
    answer_pending=lambda turn: answer_pending(turn, turn.catalogue),
)
