"""The shop's on-sale products and the words shoppers use for them, read from the database.

Every word the bot recognises for products comes from the shop's own rows: category names, words of
the titles, colours, sizes and uses. Only generic colour words live in code (a shopper says "黑的",
the catalogue says "全黑" or "黑红"). Each process keeps a shop's catalogue while the shop's catalogue
change stamp stays the same (see core.caching; shops.signals and every bulk product write bump it),
and sees any change within a second.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache

import jieba

from core.caching import ShopCache
from core.models import ChangeStamp
from knowledge.text import normalize
from shops.models import Product

# Generic colour roots; a colour slot holds a catalogue colour or one of these roots.
COLOUR_ROOTS = "黑白红蓝绿灰粉紫黄橙棕咖米青银金"
_COLOUR_WORD = re.compile(rf"([{COLOUR_ROOTS}])(?:色|的|款|系)")
_SIZE_NUMBER = re.compile(r"(?<![\d.])(\d{2}(?:\.5)?)\s*(?:码|号|尺码)")
# Letter sizes: "xl" anywhere, a lone "s"/"m"/"l" only as "m码" (too common inside other words).
_SIZE_LETTER = re.compile(r"(?<![a-z])(xxxl|xxl|xl|xs)(?![a-z])|(?<![a-z])([sml])\s*(?:码|号)")


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
    image_url: str = ""

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

    def __bool__(self) -> bool:
        return bool(self.categories or self.keywords or self.colour or self.size or self.use)


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
                    image_url,
                )
                for pk, sku, title, category, price, colors, sizes, uses, points, stock, image_url in rows
            ]
        )

    def by_id(self, item_id: int) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

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
    def colours(self) -> list[str]:
        return sorted({c for item in self.items for c in item.colors}, key=len, reverse=True)

    @cached_property
    def sizes(self) -> set[str]:
        return {s.lower() for item in self.items for s in item.sizes}

    @cached_property
    def uses(self) -> list[str]:
        return sorted({u for item in self.items for u in item.uses}, key=len, reverse=True)

    def find_categories(self, text: str) -> tuple[list[str], list[str]]:
        """Categories named in the text, exactly ("跑步鞋"), abbreviated ("跑鞋") or by family ("鞋子"),
        and the words of the text that named them."""
        exact = [c for c in self.categories if normalize(c) in text]
        if exact:
            return exact, [normalize(c) for c in exact]
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
        named = [c for c in self.categories if any(ch in c for ch in family)]
        return named, sorted(family)

    def read(self, text: str) -> Mentions:
        """Categories, title words, colour, size and use named in a normalised message."""
        categories, naming = self.find_categories(text)
        mentions = Mentions(categories=categories)
        mentions.keywords = sorted(
            (w for w in self.keywords if w in text and not any(w in n or n in w for n in naming)),
            key=len,
            reverse=True,
        )
        # A shorter keyword inside a longer one found ("跑步" in "跑步鞋") adds nothing.
        mentions.keywords = [w for w in mentions.keywords if not any(w != o and w in o for o in mentions.keywords)]
        mentions.colour = next((c for c in self.colours if normalize(c) in text), "")
        if not mentions.colour and (m := _COLOUR_WORD.search(text)):
            mentions.colour = m.group(1)
        mentions.size = self.find_size(text)
        mentions.use = next((u for u in self.uses if normalize(u) in text), "")
        if mentions.use and any(mentions.use in k for k in mentions.keywords + mentions.categories):
            mentions.use = ""  # "跑步" inside "跑步鞋" names the category, not a use
        # "油污" inside the use "去油污" is that use, not a kind of product
        mentions.keywords = [k for k in mentions.keywords if not (mentions.use and k in mentions.use)]
        return mentions

    def find_size(self, text: str) -> str:
        for pattern in (_SIZE_NUMBER, _SIZE_LETTER):
            for m in pattern.finditer(text):
                size = next(g for g in m.groups() if g)
                if size in self.sizes:
                    return size.upper()
        return "均码" if "均码" in text and "均码" in self.sizes else ""


# Each process's catalogue per shop (with its word lists), rebuilt when the catalogue stamp moved, and
# once a minute whatever the stamp says: a product row changed by hand, without a bump, is still seen.
catalogues: ShopCache[Catalogue] = ShopCache("catalogue", ChangeStamp.Kind.CATALOGUE, Catalogue.build, max_age=60.0)
