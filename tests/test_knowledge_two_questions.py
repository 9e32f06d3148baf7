"""Two questions in one message (长句多问) without the punctuation that separates them: where the message is cut,
how each part is answered, and that the chat gives both answers in the bot's one turn."""

import pytest

from knowledge.models import AnswerOutcome
from knowledge.services import answer_message
from knowledge.splitting import clause_cuts, connector_cut, split_questions, two_question_cuts
from tests.chat_sockets import frames_until, send_message, shopper_socket
from tests.dialogue_support import Shopper
from tests.factories import FAQCardFactory


def test_a_particle_followed_by_only_a_connector_word_is_one_question():
    assert split_questions("怎么成为会员，满减活动还有吗") == ["怎么成为会员", "满减活动还有吗"]
    assert split_questions("满减活动还有吗") == ["满减活动还有吗"]


def test_a_not_a_asks_a_question():
    assert split_questions("脐橙甜吗，掉不掉色") == ["脐橙甜吗", "掉不掉色"]
    assert ("脐橙多大个", "甜不甜") in two_question_cuts("脐橙多大个甜不甜")


def test_a_clause_ending_in_bu_asks_and_traditional_and_exclamative_particles_end_a_question():
    assert split_questions("能货到付款不、降价了能退差价不") == ["能货到付款不", "降价了能退差价不"]
    assert split_questions("發什麼快遞啊耳机保修多久啊") == ["發什麼快遞啊", "耳机保修多久啊"]
    assert split_questions("西藏能寄嗎孕婦能吃嗎") == ["西藏能寄嗎", "孕婦能吃嗎"]


def test_a_question_then_a_complaint_is_offered_as_two_questions():
    assert ("默认哪家快递", "发错了") in clause_cuts("默认哪家快递 发错了")
    assert ("橙子甜不甜啊", "快递卡在中转站不动") in clause_cuts("橙子甜不甜啊快递卡在中转站不动")


def test_a_cut_never_separates_a_question_word_from_what_it_asks():
    cuts = two_question_cuts("榴莲怎么解冻能放多久")
    assert ("榴莲怎么解冻", "能放多久") in cuts
    assert all(not left.endswith(("怎么", "怎")) for left, _ in cuts)


def test_a_statement_before_a_question_is_offered_as_a_question_of_its_own():
    assert clause_cuts("坚果哈喇味了，有运费险吗") == [("坚果哈喇味了", "有运费险吗")]
    assert clause_cuts("帮我改下地址 另外发什么快递")[0] == ("帮我改下地址", "发什么快递")
    assert clause_cuts("包邮吗") == []


def test_only_a_connector_announcing_another_matter_cuts_after_a_statement():
    assert connector_cut("少发了一根线，另外保修怎么申请") == ("少发了一根线", "保修怎么申请")
    assert connector_cut("帮我催下发货 顺便问下可以开专票吗") == ("帮我催下发货", "可以开专票吗")
    # 还有 may ask for stock: no cut of its own.
    assert connector_cut("我穿41码，还有42码吗") is None


def shop_cards(shop, cards: dict[str, tuple[str, str, list[str]]]) -> dict:
    """Cards of ``shop`` by key, from (question, answer, similar questions)."""
    return {
        key: FAQCardFactory(shop=shop, question=q, answer=a, similar=similar) for key, (q, a, similar) in cards.items()
    }


@pytest.fixture
def fruit_shop(shop_a):
    return shop_cards(
        shop_a,
        {
            "rancid": ("坚果有哈喇味怎么办", "哈喇味包退", ["坚果有油哈味", "坚果变味了"]),
            "insurance": ("有运费险吗", "坚果订单送运费险", ["送运费险吗"]),
            "address": ("地址能改吗", "未发货可以改地址", ["可以改地址吗", "收货地址写错了"]),
            "carrier": ("用什么快递", "默认发中通", ["发什么快递", "走哪家快递"]),
            "size": ("鞋码怎么选", "按平时尺码选", ["我穿多大码", "尺码怎么选"]),
            "invoice": ("可以开发票吗", "可以开电子普通发票", ["能开票吗", "开发票吗"]),
        },
    )


