"""Open API keys: Bearer authentication, scopes, revocation, per-key throttling, and one shop per key."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.keys import find_key, issue_key, revoke_key
from api.models import ApiKey, Scope, hash_api_key
from tests.conftest import api_client_for
from tests.factories import (
    ApiKeyFactory,
    ConversationFactory,
    CustomerFactory,
    InvoiceRequestFactory,
    OrderFactory,
    ProductFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_sha256_hash(shop_a):
    key, plaintext = issue_key(shop_a, "班牛", ["orders:read"])
    stored = ApiKey.objects.get(pk=key.pk)
    assert plaintext.startswith(f"sb_{stored.prefix}_") and len(plaintext) > 40
    assert stored.key_hash == hash_api_key(plaintext)
    assert plaintext not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert find_key(plaintext) == key


def test_a_request_without_a_key_is_401_with_a_bearer_challenge(shop_a):
    response = APIClient().get("/api/v1/products/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer sb_nothing_here", "Bearer sb_", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b"],
)
def test_a_malformed_or_unknown_key_is_401(shop_a, header):
    response = APIClient().get("/api/v1/products/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_a_key_with_the_right_prefix_but_wrong_secret_is_401(api_key_a):
    forged = f"sb_{api_key_a.prefix}_{'x' * 43}"
    response = APIClient().get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_a_revoked_key_is_401(api_key_a, api_a):
    assert api_a.get("/api/v1/products/").status_code == 200
    revoke_key(api_key_a)
    assert api_a.get("/api/v1/products/").status_code == 401


def test_a_key_of_a_deactivated_shop_is_401(shop_a, api_a):
    shop_a.is_active = False
    shop_a.save()
    assert api_a.get("/api/v1/products/").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/api/v1/products/", "products:read"),
        ("post", "/api/v1/products/batch/", "products:write"),
        ("get", "/api/v1/customers/", "customers:read"),
        ("get", "/api/v1/orders/", "orders:read"),
        ("get", "/api/v1/conversations/", "conversations:read"),
        ("get", "/api/v1/messages/", "conversations:read"),
        ("get", "/api/v1/work-orders/", "work_orders:read"),
        ("post", "/api/v1/work-orders/", "work_orders:write"),
        ("get", "/api/v1/invoice-requests/", "invoices:read"),
        ("get", "/api/v1/webhooks/", "webhooks:read"),
        ("post", "/api/v1/webhooks/", "webhooks:write"),
    ],
)
def test_a_key_without_the_scope_is_403_naming_it(shop_a, method, path, scope):
    key = ApiKeyFactory(shop=shop_a, scopes=[s for s in Scope.values if s != scope])
    response = getattr(api_client_for(key), method)(path, {}, format="json")
    assert response.status_code == 403
    assert scope in response.json()["detail"]


def test_a_read_scope_does_not_allow_writing(shop_a):
    key = ApiKeyFactory(shop=shop_a, scopes=["products:read"])
    client = api_client_for(key)
    assert client.get("/api/v1/products/").status_code == 200
    response = client.put("/api/v1/products/P1/", {"title": "T", "category": "C", "price": "1.00"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("factory", "path"),
    [
        (lambda shop: ProductFactory(shop=shop, sku="SECRET-1"), "/api/v1/products/SECRET-1/"),
        (lambda shop: CustomerFactory(shop=shop, external_id="c-secret"), "/api/v1/customers/c-secret/"),
        (lambda shop: OrderFactory(shop=shop, external_id="NO-SECRET"), "/api/v1/orders/NO-SECRET/"),
        (lambda shop: ConversationFactory(shop=shop), "/api/v1/conversations/{pk}/"),
        (lambda shop: WorkOrderFactory(shop=shop), "/api/v1/work-orders/{pk}/"),
        (lambda shop: InvoiceRequestFactory(shop=shop), "/api/v1/invoice-requests/{pk}/"),
    ],
)
def test_another_shops_object_is_404_like_a_missing_one(shop_b, api_a, factory, path):
    obj = factory(shop_b)
    response = api_a.get(path.format(pk=obj.pk))
    assert response.status_code == 404
    missing = api_a.get(path.format(pk=999999).replace("SECRET", "NONE").replace("secret", "none"))
    assert missing.status_code == 404 and missing.json() == response.json()


def test_another_shops_work_order_cannot_be_changed_or_its_invoice_fulfilled(shop_b, api_a):
    work_order = WorkOrderFactory(shop=shop_b)
    invoice = InvoiceRequestFactory(shop=shop_b)
    patch = api_a.patch(f"/api/v1/work-orders/{work_order.pk}/", {"status": "resolved"}, format="json")
    assert patch.status_code == 404
    fulfil = api_a.post(
        f"/api/v1/invoice-requests/{invoice.pk}/fulfil/", {"invoice_url": "https://inv.example.com/1.pdf"}
    )
    assert fulfil.status_code == 404
    work_order.refresh_from_db()
    invoice.refresh_from_db()
    assert work_order.status == "open" and invoice.status == "requested"


def test_lists_never_include_another_shops_rows(shop_a, shop_b, api_a):
    for shop in (shop_a, shop_b):
        ProductFactory(shop=shop)
        OrderFactory(shop=shop)
        ConversationFactory(shop=shop)
        WorkOrderFactory(shop=shop)
        InvoiceRequestFactory(shop=shop)
    for path in ("products", "customers", "orders", "conversations", "work-orders", "invoice-requests"):
        rows = api_a.get(f"/api/v1/{path}/").json()["results"]
        assert len(rows) == 1, path


def test_last_use_is_recorded_at_most_once_a_minute(api_key_a, api_a):
    assert api_key_a.last_used_at is None
    api_a.get("/api/v1/products/")
    api_key_a.refresh_from_db()
    first = api_key_a.last_used_at
    assert first is not None
    api_a.get("/api/v1/products/")
    api_key_a.refresh_from_db()
    assert api_key_a.last_used_at == first
    ApiKey.objects.filter(pk=api_key_a.pk).update(last_used_at=first - timedelta(minutes=2))
    api_a.get("/api/v1/products/")
    api_key_a.refresh_from_db()
    assert api_key_a.last_used_at > first - timedelta(minutes=1)
    assert api_key_a.last_used_at <= timezone.now()


def test_requests_are_throttled_per_key(shop_a, settings):
    settings.SHOPBEE_API_KEY_RATE = "3/min"
    busy, quiet = ApiKeyFactory(shop=shop_a), ApiKeyFactory(shop=shop_a)
    busy_client = api_client_for(busy)
    codes = [busy_client.get("/api/v1/products/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert api_client_for(quiet).get("/api/v1/products/").status_code == 200
