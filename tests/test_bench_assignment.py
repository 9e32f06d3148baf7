"""The assignment benchmark (devtools bench_assignment) runs its race on PostgreSQL, checks its own results
and cleans up; elsewhere it stops with one readable line."""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from chat.models import Conversation
from shops.models import Shop

ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


@pytest.mark.django_db
@pytest.mark.skipif(ON_POSTGRESQL, reason="the refusal is SQLite's")
def test_the_assignment_benchmark_refuses_sqlite_with_one_line():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("bench_assignment", "--shoppers", "5")


@pytest.mark.django_db
@pytest.mark.parametrize("option", ["--agents", "--workers", "--capacity"])
def test_the_assignment_benchmark_refuses_a_size_below_one(option):
    with pytest.raises(CommandError, match=f"{option} must be at least 1"):
        call_command("bench_assignment", option, "0")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (DATABASE_URL)")
def test_a_small_assignment_benchmark_assigns_every_shopper_once_and_leaves_nothing_behind():
    out = StringIO()
    call_command(
        "bench_assignment", "--shoppers", "24", "--agents", "3", "--capacity", "2", "--workers", "4", stdout=out
    )
    printed = out.getvalue()
    assert "every conversation assigned exactly once: yes" in printed
    assert "most chats held by one agent: 2 (capacity 2)" in printed or "most chats held by one agent: 1" in printed
    assert "own request → assignment committed" in printed and "p99" in printed
    assert re.search(r"bench assignment_p99 figure=[0-9.]+ unit=ms goal<200: (met|missed)", printed)
    assert not Shop.objects.filter(slug__startswith="bench-assign-").exists()
    assert not Conversation.objects.exists()
