"""A shop's timezone must be an IANA name: the model, the admin form and any API serializer refuse others."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from rest_framework import serializers

from shops.models import Shop
from tests.conftest import shop_change_form
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_shop_with_an_unknown_timezone_does_not_validate(shop_a):
    shop_a.timezone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as error:
        shop_a.full_clean()
    assert list(error.value.message_dict) == ["timezone"]


def test_a_shop_with_an_iana_timezone_validates(shop_a):
    shop_a.timezone = "America/New_York"
    shop_a.full_clean()


def change_form(shop: Shop, timezone: str) -> dict:
    return shop_change_form(shop, timezone=timezone)


def test_the_admin_refuses_an_unknown_timezone_with_a_chinese_field_error(client, shop_a):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    url = reverse("admin:shops_shop_change", args=[shop_a.pk])
    response = client.post(url, change_form(shop_a, "Beijing"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["timezone"]
    assert "“Beijing”不是有效的时区" in errors["timezone"][0]
    shop_a.refresh_from_db()
    assert shop_a.timezone == "Asia/Shanghai"


def test_the_admin_saves_an_iana_timezone(client, shop_a):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.post(reverse("admin:shops_shop_change", args=[shop_a.pk]), change_form(shop_a, "Europe/Paris"))
    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert shop_a.timezone == "Europe/Paris"


class ShopSerializer(serializers.ModelSerializer):
    """What an API endpoint writing shops would declare: the model field brings its validator along."""

    class Meta:
        model = Shop
        fields = ["name", "slug", "timezone"]


def test_an_api_serializer_of_shops_gives_a_field_error_in_english_on_request():
    with translation.override("en"):
        serializer = ShopSerializer(data={"name": "店", "slug": "dian", "timezone": "GMT+8"})
        assert not serializer.is_valid()
        assert serializer.errors["timezone"] == [
            "“GMT+8” is not a known timezone: use an IANA name such as Asia/Shanghai."
        ]
