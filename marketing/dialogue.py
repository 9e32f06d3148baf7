"""Live streams, 搭配 and 凑单 in chat: marketing's dialogue handler (see docs/marketing.md).

Chat does not know marketing: ``MarketingConfig.ready()`` registers ``HANDLER`` into the dialogue
registry (chat/dialogue/registry.py), before product recommendation.
"""

import re
from decimal import Decimal

from chat.dialogue.handler import Handler, Responder, Stage
from chat.dialogue.replies import DialogueResult, product_card, reply
from chat.dialogue.turn import Turn
from chat.intents import Intent

from .money import yuan
from .services import addon_suggestions, bundle_suggestions, live_answer, usable_coupons

_LIVE = re.compile(r"直播|开播")
_BUNDLE = re.compile(r"搭配|配什么|怎么配|一起买什么|配套")
_ADDON = re.compile(r"凑单|凑满|还差多少|差多少")
# "我买了187元" / "¥187" (full-width ￥ is ¥ after normalising).
_AMOUNT = re.compile(r"(\d+(?:\.\d{1,2})?)\s*(?:元|块)|¥\s*(\d+(?:\.\d{1,2})?)")


def detect(turn: Turn) -> Responder | None:
    """The handler for a question about live streams, matching items or reaching a 满减, if it is one."""
    if _LIVE.search(turn.text):
        return lambda: _live(turn)
    if _ADDON.search(turn.text) and (_amount(turn) is not None or turn.state.get("focus")):
        return lambda: _addon(turn)
    if _BUNDLE.search(turn.text) and turn.state.get("focus"):
        return lambda: _bundle(turn)
    return None


def _live(turn: Turn) -> DialogueResult:
    return reply(Intent.LIVE, live_answer(turn.shop, turn.raw) or "近期还没有直播安排哦～")


def _bundle(turn: Turn) -> DialogueResult:
    focus = turn.state.get("focus")
    suggestions = bundle_suggestions(turn.shop, [focus] if focus else [])
    if not suggestions:
        return reply(Intent.BUNDLE, "这款单穿单用就很好看哦，暂时没有推荐的搭配～")
    named = "；".join(f"{s.product.title}（{s.reason}）" for s in suggestions)
    return reply(Intent.BUNDLE, f"这款可以这样搭配：{named}", products=[product_card(s.product) for s in suggestions])


def _amount(turn: Turn) -> Decimal | None:
    match = _AMOUNT.search(turn.text)
    return Decimal(match.group(1) or match.group(2)) if match else None


def _addon(turn: Turn) -> DialogueResult:
    focus = turn.state.get("focus")
    total = _amount(turn)
    if total is None:
        prices = turn.shop.products.filter(pk=focus) if focus else turn.shop.products.none()
        total = prices.values_list("price", flat=True).first() or Decimal(0)
    coupons = usable_coupons(turn.shop)
    suggestion = addon_suggestions(turn.shop, total, coupons, exclude_product_ids=[focus] if focus else [])
    if suggestion is not None:
        titles = "、".join(p.title for p in suggestion.products)
        return reply(
            Intent.BUNDLE,
            f"{suggestion.text}，加购这些就够啦：{titles}",
            products=[product_card(p) for p in suggestion.products],
        )
    reached = [c for c in coupons if c.threshold <= total]
    if reached:
        best = max(reached, key=lambda c: c.discount)
        return reply(Intent.BUNDLE, f"¥{yuan(total)} 已经可以用{best.label}的券啦，下单时记得勾选哦～")
    return reply(Intent.BUNDLE, "店铺现在没有可以凑单的满减券哦，有新活动会第一时间通知您～")


HANDLER = Handler(
    name="marketing",
    stage=Stage.TASK,
    intents=frozenset({Intent.LIVE, Intent.BUNDLE}),
    detect=detect,
)
