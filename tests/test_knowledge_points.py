"""The language pack's knowledge points: the bank is large and generic, a text is recognised as the point it
asks about, and the engine uses the points to tell neighbouring cards apart."""

import pytest

from knowledge.langpack import language_pack
from knowledge.models import AnswerOutcome
from knowledge.points import CARD_FLOOR, point_bank
from knowledge.services import answer_question
from tests.factories import FAQCardFactory


def _point(text: str) -> str | None:
    bank = point_bank()
    position, _ = bank.point_of(text)
    return bank.topics[position] if position >= 0 else None


def test_the_shipped_bank_covers_the_common_points_with_many_phrasings_each():
    points = language_pack().points
    assert len(points) >= 60
    assert all(len(point.questions) >= 15 for point in points)
    assert {"ship_time", "arrival_time", "invoice_available", "invoice_when", "bargain"} <= {p.topic for p in points}


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("下单以后大概几天能到", "arrival_time"),
        ("今天付款明天能发货吗", "ship_time"),
        ("發票什麼時候能開好", "invoice_when"),
        ("你们这能开发票不", "invoice_available"),
        ("积分能抵多少钱", "points_use"),
        ("ＶＩＰ會員怎麼開通", "membership_join"),
        ("优惠券能和满减一起用吗", "coupon_stack"),
    ],
)
def test_a_shoppers_wording_is_recognised_as_its_point_in_any_script(text, topic):
    assert _point(text) == topic


def test_a_text_about_no_common_point_has_none():
    assert _point("榴莲肉要怎么解冻") is None
    assert point_bank().scores("榴莲肉要怎么解冻").max() < CARD_FLOOR


def test_words_the_bank_never_uses_do_not_lower_a_points_score():
    bank = point_bank()
    plain = bank.scores("什么时候发货")
    with_product = bank.scores("犀牛纹拼接什么时候发货")
    assert with_product.argmax() == plain.argmax()
    assert with_product.max() == pytest.approx(plain.max())


@pytest.mark.django_db
def test_a_bargain_wholly_made_of_a_coupon_cards_word_falls_back_instead_of_asking_which_coupon(shop_a):
    FAQCardFactory(shop=shop_a, question="有优惠券吗", answer="店铺首页可以领券")
    FAQCardFactory(shop=shop_a, question="优惠券可以叠加使用吗", answer="每单限用一张")
    FAQCardFactory(shop=shop_a, question="下单后多久发货", answer="48小时内发货")
    # 便宜 is a pack synonym of 优惠: the question is held whole by both coupon cards, yet it asks for a discount.
    assert answer_question(shop_a, "能便宜点吗", record=False).outcome == AnswerOutcome.FALLBACK
    assert answer_question(shop_a, "优惠券", record=False).outcome == AnswerOutcome.CLARIFY
