from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Q
from django.utils import timezone

from shops.models import Customer, Membership, Order, Product, Shop

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Shop, Product, Customer, Order, Membership)}


def test_loading_the_demo_twice_duplicates_nothing():
    call_command("load_demo")
    first = counts()
    call_command("load_demo")
    assert counts() == first
    assert first["Shop"] == 3
    assert first["Product"] >= 90


def test_the_demo_covers_every_order_status_and_a_manager_of_two_shops():
    call_command("load_demo")
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert Membership.objects.filter(user__username="manager", role=Membership.Role.MANAGER).count() == 2
    assert set(Membership.objects.values_list("role", flat=True)) == set(Membership.Role.values)


def test_demo_shoes_and_the_spray_mop_have_a_warranty_and_cleaning_products_none():
    call_command("load_demo")
    swift = Product.objects.filter(shop__slug="swift-sports")
    assert set(swift.filter(category="跑步鞋").values_list("warranty_months", flat=True)) == {6}
    assert set(swift.filter(category="运动T恤").values_list("warranty_months", flat=True)) == {0}
    jingjia = Product.objects.filter(shop__slug="jingjia-clean")
    assert jingjia.get(title="净佳喷雾拖把 带水箱").warranty_months == 12
    assert jingjia.filter(warranty_months__gt=0).count() == 1


def test_no_demo_order_is_paid_or_shipped_in_the_future_or_before_it_was_placed():
    call_command("load_demo")
    now = timezone.now()
    orders = Order.objects.all()
    assert orders.filter(shipped_at__isnull=False).exists()
    assert not orders.filter(Q(shipped_at__gt=now) | Q(paid_at__gt=now)).exists()
    assert not orders.filter(Q(shipped_at__lt=F("created_at")) | Q(paid_at__lt=F("created_at"))).exists()


def test_the_demo_shops_are_on_the_front_page_and_embeddable_from_a_local_page():
    call_command("load_demo", stdout=StringIO())
    listed = Shop.objects.filter(listed_on_front_page=True)
    assert set(listed.values_list("slug", flat=True)) == {"swift-sports", "lanyi-women", "jingjia-clean"}
    assert all(shop.embed_origins.filter(origin="http://127.0.0.1:8080").exists() for shop in listed)


def test_load_demo_prints_the_address_the_server_will_use():
    out = StringIO()
    call_command("load_demo", "--site", "http://127.0.0.1:8765", stdout=out)
    assert "http://127.0.0.1:8765/admin/" in out.getvalue()
