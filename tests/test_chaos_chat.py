"""The chaos benchmark (``manage.py chaos_chat``): shoppers chat over real sockets while the server it started
is killed with SIGKILL and restarted; nothing acknowledged may be lost or stored twice.

The server is a child process, so it needs a database file: the test migrates a scratch SQLite database and
runs the command as the developer would, with the embedded default (no Redis)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CHANNEL_LAYER")}
    env.update(DEBUG="true", DATABASE_URL=f"sqlite:///{tmp_path / 'chaos.sqlite3'}")
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    create_shop = "from shops.models import Shop; Shop.objects.create(name='混沌小店', slug='chaos-shop')"
    manage(env, "shell", "-c", create_shop)
    return env


def manage(env: dict, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def figures(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def test_five_shoppers_lose_and_duplicate_nothing_when_the_server_is_killed_mid_chat(scratch_env):
    lines = manage(
        scratch_env,
        *("chaos_chat", "--shop", "chaos-shop", "--clients", "5", "--duration", "5", "--kill-every", "2.5"),
        *("--interval-ms", "300", "--timeout", "60"),
    )

    summary = figures(next(line for line in lines if line.startswith("clients=")))
    assert summary["kills"] == "1"
    assert int(summary["questions"]) >= 10
    assert summary["acked"] == summary["answered"] == summary["questions"]
    assert int(summary["reconnects"]) >= 5  # every shopper lost its connection at the kill
    assert summary["client_errors"] == "0"
    last = figures(lines[-1])
    assert (last["lost"], last["dup"], last["unacked"]) == ("0", "0", "0"), lines


@pytest.mark.parametrize("bad", [["--clients", "0"], ["--kill-every", "0"], ["--duration", "nan"]])
def test_bad_arguments_are_refused_before_a_server_starts(bad):
    with pytest.raises(CommandError):
        call_command("chaos_chat", "--shop", "chaos-shop", *bad)


@pytest.mark.skipif("postgresql" in settings.DATABASES["default"]["ENGINE"], reason="the embedded database only")
def test_pausing_the_services_is_refused_without_postgresql_and_redis():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("chaos_chat", "--shop", "chaos-shop", "--pause-services", "5")
