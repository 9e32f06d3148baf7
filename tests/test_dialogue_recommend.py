"""Product recommendation over several turns: slots, questions, follow-ups on the last results."""

from decimal import Decimal

import pytest

from chat.dialogue.prices import PriceRange, parse_budget
from tests.dialogue_support import Shopper
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

SHOE_SIZES = ["39", "40", "41", "42", "43"]


@pytest.fixture
def catalogue(shop_a, shop_b):
    def shoe(title, price, colors, uses, sizes=SHOE_SIZES, **extra):
        return ProductFactory(
            shop=shop_a,
            category="跑步鞋",
            title=title,
            price=Decimal(price),
            colors=colors,
            sizes=sizes,
            uses=uses,
            **extra,
        )

    products = {
        "entry": shoe("轻跑入门透气跑步鞋", "199.00", ["黑色", "灰色"], ["跑步", "透气"], sizes=["39", "40", "41"]),
        "cushion": shoe("飞影缓震跑步鞋", "459.00", ["黑色", "白色"], ["跑步", "缓震"]),
        "trail": shoe("山影越野跑鞋", "699.00", ["军绿", "黑色"], ["越野", "登山"]),
        "race": shoe("竞速碳板跑鞋", "1099.00", ["荧光橙", "白色"], ["马拉松", "竞速"]),
        "kids": shoe("青少年跑步鞋", "259.00", ["蓝色", "白色"], ["跑步"], sizes=["35", "36"]),
        "jacket": ProductFactory(
            shop=shop_a,
            category="外套",
            title="轻薄防风皮肤衣",
            price=Decimal("199.00"),
            colors=["浅蓝", "黑色"],
            sizes=["S", "M", "L", "XL"],
            uses=["跑步", "防晒"],
        ),
        "backpack": ProductFactory(
            shop=shop_a,
            category="配件",
            title="运动双肩包",
            price=Decimal("259.00"),
            colors=["黑色"],
            sizes=["均码"],
            uses=["健身", "通勤"],
        ),
        "off_sale": shoe("停产旧款跑步鞋", "99.00", ["黑色"], ["跑步"], on_sale=False),
        "foreign": ProductFactory(
            shop=shop_b, category="跑步鞋", title="别家跑步鞋", price=Decimal("59.00"), colors=["黑色"]
        ),
    }
    return products


