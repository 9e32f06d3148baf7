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
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['BACKEND'], "
    "'debug': s.DEBUG, 'hsts': s.SECURE_HSTS_SECONDS, 'ssl_redirect': s.SECURE_SSL_REDIRECT, "
    "'secure_cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE], 'proxy': s.SECURE_PROXY_SSL_HEADER}))"
)
SECRET = "x" * 50
CHOSEN = {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG", "SECRET_KEY", "SECURE_PROXY_SSL_HEADER"}


def probe(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CHOSEN}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_nothing_but_a_secret_key_gives_sqlite_the_memory_layer_and_eager_tasks():
    figures = json.loads(probe(SECRET_KEY=SECRET).stdout)
    assert figures["db"] == "django.db.backends.sqlite3"
    assert figures["layer"] == "chat.layers.EmbeddedChannelLayer"
    assert figures["eager"] is True


def test_database_and_redis_urls_switch_to_postgres_channels_redis_and_a_redis_broker():
    figures = json.loads(
        probe(
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/shopbee",
            REDIS_URL="redis://127.0.0.1:6379/0",
            SECRET_KEY=SECRET,
        ).stdout
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
    result = probe(DEBUG="false", SECRET_KEY=SECRET)
    assert result.returncode == 0, result.stderr


def test_nothing_set_at_all_refuses_to_start_because_debug_is_off_by_default():
    result = probe()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_secret_key_without_debug_runs_without_debug_on_https_only():
    figures = json.loads(probe(SECRET_KEY=SECRET).stdout)
    assert figures["debug"] is False
    assert figures["hsts"] == 31_536_000 and figures["ssl_redirect"] is True
    assert figures["secure_cookies"] == [True, True]
    assert figures["proxy"] is None  # trusting X-Forwarded-Proto is opted into


def test_behind_a_proxy_the_forwarded_protocol_header_is_trusted_when_asked():
    figures = json.loads(probe(SECRET_KEY=SECRET, SECURE_PROXY_SSL_HEADER="true").stdout)
    assert figures["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_debug_on_for_a_local_run_keeps_plain_http():
    figures = json.loads(probe(DEBUG="true").stdout)
    assert figures["debug"] is True and figures["ssl_redirect"] is False and figures["hsts"] == 0


def test_channel_layer_core_selects_the_classic_redis_layer():
    figures = json.loads(probe(REDIS_URL="redis://127.0.0.1:6379/0", CHANNEL_LAYER="core", SECRET_KEY=SECRET).stdout)
    assert figures["layer"] == "channels_redis.core.RedisChannelLayer"


def test_an_unknown_channel_layer_refuses_to_start_naming_the_choices():
    result = probe(REDIS_URL="redis://127.0.0.1:6379/0", CHANNEL_LAYER="rabbit", SECRET_KEY=SECRET)
    assert result.returncode != 0
    assert "CHANNEL_LAYER must be one of pubsub, core, not 'rabbit'" in result.stderr