@pytest.mark.django_db
def test_a_complaint_and_a_question_get_one_answer_each(shop_a, fruit_shop):
    answers = answer_message(shop_a, "坚果哈喇味了，有运费险吗", record=False)
    assert [a.card_id for a in answers] == [fruit_shop["rancid"].pk, fruit_shop["insurance"].pk]
    assert [a.question for a in answers] == ["坚果哈喇味了", "有运费险吗"]


@pytest.mark.django_db
def test_a_statement_that_only_sets_the_scene_stays_with_its_question(shop_a, fruit_shop):
    answers = answer_message(shop_a, "我平时穿41码，鞋码怎么选", record=False)
    assert len(answers) == 1 and answers[0].card_id == fruit_shop["size"].pk


@pytest.mark.django_db
def test_a_request_then_another_matter_is_two_questions_whatever_the_request_finds(shop_a, fruit_shop):
    answers = answer_message(shop_a, "帮我改下地址，另外能开发票吗", record=False)
    assert [a.question for a in answers] == ["帮我改下地址", "能开发票吗"]
    assert answers[1].outcome == AnswerOutcome.ANSWER and answers[1].card_id == fruit_shop["invoice"].pk


@pytest.fixture
def gadget_shop(shop_a):
    return shop_cards(
        shop_a,
        {
            "noise": ("耳机有降噪吗", "主动降噪", ["耳机降噪怎么样"]),
            "earphone_android": ("耳机安卓手机能用吗", "耳机安卓苹果都能连", ["耳机支持安卓吗"]),
            "bank_android": ("充电宝安卓手机能用吗", "充电宝有C口和USB口", ["充电宝支持安卓吗"]),
            "bank_weight": ("充电宝多重", "210克", ["充电宝重量"]),
        },
    )


@pytest.mark.django_db
def test_a_question_that_leaves_out_its_topic_is_read_with_the_topic_of_the_other(shop_a, gadget_shop):
    alone = answer_message(shop_a, "安卓能用吗", record=False)
    assert alone[0].outcome != AnswerOutcome.ANSWER  # earphones or power bank: it cannot tell
    answers = answer_message(shop_a, "耳机有降噪吗安卓能用吗", record=False)
    assert [a.card_id for a in answers] == [gadget_shop["noise"].pk, gadget_shop["earphone_android"].pk]
    assert all(a.outcome == AnswerOutcome.ANSWER for a in answers)
    assert answers[1].question == "安卓能用吗"  # named in the shopper's own words
    answers = answer_message(shop_a, "充电宝多重安卓能用吗", record=False)
    assert answers[1].card_id == gadget_shop["bank_android"].pk


@pytest.mark.django_db
def test_the_chat_starts_the_task_asked_for_and_answers_the_other_question_in_the_same_turn(shop_a, fruit_shop):
    shopper = Shopper(shop_a)
    shopper.says("帮我改下地址，另外能开发票吗")
    assert shopper.result.intent == "address_change"
    assert "订单号" in shopper.result.replies[0].text
    assert "可以开电子普通发票" in shopper.reply


@pytest.mark.django_db(transaction=True)
async def test_the_shopper_socket_gets_both_answers_of_an_unpunctuated_two_question_message(shop_a, gadget_shop):
    socket, _ = await shopper_socket(shop_a.slug)
    ack = await send_message(socket, "耳机有降噪吗安卓能用吗")
    assert ack["type"] == "ack"
    seen: list[str] = []

    def both_answered(frame: dict) -> bool:
        if frame["type"] == "message" and frame["sender"] == "bot":
            seen.append(frame["text"])
        return len(seen) == 2

    await frames_until(socket, both_answered)
    assert seen[0] == "关于「耳机有降噪吗」：主动降噪"
    assert seen[1] == "关于「安卓能用吗」：耳机安卓苹果都能连"
    await socket.disconnect()
