"""Work orders, invoice requests and webhook subscriptions through the open API, and the chat exports."""

import json

import pytest

from api.models import WebhookDelivery, WebhookSubscription
from chat.models import InvoiceRequest, Message, WorkOrder
from core.outbound import sign
from tests.deliveries import settle
from tests.factories import (
    ConversationFactory,
    InvoiceRequestFactory,
    MessageFactory,
    OrderFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db


def test_a_work_order_created_through_the_api_links_the_shops_order(shop_a, api_a):
    order = OrderFactory(shop=shop_a, external_id="NO1")
    body = {"kind": "exchange", "details": "42 码换 43 码", "order": "NO1", "data": {"from": "42", "to": "43"}}
    response = api_a.post("/api/v1/work-orders/", body, format="json")
    assert response.status_code == 201
    work_order = WorkOrder.objects.get(pk=response.json()["id"])
    assert work_order.shop == shop_a and work_order.order == order and work_order.status == "open"


def test_a_work_order_may_not_link_another_shops_order_or_conversation(shop_b, api_a):
    OrderFactory(shop=shop_b, external_id="NO1")
    conversation = ConversationFactory(shop=shop_b)
    body = {"kind": "other", "details": "x", "order": "NO1", "conversation": conversation.pk}
    response = api_a.post("/api/v1/work-orders/", body, format="json")
    assert response.status_code == 400 and {"order", "conversation"} <= set(response.json())
    assert not WorkOrder.objects.exists()


def test_a_work_order_needs_a_known_kind_and_details(api_a):
    response = api_a.post("/api/v1/work-orders/", {"kind": "teleport"}, format="json")
    assert response.status_code == 400 and {"kind", "details"} <= set(response.json())


def test_resolving_a_work_order_through_the_api_tells_the_shopper(shop_a, api_a):
    conversation = ConversationFactory(shop=shop_a)
    work_order = WorkOrderFactory(shop=shop_a, conversation=conversation)
    response = api_a.patch(
        f"/api/v1/work-orders/{work_order.pk}/", {"status": "resolved", "resolution": "已改地址"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "resolved" and response.json()["resolved_at"]
    told = Message.objects.get(conversation=conversation)
    assert told.intent == "work_order_resolved" and "已改地址" in told.text and f"#{work_order.pk}" in told.text


def test_the_api_cannot_move_a_work_order_to_another_conversation(shop_a, api_a):
    work_order = WorkOrderFactory(shop=shop_a)
    other = ConversationFactory(shop=shop_a)
    api_a.patch(f"/api/v1/work-orders/{work_order.pk}/", {"conversation": other.pk, "kind": "other"}, format="json")
    work_order.refresh_from_db()
    assert work_order.conversation is None and work_order.kind == "address_change"


def test_work_orders_filter_by_status_and_reject_unknown_ones(shop_a, api_a):
    WorkOrderFactory(shop=shop_a, status="open")
    WorkOrderFactory(shop=shop_a, status="resolved")
    rows = api_a.get("/api/v1/work-orders/?status=resolved").json()["results"]
    assert [row["status"] for row in rows] == ["resolved"]
    bad = api_a.get("/api/v1/work-orders/?status=lost")
    assert bad.status_code == 400 and "status" in bad.json()
    assert api_a.get("/api/v1/work-orders/?updated_since=yesterday").status_code == 400


def test_fulfilling_an_invoice_request_issues_it_and_tells_the_shopper(shop_a, api_a):
    conversation = ConversationFactory(shop=shop_a)
    invoice = InvoiceRequestFactory(shop=shop_a, conversation=conversation)
    url = "https://invoices.example.com/2026/0001.pdf"
    response = api_a.post(f"/api/v1/invoice-requests/{invoice.pk}/fulfil/", {"invoice_url": url}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "issued" and response.json()["invoice_url"] == url
    invoice.refresh_from_db()
    assert invoice.issued_at is not None
    assert url in Message.objects.get(conversation=conversation).text
    again = api_a.post(f"/api/v1/invoice-requests/{invoice.pk}/fulfil/", {"invoice_url": url}, format="json")
    assert again.status_code == 200 and Message.objects.filter(conversation=conversation).count() == 1


def test_a_rejected_invoice_request_cannot_be_fulfilled_and_a_bad_url_is_400(shop_a, api_a):
    rejected = InvoiceRequestFactory(shop=shop_a, status=InvoiceRequest.Status.REJECTED)
    response = api_a.post(
        f"/api/v1/invoice-requests/{rejected.pk}/fulfil/", {"invoice_url": "https://x.example.com/a"}, format="json"
    )
    assert response.status_code == 400 and "status" in response.json()
    open_one = InvoiceRequestFactory(shop=shop_a)
    bad = api_a.post(f"/api/v1/invoice-requests/{open_one.pk}/fulfil/", {"invoice_url": "not a url"}, format="json")
    assert bad.status_code == 400 and "invoice_url" in bad.json()
    open_one.refresh_from_db()
    assert open_one.status == "requested"


def test_a_webhook_subscription_shows_its_secret_only_when_created(shop_a, api_a):
    body = {"url": "https://isv.example.com/hooks", "events": ["work_order.updated", "invoice.requested"]}
    created = api_a.post("/api/v1/webhooks/", body, format="json")
    assert created.status_code == 201
    secret = created.json()["secret"]
    subscription = WebhookSubscription.objects.get(pk=created.json()["id"])
    assert subscription.shop == shop_a and subscription.secret == secret
    assert "secret" not in api_a.get(f"/api/v1/webhooks/{subscription.pk}/").json()
    assert all("secret" not in row for row in api_a.get("/api/v1/webhooks/").json()["results"])


def test_a_webhook_subscription_needs_known_events_and_a_url(api_a):
    response = api_a.post("/api/v1/webhooks/", {"url": "ftp:/x", "events": ["order.eaten"]}, format="json")
    assert response.status_code == 400 and {"url", "events"} <= set(response.json())


def test_another_shops_webhook_subscription_is_404_and_stays(shop_b, api_a):
    theirs = WebhookSubscription.objects.create(shop=shop_b, url="https://b.example.com/h", events=["qa.alert"])
    assert api_a.delete(f"/api/v1/webhooks/{theirs.pk}/").status_code == 404
    assert api_a.patch(f"/api/v1/webhooks/{theirs.pk}/", {"is_active": False}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


@pytest.mark.django_db(transaction=True)
def test_an_api_made_subscription_receives_signed_work_order_events(shop_a, api_a, webhook_receiver):
    created = api_a.post(
        "/api/v1/webhooks/", {"url": webhook_receiver.url, "events": ["work_order.created"]}, format="json"
    ).json()
    webhook_receiver.codes = [503]
    api_a.post("/api/v1/work-orders/", {"kind": "complaint", "details": "快递太慢"}, format="json")
    settle()
    assert len(webhook_receiver.requests) == 2  # one 503, then the retry
    last = webhook_receiver.requests[-1]
    headers = {k.lower(): v for k, v in last["headers"].items()}
    assert headers["x-shopbee-signature"] == sign(created["secret"], headers["x-shopbee-timestamp"], last["body"])
    assert json.loads(last["body"])["data"]["details"] == "快递太慢"
    assert WebhookDelivery.objects.get().status == "delivered"


def test_conversations_export_in_cursor_pages_filtered_by_time(shop_a, api_a):
    conversations = [ConversationFactory(shop=shop_a) for _ in range(5)]
    page = api_a.get("/api/v1/conversations/?page_size=2").json()
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = api_a.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert seen == [c.pk for c in conversations]
    future = api_a.get("/api/v1/conversations/?since=2100-01-01T00:00:00Z").json()["results"]
    assert future == []
    bad = api_a.get("/api/v1/conversations/?since=soon")
    assert bad.status_code == 400 and "since" in bad.json()
    reversed_range = api_a.get("/api/v1/conversations/?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert reversed_range.status_code == 400 and "until" in reversed_range.json()


def test_messages_export_per_conversation_and_never_another_shops(shop_a, shop_b, api_a):
    mine = ConversationFactory(shop=shop_a)
    MessageFactory(conversation=mine, text="有 42 码吗")
    MessageFactory(conversation=mine, sender="bot", text="有的亲")
    MessageFactory(conversation=ConversationFactory(shop=shop_a))
    theirs = ConversationFactory(shop=shop_b)
    MessageFactory(conversation=theirs)
    rows = api_a.get(f"/api/v1/messages/?conversation={mine.pk}").json()["results"]
    assert [row["text"] for row in rows] == ["有 42 码吗", "有的亲"]
    assert api_a.get(f"/api/v1/messages/?conversation={theirs.pk}").json()["results"] == []
    assert len(api_a.get("/api/v1/messages/").json()["results"]) == 3


@pytest.mark.parametrize("bad", ["abc", "0", "-5", str(2**63), "-52329696259375848488960"])
def test_a_conversation_filter_that_is_no_id_is_a_field_error(api_a, bad):
    response = api_a.get(f"/api/v1/messages/?conversation={bad}")
    assert response.status_code == 400 and "conversation" in response.json()


def test_work_order_data_with_a_null_character_is_rejected(api_a):
    body = {"kind": "other", "details": "x", "data": {"note": "a\u0000b"}}
    response = api_a.post("/api/v1/work-orders/", body, format="json")
    assert response.status_code == 400 and "data" in response.json()
