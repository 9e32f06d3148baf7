"""Products, customers and orders upserted by external id: one or in atomic batches, idempotent, validated."""

from decimal import Decimal

import pytest

from shops.models import Customer, Order, Product
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

SHOE = {"title": "轻跑鞋 Air", "category": "跑步鞋", "price": "399.00", "colors": ["黑色"], "sizes": ["41", "42"]}


def test_putting_a_new_sku_creates_the_product_in_the_keys_shop(shop_a, api_a):
    response = api_a.put("/api/v1/products/AIR-1/", SHOE, format="json")
    assert response.status_code == 201
    product = Product.objects.get(sku="AIR-1")
    assert product.shop == shop_a and product.price == Decimal("399.00") and product.sizes == ["41", "42"]
    assert response.json()["sku"] == "AIR-1"


def test_putting_the_same_product_twice_changes_nothing_the_second_time(api_a):
    api_a.put("/api/v1/products/AIR-1/", SHOE, format="json")
    before = Product.objects.get(sku="AIR-1").updated_at
    again = api_a.put("/api/v1/products/AIR-1/", SHOE, format="json")
    assert again.status_code == 200
    assert Product.objects.get(sku="AIR-1").updated_at == before
    assert Product.objects.count() == 1


def test_putting_a_changed_product_updates_only_that_row(shop_a, api_a):
    ProductFactory(shop=shop_a, sku="AIR-1", price=Decimal("399.00"))
    response = api_a.put("/api/v1/products/AIR-1/", {**SHOE, "price": "359.00"}, format="json")
    assert response.status_code == 200
    assert Product.objects.get(sku="AIR-1").price == Decimal("359.00")


def test_the_same_sku_in_another_shop_is_left_alone(shop_b, api_a):
    theirs = ProductFactory(shop=shop_b, sku="AIR-1", price=Decimal("100.00"))
    api_a.put("/api/v1/products/AIR-1/", SHOE, format="json")
    theirs.refresh_from_db()
    assert theirs.price == Decimal("100.00")
    assert Product.objects.filter(sku="AIR-1").count() == 2


