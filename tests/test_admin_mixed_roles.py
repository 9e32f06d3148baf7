"""A staff member with different roles in different shops: each shop's rows answer to that shop's role.

The attack the tests replay: an agent of shop A who manages shop B edits A's rows through the bulk
paths of the changelist (list_editable, actions), which used to ask "may this user change rows?" without
the row.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from analytics.models import QARule
from knowledge.models import UnansweredQuestion
from shops.models import Membership
from tests.factories import MembershipFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def agent_a_manager_b(shop_a, shop_b):
    user = UserFactory(username="agent-a-manager-b")
    MembershipFactory(user=user, shop=shop_a, role=Role.AGENT)
    MembershipFactory(user=user, shop=shop_b, role=Role.MANAGER)
    return user


@pytest.fixture
def qa_a_manager_b(shop_a, shop_b):
    user = UserFactory(username="qa-a-manager-b")
    MembershipFactory(user=user, shop=shop_a, role=Role.QA)
    MembershipFactory(user=user, shop=shop_b, role=Role.MANAGER)
    return user


def changelist_save(client, url: str, rows: list[dict]):
    data = {"form-TOTAL_FORMS": len(rows), "form-INITIAL_FORMS": len(rows), "form-MIN_NUM_FORMS": 0, "_save": "1"}
    for index, row in enumerate(rows):
        data.update({f"form-{index}-{name}": value for name, value in row.items()})
    return client.post(url, data)


def angry_shopper_rule(shop) -> QARule:
    return QARule.objects.create(shop=shop, name="顾客情绪激动", kind=QARule.Kind.ANGRY_SHOPPER, words="投诉\n差评")


@pytest.mark.parametrize("user_fixture", ["agent_a_manager_b", "qa_a_manager_b"])
def test_a_bulk_edit_of_the_changelist_leaves_the_shop_where_the_user_only_reads_unchanged(
    request, client, user_fixture, shop_a, shop_b
):
    user = request.getfixturevalue(user_fixture)
    product_a = ProductFactory(shop=shop_a, on_sale=True)
    product_b = ProductFactory(shop=shop_b, on_sale=True)
    client.force_login(user)
    changelist_save(
        client,
        reverse("admin:shops_product_changelist"),
        [{"id": product_a.pk, "on_sale": ""}, {"id": product_b.pk, "on_sale": ""}],
    )
    product_a.refresh_from_db()
    product_b.refresh_from_db()
    assert product_a.on_sale is True
    assert product_b.on_sale is False  # the shop they manage is still edited in bulk


@pytest.mark.parametrize("user_fixture", ["agent_a_manager_b", "qa_a_manager_b"])
def test_the_angry_shopper_rule_of_a_shop_the_user_does_not_manage_cannot_be_disabled_in_bulk(
    request, client, user_fixture, shop_a, shop_b
):
    user = request.getfixturevalue(user_fixture)
    rule_a = angry_shopper_rule(shop_a)
    rule_b = angry_shopper_rule(shop_b)
    client.force_login(user)
    for rule in (rule_a, rule_b):
        changelist_save(
            client, reverse("admin:analytics_qarule_changelist"), [{"id": rule.pk, "severity": "low", "enabled": ""}]
        )
    assert QARule.objects.filter(pk=rule_a.pk, enabled=True, severity="medium").exists()
    assert QARule.objects.filter(pk=rule_b.pk, enabled=False, severity="low").exists()


def test_the_changelist_shows_read_only_rows_without_editable_inputs(client, qa_a_manager_b, shop_a, shop_b):
    rule_a = angry_shopper_rule(shop_a)
    rule_b = angry_shopper_rule(shop_b)
    client.force_login(qa_a_manager_b)
    formset = client.get(reverse("admin:analytics_qarule_changelist")).context["cl"].formset
    disabled = {form.instance.pk: form.fields["enabled"].disabled for form in formset.forms}
    assert disabled == {rule_a.pk: True, rule_b.pk: False}


def ask(shop, text: str) -> UnansweredQuestion:
    return UnansweredQuestion.objects.create(shop=shop, text=text, normalized=text, last_asked_at=timezone.now())


def test_the_ignore_action_refuses_questions_of_a_shop_the_user_only_reads(client, agent_a_manager_b, shop_a, shop_b):
    question_a = ask(shop_a, "你们有实体店吗")
    question_b = ask(shop_b, "可以开发票吗")
    client.force_login(agent_a_manager_b)
    url = reverse("admin:knowledge_unansweredquestion_changelist")
    response = client.post(url, {"action": "ignore", ACTION_CHECKBOX_NAME: [question_a.pk, question_b.pk]})
    assert response.status_code in (302, 403)
    statuses = set(UnansweredQuestion.objects.values_list("status", flat=True))
    assert statuses == {UnansweredQuestion.Status.OPEN}  # all or nothing: the shop B question is kept too
    client.post(url, {"action": "ignore", ACTION_CHECKBOX_NAME: [question_b.pk]})
    question_b.refresh_from_db()
    assert question_b.status == UnansweredQuestion.Status.IGNORED


def test_select_across_does_not_reach_the_shop_the_user_only_reads(client, agent_a_manager_b, shop_a, shop_b):
    question_a = ask(shop_a, "你们有实体店吗")
    client.force_login(agent_a_manager_b)
    client.post(
        reverse("admin:knowledge_unansweredquestion_changelist"),
        {"action": "ignore", "select_across": "1", ACTION_CHECKBOX_NAME: [question_a.pk]},
    )
    question_a.refresh_from_db()
    assert question_a.status == UnansweredQuestion.Status.OPEN
