"""Each QA rule fires on the messages that break it and stays quiet on the ones that do not."""

import unicodedata
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from analytics.default_rules import install_default_rules
from analytics.models import QAFinding, QARule, Severity
from analytics.rule_kinds.personal_data import id_number_checksum_ok
from analytics.services.inspection import inspect_message, rules_for_shop
from analytics.services.rules import _fold_table, fold
from chat.messaging import store_message
from chat.models import Conversation, Message
from chat.signals import conversation_closed
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db(transaction=True)

Kind = QARule.Kind
Sender = Message.Sender
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def rules(shop_a):
    install_default_rules(shop_a)


@pytest.fixture
def conversation(shop_a, rules):
    return Conversation.objects.create(shop=shop_a, visitor_token="v-qa")


def say(conversation, sender, text, *, at=None, agent=None, intent=""):
    with time_machine.travel(at or T0, tick=False):
        message, _ = store_message(conversation, sender, text, agent=agent, intent=intent)
    return message


def kinds(message) -> list[str]:
    return sorted(QAFinding.objects.filter(message=message).values_list("kind", flat=True))


def test_a_rude_agent_reply_is_a_high_severity_banned_words_finding(conversation, agent_a):
    message = say(conversation, Sender.AGENT, "爱买不买，别烦我", agent=agent_a)
    finding = QAFinding.objects.get(message=message)
    assert finding.kind == Kind.BANNED_WORDS
    assert finding.severity == Severity.HIGH
    assert finding.agent == agent_a
    assert finding.actor == QAFinding.Actor.AGENT
    assert finding.evidence in {"爱买不买", "别烦我"}


def test_a_polite_agent_reply_finds_nothing(conversation, agent_a):
    message = say(conversation, Sender.AGENT, "亲，这款跑鞋有 42 码的，今天下单明天发货哦", agent=agent_a)
    assert kinds(message) == []


def test_a_promise_from_the_bot_is_found_and_blamed_on_the_bot(conversation):
    message = say(conversation, Sender.BOT, "我们保证正品，假一赔十", intent="faq")
    finding = QAFinding.objects.get(message=message)
    assert finding.kind == Kind.FORBIDDEN_PROMISE
    assert finding.actor == QAFinding.Actor.BOT
    assert finding.agent is None


def test_promises_in_traditional_and_full_width_characters_are_found(conversation, agent_a):
    assert kinds(say(conversation, Sender.AGENT, "我們保證不會掉色", agent=agent_a)) == [Kind.FORBIDDEN_PROMISE]
    assert kinds(say(conversation, Sender.AGENT, "１００％ 純棉", agent=agent_a)) == [Kind.FORBIDDEN_PROMISE]
    assert kinds(say(conversation, Sender.AGENT, "保 证 好穿", agent=agent_a)) == [Kind.FORBIDDEN_PROMISE]


def test_the_shopper_using_shop_side_words_is_not_a_shop_finding(conversation):
    message = say(conversation, Sender.SHOPPER, "你们能保证是正品吗")
    assert kinds(message) == []


def test_a_phone_number_in_an_agents_message_is_found_and_stored_masked(conversation, agent_a):
    message = say(conversation, Sender.AGENT, "您可以打我手机 138 1234 5678 联系", agent=agent_a)
    finding = QAFinding.objects.get(message=message)
    assert finding.kind == Kind.PERSONAL_DATA
    assert finding.evidence == "138****5678"
    assert "12345678" not in finding.evidence


def test_an_id_number_with_a_valid_checksum_is_personal_data(conversation, agent_a):
    assert id_number_checksum_ok("11010519491231002X")
    message = say(conversation, Sender.AGENT, "核对一下身份证 11010519491231002X 对吗", agent=agent_a)
    assert QAFinding.objects.get(message=message).evidence == "110105********002X".lower()


def test_numbers_that_are_not_phones_or_valid_ids_are_not_personal_data(conversation, agent_a):
    assert not id_number_checksum_ok("110105194912310021")
    texts = ["身份证 110105194912310021", "订单号 20261120123456789012", "退款 1380 元已到账", "快递单号 12345678901"]
    for text in texts:
        assert kinds(say(conversation, Sender.AGENT, text, agent=agent_a)) == [], text


def test_a_shopper_giving_their_own_phone_is_not_a_finding(conversation):
    assert kinds(say(conversation, Sender.SHOPPER, "我的电话是13812345678")) == []