def test_bad_product_fields_are_a_400_naming_each_field(api_a):
    response = api_a.put("/api/v1/products/AIR-1/", {"title": "", "price": "-1", "colors": "黑色"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert {"title", "category", "price", "colors"} <= set(errors)
    assert not Product.objects.exists()


def test_a_body_sku_that_contradicts_the_url_is_rejected(api_a):
    response = api_a.put("/api/v1/products/AIR-1/", {**SHOE, "sku": "AIR-2"}, format="json")
    assert response.status_code == 400 and "sku" in response.json()


def test_a_batch_reports_created_updated_and_unchanged(shop_a, api_a):
    api_a.put("/api/v1/products/A/", SHOE, format="json")
    ProductFactory(shop=shop_a, sku="B", price=Decimal("1.00"))
    items = [{**SHOE, "sku": "A"}, {**SHOE, "sku": "B"}, {**SHOE, "sku": "C"}]
    response = api_a.post("/api/v1/products/batch/", {"items": items}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 1)
    assert [item["outcome"] for item in body["items"]] == ["unchanged", "updated", "created"]


def test_a_batch_with_one_bad_item_writes_nothing_and_points_at_that_item(api_a):
    items = [{**SHOE, "sku": "A"}, {**SHOE, "sku": "B", "price": "abc"}, {**SHOE, "sku": "C"}]
    response = api_a.post("/api/v1/products/batch/", {"items": items}, format="json")
    assert response.status_code == 400
    errors = response.json()["items"]
    assert list(errors) == ["1"] and "price" in errors["1"]
    assert not Product.objects.exists()


def test_a_sku_repeated_within_a_batch_is_an_error_on_the_repeat(api_a):
    items = [{**SHOE, "sku": "A"}, {**SHOE, "sku": "A", "price": "1.00"}]
    response = api_a.post("/api/v1/products/batch/", {"items": items}, format="json")
    assert response.status_code == 400
    assert list(response.json()["items"]) == ["1"] and "sku" in response.json()["items"]["1"]
    assert not Product.objects.exists()


def test_an_empty_batch_is_rejected(api_a):
    response = api_a.post("/api/v1/products/batch/", {"items": []}, format="json")
    assert response.status_code == 400 and "items" in response.json()


def test_customers_upsert_by_external_id(shop_a, api_a):
    body = {"nickname": "跑步的小王", "phone": "13800000000", "email": "wang@example.com"}
    assert api_a.put("/api/v1/customers/c-1/", body, format="json").status_code == 201
    assert api_a.put("/api/v1/customers/c-1/", body, format="json").status_code == 200
    response = api_a.put("/api/v1/customers/c-1/", {**body, "email": "not-an-email"}, format="json")
    assert response.status_code == 400 and "email" in response.json()
    customer = Customer.objects.get(shop=shop_a, external_id="c-1")
    assert customer.email == "wang@example.com"


def order_body(**overrides):
    return {
        "customer": "c-1",
        "status": "paid",
        "total_amount": "598.00",
        "paid_amount": "598.00",
        "created_at": "2026-11-20T10:00:00+08:00",
        "shipping_address": "浙江省杭州市西湖区文三路 90 号",
        "lines": [{"sku": "AIR-1", "title": "轻跑鞋 Air", "size": "42", "unit_price": "299.00", "quantity": 2}],
        **overrides,
    }


def test_an_order_is_upserted_with_its_lines_and_repeating_it_changes_nothing(shop_a, api_a):
    CustomerFactory(shop=shop_a, external_id="c-1")
    product = ProductFactory(shop=shop_a, sku="AIR-1")
    assert api_a.put("/api/v1/orders/NO1/", order_body(), format="json").status_code == 201
    order = Order.objects.get(external_id="NO1")
    assert [(line.product, line.quantity) for line in order.lines.all()] == [(product, 2)]
    line_ids = list(order.lines.values_list("pk", flat=True))
    stamp = order.updated_at
    again = api_a.put("/api/v1/orders/NO1/", order_body(), format="json")
    assert again.status_code == 200
    order.refresh_from_db()
    assert order.updated_at == stamp and list(order.lines.values_list("pk", flat=True)) == line_ids
    assert again.json()["lines"][0]["sku"] == "AIR-1"


def test_changed_order_lines_replace_the_old_ones(shop_a, api_a):
    CustomerFactory(shop=shop_a, external_id="c-1")
    ProductFactory(shop=shop_a, sku="AIR-1")
    api_a.put("/api/v1/orders/NO1/", order_body(), format="json")
    lines = [{"title": "运动袜", "unit_price": "19.90", "quantity": 3}]
    response = api_a.put("/api/v1/orders/NO1/", order_body(lines=lines), format="json")
    assert response.status_code == 200
    assert [(line.title, line.quantity, line.product) for line in Order.objects.get().lines.all()] == [
        ("运动袜", 3, None)
    ]


def test_an_order_may_not_name_another_shops_customer_or_product(shop_a, shop_b, api_a):
    CustomerFactory(shop=shop_b, external_id="c-1")
    ProductFactory(shop=shop_b, sku="AIR-1")
    response = api_a.put("/api/v1/orders/NO1/", order_body(), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "customer" in errors and "sku" in errors["lines"]["0"]
    assert not Order.objects.exists()


def test_an_order_paid_above_its_total_is_rejected(shop_a, api_a):
    CustomerFactory(shop=shop_a, external_id="c-1")
    response = api_a.put("/api/v1/orders/NO1/", order_body(paid_amount="999.00", lines=[]), format="json")
    assert response.status_code == 400 and "paid_amount" in response.json()


def test_an_order_batch_is_all_or_nothing(shop_a, api_a):
    CustomerFactory(shop=shop_a, external_id="c-1")
    ProductFactory(shop=shop_a, sku="AIR-1")
    items = [{**order_body(), "external_id": "NO1"}, {**order_body(customer="nobody"), "external_id": "NO2"}]
    response = api_a.post("/api/v1/orders/batch/", {"items": items}, format="json")
    assert response.status_code == 400 and "customer" in response.json()["items"]["1"]
    assert not Order.objects.exists()
    items[1]["customer"] = "c-1"
    response = api_a.post("/api/v1/orders/batch/", {"items": items}, format="json")
    assert response.status_code == 200 and response.json()["created"] == 2
    assert Order.objects.filter(shop=shop_a).count() == 2


def test_a_null_character_in_a_reference_or_a_key_is_a_clean_error(shop_a, api_a):
    response = api_a.put("/api/v1/orders/NO1/", order_body(customer="c\u00001", lines=[]), format="json")
    assert response.status_code == 400 and "customer" in response.json()
    assert api_a.get("/api/v1/products/A%00B/").status_code == 404


def test_a_products_warranty_months_are_stored_and_a_negative_period_is_refused(api_a):
    response = api_a.put("/api/v1/products/AIR-1/", {**SHOE, "warranty_months": 6}, format="json")
    assert response.status_code == 201 and response.json()["warranty_months"] == 6
    assert Product.objects.get(sku="AIR-1").warranty_months == 6
    refused = api_a.put("/api/v1/products/AIR-1/", {**SHOE, "warranty_months": -1}, format="json")
    assert refused.status_code == 400 and "warranty_months" in refused.json()
