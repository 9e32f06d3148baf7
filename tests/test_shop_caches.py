"""Per-process caches of a shop's catalogue and QA rules: a change here is seen at once, another
process's change within SHOP_CACHE_RECHECK_SECONDS, and nothing is rebuilt while nothing changed."""

import uuid

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from analytics.models import QARule, QARuleVersion
from analytics.services.inspection import rules_for_shop
from chat.dialogue.catalogue import Catalogue
from shops.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


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
        # Another worker's write: no signal reaches this process, only the row (and its updated_at) changes.
        clock.shift(0.5)
        Product.objects.filter(pk=shoe.pk).update(title="轻量跑步鞋", updated_at=timezone.now())
        assert titles(shop_a) == ["缓震跑步鞋"]
        clock.shift(settings.SHOP_CACHE_RECHECK_SECONDS)
        assert titles(shop_a) == ["轻量跑步鞋"]


def test_a_change_the_stamp_misses_is_picked_up_within_a_minute(shop_a):
    shoe = ProductFactory(shop=shop_a, title="缓震跑步鞋")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert titles(shop_a) == ["缓震跑步鞋"]
        Product.objects.filter(pk=shoe.pk).update(title="轻量跑步鞋")  # updated_at untouched: same stamp
        clock.shift(30)
        assert titles(shop_a) == ["缓震跑步鞋"]
        clock.shift(31)
        assert titles(shop_a) == ["轻量跑步鞋"]


def test_a_qa_rule_changed_by_another_process_is_applied_within_the_recheck_interval(shop_a):
    QARule.objects.create(shop=shop_a, name="禁词", kind=QARule.Kind.BANNED_WORDS, words="闭嘴")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        before = rules_for_shop(shop_a.pk)
        QARule.objects.filter(shop=shop_a).update(words="闭嘴\n滚")
        QARuleVersion.objects.filter(key=shop_a.pk).update(stamp=uuid.uuid4())  # what the other process did
        assert rules_for_shop(shop_a.pk) is before
        clock.shift(settings.SHOP_CACHE_RECHECK_SECONDS)
        assert rules_for_shop(shop_a.pk) is not before
