"""The extension points: every campaign kind, marketing channel and QA rule kind has exactly one module in its
registry, and what they declare is what the models, the admin, the delivery and the engines use."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analytics.models import QARule
from analytics.rule_kinds import KINDS as RULE_KINDS
from analytics.rule_kinds import THRESHOLD_KINDS, WORD_KINDS
from analytics.services.rules import CompiledRules, ConversationFacts, MessageFacts, RuleSpec
from chat.models import Conversation
from marketing.channels import CHANNELS, in_chat
from marketing.channels.base import ChannelSpec
from marketing.kinds import KINDS as CAMPAIGN_KINDS
from marketing.kinds import TEMPLATE_VARIABLES
from marketing.models import Campaign
from marketing.services.delivery import deliver
from tests.factories import CampaignFactory, TouchFactory


def test_every_campaign_kind_has_exactly_one_registry_entry_and_no_entry_lacks_a_kind():
    # Registry keys are unique by construction: one entry per kind, in the enum's order, and no other.
    assert list(CAMPAIGN_KINDS) == list(Campaign.Kind)


def test_every_campaign_kind_has_its_own_spec_module():
    modules = [spec.targets.__module__ for spec in CAMPAIGN_KINDS.values()]
    assert modules == [f"marketing.kinds.{kind.value}" for kind in CAMPAIGN_KINDS]
    assert all(
        spec.goal_reached.__module__ == module for spec, module in zip(CAMPAIGN_KINDS.values(), modules, strict=True)
    )


def test_every_marketing_channel_has_exactly_one_registry_entry_in_its_own_module():
    assert list(CHANNELS) == list(Campaign.Channel)
    assert [spec.deliver.__module__ for spec in CHANNELS.values()] == [
        f"marketing.channels.{channel.value}" for channel in CHANNELS
    ]


RICH = {"products": [{"id": 7, "title": "跑鞋"}], "coupon": {"id": 3, "name": "满199减20"}}


@pytest.mark.django_db
def test_a_channel_gets_the_product_cards_and_coupon_it_declares(shop_a):
    touch = TouchFactory(campaign=CampaignFactory(shop=shop_a, channel=Campaign.Channel.IN_CHAT))
    Conversation.objects.create(shop=shop_a, customer=touch.customer, visitor_token="v-1")
    delivery = deliver(touch, "您好", RICH)
    assert delivery.message.payload == {"quick_replies": [], **RICH}


@pytest.mark.django_db
def test_a_channel_that_declares_no_rich_parts_gets_the_text_alone(shop_a, monkeypatch):
    text_only = ChannelSpec(deliver=in_chat.deliver, product_cards=False, coupons=False)
    monkeypatch.setitem(CHANNELS, Campaign.Channel.IN_CHAT, text_only)
    touch = TouchFactory(campaign=CampaignFactory(shop=shop_a, channel=Campaign.Channel.IN_CHAT))
    Conversation.objects.create(shop=shop_a, customer=touch.customer, visitor_token="v-1")
    delivery = deliver(touch, "您好", RICH)
    assert delivery.message.payload == {"quick_replies": [], "products": [], "coupon": None}
    assert delivery.message.text == "您好"


def test_every_qa_rule_kind_has_exactly_one_registry_entry_and_no_entry_lacks_a_kind():
    assert list(RULE_KINDS) == list(QARule.Kind)


def test_every_qa_rule_kind_inspects_something():
    for kind, spec in RULE_KINDS.items():
        inspects_messages = bool(spec.senders) and (spec.words_help is not None or spec.check_message is not None)
        assert inspects_messages or spec.check_conversation is not None, kind


def test_the_qa_rule_constraints_are_built_from_the_kinds_declarations():
    constraints = {constraint.name: constraint for constraint in QARule._meta.constraints}
    assert ("kind__in", THRESHOLD_KINDS) in constraints["qa_rule_threshold_kinds_have_threshold"].condition.children[
        0
    ].children
    assert ("kind__in", WORD_KINDS) in constraints["qa_rule_word_kinds_have_words"].condition.children[0].children
    assert WORD_KINDS == ["banned_words", "forbidden_promise", "angry_shopper"]
    assert THRESHOLD_KINDS == ["slow_first_response", "slow_reply", "fallback_streak"]


def test_the_template_variables_are_the_union_of_what_the_kinds_declare():
    declared = {name for spec in CAMPAIGN_KINDS.values() for name in spec.variables}
    assert set(TEMPLATE_VARIABLES) == declared == {"nickname", "product", "amount", "deadline"}


@pytest.mark.django_db
def test_a_presale_campaign_whose_delay_reaches_the_notice_is_rejected_on_clean(shop_a):
    campaign = CampaignFactory.build(shop=shop_a, kind=Campaign.Kind.PRESALE_FINAL, delay_minutes=24 * 60)
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "delay_minutes" in error.value.message_dict
    campaign.delay_minutes = 24 * 60 - 1
    campaign.full_clean()


@pytest.mark.django_db
def test_a_payment_campaign_accepts_a_delay_of_a_day(shop_a):
    CampaignFactory.build(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=24 * 60).full_clean()


@pytest.mark.django_db
def test_the_campaign_form_lists_each_kinds_variables(client, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("admin:marketing_campaign_add")).content.decode()
    assert "{amount} 退款金额" in page and "{deadline} 尾款截止时间" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "words", "threshold", "field"),
    [
        ("banned_words", "", None, "words"),
        ("slow_reply", "", None, "threshold"),
        ("fallback_streak", "", 0, "threshold"),
    ],
)
def test_a_rule_missing_its_kinds_input_is_rejected_on_the_field(shop_a, kind, words, threshold, field):
    rule = QARule(shop=shop_a, name="规则", kind=kind, words=words, threshold=threshold)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert field in error.value.message_dict


@pytest.mark.django_db
def test_the_rule_form_explains_the_threshold_per_kind(client, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("admin:analytics_qarule_add")).content.decode()
    assert "连续兜底的次数" in page


def test_a_system_message_is_inspected_by_no_kind():
    rules = CompiledRules(
        [
            RuleSpec(id=1, name="禁词", kind="banned_words", severity="high", words=("闭嘴",)),
            RuleSpec(id=2, name="慢", kind="slow_reply", severity="low", threshold=1),
        ]
    )
    assert rules.inspect(MessageFacts(text="闭嘴", sender="system", wait_seconds=99)) == []
    assert [hit.rule.id for hit in rules.inspect(MessageFacts(text="闭嘴", sender="agent", wait_seconds=99))] == [1, 2]
    assert (
        rules.inspect_conversation(
            ConversationFacts(handed_over=False, agent_replied=False, last_sender="", last_intent="", satisfaction=None)
        )
        == []
    )


def test_every_conversation_channel_has_exactly_one_registry_entry_in_its_own_module():
    import importlib

    from chat.channels import CHANNELS as CONVERSATION_CHANNELS

    assert list(CONVERSATION_CHANNELS) == list(Conversation.Channel)
    for channel, spec in CONVERSATION_CHANNELS.items():
        assert importlib.import_module(f"chat.channels.{channel}").CHANNEL is spec


def test_only_the_web_channel_is_delivered_by_its_socket_and_needs_no_connection():
    from chat.channels import CHANNELS as CONVERSATION_CHANNELS

    socket_delivered = [channel for channel, spec in CONVERSATION_CHANNELS.items() if spec.send is None]
    assert socket_delivered == [Conversation.Channel.WEB]
    assert all(spec.fields for channel, spec in CONVERSATION_CHANNELS.items() if channel != Conversation.Channel.WEB)
