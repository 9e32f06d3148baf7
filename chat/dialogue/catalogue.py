"""The shop's on-sale products and the words shoppers use for them, read from the database.

Every word the bot recognises for products comes from the shop's own rows: category names, words of
the titles and selling points (features: "防水", "主动降噪", "快充"), colours, sizes, uses, and amounts
with units (attributes: "20000mAh", "65W", "1.5米", "40L", "2kg") in titles, sizes and selling points.
The language pack (knowledge/langpack) adds the everyday names of the shop's categories (插线板 → 排插,
充电宝 → 移动电源). Only generic colour words and units live in code (a shopper says "黑的", the catalogue
says "全黑" or "黑红"). Each process keeps a shop's catalogue while the shop's catalogue change stamp stays
the same (see core.caching; shops.signals and every bulk product write bump it), and sees any change
within a second.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache

import jieba

from core.caching import ShopCache
from core.models import ChangeStamp
from knowledge.langpack import language_pack
from knowledge.text import STOPWORDS, normalize
from shops.models import Product

# Generic colour roots; a colour slot holds a catalogue colour or one of these roots.
COLOUR_ROOTS = "黑白红蓝绿灰粉紫黄橙棕咖米青银金"
_COLOUR_WORD = re.compile(rf"([{COLOUR_ROOTS}])(?:色|的|款|系)")
_SIZE_NUMBER = re.compile(r"(?<![\d.])(\d{2}(?:\.5)?)\s*(?:码|号|尺码)")
# Letter sizes: "xl" anywhere, a lone "s"/"m"/"l" only as "m码" (too common inside other words).
_SIZE_LETTER = re.compile(r"(?<![a-z])(xxxl|xxl|xl|xs)(?![a-z])|(?<![a-z])([sml])\s*(?:码|号)")

# Amounts with units, by kind, each unit with its factor to the kind's base unit (mAh, W, ml, g, m).
_UNITS: tuple[tuple[str, str, Decimal], ...] = (
    ("capacity", r"毫安时|毫安|mah", Decimal(1)),
    ("power", r"千瓦|kw(?![a-z])", Decimal(1000)),
    ("power", r"瓦|w(?![a-z])", Decimal(1)),
    ("volume", r"毫升|ml(?![a-z])", Decimal(1)),
    ("volume", r"升|l(?![a-z])", Decimal(1000)),
    ("weight", r"千克|公斤|kg(?![a-z])", Decimal(1000)),
    ("weight", r"克|g(?![a-z])", Decimal(1)),
    ("weight", r"斤", Decimal(500)),
    ("length", r"毫米|mm(?![a-z])", Decimal("0.001")),
    ("length", r"厘米|公分|cm(?![a-z])", Decimal("0.01")),
    ("length", r"米|m(?![a-z])", Decimal(1)),
)
_AMOUNT = re.compile(
    r"(?P<before>至少|不少于|不低于|超过|大于|高于|不超过|最多|小于|低于|不到)?\s*"
    r"(?<![\d.])(?P<number>\d+(?:\.\d+)?)\s*(?:"
    + "|".join(f"(?P<u{n}>{pattern})" for n, (_, pattern, _) in enumerate(_UNITS))
    + r")(?P<after>\s*(?:及以上|或以上|以上|起|往上|\+|以内|以下|之内))?"
)
_AT_LEAST_WORDS = {"至少", "不少于", "不低于", "超过", "大于", "高于", "及以上", "或以上", "以上", "起", "往上", "+"}
# "两个", "三层", "5条": how many, never a feature.
_QUANTITY = re.compile(r"[一二两三四五六七八九十百几\d]+[个只件条层口人台套包片抽支双]?")
# "续航长一点", "容量大些": a word followed by a comparison is a preference, not a feature every product must have.
_PREFERENCE = r"(?:更|再)?(?:长|大|好|久|多|高|强|足|小|轻|快|低|薄)(?:一?[点些]|的|$)"
UNIT_NAMES = {"capacity": "毫安", "power": "W", "volume": "ml", "weight": "g", "length": "米"}


@dataclass(frozen=True)
class Amount:
    """An attribute a message asks for: its kind, the amount in the kind's base unit, and "=", ">=" or "<="."""

    kind: str
    value: Decimal
    op: str = "="
    said: str = ""  # as the shopper wrote it ("20000毫安以上")

    def holds(self, values: tuple[tuple[str, Decimal], ...]) -> bool:
        amounts = [v for k, v in values if k == self.kind]
        if self.op == ">=":
            return any(v >= self.value for v in amounts)
        if self.op == "<=":
            return any(v <= self.value for v in amounts)
        return any(abs(v - self.value) <= self.value * Decimal("0.02") for v in amounts)

    def distance(self, values: tuple[tuple[str, Decimal], ...]) -> Decimal:
        """How far the product's nearest amount of this kind is from the one asked for (for "closest")."""
        amounts = [v for k, v in values if k == self.kind]
        return min((abs(v - self.value) for v in amounts), default=Decimal("Infinity"))


