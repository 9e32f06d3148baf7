"""A shop's plan (and with it the monthly bot quota) is set by a superuser only, never by the shop's manager."""

import pytest
from django.urls import reverse

from shops.models import Shop
from tests.conftest import shop_change_form
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def shop_form(shop: Shop, **changes) -> dict:
    return shop_change_form(shop, **changes)


def test_a_manager_cannot_put_their_shop_on_the_unlimited_plan(client, manager_a, shop_a):
    client.force_login(manager_a)
    url = reverse("admin:shops_shop_change", args=[shop_a.pk])
    assert "plan" not in client.get(url).context["adminform"].form.fields
    response = client.post(url, shop_form(shop_a, plan=Shop.Plan.UNLIMITED, name="改了名字"))
    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert (shop_a.plan, shop_a.name) == (Shop.Plan.BASIC, "改了名字")


def test_a_superuser_sets_the_plan(client, shop_a):
    client.force_login(UserFactory(username="root", is_superuser=True))
    response = client.post(
        reverse("admin:shops_shop_change", args=[shop_a.pk]), shop_form(shop_a, plan=Shop.Plan.UNLIMITED)
    )
    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert shop_a.plan == Shop.Plan.UNLIMITED
