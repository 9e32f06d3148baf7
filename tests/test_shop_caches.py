"""Per-process caches of a shop's catalogue and QA rules: a change here is seen at once, another
process's change within SHOP_CACHE_RECHECK_SECONDS, and nothing is rebuilt while nothing changed."""

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from analytics.models import QARule
from analytics.services.inspection import rules_for_shop
from chat.dialogue.catalogue import Catalogue
from core.caching import bump, read_stamp
from core.models import ChangeStamp
from shops.models import Product
from shops.services import update_products
from tests.factories import ProductFactory
from tests.stamps import bumped_by_another_process

pytestmark = pytest.mark.django_db

CATALOGUE = ChangeStamp.Kind.CATALOGUE


def titles(shop) -> list[str]:
    return [item.title for item in Catalogue.of_shop(shop.pk).items]


def test_a_product_saved_in_this_process_is_in_the_next_catalogue(shop_a):
    shoe = ProductFactory(shop=shop_a, title="缓震跑步鞋")
    assert titles(shop_a) == ["缓震跑步鞋"]
    shoe.title = "轻量跑步鞋"
    shoe.save()
    ProductFactory(shop=shop_a, title="速干T恤", category="运动T恤", price=99)
    assert titles(shop_a) == ["速干T恤", "轻量跑步鞋"]
    shoe.delete()
    assert titles(shop_a) == ["速干T恤"]


def test_the_catalogue_is_built_once_while_the_products_stay_the_same(shop_a):
    ProductFactory(shop=shop_a)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = Catalogue.of_shop(shop_a.pk)
        clock.shift(5 * settings.SHOP_CACHE_RECHECK_SECONDS)
        assert Catalogue.of_shop(shop_a.pk) is first


def test_a_product_changed_by_another_process_is_seen_within_the_recheck_interval(shop_a):
    shoe = ProductFactory(shop=shop_a, title="缓震跑步鞋")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert titles(shop_a) == ["缓震跑步鞋"]
        # Another worker's write: no signal reaches this process, only the row and the stamp change.
        clock.shift(0.5)
        Product.objects.filter(pk=shoe.pk).update(title="轻量跑步鞋")
        bumped_by_another_process(shop_a.pk, ChangeStamp.Kind.CATALOGUE)
        assert titles(shop_a) == ["缓震跑步鞋"]
        clock.shift(settings.SHOP_CACHE_RECHECK_SECONDS)
        assert titles(shop_a) == ["轻量跑步鞋"]


def test_a_change_the_stamp_misses_is_picked_up_within_a_minute(shop_a):
    shoe = ProductFactory(shop=shop_a, title="缓震跑步鞋")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert titles(shop_a) == ["缓震跑步鞋"]
        Product.objects.filter(pk=shoe.pk).update(title="轻量跑步鞋")  # by hand, nobody bumps: same stamp
        clock.shift(30)
        assert titles(shop_a) == ["缓震跑步鞋"]
        clock.shift(31)
        assert titles(shop_a) == ["轻量跑步鞋"]


def test_a_qa_rule_changed_by_another_process_is_applied_within_the_recheck_interval(shop_a):
    QARule.objects.create(shop=shop_a, name="禁词", kind=QARule.Kind.BANNED_WORDS, words="闭嘴")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        before = rules_for_shop(shop_a.pk)
        QARule.objects.filter(shop=shop_a).update(words="闭嘴\n滚")
        bumped_by_another_process(shop_a.pk, ChangeStamp.Kind.QA_RULES)
        assert rules_for_shop(shop_a.pk) is before
        clock.shift(settings.SHOP_CACHE_RECHECK_SECONDS)
        assert rules_for_shop(shop_a.pk) is not before


def test_a_bulk_product_update_through_the_service_is_in_the_next_catalogue(shop_a):
    ProductFactory(shop=shop_a, title="缓震跑步鞋")
    ProductFactory(shop=shop_a, title="速干T恤", category="运动T恤", price=99)
    with time_machine.travel(timezone.now(), tick=False):
        assert titles(shop_a) == ["速干T恤", "缓震跑步鞋"]
        update_products(Product.objects.filter(shop=shop_a, category="运动T恤"), on_sale=False)
        assert titles(shop_a) == ["缓震跑步鞋"]  # same instant: no recheck interval, no minute passed