def test_an_angry_shopper_is_a_high_severity_finding(conversation):
    message = say(conversation, Sender.SHOPPER, "再不发货我就投诉你们！")
    finding = QAFinding.objects.get(message=message)
    assert (finding.kind, finding.severity, finding.actor) == (
        Kind.ANGRY_SHOPPER,
        Severity.HIGH,
        QAFinding.Actor.SHOPPER,
    )
    assert kinds(say(conversation, Sender.SHOPPER, "好的谢谢，期待收货")) == []


def test_an_agent_mentioning_a_complaint_is_not_an_angry_shopper(conversation, agent_a):
    assert kinds(say(conversation, Sender.AGENT, "您的投诉我们已经记录了", agent=agent_a)) == []


def test_a_first_reply_later_than_the_threshold_after_the_hand_off_is_slow(shop_a, rules, agent_a):
    slow = Conversation.objects.create(shop=shop_a, visitor_token="v-slow", handed_over_at=T0)
    quick = Conversation.objects.create(shop=shop_a, visitor_token="v-quick", handed_over_at=T0)
    late = say(slow, Sender.AGENT, "您好，我是客服小美", agent=agent_a, at=T0 + timedelta(seconds=90))
    prompt = say(quick, Sender.AGENT, "您好，我是客服小美", agent=agent_a, at=T0 + timedelta(seconds=30))
    assert kinds(late) == [Kind.SLOW_FIRST_RESPONSE]
    assert QAFinding.objects.get(message=late).evidence == "90s"
    assert kinds(prompt) == []


def test_an_agent_reply_long_after_the_shoppers_question_is_slow(shop_a, rules, agent_a):
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="v-r", handed_over_at=T0)
    say(conversation, Sender.AGENT, "您好", agent=agent_a, at=T0 + timedelta(seconds=5))
    say(conversation, Sender.SHOPPER, "有黑色42码吗", at=T0 + timedelta(seconds=10))
    say(conversation, Sender.SHOPPER, "在吗", at=T0 + timedelta(seconds=60))
    slow = say(conversation, Sender.AGENT, "有的", agent=agent_a, at=T0 + timedelta(seconds=210))
    say(conversation, Sender.SHOPPER, "好的", at=T0 + timedelta(seconds=220))
    quick = say(conversation, Sender.AGENT, "马上为您安排", agent=agent_a, at=T0 + timedelta(seconds=250))
    # Measured from the first question left unanswered (10 s), not the latest nudge (60 s).
    assert QAFinding.objects.get(message=slow).evidence == "200s"
    assert kinds(slow) == [Kind.SLOW_REPLY]
    assert kinds(quick) == []


def test_three_bot_fallbacks_in_a_row_are_one_streak_finding(conversation):
    messages = []
    for n in range(4):
        say(conversation, Sender.SHOPPER, f"问题{n}")
        messages.append(say(conversation, Sender.BOT, "抱歉，我没有理解您的问题", intent="fallback"))
    assert [kinds(m) for m in messages] == [[], [], [Kind.FALLBACK_STREAK], []]


def test_fallbacks_broken_by_an_answer_are_no_streak(conversation):
    say(conversation, Sender.BOT, "抱歉，我没有理解", intent="fallback")
    say(conversation, Sender.BOT, "42码有货", intent="faq")
    say(conversation, Sender.BOT, "抱歉，我没有理解", intent="fallback")
    say(conversation, Sender.BOT, "抱歉，我没有理解", intent="fallback")
    assert not QAFinding.objects.filter(kind=Kind.FALLBACK_STREAK).exists()


def close(conversation, *, satisfaction=None):
    conversation.status = Conversation.Status.CLOSED
    conversation.ended_at = T0 + timedelta(minutes=10)
    conversation.satisfaction = satisfaction
    conversation.save()
    conversation_closed.send(sender=Conversation, conversation=conversation)
    return sorted(QAFinding.objects.filter(conversation=conversation, message=None).values_list("kind", flat=True))


def test_a_conversation_closed_after_a_hand_off_nobody_answered_is_unresolved_and_slow(shop_a, rules):
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="v-u", handed_over_at=T0)
    say(conversation, Sender.SHOPPER, "转人工")
    assert close(conversation) == [Kind.SLOW_FIRST_RESPONSE, Kind.UNRESOLVED_CLOSE]


def test_a_conversation_ending_on_an_unanswered_question_is_unresolved(conversation):
    say(conversation, Sender.SHOPPER, "什么时候发货")
    assert close(conversation) == [Kind.UNRESOLVED_CLOSE]


