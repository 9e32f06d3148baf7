"""Answer experiments: each shopper sees one side of the split, every time; the log says which; the report
compares B with A; the trainer keeps the winner with one click, only in their own shops."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from analytics.services.value import experiment_reports
from chat import services
from chat.measurement import shopper_key
from chat.models import Conversation
from core.splits import answer_experiment, in_share
from knowledge.experiments import keep_answer, start_experiment
from knowledge.models import AnswerExperiment, AnswerLog, FAQCard
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import CustomerFactory, FAQCardFactory

pytestmark = pytest.mark.django_db
Variant = AnswerExperiment.Variant
START = datetime(2026, 11, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def card(shop_a):
    FAQCardFactory(shop=shop_a, question="包邮吗", answer="全店满99元包邮", similar=["运费多少"])
    return FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通快递", similar=["用的哪家快递"])


def ask(shop, customer, text="发什么快递"):
    visitor = services.open_visitor(shop, visitor_token=services.new_visitor_token(), customer=customer)
    turn = services.receive_visitor_message(visitor, text)
    return turn.replies[0].text, turn.message.conversation


def test_each_shopper_sees_their_side_of_the_split_every_time_and_the_log_records_it(shop_a, card):
    experiment = start_experiment(card, "顺丰包邮，下单当天发出", share_b=50)
    seen = {}
    for customer in CustomerFactory.create_batch(12, shop=shop_a):
        text, conversation = ask(shop_a, customer)
        expect_b = in_share(answer_experiment(experiment.pk), shopper_key(customer.pk, ""), 50)
        assert text == ("顺丰包邮，下单当天发出" if expect_b else "默认发中通快递")
        log = AnswerLog.objects.get(conversation=conversation)
        assert (log.experiment_id, log.variant) == (experiment.pk, Variant.B if expect_b else Variant.A)
        services.close_conversation(conversation)
        assert ask(shop_a, customer)[0] == text  # a new conversation of the same shopper: the same answer
        seen[expect_b] = True
    assert seen == {True: True, False: True}  # both sides drawn among twelve shoppers


def test_another_cards_answers_are_not_part_of_the_experiment(shop_a, card):
    start_experiment(card, "顺丰包邮")
    text, conversation = ask(shop_a, CustomerFactory(shop=shop_a), "包邮吗")
    assert text == "全店满99元包邮"
    assert AnswerLog.objects.get(conversation=conversation).variant == ""


def test_an_experiment_needs_a_different_answer_and_only_one_runs_per_card(card):
    with pytest.raises(ValidationError):
        start_experiment(card, "默认发中通快递")
    start_experiment(card, "顺丰包邮")
    with pytest.raises(ValidationError):
        start_experiment(card, "韵达快递")


def test_keeping_b_makes_it_the_cards_answer_for_everyone_and_ends_the_experiment(shop_a, card, trainer_a):
    experiment = start_experiment(card, "顺丰包邮")
    keep_answer(experiment, Variant.B, user=trainer_a)
    experiment.refresh_from_db()
    assert experiment.kept == Variant.B and experiment.ended_at is not None and experiment.ended_by == trainer_a
    assert FAQCard.objects.get(pk=card.pk).answer == "顺丰包邮"
    for customer in CustomerFactory.create_batch(4, shop=shop_a):
        text, conversation = ask(shop_a, customer)
        assert text == "顺丰包邮" and AnswerLog.objects.get(conversation=conversation).variant == ""
    with pytest.raises(ValidationError):
        keep_answer(experiment, Variant.A)


def test_keeping_a_leaves_the_card_as_it_was(card):
    experiment = start_experiment(card, "顺丰包邮")
    keep_answer(experiment, Variant.A)
    assert FAQCard.objects.get(pk=card.pk).answer == "默认发中通快递"


def test_the_report_compares_durable_resolution_hand_off_and_conversion_of_b_with_a(shop_a, card):
    start_experiment(card, "顺丰包邮")
    arms = {Variant.A: 0, Variant.B: 0}
    with time_machine.travel(START, tick=False):
        for customer in CustomerFactory.create_batch(10, shop=shop_a):
            _text, conversation = ask(shop_a, customer)
            variant = AnswerLog.objects.get(conversation=conversation).variant
            arms[variant] += 1
            if variant == Variant.B:
                services.close_conversation(conversation)  # B's shoppers leave satisfied
            else:
                services.request_handoff(conversation, "requested")  # A's ask for a human
    [report] = experiment_reports([shop_a.pk], START + timedelta(days=10))
    assert (report.conversations_a, report.conversations_b) == (arms[Variant.A], arms[Variant.B])
    assert (report.durable.first, report.durable.first_n) == (arms[Variant.B], arms[Variant.B])
    assert (report.durable.second, report.handoff.second) == (0, arms[Variant.A])
    assert report.handoff.first == 0
    assert report.conversion.first_n + report.conversion.second_n == 10
    assert not Conversation.objects.exclude(shop=shop_a).exists()


def test_the_trainer_keeps_the_winner_with_one_click_on_the_report_page(client, shop_a, card, trainer_a):
    experiment = start_experiment(card, "顺丰包邮")
    client.force_login(trainer_a)
    page = client.get(reverse("admin:analytics_experiments"))
    assert page.status_code == 200 and "顺丰包邮" in page.content.decode()
    response = client.post(reverse("admin:analytics_experiments"), {"experiment": experiment.pk, "keep": "b"})
    assert response.status_code == 302
    assert FAQCard.objects.get(pk=card.pk).answer == "顺丰包邮"


def test_another_shops_experiment_is_neither_shown_nor_kept(client, shop_a, shop_b, card):
    foreign = start_experiment(FAQCardFactory(shop=shop_b, question="几天到", answer="三天"), "两天")
    trainer = staff_of(shop_a, Membership.Role.TRAINER)
    client.force_login(trainer)
    page = client.get(reverse("admin:analytics_experiments"))
    assert "两天" not in page.content.decode()
    response = client.post(reverse("admin:analytics_experiments"), {"experiment": foreign.pk, "keep": "b"})
    assert response.status_code == 404
    assert AnswerExperiment.objects.get(pk=foreign.pk).ended_at is None
    assert client.get(reverse("admin:analytics_shop_experiments", args=[shop_b.pk])).status_code == 404


def test_an_agent_may_not_open_the_experiments_page_and_a_bad_post_is_a_400(client, shop_a, card, agent_a, trainer_a):
    client.force_login(agent_a)
    assert client.get(reverse("admin:analytics_experiments")).status_code == 403
    client.force_login(trainer_a)
    assert client.post(reverse("admin:analytics_experiments"), {"experiment": "x", "keep": "c"}).status_code == 400


def test_a_trainer_starts_an_experiment_in_the_admin_on_their_own_shops_cards_only(
    client, shop_a, shop_b, card, trainer_a
):
    foreign = FAQCardFactory(shop=shop_b, question="几天到", answer="三天")
    client.force_login(trainer_a)
    url = reverse("admin:knowledge_answerexperiment_add")
    refused = client.post(url, {"card": foreign.pk, "answer_b": "两天", "share_b": 50})
    assert refused.status_code == 200 and not AnswerExperiment.objects.exists()
    same = client.post(url, {"card": card.pk, "answer_b": "默认发中通快递", "share_b": 50})
    assert same.status_code == 200 and not AnswerExperiment.objects.exists()
    assert list(same.context["adminform"].form.errors) == ["answer_b"]
    response = client.post(url, {"card": card.pk, "answer_b": "顺丰包邮", "share_b": 30})
    assert response.status_code == 302
    experiment = AnswerExperiment.objects.get()
    assert (experiment.shop, experiment.share_b, experiment.started_by) == (shop_a, 30, trainer_a)
    second = client.post(url, {"card": card.pk, "answer_b": "京东快递", "share_b": 50})
    assert second.status_code == 200 and list(second.context["adminform"].form.errors) == ["card"]
    assert AnswerExperiment.objects.count() == 1
    changelist = reverse("admin:knowledge_answerexperiment_changelist")
    client.post(changelist, {"action": "keep_b", "_selected_action": [experiment.pk]})
    assert FAQCard.objects.get(pk=card.pk).answer == "顺丰包邮"
