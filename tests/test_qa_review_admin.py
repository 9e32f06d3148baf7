"""QA review in the admin: scoped lists, the transcript rendered as text, bulk and single decisions, rules."""

from datetime import date

import pytest
from django.urls import reverse

from analytics.models import QAFinding, QAReport, QARule, Severity
from chat.models import Conversation, Message
from shops.models import Membership
from tests.conftest import staff_of

pytestmark = pytest.mark.django_db

Kind = QARule.Kind


def make_finding(shop, text, evidence, *, agent=None) -> QAFinding:
    rule, _ = QARule.objects.get_or_create(
        shop=shop, name="禁词", defaults={"kind": Kind.BANNED_WORDS, "severity": Severity.HIGH, "words": evidence}
    )
    conversation = Conversation.objects.create(shop=shop, visitor_token="v")
    Message.objects.create(conversation=conversation, shop=shop, sender=Message.Sender.SHOPPER, text="在吗")
    message = Message.objects.create(
        conversation=conversation, shop=shop, sender=Message.Sender.AGENT, text=text, agent=agent
    )
    return QAFinding.objects.create(
        shop=shop,
        conversation=conversation,
        message=message,
        rule=rule,
        kind=rule.kind,
        severity=rule.severity,
        actor=QAFinding.Actor.AGENT,
        agent=agent,
        evidence=evidence,
    )


@pytest.fixture
def findings(shop_a, shop_b, agent_a):
    return {
        "a": make_finding(shop_a, "<script>alert(1)</script>闭嘴吧你", "闭嘴", agent=agent_a),
        "b": make_finding(shop_b, "B店的回复：滚开", "滚开"),
    }


@pytest.fixture
def reviewer(shop_a):
    return staff_of(shop_a, Membership.Role.QA)