def test_a_conversation_the_bot_answered_is_resolved_despite_the_survey_reply(conversation):
    say(conversation, Sender.SHOPPER, "什么时候发货")
    say(conversation, Sender.BOT, "付款后48小时内发货", intent="faq")
    say(conversation, Sender.BOT, "请为本次服务打分", intent="satisfaction")
    say(conversation, Sender.SHOPPER, "5")
    assert close(conversation, satisfaction=5) == []


def test_a_poor_rating_makes_an_answered_conversation_unresolved(conversation):
    say(conversation, Sender.SHOPPER, "什么时候发货")
    say(conversation, Sender.BOT, "付款后48小时内发货", intent="faq")
    assert close(conversation, satisfaction=1) == [Kind.UNRESOLVED_CLOSE]


def test_a_rule_change_is_seen_by_the_next_message(conversation, shop_a, agent_a):
    assert kinds(say(conversation, Sender.AGENT, "包邮到家", agent=agent_a)) == []
    rule = QARule.objects.get(shop=shop_a, kind=Kind.FORBIDDEN_PROMISE)
    rule.words += "\n包邮到家"
    rule.save()
    assert kinds(say(conversation, Sender.AGENT, "包邮到家", agent=agent_a)) == [Kind.FORBIDDEN_PROMISE]
    rule.enabled = False
    rule.save()
    assert kinds(say(conversation, Sender.AGENT, "包邮到家，保证满意", agent=agent_a)) == []


def test_a_global_rule_applies_to_every_shop_and_a_shops_rule_only_to_it(shop_a, shop_b, agent_a):
    QARule.objects.create(shop=None, name="全局禁词", kind=Kind.BANNED_WORDS, severity=Severity.LOW, words="微信转账")
    QARule.objects.create(shop=shop_a, name="A店禁词", kind=Kind.BANNED_WORDS, severity=Severity.LOW, words="淘口令")
    in_a = Conversation.objects.create(shop=shop_a, visitor_token="a")
    in_b = Conversation.objects.create(shop=shop_b, visitor_token="b")
    assert kinds(say(in_a, Sender.AGENT, "可以微信转账", agent=agent_a)) == [Kind.BANNED_WORDS]
    assert kinds(say(in_b, Sender.AGENT, "可以微信转账")) == [Kind.BANNED_WORDS]
    assert kinds(say(in_b, Sender.AGENT, "复制淘口令")) == []
    assert kinds(say(in_a, Sender.AGENT, "复制淘口令", agent=agent_a)) == [Kind.BANNED_WORDS]


def test_compiled_rules_are_reused_until_a_rule_changes(shop_a, rules):
    first = rules_for_shop(shop_a.pk)
    assert rules_for_shop(shop_a.pk) is first
    other = ShopFactory()
    QARule.objects.create(shop=other, name="别家", kind=Kind.BANNED_WORDS, words="别家词")
    assert rules_for_shop(shop_a.pk) is first
    QARule.objects.filter(shop=shop_a).first().save()
    assert rules_for_shop(shop_a.pk) is not first


def test_inspecting_a_message_twice_records_each_finding_once(conversation, agent_a):
    message = say(conversation, Sender.AGENT, "闭嘴", agent=agent_a)
    assert inspect_message(message) == []
    assert QAFinding.objects.filter(message=message).count() == 1


def test_folding_makes_traditional_full_width_and_spaced_text_comparable():
    assert fold("我們 保證 １００％") == "我们保证100%"


# Plain characters (one translate table) mixed with those that compose, reorder or lower-case by context.
_FOLD_ALPHABET = "我們保證發貨１００％ＡＢ，。？ 　\t\nAbcｶｷ｡ｰ가한ㄱᄀ\u1161e\u0301éΣςİ\u3099ガﾞ①㍿…ﬁ😀"


@given(st.text(alphabet=_FOLD_ALPHABET, max_size=12))
def test_folding_one_character_at_a_time_gives_the_same_text_as_folding_the_whole(text):
    assert fold(text) == unicodedata.normalize("NFKC", text).lower().translate(_fold_table())


def test_the_install_command_gives_a_new_shop_the_default_rules_once(shop_a):
    out = StringIO()
    call_command("install_qa_rules", shop_a.slug, stdout=out)
    call_command("install_qa_rules", shop_a.slug, stdout=out)
    assert out.getvalue().splitlines() == ["shop-a: 8 rules added", "shop-a: 0 rules added"]
    assert QARule.objects.filter(shop=shop_a).count() == 8
    with pytest.raises(CommandError, match="no-such-shop"):
        call_command("install_qa_rules", "no-such-shop")
