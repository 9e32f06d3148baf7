"""One django-celery-beat scan task per shop, kept in step with its campaigns, editable in the admin."""

import json

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app
from marketing.services.schedule import SCAN_TASK
from tests.factories import CampaignFactory, ShopFactory

pytestmark = pytest.mark.django_db


def scan_task(shop):
    return PeriodicTask.objects.get(task=SCAN_TASK, args=json.dumps([shop.pk]))


def test_saving_a_campaign_schedules_its_shops_scan(shop_a, shop_b):
    CampaignFactory(shop=shop_a)
    task = scan_task(shop_a)
    assert task.enabled and task.interval.every == 5 and task.interval.period == IntervalSchedule.MINUTES
    assert not PeriodicTask.objects.filter(task=SCAN_TASK, args=json.dumps([shop_b.pk])).exists()
    app.loader.import_default_modules()  # what a worker does at start: autodiscover the apps' tasks
    assert SCAN_TASK in app.tasks


def test_the_scan_is_switched_off_with_the_last_enabled_campaign(shop_a):
    first, second = CampaignFactory(shop=shop_a), CampaignFactory(shop=shop_a)
    first.enabled = False
    first.save()
    assert scan_task(shop_a).enabled
    second.delete()
    assert not scan_task(shop_a).enabled
    first.enabled = True
    first.save()
    assert scan_task(shop_a).enabled


def test_an_interval_edited_in_the_admin_survives_campaign_saves(shop_a):
    campaign = CampaignFactory(shop=shop_a)
    task = scan_task(shop_a)
    task.interval = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.MINUTES)
    task.save()
    campaign.name = "改名"
    campaign.save()
    assert scan_task(shop_a).interval.every == 30
    assert PeriodicTask.objects.filter(task=SCAN_TASK).count() == 1


def test_the_command_schedules_every_shop_with_campaigns(shop_a, shop_b):
    CampaignFactory(shop=shop_a)
    PeriodicTask.objects.all().delete()
    ShopFactory(slug="no-campaigns")
    call_command("schedule_campaign_scans")
    assert scan_task(shop_a).enabled
    assert PeriodicTask.objects.filter(task=SCAN_TASK).count() == 1
    call_command("schedule_campaign_scans")
    assert PeriodicTask.objects.filter(task=SCAN_TASK).count() == 1


def test_the_command_names_an_unknown_shop():
    with pytest.raises(CommandError, match="nope"):
        call_command("schedule_campaign_scans", shop="nope")
