"""模拟客服: a trainee answers a simulated shopper; replies are scored against the reference and the QA rules."""

from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.default_rules import install_default_rules
from analytics.models import QAFinding, QARule, Severity, TrainingSession
from analytics.services.training import replay_exchanges, replayable_conversations, score_reply
from chat.models import Conversation, Message
from knowledge.models import FAQCard
from shops.models import Membership
from tests.conftest import staff_of

pytestmark = pytest.mark.django_db

Sender = Message.Sender
SHIPPING = "付款后48小时内从杭州仓发货，默认顺丰快递。"
SIZING = "这款鞋偏小半码，建议拍大半码。"


@pytest.fixture
def cards(shop_a):
    install_default_rules(shop_a)
    return [
        FAQCard.objects.create(shop=shop_a, question="什么时候发货", answer=SHIPPING),
        FAQCard.objects.create(shop=shop_a, question="鞋子尺码准吗", answer=SIZING),
    ]


def past_conversation(shop, lines, status=Conversation.Status.CLOSED):
    conversation = Conversation.objects.create(shop=shop, visitor_token="v", status=status)
    for sender, text in lines:
        Message.objects.create(conversation=conversation, shop=shop, sender=sender, text=text)
    return conversation


def start(client, shop, source, turns=2):
    return client.post(reverse("admin:analytics_training_start"), {"shop": shop.pk, "source": source, "turns": turns})


def test_a_faq_session_scores_each_reply_and_finishes_with_the_average(client, agent_a, shop_a, cards):
    client.force_login(agent_a)
    response = start(client, shop_a, TrainingSession.Source.FAQ)
    session = TrainingSession.objects.get(trainee=agent_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:analytics_training_practice", args=[session.pk])
    url = response["Location"]
    turns = list(session.turns.order_by("position"))
    assert {t.reference_answer for t in turns} == {SHIPPING, SIZING}

    assert client.post(url, {"reply": turns[0].reference_answer}).status_code == 302
    client.post(url, {"reply": "亲，我们保证绝对没问题，您放心买"})
    first, second = session.turns.order_by("position")
    assert first.score >= Decimal("90") and first.violations == []
    assert second.violations == [QARule.Kind.FORBIDDEN_PROMISE]
    assert second.score < first.score
    session.refresh_from_db()
    assert session.status == TrainingSession.Status.FINISHED
    assert session.score == ((first.score + second.score) / 2).quantize(Decimal("0.1"))
    page = client.get(url).content.decode()
    assert SHIPPING in page
    assert client.post(url, {"reply": "再答一次"}).status_code == 400


def test_a_reply_breaking_a_high_severity_rule_loses_more_than_a_close_one(shop_a, cards):
    polite = score_reply(shop_a, "亲，付款后48小时内发货，顺丰快递哦", SHIPPING)
    rude = score_reply(shop_a, "爱买不买，付款后48小时内发货", SHIPPING)
    unrelated = score_reply(shop_a, "今天天气不错", SHIPPING)
    assert rude.violations == [QARule.Kind.BANNED_WORDS]
    assert polite.score > rude.score
    assert polite.similarity > unrelated.similarity


def test_a_replay_pairs_each_shopper_turn_with_the_shops_replies(shop_a):
    conversation = past_conversation(
        shop_a,
        [
            (Sender.SHOPPER, "在吗"),
            (Sender.SHOPPER, "42码有货吗"),
            (Sender.BOT, "正在为您转接人工客服"),
            (Sender.SYSTEM, "客服小美已接入"),
            (Sender.AGENT, "有的亲，黑色白色都有"),
            (Sender.SHOPPER, "好的谢谢"),
        ],
    )
    exchanges = replay_exchanges(conversation)
    assert [(e.question, e.reference) for e in exchanges] == [
        ("在吗\n42码有货吗", "正在为您转接人工客服\n有的亲，黑色白色都有")
    ]


def test_conversations_with_a_standing_finding_are_not_replayed(shop_a, cards):
    good = past_conversation(shop_a, [(Sender.SHOPPER, "发货了吗"), (Sender.AGENT, "已经发出了")])
    bad = past_conversation(shop_a, [(Sender.SHOPPER, "发货了吗"), (Sender.AGENT, "自己去查")])
    past_conversation(shop_a, [(Sender.SHOPPER, "发货了吗"), (Sender.BOT, "已发货")])  # no agent
    rule = QARule.objects.get(shop=shop_a, kind=QARule.Kind.BANNED_WORDS)
    QAFinding.objects.create(
        shop=shop_a, conversation=bad, rule=rule, kind=rule.kind, severity=Severity.HIGH, actor="agent"
    )
    assert list(replayable_conversations(shop_a)) == [good]


def test_a_replay_session_starts_from_a_past_conversation(client, agent_a, shop_a, cards):
    past_conversation(shop_a, [(Sender.SHOPPER, "能开发票吗"), (Sender.AGENT, "可以的，下单后在订单页申请")])
    client.force_login(agent_a)
    start(client, shop_a, TrainingSession.Source.CONVERSATION)
    turn = TrainingSession.objects.get(trainee=agent_a).turns.get()
    assert (turn.question, turn.reference_answer) == ("能开发票吗", "可以的，下单后在订单页申请")


def test_a_shop_with_nothing_to_practise_says_so(client, agent_a, shop_a):
    client.force_login(agent_a)
    response = start(client, shop_a, TrainingSession.Source.CONVERSATION)
    assert response.status_code == 400
    assert "没有可供练习" in response.content.decode()
    assert not TrainingSession.objects.exists()


def test_another_shops_staff_cannot_train_on_or_see_the_shop(client, agent_a, shop_a, shop_b, cards):
    outsider = staff_of(shop_b, Membership.Role.AGENT)
    client.force_login(outsider)
    assert start(client, shop_a, TrainingSession.Source.FAQ).status_code == 400
    client.force_login(agent_a)
    start(client, shop_a, TrainingSession.Source.FAQ)
    session = TrainingSession.objects.get(trainee=agent_a)
    url = reverse("admin:analytics_training_practice", args=[session.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"reply": "你好"}).status_code == 404
    other_agent = staff_of(shop_a, Membership.Role.AGENT, username="colleague")
    client.force_login(other_agent)
    assert client.get(url).status_code == 404


def test_a_manager_watches_a_trainees_progress_but_cannot_answer_for_them(client, agent_a, manager_a, shop_a, cards):
    client.force_login(agent_a)
    start(client, shop_a, TrainingSession.Source.FAQ)
    session = TrainingSession.objects.get(trainee=agent_a)
    url = reverse("admin:analytics_training_practice", args=[session.pk])
    client.force_login(manager_a)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reply": "你好"}).status_code == 403
    listing = client.get(reverse("admin:analytics_trainingsession_changelist"))
    assert list(listing.context["cl"].queryset) == [session]


def test_another_shops_training_session_is_a_404_in_the_admin(client, agent_a, manager_a, shop_b, cards):
    client.force_login(agent_a)
    start(client, agent_a.memberships.get().shop, TrainingSession.Source.FAQ)
    session = TrainingSession.objects.get(trainee=agent_a)
    manager_b = staff_of(shop_b, Membership.Role.MANAGER)
    client.force_login(manager_b)
    assert client.get(reverse("admin:analytics_trainingsession_change", args=[session.pk])).status_code == 404
    assert list(client.get(reverse("admin:analytics_trainingsession_changelist")).context["cl"].queryset) == []
    client.force_login(manager_a)
    assert client.get(reverse("admin:analytics_trainingsession_change", args=[session.pk])).status_code == 200
