"""The demo loads every campaign type, coupons, bundles, a live session and a scan task per shop, once."""

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from marketing.models import BundleRule, Campaign, Coupon, LiveSession
from marketing.services import live_answer
from marketing.services.schedule import SCAN_TASK
from shops.models import Shop

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Campaign, Coupon, BundleRule, LiveSession, PeriodicTask)}


def test_the_marketing_demo_loads_once_with_every_campaign_type():
    call_command("load_demo")
    first = counts()
    call_command("load_demo")
    assert counts() == first
    for shop in Shop.objects.all():
        assert set(shop.campaigns.values_list("kind", flat=True)) == set(Campaign.Kind.values)
        assert PeriodicTask.objects.filter(task=SCAN_TASK, enabled=True, args=f"[{shop.pk}]").exists()
        assert "直播" in live_answer(shop, "什么时候直播")
