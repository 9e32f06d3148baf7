"""Budget phrases of shoppers: "300以内", "两三百", "500左右", "一千五以上", "200-400", "便宜点"."""

import re
from dataclasses import dataclass
from decimal import Decimal

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_NUM = r"(?<![\d.])(\d+(?:\.\d+)?(?![\d.])|[零一二两三四五六七八九十百千万]*[十百千万][零一二两三四五六七八九]?)"
_YUAN = r"\s*(?:元|块钱|块|rmb|¥)?\s*"

_RANGE = re.compile(rf"{_NUM}{_YUAN}(?:-|~|到|至){_YUAN}{_NUM}{_YUAN}(?!码|号|cm|厘米|岁|天)")
_NEIGHBOUR_RANGE = re.compile(r"([一二两三四五六七八九])([二两三四五六七八九])([十百千])")  # 两三百
_AT_MOST = re.compile(
    rf"(?:不超过|不到|最多|低于|别超过|预算|以内|控制在){_YUAN}{_NUM}|{_NUM}{_YUAN}(?:以内|以下|之内|内|封顶)"
)
_AT_LEAST = re.compile(rf"(?:高于|超过|至少){_YUAN}{_NUM}|{_NUM}{_YUAN}(?:以上|起|往上)")
_ABOUT = re.compile(rf"{_NUM}{_YUAN}(?:左右|上下|附近)")
_SOME_MORE = re.compile(r"([一二两三四五六七八九])([百千])多")  # 三百多
_WITH_UNIT = re.compile(rf"{_NUM}\s*(?:元|块钱|块)")
_BARE = re.compile(r"^\s*(?:¥\s*)?(\d{2,6}(?:\.\d+)?)\s*$")

CHEAPER = re.compile(r"便宜|实惠|低价|性价比|划算|省钱|平价|预算(?:有限|不多|少)|太贵|贵了")
PRICIER = re.compile(r"贵一?[点些]|好一?[点些]的|高端|高档|更好的|档次高|专业一?[点些]")


@dataclass(frozen=True)
class PriceRange:
    low: Decimal | None = None
    high: Decimal | None = None


def chinese_number(text: str) -> Decimal | None:
    """'300' → 300, '三百五' → 350, '一千五' → 1500, '两千' → 2000, '一百零五' → 105."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return Decimal(text)
    total, section, digit, last_unit, after_unit = 0, 0, 0, 1, False
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
            after_unit = after_unit and ch != "零"
            if ch == "零":
                after_unit = False
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total = (total + section + digit) * unit
                section = 0
            else:
                section += (digit or 1) * unit
            digit, last_unit, after_unit = 0, unit, True
        else:
            return None
    if digit:
        # "三百五" means 350: a trailing digit right after a unit counts in the next unit down.
        section += digit * (last_unit // 10 if after_unit and last_unit >= 100 else 1)
    value = total + section
    return Decimal(value) if value else None


def parse_budget(text: str, *, bare_number: bool = False) -> PriceRange | None:
    """The price range a (normalised) message states, or None. ``bare_number``: "300" alone is a budget."""
    if m := _RANGE.search(text):
        low, high = chinese_number(m.group(1)), chinese_number(m.group(2))
        if low is not None and high is not None:
            return PriceRange(min(low, high), max(low, high))
    if m := _NEIGHBOUR_RANGE.search(text):
        unit = _CN_UNITS[m.group(3)]
        first, second = _CN_DIGITS[m.group(1)], _CN_DIGITS[m.group(2)]
        if second == first + 1:
            return PriceRange(Decimal(first * unit), Decimal(second * unit))
    if m := _SOME_MORE.search(text):
        unit = _CN_UNITS[m.group(2)]
        base = _CN_DIGITS[m.group(1)] * unit
        return PriceRange(Decimal(base), Decimal(base + unit - 1))
    if m := _AT_MOST.search(text):
        value = chinese_number(m.group(1) or m.group(2))
        if value is not None:
            return PriceRange(None, value)
    if m := _AT_LEAST.search(text):
        value = chinese_number(m.group(1) or m.group(2))
        if value is not None:
            return PriceRange(value, None)
    for pattern in (_ABOUT, _WITH_UNIT):
        if m := pattern.search(text):
            value = chinese_number(m.group(1))
            if value is not None:
                # "500左右": a fifth either side is what shoppers accept as "about".
                low, high = value * Decimal("0.8"), value * Decimal("1.2")
                return PriceRange(low.quantize(Decimal(1)), high.quantize(Decimal(1)))
    if bare_number and (m := _BARE.match(text)):
        return PriceRange(None, Decimal(m.group(1)))
    return None