def amounts(text: str) -> list[Amount]:
    """Every amount with a unit in a normalised text, with what the words around it say ("以上", "至少")."""
    found = []
    for m in _AMOUNT.finditer(text):
        index = next(int(name[1:]) for name, value in m.groupdict().items() if name.startswith("u") and value)
        kind, _, factor = _UNITS[index]
        bound = (m.group("after") or "").strip() or (m.group("before") or "")
        op = ">=" if bound in _AT_LEAST_WORDS else "<=" if bound else "="
        found.append(Amount(kind, (Decimal(m.group("number")) * factor).normalize(), op, m.group(0).strip()))
    return found


def without_amounts(text: str) -> str:
    """The text with its amounts blanked out, so "20000毫安以上" is never read as a budget or a word."""
    return _AMOUNT.sub(" ", text)


@dataclass(frozen=True)
class Item:
    id: int
    sku: str
    title: str
    category: str
    price: Decimal
    colors: tuple[str, ...]
    sizes: tuple[str, ...]
    uses: tuple[str, ...]
    selling_points: str
    stock: int
    key: str  # the title normalised, what message words are matched against
    text: str = ""  # category, title, selling points and uses normalised: what features are looked up in
    attrs: tuple[tuple[str, Decimal], ...] = ()  # amounts with units the product's data states
    image_url: str = ""

    def has_feature(self, feature: str) -> bool:
        return feature in self.text

    def has_colour(self, colour: str) -> bool:
        root = colour.rstrip("色的")
        return any(colour in c or root in c for c in self.colors)

    def has_size(self, size: str) -> bool:
        return size.lower() in (s.lower() for s in self.sizes)

    def has_use(self, use: str) -> bool:
        return use in self.uses or use in self.key or use in normalize(self.selling_points)


@lru_cache(maxsize=4096)
def title_words(title: str) -> tuple[str, ...]:
    return tuple(w for w in jieba.lcut(normalize(title)) if len(w) >= 2 and not re.fullmatch(r"[\d.a-z]+", w))


@dataclass
class Mentions:
    """What a message says about products, in the catalogue's own words."""

    categories: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    colour: str = ""
    size: str = ""
    use: str = ""
    features: list[str] = field(default_factory=list)  # required: in the product's data, or it is not shown
    attrs: list[Amount] = field(default_factory=list)
    naming: list[str] = field(default_factory=list)  # the words of the message that named the categories

    def __bool__(self) -> bool:
        return bool(
            self.categories or self.keywords or self.colour or self.size or self.use or self.features or self.attrs
        )


