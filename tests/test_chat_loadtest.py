"""The chat load test (``manage.py loadtest_chat``) against a real uvicorn server over real sockets."""

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from chat.models import MeasurementPolicy, Message
from tests.factories import FAQCardFactory
from tests.live_server import HOST, PORT, wait_until_idle

live = pytest.mark.django_db(transaction=True)  # committed rows, so the server thread sees them
LAST_LINE = re.compile(r"replies_per_s=(?P<rate>\S+) p99_ms=(?P<p99>\S+) lost=(?P<lost>\d+) dup=(?P<dup>\d+)")
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server_url(chat_server):
    yield f"ws://{HOST}:{PORT}"
    wait_until_idle(chat_server)


def loadtest(*args: str) -> list[str]:
    out = StringIO()
    call_command("loadtest_chat", *args, stdout=out)
    return out.getvalue().splitlines()


def figures(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


@live
def test_five_paced_shoppers_get_every_question_answered_with_nothing_lost_or_duplicated(server_url, shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="亲，付款后48小时内发货哦～")
    FAQCardFactory(shop=shop_a, question="包邮吗", answer="全场包邮哦～")
    FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以开电子发票的～")

    lines = loadtest(
        *("--url", server_url, "--shop", shop_a.slug, "--clients", "5", "--messages", "2"),
        *("--interval-ms", "100", "--timeout", "15"),
    )

    last = LAST_LINE.fullmatch(lines[-1])
    assert last, lines
    assert (last["lost"], last["dup"]) == ("0", "0")
    assert float(last["rate"]) > 0
    assert float(last["p99"]) > 0
    summary = figures(next(line for line in lines if line.startswith("clients=")))
    assert summary["questions"] == "10" and summary["acked"] == "10"
    assert int(summary["replies"]) >= 10
    assert summary["offered_per_s"] == "50.0"  # 5 shoppers, each asking every 0.1 s
    assert summary["client_errors"] == "0"
    # The server really stored the ten questions.
    assert Message.objects.filter(shop=shop_a, sender=Message.Sender.SHOPPER).count() == 10


@live
def test_closed_loop_mode_offers_as_much_as_the_server_answers(server_url, shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="亲，付款后48小时内发货哦～")

    lines = loadtest(
        "--url", server_url, "--shop", shop_a.slug, "--clients", "3", "--messages", "2", "--interval-ms", "0"
    )

    summary = figures(next(line for line in lines if line.startswith("clients=")))
    assert summary["offered_per_s"] == "max" and summary["acked"] == "6"
    assert LAST_LINE.fullmatch(lines[-1])["lost"] == "0"


@live
def test_a_shop_that_does_not_exist_fails_because_no_question_got_through(server_url):
    with pytest.raises(CommandError, match=r"no question got through: .*shop_not_found"):
        loadtest("--url", server_url, "--shop", "no-such-shop", "--clients", "2", "--messages", "1")


@pytest.mark.parametrize(
    "bad",
    [
        ["--clients", "0"],
        ["--messages", "0"],
        ["--interval-ms", "-5"],
        ["--interval-ms", "nan"],
        ["--timeout", "0"],
        ["--connect-concurrency", "0"],
        ["--url", "http://127.0.0.1:8101"],
    ],
)
def test_bad_arguments_are_refused_before_anything_connects(bad):
    with pytest.raises(CommandError):
        loadtest("--shop", "swift-sports", *bad)


def test_a_negative_interval_exits_non_zero_with_one_readable_line():
    done = subprocess.run(
        [sys.executable, "manage.py", "loadtest_chat", "--shop", "swift-sports", "--interval-ms", "-5"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    # The last line of stderr (system-check warnings of a fresh checkout may come before it); no traceback.
    assert "Traceback" not in done.stderr
    error = "CommandError: --interval-ms must be 0 (as fast as answers come) or a positive number"
    assert done.stderr.strip().splitlines()[-1] == error


@live
def test_a_shop_running_a_bot_holdout_is_named_before_its_unanswered_questions_count_as_lost(server_url, shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="亲，付款后48小时内发货哦～")
    MeasurementPolicy.objects.create(shop=shop_a, bot_holdout_percent=50)
    err = StringIO()

    call_command(
        "loadtest_chat",
        *("--url", server_url, "--shop", shop_a.slug, "--clients", "2", "--messages", "1", "--timeout", "3"),
        stdout=StringIO(),
        stderr=err,
    )

    assert f"note: {shop_a.slug} runs a 50% bot holdout" in err.getvalue()
