"""Measure the channel API end to end: shopper messages handed in by a bridge (``POST
/api/v1/channels/<id>/messages``, through the whole Django stack) until the bot's replies arrive at a real
local bridge as signed webhooks. Prints messages/s, p50/p99 from each request's start to its last reply's
arrival at the bridge, and checks that nothing was lost, repeated or out of order.

Closed loop: ``--clients`` shoppers write at once, each waiting for its replies at the bridge before its
next message. Runs against the configured database (PostgreSQL for the published figures) and leaves nothing behind: the
bench connection, its conversations and the API key are deleted at the end.
"""

import json
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection as db_connection
from django.db import connections
from django.test import override_settings
from rest_framework.test import APIClient
from tqdm import tqdm

from api.keys import issue_key
from chat.channels.base import secrets_of
from chat.channels.connections import save_connection
from chat.channels.jobs import executor
from chat.models import ChannelConnection, ChannelDelivery, Conversation, Message
from core.outbound import sign
from devtools.stats import percentile
from shops.models import Shop
from shops.quota import bot_quota_exceeded

QUESTIONS = ["包邮吗", "发什么快递", "推荐一双跑鞋", "500以内", "黑色的呢", "退货运费谁出", "几天能到", "谢谢"]


class BenchBridge:
    """A bridge on 127.0.0.1: checks signatures, records each delivery's arrival (monotonic) once."""

    def __init__(self, secret: str) -> None:
        bridge = self
        self.secret = secret
        self.lock = threading.Lock()
        self.arrivals: dict[str, tuple[float, dict]] = {}
        self.repeats = 0
        self.forged = 0
        self.arrived = threading.Condition(self.lock)
        self.per_conversation: dict[int, int] = defaultdict(int)  # messages received, by Shopbee conversation

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.monotonic()
                good = self.headers.get("X-Shopbee-Signature") == sign(
                    bridge.secret, self.headers.get("X-Shopbee-Timestamp", ""), body
                )
                with bridge.lock:
                    delivery = self.headers.get("X-Shopbee-Delivery", "")
                    if not good:
                        bridge.forged += 1
                    elif delivery in bridge.arrivals:
                        bridge.repeats += 1
                    else:
                        event = json.loads(body)
                        bridge.arrivals[delivery] = (now, event)
                        bridge.per_conversation[event["data"]["conversation"]["id"]] += 1
                        bridge.arrived.notify_all()
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bench"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, conversation_id: int, count: int, timeout: float) -> bool:
        """Until ``count`` messages of the conversation arrived; False after ``timeout`` seconds."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.per_conversation[conversation_id] >= count, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Command(BaseCommand):
    help = "Hand shopper messages to the channel API and time each one until its replies reach a local bridge."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--shop", default="swift-sports", help="slug of a shop with knowledge (load_demo)")
        parser.add_argument("--messages", type=int, default=10_000)
        parser.add_argument("--conversations", type=int, default=500, help="messages are spread over this many")
        parser.add_argument(
            "--clients", type=int, default=8, help="shoppers writing at once (each waits for its replies)"
        )

    def handle(self, *args, shop: str, messages: int, conversations: int, clients: int, **options) -> None:
        target = Shop.objects.filter(slug=shop).first()
        if target is None:
            raise CommandError(f"No shop with slug {shop!r} (run `manage.py load_demo` for the demo shops).")
        if min(messages, conversations, clients) < 1 or conversations > messages:
            raise CommandError(
                "--messages, --conversations and --clients must be at least 1, conversations <= messages."
            )
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("Run with CELERY_TASK_ALWAYS_EAGER=true: replies are sent by this process's threads.")
        if bot_quota_exceeded(target):
            raise CommandError(f"{shop} has used its bot quota this month: the bot would not answer.")
        key_row, plaintext = issue_key(target, "bench_channels", ["channels:write"])
        connection = save_connection(
            ChannelConnection(shop=target, kind=Conversation.Channel.API, name=f"bench-{time.time_ns()}"),
            {"url": "http://127.0.0.1:9/unused"},
        )
        bridge = BenchBridge(secrets_of(connection)["signing_secret"])
        connection.config["url"] = bridge.url
        connection.save(update_fields=["config"])
        try:
            self._run(connection, plaintext, bridge, messages, conversations, clients)
        finally:
            bridge.close()
            Conversation.objects.filter(connection=connection).delete()
            connection.delete()
            key_row.delete()

    def _run(self, connection, plaintext: str, bridge: BenchBridge, messages: int, conversations: int, clients: int):
        started_at: dict[int, float] = {}  # shopper message id -> when its request started
        failures: list[str] = []
        lock = threading.Lock()
        per_conversation = [messages // conversations + (n < messages % conversations) for n in range(conversations)]
        progress = tqdm(total=messages, desc="messages", unit="msg")

        def talk(conversation: int) -> None:
            """One shopper: each message waits for its replies at the bridge before the next is sent."""
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
            expected = 0
            try:
                for n in range(per_conversation[conversation]):
                    began = time.monotonic()
                    answer = client.post(
                        f"/api/v1/channels/{connection.pk}/messages",
                        {
                            "conversation_id": f"bench-{conversation}",
                            "message_id": f"bench-{conversation}-{n}",
                            "sender": f"买家{conversation}",
                            "text": QUESTIONS[(conversation + n) % len(QUESTIONS)],
                        },
                        format="json",
                    )
                    with lock:
                        if answer.status_code != 201:
                            failures.append(f"{answer.status_code} {answer.content[:200]!r}")
                            continue
                        started_at[answer.json()["message"]] = began
                    expected += answer.json()["replies"]
                    if not bridge.wait_for(answer.json()["conversation"], expected, timeout=120):
                        with lock:
                            failures.append(f"replies to bench-{conversation}-{n} missing after 120 s")
                    progress.update()
            finally:
                connections.close_all()

        # The first message loads jieba's dictionary and the shop's index: answered before the clock starts.
        warm_up = APIClient()
        warm_up.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        warm_up.post(
            f"/api/v1/channels/{connection.pk}/messages",
            {"conversation_id": "bench-warm-up", "message_id": "bench-warm-up", "text": "包邮吗"},
            format="json",
        )
        executor.wait_idle(timeout=120)
        began = time.monotonic()
        with override_settings(SHOPBEE_API_KEY_RATE="1000000/min"), ThreadPoolExecutor(clients) as pool:
            list(pool.map(talk, range(conversations)))
        handed_in = time.monotonic() - began
        progress.close()
        if not executor.wait_idle(timeout=600):
            raise CommandError("replies still being delivered after 10 minutes")
        elapsed = time.monotonic() - began
        self._report(connection, bridge, started_at, failures, handed_in, elapsed)

    def _report(self, connection, bridge, started_at, failures, handed_in: float, elapsed: float) -> None:
        deliveries = ChannelDelivery.objects.filter(connection=connection)
        sent = {f"d{pk}": message_id for pk, message_id in deliveries.values_list("pk", "message_id")}
        # Each reply answers the latest shopper message before it in its conversation.
        answered: dict[int, int] = {}
        last_shopper: dict[int, int] = {}
        rows = Message.objects.filter(conversation__connection=connection).order_by("conversation_id", "pk")
        for pk, conversation_id, sender in rows.values_list("pk", "conversation_id", "sender"):
            if sender == Message.Sender.SHOPPER:
                last_shopper[conversation_id] = pk
            elif conversation_id in last_shopper:
                answered[pk] = last_shopper[conversation_id]
        last_arrival: dict[int, float] = {}
        order: dict[int, list[int]] = defaultdict(list)
        for delivery, (arrived, event) in sorted(bridge.arrivals.items(), key=lambda item: item[1][0]):
            reply = sent.get(delivery)
            if reply is None or reply not in answered:
                continue
            order[event["data"]["conversation"]["id"]].append(reply)
            question = answered[reply]
            last_arrival[question] = max(last_arrival.get(question, 0.0), arrived)
        latencies = [(last_arrival[q] - started_at[q]) * 1000 for q in started_at if q in last_arrival]
        out_of_order = sum(ids != sorted(ids) for ids in order.values())
        lost = len(sent) - len(set(sent) & set(bridge.arrivals))
        self.stdout.write(
            f"database={db_connection.vendor} handed_in={len(started_at)} refused={len(failures)} "
            f"replies={len(sent)} delivered={len(bridge.arrivals)} lost={lost} repeated={bridge.repeats} "
            f"forged={bridge.forged} out_of_order_conversations={out_of_order}\n"
            f"messages_per_s={len(started_at) / elapsed:.0f} (handed in at {len(started_at) / handed_in:.0f}/s) "
            f"p50_ms={percentile(latencies, 0.5):.1f} p99_ms={percentile(latencies, 0.99):.1f} "
            f"max_ms={max(latencies, default=float('nan')):.1f} (request start to its last reply at the bridge)"
        )
        if failures or lost or bridge.repeats or bridge.forged or out_of_order:
            raise CommandError(f"channel delivery lost, repeated or reordered messages (first refusal: {failures[:1]})")