def test_the_findings_list_shows_only_the_reviewers_shops(client, reviewer, findings):
    client.force_login(reviewer)
    response = client.get(reverse("admin:analytics_qafinding_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [findings["a"]]
    filters = response.content.decode()
    assert "shop-b" not in filters and "店铺B" not in filters


def test_the_findings_list_filters_by_agent_rule_severity_and_status(client, reviewer, findings, agent_a):
    client.force_login(reviewer)
    url = reverse("admin:analytics_qafinding_changelist")
    params = {
        "agent__id__exact": agent_a.pk,
        "rule__id__exact": findings["a"].rule_id,
        "severity__exact": "high",
        "status__exact": "open",
    }
    assert list(client.get(url, params).context["cl"].queryset) == [findings["a"]]
    assert list(client.get(url, {"status__exact": "dismissed"}).context["cl"].queryset) == []


def test_another_shops_finding_is_a_404(client, reviewer, findings):
    client.force_login(reviewer)
    assert client.get(reverse("admin:analytics_qafinding_change", args=[findings["b"].pk])).status_code == 404


def test_the_transcript_marks_the_finding_and_renders_text_not_html(client, reviewer, findings):
    client.force_login(reviewer)
    page = client.get(reverse("admin:analytics_qafinding_change", args=[findings["a"].pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>闭嘴</mark>吧你" in page
    assert "<script>alert(1)</script>" not in page
    assert 'class="qa-finding-message"' in page
    assert "在吗" in page


def test_bulk_confirm_changes_only_the_reviewers_own_findings(client, reviewer, findings):
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:analytics_qafinding_changelist"),
        {"action": "confirm", "_selected_action": [findings["a"].pk, findings["b"].pk]},
    )
    assert response.status_code == 302
    findings["a"].refresh_from_db()
    findings["b"].refresh_from_db()
    assert findings["a"].status == QAFinding.Status.CONFIRMED
    assert findings["a"].reviewer == reviewer and findings["a"].reviewed_at is not None
    assert findings["b"].status == QAFinding.Status.OPEN


def test_a_reviewer_dismisses_one_finding_with_a_comment(client, reviewer, findings):
    client.force_login(reviewer)
    url = reverse("admin:analytics_qafinding_change", args=[findings["a"].pk])
    response = client.post(url, {"status": "dismissed", "comment": "顾客先骂人，客服回击情有可原"})
    assert response.status_code == 302
    findings["a"].refresh_from_db()
    assert findings["a"].status == QAFinding.Status.DISMISSED
    assert findings["a"].comment == "顾客先骂人，客服回击情有可原"
    assert findings["a"].reviewer == reviewer
    client.post(url, {"status": "open", "comment": ""})
    findings["a"].refresh_from_db()
    assert (findings["a"].status, findings["a"].reviewer, findings["a"].reviewed_at) == ("open", None, None)


def test_an_agent_cannot_review_findings(client, agent_a, findings):
    client.force_login(agent_a)
    assert client.get(reverse("admin:analytics_qafinding_changelist")).status_code == 403


def test_a_manager_sees_their_shops_rules_but_not_global_or_foreign_ones(client, manager_a, shop_a, shop_b):
    QARule.objects.create(shop=shop_a, name="A店规则", kind=Kind.BANNED_WORDS, words="笨蛋")
    QARule.objects.create(shop=shop_b, name="B店规则", kind=Kind.BANNED_WORDS, words="笨蛋")
    QARule.objects.create(shop=None, name="全局规则", kind=Kind.BANNED_WORDS, words="笨蛋")
    client.force_login(manager_a)
    names = [r.name for r in client.get(reverse("admin:analytics_qarule_changelist")).context["cl"].queryset]
    assert names == ["A店规则"]


def test_a_manager_cannot_add_a_global_rule(client, manager_a, shop_a):
    client.force_login(manager_a)
    data = {"name": "新规则", "kind": Kind.BANNED_WORDS, "severity": "high", "words": "笨蛋", "enabled": "on"}
    response = client.post(reverse("admin:analytics_qarule_add"), {**data, "shop": ""})
    assert response.status_code == 200
    assert "shop" in response.context["adminform"].form.errors
    assert client.post(reverse("admin:analytics_qarule_add"), {**data, "shop": shop_a.pk}).status_code == 302
    assert QARule.objects.get(name="新规则").shop == shop_a


def test_a_rule_copies_to_another_shop_the_manager_runs(client, shop_a, shop_b):
    manager = staff_of(shop_a, Membership.Role.MANAGER, username="boss")
    Membership.objects.create(user=manager, shop=shop_b, role=Membership.Role.MANAGER)
    rule = QARule.objects.create(shop=shop_a, name="违规承诺", kind=Kind.FORBIDDEN_PROMISE, words="保证")
    client.force_login(manager)
    client.post(
        reverse("admin:analytics_qarule_changelist"),
        {"action": "copy_to_shops", "_selected_action": [rule.pk], "apply": "1", "shops": [shop_b.pk]},
    )
    assert QARule.objects.get(shop=shop_b, name="违规承诺").words == "保证"


def test_scorecards_and_reports_of_another_shop_stay_hidden(client, reviewer, shop_b):
    client.force_login(reviewer)
    assert client.get(reverse("admin:analytics_scorecards")).status_code == 200
    assert client.get(reverse("admin:analytics_qareport_changelist")).status_code == 200
    outsider = staff_of(shop_b, Membership.Role.AGENT)
    client.force_login(outsider)
    assert client.get(reverse("admin:analytics_scorecards")).status_code == 403


def test_the_admin_header_keeps_the_product_name_and_shows_the_alert_bar_to_managers(client, manager_a, agent_a):
    client.force_login(manager_a)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Shopbee 店小蜂 客服后台" in page
    assert 'id="qa-alert-bar"' in page and "analytics/alerts.js" in page
    client.force_login(agent_a)
    assert 'id="qa-alert-bar"' not in client.get(reverse("admin:index")).content.decode()


def test_reports_and_scorecards_list_nothing_of_another_shop(client, reviewer, shop_a, shop_b):
    foreign_agent = staff_of(shop_b, Membership.Role.AGENT, username="foreign-agent")
    own = QAReport.objects.create(shop=shop_a, day=date(2026, 11, 20), scope="shop", score=90)
    foreign = QAReport.objects.create(
        shop=shop_b, day=date(2026, 11, 20), scope="agent", agent=foreign_agent, conversations=3, score=80
    )
    client.force_login(reviewer)
    assert list(client.get(reverse("admin:analytics_qareport_changelist")).context["cl"].queryset) == [own]
    assert client.get(reverse("admin:analytics_qareport_change", args=[foreign.pk])).status_code == 404
    page = client.get(reverse("admin:analytics_scorecards"), {"start": "2026-11-20", "end": "2026-11-20"})
    assert page.context["cards"] == []
    assert "foreign-agent" not in page.content.decode()
