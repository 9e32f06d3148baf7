"""Settings: the embedded default with nothing set, PostgreSQL and Redis when their URLs are."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['BACKEND']}))"
)


def probe(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_nothing_set_gives_sqlite_the_memory_layer_and_eager_tasks():
    figures = json.loads(probe().stdout)
    assert figures["db"] == "django.db.backends.sqlite3"
    assert figures["layer"] == "chat.layers.EmbeddedChannelLayer"
    assert figures["eager"] is True


def test_database_and_redis_urls_switch_to_postgres_channels_redis_and_a_redis_broker():
    figures = json.loads(
        probe(DATABASE_URL="postgres://postgres@127.0.0.1:5432/shopbee", REDIS_URL="redis://127.0.0.1:6379/0").stdout
    )
    assert figures["db"] == "django.db.backends.postgresql"
    assert figures["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert figures["broker"] == "redis://127.0.0.1:6379/0"
    assert figures["eager"] is False
    assert figures["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_production_without_a_secret_key_refuses_to_start_with_a_clear_message():
    result = probe(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_with_a_secret_key_starts():
    result = probe(DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_channel_layer_core_selects_the_classic_redis_layer():
    figures = json.loads(probe(REDIS_URL="redis://127.0.0.1:6379/0", CHANNEL_LAYER="core").stdout)
    assert figures["layer"] == "channels_redis.core.RedisChannelLayer"


def test_an_unknown_channel_layer_refuses_to_start_naming_the_choices():
    result = probe(REDIS_URL="redis://127.0.0.1:6379/0", CHANNEL_LAYER="rabbit")
    assert result.returncode != 0
    assert "CHANNEL_LAYER must be one of pubsub, core, not 'rabbit'" in result.stderr
