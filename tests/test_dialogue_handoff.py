"""Hand-off to a human: on request, on anger, after repeated unanswered questions."""

import pytest

from chat.dialogue import closing_survey
from tests.dialogue_support import Shopper

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["转人工", "我要人工客服", "找个真人", "轉人工！", "不要机器人，叫客服来"])
def test_asking_for_a_human_hands_off(shop_a, text):
    shopper = Shopper(shop_a)
    shopper.says(text)
    assert shopper.result.handoff == "requested" and shopper.result.intent == "handoff"
    assert "人工客服" in shopper.reply


@pytest.mark.parametrize(
    "text", ["我要投诉你们", "骗子店铺", "给你们差评", "什么破服务！！！", "垃圾，到底什么时候发货"]
)
def test_an_angry_message_hands_off(shop_a, text):
    shopper = Shopper(shop_a)
    shopper.says(text)
    assert shopper.result.handoff == "angry"
    assert "抱歉" in shopper.reply


@pytest.mark.parametrize("text", ["这双鞋有点垃圾", "到底有没有42码"])
def test_one_mild_word_or_one_cue_alone_is_not_anger(shop_a, text):
    shopper = Shopper(shop_a)
    shopper.says(text)
    assert shopper.result.handoff != "angry"


def test_two_unanswered_questions_in_a_row_hand_off(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("量子纠缠是什么原理")
    assert shopper.result.intent == "fallback" and not shopper.result.handoff
    shopper.says("火星上能收到快递吗")
    assert shopper.result.handoff == "fallbacks"
    assert shopper.state["fallbacks"] == 0


def test_an_answered_message_between_fallbacks_resets_the_count(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("量子纠缠是什么原理")
    shopper.says("谢谢")
    shopper.says("火星上能收到快递吗")
    assert shopper.result.intent == "fallback" and not shopper.result.handoff


def test_saying_yes_to_the_offered_human_hands_off(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("量子纠缠是什么原理")
    assert shopper.state["pending"] == {"kind": "offer_handoff"}
    shopper.says("好的")
    assert shopper.result.handoff == "requested"


def test_the_closing_survey_asks_for_a_score_from_one_to_five():
    survey = closing_survey()
    assert survey.intent == "satisfaction" and survey.quick_replies == ["1", "2", "3", "4", "5"]
    assert "打个分" in survey.text
