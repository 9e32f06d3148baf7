"""Admin pages of the open platform and the multi-shop tools: API keys, webhooks, quotas, the shop switcher."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey, WebhookDelivery, WebhookSubscription, hash_api_key
from shops.models import Membership, QuotaWarning
from shops.quota import month_start
from tests.conftest import staff_of
from tests.deliveries import settle
from tests.factories import ApiKeyFactory, ProductFactory, ShopFactory, WorkOrderFactory

pytestmark = pytest.mark.django_db


def test_adding_an_api_key_shows_the_plaintext_once_and_stores_its_hash(client, manager_a, shop_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:api_apikey_add"), {"shop": shop_a.pk, "name": "班牛工单", "scopes": ["work_orders:read"]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = response.context["plaintext"]
    assert plaintext in response.content.decode()
    key = ApiKey.objects.get()
    assert key.key_hash == hash_api_key(plaintext) and key.created_by == manager_a
    assert key.scopes == ["work_orders:read"] and key.shop == shop_a
    change_page = client.get(reverse("admin:api_apikey_change", args=[key.pk])).content.decode()
    assert plaintext not in change_page and f"sb_{key.prefix}_" in change_page


def test_a_manager_cannot_issue_a_key_for_another_shop(client, manager_a, shop_b):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:api_apikey_add"), {"shop": shop_b.pk, "name": "x", "scopes": ["products:read"]}
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors.get("shop")
    assert not ApiKey.objects.exists()


def test_api_keys_are_for_managers_only_and_never_another_shops(client, manager_a, agent_a, shop_a, shop_b):
    mine, theirs = ApiKeyFactory(shop=shop_a, name="我的ISV"), ApiKeyFactory(shop=shop_b, name="别人的ISV")
    client.force_login(manager_a)
    page = client.get(reverse("admin:api_apikey_changelist")).content.decode()
    assert "我的ISV" in page and "别人的ISV" not in page
    assert client.get(reverse("admin:api_apikey_change", args=[theirs.pk])).status_code == 404
    client.force_login(agent_a)
    assert client.get(reverse("admin:api_apikey_changelist")).status_code == 403
    assert client.get(reverse("admin:api_apikey_change", args=[mine.pk])).status_code in (403, 404)


def test_the_revoke_action_revokes_the_selected_keys(client, manager_a, shop_a, api_key_a, api_a):
    client.force_login(manager_a)
    client.post(reverse("admin:api_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key_a.pk]})
    api_key_a.refresh_from_db()
    assert api_key_a.revoked_at is not None
    assert api_a.get("/api/v1/products/").status_code == 401


def test_the_delivery_log_shows_only_the_managers_shops(client, manager_a, shop_a, shop_b):
    for shop, url in ((shop_a, "https://a.example.com/hook"), (shop_b, "https://b.example.com/hook")):
        subscription = WebhookSubscription.objects.create(shop=shop, url=url, events=["qa.alert"])
        WebhookDelivery.objects.create(subscription=subscription, shop=shop, event="qa.alert", payload={})
    client.force_login(manager_a)
    page = client.get(reverse("admin:api_webhookdelivery_changelist")).content.decode()
    assert "a.example.com" in page and "b.example.com" not in page
    subscriptions = client.get(reverse("admin:api_webhooksubscription_changelist")).content.decode()
    assert "a.example.com" in subscriptions and "b.example.com" not in subscriptions


@pytest.mark.django_db(transaction=True)
def test_retrying_a_failed_delivery_sends_it_again(client, shop_a, webhook_receiver):
    manager = staff_of(shop_a, Membership.Role.MANAGER)
    subscription = WebhookSubscription.objects.create(shop=shop_a, url=webhook_receiver.url, events=["qa.alert"])
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, shop=shop_a, event="qa.alert", payload={"n": 1}, status="failed", attempts=6
    )
    client.force_login(manager)
    client.post(reverse("admin:api_webhookdelivery_changelist"), {"action": "retry", "_selected_action": [delivery.pk]})
    settle()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert len(webhook_receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_retrying_a_pending_delivery_sends_it_now_instead_of_waiting(client, shop_a, webhook_receiver):
    manager = staff_of(shop_a, Membership.Role.MANAGER)
    subscription = WebhookSubscription.objects.create(shop=shop_a, url=webhook_receiver.url, events=["qa.alert"])
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        shop=shop_a,
        event="qa.alert",
        payload={"n": 1},
        attempts=3,
        last_error="HTTP 503",
        next_attempt_at=timezone.now() + timedelta(minutes=20),
    )
    client.force_login(manager)
    client.post(reverse("admin:api_webhookdelivery_changelist"), {"action": "retry", "_selected_action": [delivery.pk]})
    settle()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_error == ""
    assert len(webhook_receiver.requests) == 1


@pytest.fixture
def two_shop_manager(shop_a, shop_b):
    user = staff_of(shop_a, Membership.Role.MANAGER, username="multi")
    Membership.objects.create(user=user, shop=shop_b, role=Membership.Role.MANAGER)
    return user


def test_the_shop_switcher_narrows_every_page_to_one_shop_and_back(client, two_shop_manager, shop_a, shop_b):
    ProductFactory(shop=shop_a, title="A店跑鞋")
    ProductFactory(shop=shop_b, title="B店跑鞋")
    client.force_login(two_shop_manager)
    products = reverse("admin:shops_product_changelist")
    assert 'id="shop-switcher"' in client.get(products).content.decode()
    response = client.post(reverse("admin:shops_shop_switch"), {"shop": shop_b.pk, "next": products})
    assert response.status_code == 302 and response["Location"] == products
    page = client.get(products).content.decode()
    assert "B店跑鞋" in page and "A店跑鞋" not in page
    client.post(reverse("admin:shops_shop_switch"), {"shop": ""})
    page = client.get(products).content.decode()
    assert "B店跑鞋" in page and "A店跑鞋" in page


def test_the_switcher_refuses_a_shop_the_user_has_no_role_in(client, manager_a, shop_a):
    stranger = ShopFactory(name="陌生店")
    client.force_login(manager_a)
    assert client.post(reverse("admin:shops_shop_switch"), {"shop": stranger.pk}).status_code == 403
    assert client.get(reverse("admin:shops_shop_switch")).status_code == 405
    response = client.post(reverse("admin:shops_shop_switch"), {"shop": shop_a.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("admin:index")


def test_the_overview_lists_each_of_the_users_shops_with_its_figures(client, two_shop_manager, shop_a, shop_b):
    ShopFactory(name="别家店铺")
    WorkOrderFactory(shop=shop_a)
    WorkOrderFactory(shop=shop_a)
    client.force_login(two_shop_manager)
    response = client.get(reverse("admin:shops_shop_overview"))
    assert response.status_code == 200
    rows = {figures.shop.name: figures for figures, _usage in response.context["rows"]}
    assert set(rows) == {"店铺A", "店铺B"}
    assert rows["店铺A"].open_work_orders == 2 and rows["店铺B"].open_work_orders == 0
    assert "别家店铺" not in response.content.decode()


def test_the_overview_needs_a_staff_login(client):
    response = client.get(reverse("admin:shops_shop_overview"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_quota_warning_of_this_month_is_shown_to_the_manager(client, manager_a, shop_a, shop_b):
    month = month_start(shop_a).date()
    QuotaWarning.objects.create(shop=shop_a, month=month, threshold=100, used=2000, quota=2000)
    QuotaWarning.objects.create(shop=shop_b, month=month, threshold=80, used=1600, quota=2000)
    client.force_login(manager_a)
    response = client.get(reverse("admin:shops_shop_changelist"))
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and "店铺A" in shown[0] and "2000" in shown[0]
    assert "1600" not in response.content.decode()
    warnings = client.get(reverse("admin:shops_quotawarning_changelist")).content.decode()
    assert "1600" not in warnings and "2000" in warnings


def test_every_admin_page_shows_the_managers_quota_notice_and_nobody_elses(client, manager_a, agent_a, shop_a, shop_b):
    month = month_start(shop_b).date()
    QuotaWarning.objects.create(shop=shop_b, month=month, threshold=80, used=1600, quota=2000)
    client.force_login(manager_a)
    assert 'id="quota-notice"' not in client.get(reverse("admin:index")).content.decode()
    QuotaWarning.objects.create(shop=shop_a, month=month_start(shop_a).date(), threshold=80, used=1601, quota=2000)
    page = client.get(reverse("admin:shops_product_changelist")).content.decode()
    assert 'id="quota-notice"' in page and "1601" in page and "1600" not in page
    client.force_login(agent_a)
    assert 'id="quota-notice"' not in client.get(reverse("admin:index")).content.decode()