def test_the_bot_asks_the_budget_then_recommends_within_it_remembering_the_category(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐一双跑步鞋")
    assert shopper.result.intent == "recommend"
    assert "预算" in shopper.reply and not shopper.product_titles
    assert shopper.quick_replies and shopper.quick_replies[-1] == "不限"
    assert shopper.state["pending"] == {"kind": "recommend_slot", "slot": "budget"}

    shopper.says("300以内")
    assert shopper.product_titles == ["轻跑入门透气跑步鞋", "青少年跑步鞋"]
    card = shopper.result.replies[0].products[0]
    assert card == {
        "id": catalogue["entry"].pk,
        "sku": catalogue["entry"].sku,
        "title": "轻跑入门透气跑步鞋",
        "price": "199.00",
        "colors": ["黑色", "灰色"],
        "sizes": ["39", "40", "41"],
        "stock": 100,
        "image": "",
    }
    assert shopper.state["slots"]["categories"] == ["跑步鞋"]


def test_without_a_category_the_bot_offers_the_shops_own_categories(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("想买点东西，有什么推荐")
    assert "哪一类" in shopper.reply
    assert shopper.quick_replies == ["跑步鞋", "外套", "配件"]
    shopper.says("外套")
    assert shopper.product_titles == ["轻薄防风皮肤衣"]


def test_a_colour_follow_up_keeps_the_category_and_the_budget(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("两三百的跑步鞋有吗")
    assert shopper.product_titles == ["青少年跑步鞋"]
    shopper.says("黑色的呢")
    # Nothing black between 200 and 300: the budget stays, so the colour is relaxed and the shopper told.
    assert "颜色" in shopper.reply and shopper.product_titles == ["青少年跑步鞋"]
    shopper.says("1000以内的，黑色的呢")
    assert shopper.product_titles == ["轻跑入门透气跑步鞋", "飞影缓震跑步鞋", "山影越野跑鞋"]
    assert shopper.state["slots"]["colour"] == "黑色"


def test_asking_for_cheaper_ones_shows_only_lower_prices_than_those_shown(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐跑步鞋，500以上")
    assert shopper.product_titles == ["山影越野跑鞋", "竞速碳板跑鞋"]
    shopper.says("有便宜点的吗")
    assert shopper.product_titles == ["轻跑入门透气跑步鞋", "青少年跑步鞋", "飞影缓震跑步鞋"]
    assert all(Decimal(p["price"]) < Decimal("699") for r in shopper.result.replies for p in r.products)
    shopper.says("还能再便宜点吗")  # nothing under 199
    assert "最实惠" in shopper.reply and not shopper.product_titles


def test_an_ordinal_follow_up_checks_the_size_of_the_product_shown_at_that_place(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("黑色跑步鞋，预算1000")
    assert shopper.product_titles == ["轻跑入门透气跑步鞋", "飞影缓震跑步鞋", "山影越野跑鞋"]
    shopper.says("第二个有没有42码")
    assert shopper.result.intent == "product_detail"
    assert "飞影缓震跑步鞋" in shopper.reply and "有42码" in shopper.reply and "有货" in shopper.reply
    shopper.says("第一个有没有42码")
    assert "没有42码" in shopper.reply and "39、40、41" in shopper.reply
    shopper.says("这款有灰色吗")
    assert "轻跑入门透气跑步鞋" in shopper.reply and "灰色" in shopper.reply and "没有" not in shopper.reply
    shopper.says("第五个呢")
    assert "第 1 到第 3 个" in shopper.reply


def test_another_batch_shows_the_products_not_shown_yet(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐跑步鞋")
    shopper.says("不限")
    first = shopper.product_titles
    assert len(first) == 3
    shopper.says("换一批")
    second = shopper.product_titles
    assert second and not set(first) & set(second)
    assert set(first) | set(second) == {
        "轻跑入门透气跑步鞋",
        "青少年跑步鞋",
        "飞影缓震跑步鞋",
        "山影越野跑鞋",
        "竞速碳板跑鞋",
    }


def test_traditional_and_full_width_input_is_understood(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推薦一雙跑步鞋，預算３００以內")
    assert shopper.product_titles == ["轻跑入门透气跑步鞋", "青少年跑步鞋"]
    shopper.says("第一個有沒有４１碼")
    assert "有41码" in shopper.reply


def test_a_use_picks_products_by_what_they_are_for(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("有没有适合通勤的双肩包")
    assert shopper.product_titles == ["运动双肩包"]


def test_off_sale_products_and_other_shops_products_are_never_recommended(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐一双100以内的黑色跑步鞋")
    assert "停产旧款跑步鞋" not in shopper.product_titles and "别家跑步鞋" not in shopper.product_titles
    # Nothing under 100 in this shop: it says so, and shows its own closest prices.
    assert "100元以内的黑色跑步鞋暂时没有" in shopper.reply
    assert shopper.product_titles == ["轻跑入门透气跑步鞋", "飞影缓震跑步鞋", "山影越野跑鞋"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300以内", PriceRange(None, Decimal(300))),
        ("两三百", PriceRange(Decimal(200), Decimal(300))),
        ("500左右", PriceRange(Decimal(400), Decimal(600))),
        ("一千五以上", PriceRange(Decimal(1500), None)),
        ("200-400元", PriceRange(Decimal(200), Decimal(400))),
        ("三百多", PriceRange(Decimal(300), Decimal(399))),
        ("预算800", PriceRange(None, Decimal(800))),
        ("38-42码", None),
        ("便宜点", None),
    ],
)
def test_budget_phrases_become_price_ranges(text, expected):
    assert parse_budget(text) == expected


def test_asking_for_pricier_ones_at_the_top_says_so_and_keeps_the_search(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐跑步鞋，800以上")
    assert shopper.product_titles == ["竞速碳板跑鞋"]
    slots = shopper.state["slots"]
    shopper.says("有贵一点的吗")
    assert "价位最高" in shopper.reply and not shopper.product_titles
    assert shopper.state["slots"] == slots
    shopper.says("白色的呢")
    assert shopper.product_titles == ["竞速碳板跑鞋"]


def test_a_category_is_recognised_by_its_ending(shop_a, catalogue):
    ProductFactory(shop=shop_a, category="运动T恤", title="速干短袖", price=Decimal("89.00"))
    shopper = Shopper(shop_a)
    shopper.says("想要件t恤")
    assert shopper.product_titles == ["速干短袖"]


def test_a_question_about_products_in_general_is_not_a_recommendation(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("你们家鞋子质量怎么样")
    assert shopper.result.intent == "fallback" and not shopper.product_titles


def test_outside_every_budget_the_closest_prices_are_shown_and_said_to_be(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐跑步鞋，2000左右")
    assert "1600-2400元的跑步鞋暂时没有" in shopper.reply
    assert shopper.product_titles[0] == "竞速碳板跑鞋"


def test_other_colours_of_the_product_in_view_are_listed(shop_a, catalogue):
    shopper = Shopper(shop_a)
    shopper.says("推荐个双肩包")
    assert shopper.product_titles == ["运动双肩包"]
    shopper.says("还有别的颜色吗")
    assert shopper.result.intent == "product_detail" and "颜色：黑色" in shopper.reply
    shopper.says("换一批")
    assert "就这 1 款" in shopper.reply
