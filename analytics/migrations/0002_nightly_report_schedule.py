"""Celery beat runs analytics.build_daily_reports every night at 00:30 (Asia/Shanghai) for the day before."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "QA reports: yesterday (nightly)"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "analytics.build_daily_reports", "crontab": crontab, "enabled": True},
    )
    # Tells a running beat (DatabaseScheduler) to reload its schedule.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
