"""Read-only exports for ISVs: quality-inspection findings (and, as they land, marketing results)."""

import pytest

from analytics.models import QAFinding, QARule
from tests.conftest import api_client_for
from tests.factories import ApiKeyFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def finding(shop, severity="high", status="open"):
    conversation = ConversationFactory(shop=shop)
    message = MessageFactory(conversation=conversation, sender="agent", text="保证三天到")
    rule, _ = QARule.objects.get_or_create(
        shop=shop, name=f"承诺-{shop.slug}", defaults={"kind": "forbidden_promise", "words": "保证"}
    )
    return QAFinding.objects.create(
        shop=shop,
        conversation=conversation,
        message=message,
        rule=rule,
        kind=rule.kind,
        severity=severity,
        actor="agent",
        evidence="保证",
        status=status,
        reviewed_at=None if status == "open" else conversation.started_at,
    )


def test_qa_findings_export_lists_only_the_shops_findings(shop_a, shop_b, api_a):
    mine = finding(shop_a)
    theirs = finding(shop_b)
    rows = api_a.get("/api/v1/qa-findings/").json()["results"]
    assert [(row["id"], row["rule"], row["evidence"]) for row in rows] == [(mine.pk, "承诺-shop-a", "保证")]
    assert api_a.get(f"/api/v1/qa-findings/{theirs.pk}/").status_code == 404


def test_qa_findings_filter_by_severity_status_and_time(shop_a, api_a):
    high = finding(shop_a, severity="high")
    finding(shop_a, severity="low", status="dismissed")
    assert [r["id"] for r in api_a.get("/api/v1/qa-findings/?severity=high").json()["results"]] == [high.pk]
    assert len(api_a.get("/api/v1/qa-findings/?status=dismissed").json()["results"]) == 1
    assert api_a.get("/api/v1/qa-findings/?since=2100-01-01T00:00:00Z").json()["results"] == []
    bad = api_a.get("/api/v1/qa-findings/?severity=apocalyptic")
    assert bad.status_code == 400 and "severity" in bad.json()


def test_qa_findings_need_the_qa_scope(shop_a):
    finding(shop_a)
    assert api_client_for(ApiKeyFactory(shop=shop_a, scopes=["qa:read"])).get("/api/v1/qa-findings/").status_code == 200
    no_scope = api_client_for(ApiKeyFactory(shop=shop_a, scopes=["conversations:read"]))
    assert no_scope.get("/api/v1/qa-findings/").status_code == 403