def test_a_bulk_update_bumps_every_shop_it_touched_and_only_those(shop_a, shop_b):
    ProductFactory(shop=shop_a)
    ProductFactory(shop=shop_b)
    before = {shop.pk: read_stamp(shop.pk, CATALOGUE) for shop in (shop_a, shop_b)}
    update_products(Product.objects.filter(shop=shop_a), stock=0)
    assert read_stamp(shop_a.pk, CATALOGUE) == before[shop_a.pk] + 1
    assert read_stamp(shop_b.pk, CATALOGUE) == before[shop_b.pk]


def test_a_stamp_bumped_behind_the_caches_back_is_seen_after_the_recheck_interval(shop_a):
    ProductFactory(shop=shop_a, title="缓震跑步鞋")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = Catalogue.of_shop(shop_a.pk)
        bumped_by_another_process(shop_a.pk, CATALOGUE)
        assert Catalogue.of_shop(shop_a.pk) is first
        clock.shift(settings.SHOP_CACHE_RECHECK_SECONDS)
        assert Catalogue.of_shop(shop_a.pk) is not first


def test_each_bump_moves_the_stamp_by_one_and_keeps_one_row(shop_a):
    assert read_stamp(shop_a.pk, CATALOGUE) == 0
    for _ in range(50):
        bump(shop_a.pk, CATALOGUE)
    assert read_stamp(shop_a.pk, CATALOGUE) == 50
    assert ChangeStamp.objects.filter(shop_id=shop_a.pk, kind=CATALOGUE).count() == 1
    assert read_stamp(shop_a.pk, ChangeStamp.Kind.KNOWLEDGE) == 0  # kinds are counted apart


def test_a_global_bump_moves_every_shops_stamp_of_that_kind(shop_a, shop_b):
    bump(shop_a.pk, ChangeStamp.Kind.QA_RULES)
    before = {shop.pk: read_stamp(shop.pk, ChangeStamp.Kind.QA_RULES) for shop in (shop_a, shop_b)}
    bump(None, ChangeStamp.Kind.QA_RULES)
    assert {shop.pk: read_stamp(shop.pk, ChangeStamp.Kind.QA_RULES) for shop in (shop_a, shop_b)} == {
        shop_a.pk: before[shop_a.pk] + 1,
        shop_b.pk: before[shop_b.pk] + 1,
    }


def test_a_change_stamp_reads_as_its_kind_shop_and_version(shop_a):
    bump(shop_a.pk, CATALOGUE)
    bump(None, ChangeStamp.Kind.QA_RULES)
    with translation.override("en"):
        assert str(ChangeStamp.objects.get(kind=CATALOGUE)) == f"Product catalogue · #{shop_a.pk} · v1"
        assert str(ChangeStamp.objects.get(kind=ChangeStamp.Kind.QA_RULES)) == "QA rules · every shop · v1"


def test_taking_products_off_sale_in_the_admin_takes_them_out_of_the_catalogue(client, manager_a, shop_a):
    shoe = ProductFactory(shop=shop_a, title="缓震跑步鞋")
    ProductFactory(shop=shop_a, title="速干T恤", category="运动T恤", price=99)
    client.force_login(manager_a)
    changelist = reverse("admin:shops_product_changelist")
    with time_machine.travel(timezone.now(), tick=False):
        assert titles(shop_a) == ["速干T恤", "缓震跑步鞋"]
        response = client.post(changelist, {"action": "take_off_sale", "_selected_action": [shoe.pk]})
        assert response.status_code == 302
        assert titles(shop_a) == ["速干T恤"]
        client.post(changelist, {"action": "put_on_sale", "_selected_action": [shoe.pk]})
        assert titles(shop_a) == ["速干T恤", "缓震跑步鞋"]
