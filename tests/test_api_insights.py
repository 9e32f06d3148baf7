"""Read-only exports for ISVs: quality-inspection findings, live sessions, campaign results, follow-ups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import QAFinding, QARule
from marketing.models import Touch
from shops.models import Order
from tests.conftest import api_client_for
from tests.factories import (
    ApiKeyFactory,
    CampaignFactory,
    ConversationFactory,
    CustomerFactory,
    LiveSessionFactory,
    MessageFactory,
    OrderFactory,
    ProductFactory,
)

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


def test_live_sessions_list_the_shops_sessions_with_featured_skus(shop_a, shop_b, api_a):
    session = LiveSessionFactory(shop=shop_a, title="秋冬上新专场")
    session.featured_products.add(ProductFactory(shop=shop_a, sku="AIR-1"))
    theirs = LiveSessionFactory(shop=shop_b, title="别家直播")
    rows = api_a.get("/api/v1/live-sessions/").json()["results"]
    assert [(r["title"], r["featured_products"]) for r in rows] == [("秋冬上新专场", ["AIR-1"])]
    assert api_a.get(f"/api/v1/live-sessions/{theirs.pk}/").status_code == 404
    assert api_a.get("/api/v1/live-sessions/?until=2000-01-01T00:00:00Z").json()["results"] == []


def test_campaign_results_count_sent_touches_and_conversions(shop_a, shop_b, api_a):
    campaign = CampaignFactory(shop=shop_a, name="催付")
    CampaignFactory(shop=shop_b, name="别家活动")
    order = OrderFactory(shop=shop_a, status="unpaid", paid_amount=0)
    sent_at = timezone.now() - timedelta(hours=5)
    Touch.objects.create(
        campaign=campaign,
        shop=shop_a,
        customer=order.customer,
        order=order,
        channel="in_chat",
        idempotency_key="t-1",
        trigger_at=sent_at,
        scheduled_at=sent_at,
        sent_at=sent_at,
        status="sent",
    )
    Order.objects.filter(pk=order.pk).update(status="paid", paid_at=sent_at + timedelta(hours=1))
    rows = api_a.get("/api/v1/campaigns/").json()["results"]
    assert [(r["name"], r["touches_sent"], r["converted"]) for r in rows] == [("催付", 1, 1)]


def test_the_follow_up_list_ranks_the_shops_likely_buyers(shop_a, shop_b, api_a):
    keen = CustomerFactory(shop=shop_a, external_id="keen", nickname="想买的")
    OrderFactory(shop=shop_a, customer=keen, status="unpaid", paid_amount=0)
    MessageFactory(conversation=ConversationFactory(shop=shop_a, customer=keen), text="这个多少钱，有 42 码吗")
    other = CustomerFactory(shop=shop_b, external_id="other")
    OrderFactory(shop=shop_b, customer=other, status="unpaid", paid_amount=0)
    rows = api_a.get("/api/v1/follow-ups/?limit=5").json()
    assert [r["customer"] for r in rows] == ["keen"]
    assert rows[0]["score"] > 0 and rows[0]["reasons"]
    bad = api_a.get("/api/v1/follow-ups/?limit=0")
    assert bad.status_code == 400 and "limit" in bad.json()


def test_marketing_exports_need_the_marketing_scope(shop_a):
    client = api_client_for(ApiKeyFactory(shop=shop_a, scopes=["qa:read"]))
    for path in ("live-sessions", "campaigns", "follow-ups"):
        assert client.get(f"/api/v1/{path}/").status_code == 403, path
