"""Each benchmark measures its floor in the same run and prints the ratio; the echo floor is off unless asked."""

from io import StringIO

import pytest
from channels.testing import WebsocketCommunicator
from django.core.management import call_command

from config.routing import websocket_urlpatterns
from devtools.consumers import EchoConsumer
from shops.models import Customer, Shop


def bench_lines(command: str, *args: str) -> dict[str, dict[str, str]]:
    """The ``bench NAME figure= floor= unit= ratio=`` lines a command printed, by name."""
    out = StringIO()
    call_command(command, *args, stdout=out)
    lines = [line.split() for line in out.getvalue().splitlines() if line.startswith("bench ")]
    return {parts[1]: dict(part.split("=", 1) for part in parts[2:]) for parts in lines}


def test_the_echo_floor_is_not_routed_unless_the_setting_turns_it_on():
    assert [str(route.pattern) for route in websocket_urlpatterns if "bench" in str(route.pattern)] == []


@pytest.mark.django_db
async def test_the_echo_floor_acks_and_echoes_each_question_and_stays_open_after_a_bad_frame():
    socket = WebsocketCommunicator(EchoConsumer.as_asgi(), "/ws/bench/echo/")
    connected, _ = await socket.connect(timeout=10)
    assert connected
    assert await socket.receive_json_from(timeout=10) == {"type": "welcome"}

    await socket.send_json_to({"type": "message", "text": "包邮吗", "client_msg_id": "q1"})
    assert await socket.receive_json_from(timeout=10) == {"type": "ack", "client_msg_id": "q1", "id": 1}
    assert await socket.receive_json_from(timeout=10) == {"type": "message", "id": 2, "sender": "bot", "text": "包邮吗"}
    await socket.send_json_to({"type": "typing"})
    assert (await socket.receive_json_from(timeout=10))["type"] == "error"
    await socket.send_json_to({"type": "message", "text": "发货", "client_msg_id": "q2"})
    assert (await socket.receive_json_from(timeout=10))["id"] == 3
    assert (await socket.receive_json_from(timeout=10))["id"] == 4
    await socket.disconnect()


def test_the_inspection_benchmark_prints_its_ratio_to_a_bare_automaton():
    lines = bench_lines("bench_qa", "--messages", "3000", "--distinct", "300", "--extra-words", "50")

    figures = lines["qa_inspection"]
    assert float(figures["figure"]) > 0 and float(figures["floor"]) > 0
    assert float(figures["ratio"]) == pytest.approx(float(figures["figure"]) / float(figures["floor"]), abs=0.006)


@pytest.mark.django_db(transaction=True)
def test_the_campaign_benchmark_prints_its_ratio_to_a_plain_insert_select_and_leaves_nothing_behind():
    lines = bench_lines("bench_campaigns", "--customers", "300")

    (name,) = lines
    assert name.startswith("campaign_scan_300_")
    assert float(lines[name]["floor"]) > 0 and float(lines[name]["ratio"]) > 0
    assert not Shop.objects.filter(slug__startswith="bench-").exists()
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_the_answer_benchmark_prints_build_and_search_ratios_to_bm25s():
    pytest.importorskip("bm25s", reason="bm25s is the benchmark-only floor: pip install -r requirements-bench.txt")

    lines = bench_lines("bench_answers", "--cards", "60", "--questions", "30")

    assert set(lines) == {"index_build_60_cold", "search_p50_60", "search_p99_60"}
    assert all(float(figures["floor"]) > 0 for figures in lines.values())
