"""Celery application: a Redis broker in production, eager in-process tasks by default, Kombu's file-system
broker under `make run` (CELERY_BROKER_URL=filesystem://)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shopbee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
