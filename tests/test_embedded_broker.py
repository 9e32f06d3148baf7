"""`make run`'s background jobs: a real Celery worker on Kombu's file-system broker (CELERY_BROKER_URL=
filesystem://, nothing to install) runs the tasks other processes send it, here the beat job that counts
card hits, against the same database."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from knowledge.models import AnswerLog, AnswerOutcome
from tests.factories import FAQCardFactory, ShopFactory
from tests.test_settings_switch import probe

ROOT = Path(__file__).resolve().parent.parent
# A bound on the wait for the worker (it starts Django and jieba first); the test never asserts a duration.
WORKER_DEADLINE_SECONDS = 120
WORKER_OPTIONS = ["--pool", "solo", "--without-mingle", "--without-gossip", "--loglevel", "info"]


def test_the_file_system_broker_setting_runs_tasks_on_workers_from_a_folder(tmp_path):
    result = probe(DEBUG="true", CELERY_BROKER_URL="filesystem://", CELERY_BROKER_FOLDER=str(tmp_path))
    figures = json.loads(result.stdout)
    assert figures["broker"] == "filesystem://" and figures["eager"] is False
    assert (tmp_path / "queue").is_dir() and (tmp_path / "control").is_dir()


def test_redis_wins_over_the_embedded_broker_in_production():
    figures = json.loads(
        probe(DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0", CELERY_BROKER_URL="filesystem://").stdout
    )
    assert figures["broker"] == "redis://127.0.0.1:6379/0"


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_file_system_broker_runs_a_beat_task_sent_from_another_process(tmp_path):
    shop = ShopFactory()
    card = FAQCardFactory(shop=shop)
    for _ in range(3):
        AnswerLog.objects.create(shop=shop, card=card, question="包邮吗", score=0.9, outcome=AnswerOutcome.ANSWER)
    assert card.hit_count == 0
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL="filesystem://",
        CELERY_BROKER_FOLDER=str(tmp_path),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", *WORKER_OPTIONS],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The sender is another Celery app on the same folder, as the web process and beat are.
        folder = str(tmp_path / "queue")
        for made in ("queue", "control"):  # as the settings make them in every process of `make run`
            (tmp_path / made).mkdir(exist_ok=True)
        sender = Celery(
            set_as_current=False,  # the suite's own app stays the current one (eager tasks)
            broker="filesystem://",
            broker_transport_options={
                "data_folder_in": folder,
                "data_folder_out": folder,
                "control_folder": str(tmp_path / "control"),
            },
        )
        sender.send_task("knowledge.tasks.count_card_hits")
        deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            card.refresh_from_db()
            if card.hit_count:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert card.hit_count == 3, output
    assert "knowledge.tasks.count_card_hits" in output and "succeeded" in output
