"""A manager sees their own shops' rows on every admin page, and nothing of anyone else's."""

import pytest
from django.contrib import admin
from django.urls import reverse

from shops.models import Membership
from shops.scoping import ShopScopedAdmin
from tests.conftest import staff_of
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(shop_a, shop_b):
    return {
        "product_a": ProductFactory(shop=shop_a, title="A店跑鞋"),
        "product_b": ProductFactory(shop=shop_b, title="B店跑鞋"),
        "order_a": OrderFactory(shop=shop_a, external_id="A-0001"),
        "order_b": OrderFactory(shop=shop_b, external_id="B-0001"),
        "customer_b": CustomerFactory(shop=shop_b, nickname="B店顾客"),
    }


def test_a_manager_changelist_lists_only_their_shops_rows(client, manager_a, rows):
    client.force_login(manager_a)
    page = client.get(reverse("admin:shops_product_changelist")).content.decode()
    assert "A店跑鞋" in page
    assert "B店跑鞋" not in page
    orders = client.get(reverse("admin:shops_order_changelist")).content.decode()
    assert "A-0001" in orders and "B-0001" not in orders


def test_another_shops_change_view_is_a_404(client, manager_a, rows):
    client.force_login(manager_a)
    assert client.get(reverse("admin:shops_product_change", args=[rows["product_b"].pk])).status_code == 404
    assert client.get(reverse("admin:shops_order_change", args=[rows["order_b"].pk])).status_code == 404
    assert client.get(reverse("admin:shops_product_delete", args=[rows["product_b"].pk])).status_code == 404
    assert client.get(reverse("admin:shops_product_change", args=[rows["product_a"].pk])).status_code == 200


def test_foreign_key_choices_hold_no_other_shop(client, manager_a, shop_b, rows):
    client.force_login(manager_a)
    form = client.get(reverse("admin:shops_order_add")).context["adminform"].form
    assert list(form.fields["shop"].queryset) == [manager_a.memberships.get().shop]
    assert rows["customer_b"] not in form.fields["customer"].queryset
    line_form = client.get(reverse("admin:shops_order_change", args=[rows["order_a"].pk])).context[
        "inline_admin_formsets"
    ]
    product_choices = line_form[0].formset.form.base_fields["product"].queryset
    assert rows["product_a"] in product_choices and rows["product_b"] not in product_choices


def test_autocomplete_returns_no_other_shops_rows(client, manager_a, rows):
    client.force_login(manager_a)
    url = reverse("admin:autocomplete")
    params = {"app_label": "shops", "model_name": "orderline", "field_name": "product", "term": "跑鞋"}
    response = client.get(url, params)
    assert response.status_code == 200
    texts = [r["text"] for r in response.json()["results"]]
    assert any("A店跑鞋" in t for t in texts)
    assert not any("B店跑鞋" in t for t in texts)
    customers = client.get(
        url, {"app_label": "shops", "model_name": "order", "field_name": "customer", "term": "B店"}
    ).json()
    assert customers["results"] == []