@dataclass
class Catalogue:
    items: list[Item]

    @classmethod
    def of_shop(cls, shop_id: int) -> "Catalogue":
        """The shop's on-sale products, as this process last built them (see ``catalogues``)."""
        return catalogues.get(shop_id)

    @classmethod
    def build(cls, shop_id: int) -> "Catalogue":
        """The shop's on-sale products as they are in the database now, cheapest first."""
        rows = (
            Product.objects.filter(shop_id=shop_id, on_sale=True)
            .order_by("price", "pk")
            .values_list(
                "pk",
                "sku",
                "title",
                "category",
                "price",
                "colors",
                "sizes",
                "uses",
                "selling_points",
                "stock",
                "image_url",
            )
        )
        return cls(
            [
                Item(
                    pk,
                    sku,
                    title,
                    category,
                    price,
                    tuple(colors or ()),
                    tuple(sizes or ()),
                    tuple(uses or ()),
                    points,
                    stock,
                    normalize(title),
                    normalize(" ".join([category, title, points or "", *(uses or ())])),
                    tuple(
                        (a.kind, a.value) for a in amounts(normalize(" ".join([title, *(sizes or ()), points or ""])))
                    ),
                    image_url,
                )
                for pk, sku, title, category, price, colors, sizes, uses, points, stock, image_url in rows
            ]
        )

    def by_id(self, item_id: int) -> Item | None:
        return self._by_id.get(item_id)

    @cached_property
    def _by_id(self) -> dict[int, Item]:
        return {item.id: item for item in self.items}

    def named_item(self, mentions: Mentions) -> Item | None:
        """The one product whose title holds every title word the message named, if exactly one does."""
        if not mentions.keywords:
            return None
        items = [i for i in self.items if all(k in i.key for k in mentions.keywords)]
        return items[0] if len(items) == 1 else None

    @cached_property
    def categories(self) -> list[str]:
        """Category names, the best-stocked first (the order of the quick replies)."""
        return [name for name, _ in Counter(item.category for item in self.items).most_common()]

    @cached_property
    def keywords(self) -> set[str]:
        """Title words that pick out some products; words in most titles (the brand) say nothing."""
        counts = Counter(word for item in self.items for word in set(title_words(item.title)))
        limit = max(2, len(self.items) // 2)
        return {word for word, n in counts.items() if n <= limit} - {normalize(c) for c in self.categories}

    @cached_property
    def features(self) -> set[str]:
        """Words of the titles and selling points that some products have and others not ("防水", "降噪")."""
        counts = Counter(
            word
            for item in self.items
            for word in set(title_words(item.title)) | set(title_words(item.selling_points or ""))
        )
        limit = max(2, (len(self.items) * 3) // 5)
        return {w for w, n in counts.items() if n <= limit and w not in STOPWORDS} - {
            normalize(c) for c in self.categories
        }

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Everyday names of the shop's categories (language pack synonyms): "排插" → 插线板, "移动电源" → 充电宝."""
        names: dict[str, str] = {}
        for category in self.categories:
            key = normalize(category)
            for group in language_pack().synonyms:
                words = group.all_words
                if any(len(w) >= 2 and (key == w or key.endswith(w)) for w in words):
                    for word in words:
                        if len(word) >= 2 and word != key and word not in names:
                            names[word] = category
        return names

    @cached_property
    def colours(self) -> list[str]:
        return sorted({c for item in self.items for c in item.colors}, key=_longest_first)

    @cached_property
    def sizes(self) -> set[str]:
        return {s.lower() for item in self.items for s in item.sizes}

    @cached_property
    def named_sizes(self) -> list[str]:
        """Sizes that are words ("mate60", "3-4人", "40l"), found anywhere in a message, longest first."""
        return sorted((s for s in self.sizes if len(s) >= 2 and not s.isdigit()), key=_longest_first)

    @cached_property
    def uses(self) -> list[str]:
        return sorted({u for item in self.items for u in item.uses}, key=_longest_first)

    def find_categories(self, text: str) -> tuple[list[str], list[str]]:
        """Categories named in the text, exactly ("跑步鞋"), by an everyday name ("排插"), abbreviated ("跑鞋"),
        by family ("鞋子") or by their head ("狗窝" for 宠物窝), and the words of the text that named them."""
        exact = [c for c in self.categories if normalize(c) in text]
        if exact:
            return exact, [normalize(c) for c in exact]
        aliased = sorted({(c, w) for w, c in self.aliases.items() if w in text})
        if aliased:
            return sorted({c for c, _ in aliased}), [w for _, w in aliased]
        # "跑鞋" for 跑步鞋 (first and last character), "t恤" for 运动T恤 (an ending of two or more)
        short: dict[str, str] = {}
        for c in (normalize(c) for c in self.categories if len(c) >= 3):
            words = [c[0] + c[-1]] + [c[i:] for i in range(1, len(c) - 1)]
            if found := next((w for w in words if w in text), None):
                short[c] = found
        if short:
            named = [c for c in self.categories if normalize(c) in short]
            return named, sorted(set(short.values()))
        family = set(re.findall(r"(.)(?:子|类|款|服)", text)) & {ch for c in self.categories for ch in c}
        if family:
            named = [c for c in self.categories if any(ch in c for ch in family)]
            return named, sorted(family)
        # "狗窝" for 宠物窝, "水杯" for 保温杯: a two-character word ending in the head of exactly one category
        # (a word, not two characters of a longer one: "无人机" is no 耳机)
        heads = Counter(normalize(c)[-1] for c in self.categories)
        for word in jieba.lcut(text):
            two = re.fullmatch(r"[\u4e00-\u9fff]{2}", word)
            if two and heads.get(word[-1]) == 1 and word not in self.features_and_uses_words:
                return [next(c for c in self.categories if normalize(c)[-1] == word[-1])], [word]
        return [], []

    @cached_property
    def features_and_uses_words(self) -> set[str]:
        return self.features | {normalize(u) for u in self.uses}

    def categories_of_words(self, words: list[str]) -> list[str]:
        """The category of the products whose titles hold all these words, when they share one ("保温壶")."""
        items = [i for i in self.items if all(w in i.key for w in words)]
        found = {i.category for i in items}
        return sorted(found) if len(found) == 1 else []

    def read(self, text: str) -> Mentions:
        """Categories, title words, features, amounts, colour, size and use named in a normalised message."""
        cached = self._read.get(text)
        if cached is not None:
            return cached
        attrs = amounts(text)
        plain = without_amounts(text) if attrs else text
        categories, naming = self.find_categories(plain)
        mentions = Mentions(categories=categories, attrs=attrs, naming=naming)
        mentions.keywords = _longest(
            w for w in self.keywords if w in plain and not any(w in n or n in w for n in naming)
        )
        mentions.keywords.sort(key=plain.find)  # as the shopper said them: "主动", "降噪"
        mentions.colour = next((c for c in self.colours if normalize(c) in plain), "")
        if not mentions.colour and (m := _COLOUR_WORD.search(plain)):
            mentions.colour = m.group(1)
        mentions.size = self.find_size(text)
        mentions.use = next((u for u in self.uses if normalize(u) in plain), "")
        if mentions.use and any(mentions.use in k for k in mentions.keywords + mentions.categories):
            mentions.use = ""  # "跑步" inside "跑步鞋" names the category, not a use
        # "油污" inside the use "去油污" is that use, not a kind of product
        mentions.keywords = [k for k in mentions.keywords if not (mentions.use and k in mentions.use)]
        # "保温壶": the products whose titles hold it are all of one category, so that is the category.
        if not categories and mentions.keywords and (named := self.categories_of_words(mentions.keywords)):
            mentions.categories, mentions.naming = named, list(mentions.keywords)
            mentions.keywords = []
        if categories:
            # A title word of other kinds of product says nothing about this one ("耳机…连两台手机吗").
            kinds = [i for i in self.items if i.category in categories]
            mentions.keywords = [k for k in mentions.keywords if any(k in i.text for i in kinds)]
        taken = [*mentions.naming, *mentions.keywords, mentions.use, mentions.colour, mentions.size.lower()]
        mentions.features = _merged(
            plain,
            _longest(
                w
                for w in self.features
                if w in plain
                and not any(w in t for t in taken if t)
                and not (len(w) < 2 or w in COLOUR_ROOTS or _QUANTITY.fullmatch(w))
                and not re.search(re.escape(w) + _PREFERENCE, plain)
            ),
        )
        if len(self._read) > 512:
            self._read.clear()
        self._read[text] = mentions
        return mentions

    @cached_property
    def _read(self) -> dict[str, Mentions]:
        """Messages read lately: a turn reads its text in several handlers."""
        return {}

    def find_size(self, text: str) -> str:
        for pattern in (_SIZE_NUMBER, _SIZE_LETTER):
            for m in pattern.finditer(text):
                size = next(g for g in m.groups() if g)
                if size in self.sizes:
                    return size.upper()
        if "均码" in text and "均码" in self.sizes:
            return "均码"
        named = next((s for s in self.named_sizes if s in text and not re.fullmatch(r"[a-z]+", s)), "")
        return self._size_spelling.get(named, named)

    @cached_property
    def _size_spelling(self) -> dict[str, str]:
        """A size as the catalogue writes it ("mate60" → "Mate60")."""
        return {s.lower(): s for item in self.items for s in item.sizes}


def _longest_first(word: str) -> tuple[int, str]:
    """Longest first, then in a fixed order: the same message reads the same in every process."""
    return -len(word), word


def _merged(text: str, words: list[str]) -> list[str]:
    """Words that overlap in the text as one ("防胀" and "胀气" in "防胀气" are the feature 防胀气)."""
    spans = sorted((text.find(w), text.find(w) + len(w)) for w in words)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [text[start:end] for start, end in merged]


def _longest(words: Iterable[str]) -> list[str]:
    """The words, longest first, without those inside a longer one found ("跑步" in "跑步鞋")."""
    found = sorted(set(words), key=_longest_first)
    return [w for w in found if not any(w != o and w in o for o in found)]


# Each process's catalogue per shop (with its word lists), rebuilt when the catalogue stamp moved, and
# once a minute whatever the stamp says: a product row changed by hand, without a bump, is still seen.
catalogues: ShopCache[Catalogue] = ShopCache("catalogue", ChangeStamp.Kind.CATALOGUE, Catalogue.build, max_age=60.0)
