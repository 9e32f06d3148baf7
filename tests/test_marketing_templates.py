"""Campaign message templates: only known variables, clear errors, checked on every save."""

import pytest
from django.core.exceptions import ValidationError

from marketing.models import Campaign, validate_message_template
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_a_template_with_the_known_variables_is_accepted():
    validate_message_template("{nickname}，{product} 还差 ¥{amount}，{deadline} 前有效")


def test_an_unknown_variable_is_named_in_the_error():
    with pytest.raises(ValidationError) as error:
        validate_message_template("{nickname}，您的{coupon_code}到了，{price}元")
    message = error.value.messages[0]
    unknown, allowed = message.split("可用变量")  # the default language is Simplified Chinese
    assert "{coupon_code}" in unknown and "{price}" in unknown and "{nickname}" in allowed


def test_attribute_access_in_a_template_is_rejected():
    with pytest.raises(ValidationError):
        validate_message_template("{nickname.__class__}")


def test_an_unbalanced_brace_is_rejected():
    with pytest.raises(ValidationError) as error:
        validate_message_template("满 {amount 减")
    assert "花括号不成对" in error.value.messages[0]


def test_saving_a_campaign_with_an_unknown_variable_fails_and_stores_nothing(shop_a):
    with pytest.raises(ValidationError):
        CampaignFactory(shop=shop_a, template="{name} 你好")
    assert not Campaign.objects.exists()


def test_the_admin_form_shows_the_template_error(client, manager_a, shop_a):
    client.force_login(manager_a)
    response = client.post(
        "/admin/marketing/campaign/add/",
        {
            "shop": shop_a.pk,
            "name": "催付",
            "kind": "payment",
            "enabled": "on",
            "channel": "in_chat",
            "delay_minutes": 30,
            "window_hours": 72,
            "daily_cap": 1,
            "template": "{nick} 快来付款",
        },
    )
    assert response.status_code == 200
    assert "{nick}" in str(response.context["adminform"].form.errors["template"])
    assert not Campaign.objects.exists()