def test_a_manager_cannot_post_an_order_into_another_shop(client, manager_a, shop_b, rows):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:shops_order_add"),
        {
            "shop": shop_b.pk,
            "customer": rows["customer_b"].pk,
            "external_id": "X-1",
            "status": "unpaid",
            "total_amount": "1",
            "discount_amount": "0",
            "deposit_amount": "0",
            "paid_amount": "0",
            "created_at_0": "2026-11-01",
            "created_at_1": "10:00:00",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
            "refunds-TOTAL_FORMS": "0",
            "refunds-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form comes back with errors
    assert "shop" in response.context["adminform"].form.errors
    assert not shop_b.orders.filter(external_id="X-1").exists()


def test_bulk_delete_action_only_touches_own_rows(client, manager_a, rows):
    client.force_login(manager_a)
    client.post(
        reverse("admin:shops_product_changelist"),
        {"action": "delete_selected", "_selected_action": [rows["product_a"].pk, rows["product_b"].pk], "post": "yes"},
    )
    assert not type(rows["product_a"]).objects.filter(pk=rows["product_a"].pk).exists()
    assert type(rows["product_b"]).objects.filter(pk=rows["product_b"].pk).exists()


def test_a_trainer_cannot_see_or_change_orders(client, trainer_a, rows):
    client.force_login(trainer_a)
    assert client.get(reverse("admin:shops_order_changelist")).status_code == 403
    assert client.get(reverse("admin:shops_order_change", args=[rows["order_a"].pk])).status_code == 404
    assert client.post(reverse("admin:shops_order_change", args=[rows["order_a"].pk]), {}).status_code == 404


def test_an_agent_reads_orders_but_cannot_change_them(client, agent_a, rows):
    client.force_login(agent_a)
    assert client.get(reverse("admin:shops_order_changelist")).status_code == 200
    response = client.post(reverse("admin:shops_order_change", args=[rows["order_a"].pk]), {"status": "closed"})
    assert response.status_code == 403
    rows["order_a"].refresh_from_db()
    assert rows["order_a"].status == "paid"


def test_a_manager_of_two_shops_sees_both(client, shop_a, shop_b, rows):
    manager = staff_of(shop_a, Membership.Role.MANAGER, username="two-shops")
    Membership.objects.create(user=manager, shop=shop_b, role=Membership.Role.MANAGER)
    client.force_login(manager)
    page = client.get(reverse("admin:shops_product_changelist")).content.decode()
    assert "A店跑鞋" in page and "B店跑鞋" in page


def test_a_superuser_sees_every_shop(client, rows):
    client.force_login(UserFactory(username="root", is_superuser=True))
    page = client.get(reverse("admin:shops_product_changelist")).content.decode()
    assert "A店跑鞋" in page and "B店跑鞋" in page


def test_staff_without_any_shop_sees_no_shop_data(client, rows):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("admin:shops_product_changelist")).status_code == 403


def test_the_shop_list_shows_only_the_managers_shops(client, manager_a, shop_b):
    ShopFactory(name="店铺C")
    client.force_login(manager_a)
    page = client.get(reverse("admin:shops_shop_changelist")).content.decode()
    assert "店铺A" in page and "店铺B" not in page and "店铺C" not in page


def test_copy_to_shops_offers_only_shops_the_user_manages(client, shop_a, shop_b, rows):
    manager = staff_of(shop_a, Membership.Role.MANAGER, username="copier")
    shop_c = ShopFactory(name="店铺C")
    Membership.objects.create(user=manager, shop=shop_c, role=Membership.Role.MANAGER)
    client.force_login(manager)
    url = reverse("admin:shops_product_changelist")
    page = client.post(url, {"action": "copy_to_shops", "_selected_action": [rows["product_a"].pk]})
    offered = list(page.context["form"].fields["shops"].queryset)
    assert shop_c in offered and shop_b not in offered
    client.post(
        url, {"action": "copy_to_shops", "_selected_action": [rows["product_a"].pk], "apply": "1", "shops": [shop_c.pk]}
    )
    copy = shop_c.products.get(sku=rows["product_a"].sku)
    assert copy.title == "A店跑鞋"
    refused = client.post(
        url, {"action": "copy_to_shops", "_selected_action": [rows["product_a"].pk], "apply": "1", "shops": [shop_b.pk]}
    )
    assert refused.status_code == 200 and "shops" in refused.context["form"].errors
    assert not shop_b.products.filter(sku=rows["product_a"].sku).exists()


def test_every_shop_filter_of_a_changelist_lists_only_the_staff_members_shops(client, shop_a, shop_b):
    shop_c = ShopFactory(name="店铺C", slug="shop-c")
    user = UserFactory(username="manager-of-a-and-c")
    for shop in (shop_a, shop_c):
        Membership.objects.create(user=user, shop=shop, role=Membership.Role.MANAGER)
    client.force_login(user)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ShopScopedAdmin) or not model_admin.list_filter:
            continue
        response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        if response.status_code != 200 or "cl" not in (response.context or {}):
            continue
        shop_filters = [f for f in response.context["cl"].filter_specs if getattr(f, "field_path", "") == "shop"]
        for spec in shop_filters:
            assert [title for _, title in spec.lookup_choices] == [shop_a.name, shop_c.name], model
            checked += 1
    assert checked >= 10
