"""The need parser on catalogues of other industries (the evaluation catalogues' products, written into a shop):
categories by everyday names, amounts with units, strict features, kinds the shop does not sell, and whole
conversations with yes/no answers and follow-ups on the product in focus."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from chat.dialogue.catalogue import Amount, Catalogue, amounts
from chat.dialogue.recommend import _budget, classify
from chat.dialogue.turn import Turn
from chat.models import Conversation
from knowledge.text import normalize
from shops.models import Product
from tests.dialogue_support import Shopper
from tests.factories import FAQCardFactory

pytestmark = pytest.mark.django_db

SUITE = Path(__file__).resolve().parent.parent / "devtools" / "eval_catalogues"


def load(shop, slug: str) -> Catalogue:
    """The shop with the products of an evaluation catalogue, read as the bot reads them."""
    rows = json.loads((SUITE / slug / "products.json").read_text(encoding="utf-8"))
    Product.objects.bulk_create(Product(shop=shop, **{**row, "price": Decimal(row["price"])}) for row in rows)
    return Catalogue.build(shop.pk)


@pytest.fixture
def gadgets(shop_a):
    return load(shop_a, "dianxin-gadgets")


@pytest.fixture
def camping(shop_a):
    return load(shop_a, "xinglu-camping")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20000毫安以上的", [Amount("capacity", Decimal(20000), ">=")]),
        ("1.5米的排插", [Amount("length", Decimal("1.5"), "=")]),
        ("65w的充电器", [Amount("power", Decimal(65), "=")]),
        ("能装40升以上的", [Amount("volume", Decimal(40000), ">=")]),
        ("300ml奶瓶", [Amount("volume", Decimal(300), "=")]),
        ("2kg的猫粮", [Amount("weight", Decimal(2000), "=")]),
        ("不超过5斤", [Amount("weight", Decimal(2500), "<=")]),
        ("42码的鞋", []),
    ],
)
def test_amounts_with_units_are_read_by_kind_with_their_bound(text, expected):
    found = [Amount(a.kind, a.value, a.op) for a in amounts(normalize(text))]
    assert found == expected


def test_an_amount_with_a_unit_is_never_read_as_a_budget():
    assert _budget(normalize("20000毫安以上的充电宝")) is None
    assert _budget(normalize("40升以上的登山包，300以内")).high == Decimal(300)


def test_everyday_names_of_the_shops_categories_come_from_the_language_pack(gadgets):
    assert gadgets.read(normalize("有没有移动电源")).categories == ["充电宝"]
    assert gadgets.read(normalize("排插 1.5米的")).categories == ["插线板"]
    assert gadgets.read(normalize("想要个插座")).categories == ["插线板"]


def test_a_category_is_found_by_its_head_and_by_the_titles_that_name_it(camping):
    assert camping.read(normalize("钓鱼用的椅子")).categories == ["折叠椅"]
    assert camping.read(normalize("要个水杯")).categories == ["保温杯"]
    assert camping.read(normalize("保温壶大容量的有吗")).categories == ["保温杯"]


def test_an_amount_is_an_attribute_never_a_colour_a_size_or_a_word(gadgets):
    mentions = gadgets.read(normalize("20000毫安的充电宝"))
    assert mentions.categories == ["充电宝"]
    assert [(a.kind, a.value) for a in mentions.attrs] == [("capacity", Decimal(20000))]
    assert not mentions.colour and not mentions.size and not mentions.features


def test_required_features_come_from_the_products_data(gadgets):
    mentions = gadgets.read(normalize("要主动降噪的耳机"))
    assert mentions.categories == ["蓝牙耳机"]
    assert {"主动", "降噪"} <= {*mentions.keywords, *mentions.features}


def test_a_word_followed_by_a_comparison_is_a_preference_not_a_required_feature(camping):
    mentions = camping.read(normalize("露营灯 续航长一点 20000毫安的"))
    assert "续航" not in mentions.features
    assert mentions.categories == ["露营灯"]


def kind_of(shop, text: str) -> tuple[str, bool]:
    conversation = Conversation.objects.create(shop=shop, visitor_token="parser")
    turn = Turn.start(conversation, text)
    return classify(turn, turn.catalogue)


def test_a_need_without_a_buying_verb_is_a_recommendation(shop_a, camping):
    assert kind_of(shop_a, "出差路上用的小风扇") == ("recommend", True)
    assert kind_of(shop_a, "给孩子用的登山包") == ("recommend", True)


def test_a_kind_of_product_the_shop_does_not_sell_is_told_apart(shop_a, gadgets):
    assert kind_of(shop_a, "有卖烧烤架吗")[0] == "absent"
    assert kind_of(shop_a, "智能手表有吗")[0] == "absent"  # its title word 智能 is only a speaker's
    assert kind_of(shop_a, "有没有移动电源")[0] == "recommend"
    assert kind_of(shop_a, "有优惠吗")[0] == ""  # a question about the shop, not a product


def test_the_shop_does_not_sell_it_so_the_bot_says_no_and_shows_nothing(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("有卖平板电脑吗")
    assert shopper.reply.startswith("没有平板电脑") and not shopper.product_titles
    assert "充电宝" in shopper.reply  # what the shop does sell


def test_a_kind_the_shop_does_not_sell_gets_no_also_after_a_list_and_a_comparison_is_no_kind(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("有没有移动电源")
    assert shopper.product_titles
    shopper.says("有卖无人机吗")
    assert shopper.reply.startswith("没有无人机") and not shopper.product_titles
    shopper.says("有大一点的吗")
    assert not shopper.reply.startswith("没有大一点")


def test_a_strict_feature_shows_only_products_whose_data_has_it(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("要主动降噪的耳机")
    assert shopper.product_titles == ["电芯 主动降噪蓝牙耳机 Pro", "电芯 头戴式降噪耳机"]  # not 通话降噪
    shopper.says("有白色的吗")
    assert shopper.reply.startswith("有的") and shopper.product_titles == ["电芯 主动降噪蓝牙耳机 Pro"]


def test_an_amount_filters_by_the_products_data_and_a_missing_one_offers_the_closest(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("65W的充电器")
    assert shopper.product_titles == ["电芯 65W氮化镓充电器 三口"]
    shopper.says("50000毫安的充电宝")
    assert shopper.reply.startswith("没有50000毫安的充电宝")
    assert shopper.product_titles[0] == "电芯 30000毫安 大容量移动电源"  # the closest, said to be


def test_follow_ups_keep_the_constraints_and_resolve_against_the_product_in_focus(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("有没有移动电源")
    assert shopper.reply.startswith("有的") and len(shopper.product_titles) == 3
    shopper.says("20000毫安以上的")
    assert shopper.product_titles == ["电芯 20000毫安 快充充电宝", "电芯 30000毫安 大容量移动电源"]
    shopper.says("第二个多少钱")
    assert "¥199.00" in shopper.reply
    shopper.says("有货吗")
    assert shopper.reply.startswith("有货") and "30000毫安" in shopper.reply
    shopper.says("有白色的吗")
    assert shopper.reply.startswith("没有") and "黑色" in shopper.reply  # about the product in focus
    shopper.says("便宜点的")
    # Cheaper than what was shown, still 20000 mAh or more: nothing, and it says so.
    assert "最实惠" in shopper.reply and not shopper.product_titles


def test_a_need_and_an_faq_question_in_one_message_get_both_answers(shop_a, camping):
    FAQCardFactory(shop=shop_a, question="包邮吗", answer="全店满99元包邮。")
    shopper = Shopper(shop_a)
    shopper.says("给孩子买个登山包，顺便问下包邮吗")
    assert shopper.product_titles and all("包" in t for t in shopper.product_titles)
    assert "全店满99元包邮" in shopper.reply


def test_traditional_input_with_a_budget_is_a_need_not_a_kind_the_shop_lacks(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("有沒有行動電源，預算１００以內")
    assert shopper.reply.startswith("有的")
    assert shopper.product_titles == ["电芯 10000毫安 超薄充电宝", "电芯 迷你胶囊充电宝 5000毫安"]


def test_what_a_product_can_do_is_a_question_not_a_search_on_another_kinds_title_words(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("蓝牙耳机可以连两台手机吗")
    assert not shopper.product_titles and "没有手机" not in shopper.reply


def test_a_price_question_with_several_products_in_view_answers_for_each_of_them(shop_a, gadgets):
    shopper = Shopper(shop_a)
    shopper.says("要主动降噪的耳机")
    shopper.says("多少钱")
    assert "1. 电芯 主动降噪蓝牙耳机 Pro ¥399.00，有货" in shopper.reply
    assert "2. 电芯 头戴式降噪耳机 ¥599.00，有货" in shopper.reply
