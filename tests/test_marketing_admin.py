"""Marketing admin pages are scoped: a manager of shop A sees nothing of shop B, and B's rows are 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.messaging import store_message
from chat.models import Conversation, Message
from marketing.models import BundleRule, Campaign, Touch
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import (
    CampaignFactory,
    CouponFactory,
    CustomerFactory,
    LiveSessionFactory,
    ProductFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db


def rows_of(shop, tag):
    customer = CustomerFactory(shop=shop, nickname=f"{tag}顾客")
    chat = Conversation.objects.create(shop=shop, customer=customer, visitor_token=f"v-{tag}")
    store_message(chat, Message.Sender.SHOPPER, "这款多少钱，有货吗")
    coupon = CouponFactory(shop=shop, name=f"{tag}券")
    campaign = CampaignFactory(shop=shop, name=f"{tag}活动", coupon=coupon)
    now = timezone.now()
    touch = Touch.objects.create(
        campaign=campaign,
        shop=shop,
        customer=customer,
        channel=campaign.channel,
        idempotency_key=f"{tag}-1",
        trigger_at=now,
        scheduled_at=now,
    )
    rule = BundleRule.objects.create(
        shop=shop,
        product=ProductFactory(shop=shop, title=f"{tag}跑鞋"),
        companion=ProductFactory(shop=shop, title=f"{tag}袜子"),
        reason=f"{tag}搭配",
    )
    live = LiveSessionFactory(shop=shop, title=f"{tag}直播")
    return {"campaign": campaign, "coupon": coupon, "touch": touch, "bundlerule": rule, "livesession": live}


@pytest.fixture
def both(shop_a, shop_b):
    return rows_of(shop_a, "甲店"), rows_of(shop_b, "乙店")


@pytest.mark.parametrize("model", ["campaign", "coupon", "touch", "bundlerule", "livesession"])
def test_a_manager_sees_only_their_shops_rows_and_gets_404_on_others(client, manager_a, both, model):
    mine, theirs = both
    client.force_login(manager_a)
    page = client.get(reverse(f"admin:marketing_{model}_changelist"))
    assert page.status_code == 200
    listed = {obj.pk for obj in page.context["cl"].result_list}
    assert listed == {mine[model].pk}
    assert "乙店" not in page.content.decode()
    assert client.get(reverse(f"admin:marketing_{model}_change", args=[theirs[model].pk])).status_code == 404
    assert client.get(reverse(f"admin:marketing_{model}_change", args=[mine[model].pk])).status_code == 200
    if model != "touch":
        assert client.get(reverse(f"admin:marketing_{model}_delete", args=[theirs[model].pk])).status_code == 404


def test_campaign_form_offers_only_the_managers_coupons(client, manager_a, both):
    mine, theirs = both
    client.force_login(manager_a)
    form = client.get(reverse("admin:marketing_campaign_add")).context["adminform"].form
    assert mine["coupon"] in form.fields["coupon"].queryset
    assert theirs["coupon"] not in form.fields["coupon"].queryset


def test_the_follow_up_page_lists_the_managers_customers_only(client, manager_a, both, shop_a, shop_b):
    client.force_login(manager_a)
    page = client.get(reverse("admin:marketing_followupcustomer_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "甲店顾客" in text and "问过价格、库存" in text and "乙店" not in text
    assert client.get(reverse("admin:marketing_followupcustomer_changelist"), {"shop": shop_b.pk}).status_code == 404
    assert client.get(reverse("admin:marketing_followupcustomer_changelist"), {"shop": "x"}).status_code == 404


def test_the_follow_up_page_is_for_managers_and_agents(client, shop_a, both):
    agent = staff_of(shop_a, Membership.Role.AGENT)
    trainer = staff_of(shop_a, Membership.Role.TRAINER)
    url = reverse("admin:marketing_followupcustomer_changelist")
    client.force_login(agent)
    assert client.get(url).status_code == 200
    client.force_login(trainer)
    assert client.get(url).status_code == 403


def test_the_follow_up_page_escapes_shopper_text(client, manager_a, shop_a):
    customer = CustomerFactory(shop=shop_a, nickname="<script>alert(1)</script>")
    chat = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-x")
    store_message(chat, Message.Sender.SHOPPER, "多少钱")
    client.force_login(manager_a)
    text = client.get(reverse("admin:marketing_followupcustomer_changelist")).content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_campaigns_are_copied_to_another_managed_shop_with_their_coupon(client, manager_a, shop_a, both):
    shop_c = ShopFactory(name="店铺C", slug="shop-c")
    Membership.objects.create(user=manager_a, shop=shop_c, role=Membership.Role.MANAGER)
    mine, theirs = both
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:marketing_campaign_changelist"),
        {
            "action": "copy_to_shops",
            "_selected_action": [mine["campaign"].pk, theirs["campaign"].pk],
            "shops": [shop_c.pk],
            "apply": "1",
        },
    )
    assert response.status_code == 302
    copy = Campaign.objects.get(shop=shop_c)
    assert copy.name == "甲店活动" and copy.template == mine["campaign"].template
    assert copy.coupon.shop == shop_c and copy.coupon.name == "甲店券"
    assert not Campaign.objects.filter(shop=shop_c, name="乙店活动").exists()


def test_copying_to_a_shop_the_user_does_not_manage_is_refused(client, manager_a, shop_b, both):
    mine, _ = both
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:marketing_campaign_changelist"),
        {"action": "copy_to_shops", "_selected_action": [mine["campaign"].pk], "shops": [shop_b.pk], "apply": "1"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert Campaign.objects.filter(shop=shop_b).count() == 1


def test_a_live_session_ending_before_it_starts_is_rejected_in_the_form(client, manager_a, shop_a):
    client.force_login(manager_a)
    start = timezone.localtime() + timedelta(days=1)
    response = client.post(
        reverse("admin:marketing_livesession_add"),
        {
            "shop": shop_a.pk,
            "title": "错误场次",
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": "20:00:00",
            "ends_at_0": start.strftime("%Y-%m-%d"),
            "ends_at_1": "19:00:00",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
