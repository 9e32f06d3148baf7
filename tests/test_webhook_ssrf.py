"""A shop's webhook URL must never make Shopbee call its own network (SSRF), nor leak what answered."""

import pytest

from api.models import WebhookDelivery, WebhookSubscription
from api.publishing import publish_event
from tests.deliveries import settle

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(shop, url):
    # Straight into the table, as a row saved before the URL was validated on save would be.
    return WebhookSubscription.objects.create(shop=shop, url=url, events=["qa.alert"])


def delivered_once(shop):
    publish_event(shop.pk, "qa.alert", {"n": 1})
    settle()
    return WebhookDelivery.objects.get()


def test_a_backslash_before_userinfo_does_not_smuggle_a_loopback_target(shop_a, webhook_receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    subscribe(shop_a, f"http://127.0.0.1:{webhook_receiver.port}\\@hooks.example/x")
    delivery = delivered_once(shop_a)
    assert webhook_receiver.requests == []
    assert delivery.status == "failed" and delivery.last_error.startswith("refused")


def test_a_redirect_to_an_internal_address_is_not_followed(shop_a, webhook_receiver):
    internal = type(webhook_receiver)()
    try:
        webhook_receiver.codes = [302]
        webhook_receiver.answer_headers = {"Location": f"{internal.url}/admin"}
        subscribe(shop_a, webhook_receiver.url)
        delivery = delivered_once(shop_a)
        assert len(webhook_receiver.requests) == 1
        assert internal.requests == []
        assert delivery.response_code == 302 and delivery.last_error == "HTTP 302"
    finally:
        internal.close()


def test_a_name_that_resolves_to_loopback_is_refused(shop_a, webhook_receiver, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    monkeypatch.setattr("core.outbound.resolve", lambda host, port: ["127.0.0.1"])
    subscribe(shop_a, f"http://hooks.example:{webhook_receiver.port}/hook")
    delivery = delivered_once(shop_a)
    assert webhook_receiver.requests == []
    assert delivery.status == "failed" and delivery.last_error == "refused: private address"


def test_the_connection_goes_to_the_address_that_was_checked(shop_a, webhook_receiver, monkeypatch):
    """The name is resolved once: the POST goes to that address, not to a second (rebound) lookup."""
    lookups = []

    def resolve(host, port):
        lookups.append(host)
        return ["127.0.0.1"]  # hooks.example resolves nowhere else: only a pinned connection reaches it

    monkeypatch.setattr("core.outbound.resolve", resolve)
    subscribe(shop_a, f"http://hooks.example:{webhook_receiver.port}/hook")
    delivery = delivered_once(shop_a)
    assert delivery.status == "delivered" and lookups == ["hooks.example"]
    assert webhook_receiver.requests[0]["headers"]["Host"] == f"hooks.example:{webhook_receiver.port}"


def test_the_stored_error_never_contains_the_targets_answer(shop_a, webhook_receiver):
    webhook_receiver.codes = [500] * 6
    webhook_receiver.answer_body = b"Traceback: DB_PASSWORD=hunter2 internal stack"
    subscribe(shop_a, webhook_receiver.url)
    delivery = delivered_once(shop_a)
    assert delivery.status == "failed" and delivery.response_code == 500
    assert delivery.last_error == "HTTP 500"


def test_a_webhook_url_with_userinfo_or_a_backslash_is_refused_on_save(shop_a, api_a):
    for url in ("http://127.0.0.1:8210\\@hooks.example/x", "https://user:pw@hooks.example/x", "ftp://hooks.example/x"):
        answer = api_a.post("/api/v1/webhooks/", {"url": url, "events": ["qa.alert"]}, format="json")
        assert answer.status_code == 400, url
        assert "url" in answer.json()
    assert not WebhookSubscription.objects.exists()
