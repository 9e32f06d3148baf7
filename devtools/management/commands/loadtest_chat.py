"""Load test of the shopper socket: N concurrent shoppers, M questions each, against a running server.

    python manage.py loadtest_chat --url ws://127.0.0.1:8000 --shop swift-sports --clients 1000 --messages 5

Every shopper connects first (all N sockets are open at once), then asks its questions at a steady
pace: shopper i's k-th question is scheduled at ``start + i*interval/N + k*interval`` (--interval-ms,
default 2000), so the schedules are spread evenly over the first interval and the offered load is a
steady N/interval questions per second (1,000 shoppers every 2 s: 500/s), not a burst of N at once.
A shopper never asks before it has the previous answer: when an answer comes late, the next question
goes out the moment it arrives.

Round trip is from a question's *scheduled* time to the first reply frame for it, not from when it
was actually sent: a server that falls behind delays the questions after a late answer, and timing
those from their late send would hide exactly the waiting a steady stream of shoppers sees
("coordinated omission"). So falling behind shows up in p99.

``--interval-ms 0`` is the closed-loop mode for the maximum throughput: everyone asks at once, then
each next question right after the answer, and the round trip is from the actual send. The server's
rate limits (core.limits: 5 messages a second per socket, 50 per shop, 30 per address, 120 new sockets
a minute per address by default) apply to every run from one machine to one shop: start the server with
them raised (LIMITS=..., docs/chat.md "Load test"), or refused questions count as lost.

``--floor`` runs the same test again right after against the server's bare echo socket (devtools.consumers,
served when the server runs with BENCH_ECHO=true) and prints ``ratio=`` lines: replies per second over the
echo's, and (with --server-pid) the server's CPU per answered question over the echo's CPU per reply.

replies_per_s counts reply frames from the first scheduled question to the last reply received.
Lost: questions never acknowledged or never answered within --timeout of being sent. Duplicated: a
message id delivered twice to the same socket, or two different questions acknowledged with the same id.
"""

import asyncio
import json
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from devtools.stats import percentile

# Used when the shop has no FAQ cards in this database: questions every shop is asked.
COMMON_QUESTIONS = [
    "什么时候发货",
    "包邮吗",
    "可以开发票吗",
    "支持七天无理由退货吗",
    "用什么快递",
    "有优惠券吗",
    "怎么退换货",
    "几天能到",
]


@dataclass
class ClientResult:
    round_trips: list[float] = field(default_factory=list)
    replies: int = 0
    acked: int = 0
    lost: int = 0
    duplicated: int = 0
    error: str = ""
    finished_at: float = 0.0
    last_reply_at: float = 0.0


@dataclass
class Run:
    url: str
    origin: str
    questions: list[str]
    messages: int
    interval: float
    timeout: float
    progress: tqdm
    all_connected: asyncio.Event
    connected: int = 0
    clients: int = 0
    start: float = 0.0

    def arrived(self) -> None:
        """One more shopper is connected (or gave up); the questions start when all are."""
        self.connected += 1
        if self.connected == self.clients:
            self.start = time.perf_counter()
            self.all_connected.set()

    def scheduled(self, number: int, index: int) -> float:
        """When shopper ``number`` is to ask its ``index``-th question (paced mode, interval > 0)."""
        return self.start + number * self.interval / self.clients + index * self.interval


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU seconds the processes have used so far (Linux /proc); None if one cannot be read."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime and stime, fields 14 and 15
    return total


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def shopper(run: Run, number: int, connect_slots: asyncio.Semaphore) -> ClientResult:
    result = ClientResult()
    seen_ids: set[int] = set()
    acked_ids: dict[int, str] = {}
    try:
        async with connect_slots:
            # No client pings: an overloaded server must show up as slow answers, not as dropped sockets.
            opening = connect(
                run.url, origin=Origin(run.origin), open_timeout=run.timeout, max_queue=None, ping_interval=None
            )
            socket = await asyncio.wait_for(opening, run.timeout)
        welcome = json.loads(await asyncio.wait_for(socket.recv(), run.timeout))
        if welcome.get("type") != "welcome":
            await socket.close()
            raise ValueError(f"refused: {welcome.get('code')} {welcome.get('message', '')}")
    except (OSError, TimeoutError, ValueError, ConnectionClosed) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        result.lost = run.messages
        run.progress.update(run.messages)
        run.arrived()
        return result
    run.arrived()
    await run.all_connected.wait()
    try:
        async with socket:
            await ask(run, number, socket, result, seen_ids, acked_ids)
    except ConnectionClosed as exc:
        result.error = f"connection closed: {exc}"
    return result


async def ask(run: Run, number: int, socket, result: ClientResult, seen_ids: set[int], acked_ids: dict) -> None:
    """Ask this shopper's questions on schedule, each no sooner than the previous one's answer."""
    asked = 0
    try:
        for index in range(run.messages):
            if run.interval > 0:
                due = run.scheduled(number, index)
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            else:
                due = time.perf_counter()
            client_msg_id = f"load-{number}-{index}"
            text = run.questions[(number + index) % len(run.questions)]
            await socket.send(json.dumps({"type": "message", "text": text, "client_msg_id": client_msg_id}))
            deadline = time.perf_counter() + run.timeout
            ack_id = None
            answered = False
            while not answered:
                try:
                    left = max(0.001, deadline - time.perf_counter())
                    frame = json.loads(await asyncio.wait_for(socket.recv(), left))
                except TimeoutError:
                    break
                now = time.perf_counter()
                if frame["type"] == "ack" and frame["client_msg_id"] == client_msg_id:
                    ack_id = frame["id"]
                    if acked_ids.setdefault(ack_id, client_msg_id) != client_msg_id:
                        result.duplicated += 1
                elif frame["type"] == "message":
                    if frame["id"] in seen_ids:
                        result.duplicated += 1
                        continue
                    seen_ids.add(frame["id"])
                    result.replies += 1
                    result.last_reply_at = now
                    # The server answers a socket's questions in order, so the answer to this one has a
                    # larger id than its ack; a late reply to an earlier question does not count for it.
                    if ack_id is not None and frame["id"] > ack_id:
                        answered = True
                        result.round_trips.append(now - due)
                elif frame["type"] == "error":
                    result.error = f"{frame['code']}: {frame['message']}"
                    break
            result.acked += ack_id is not None
            result.lost += not answered
            asked += 1
            run.progress.update(1)
    finally:
        # Questions a closed connection kept us from asking are lost too.
        result.lost += run.messages - asked
        run.progress.update(run.messages - asked)
        result.finished_at = time.perf_counter()
    # Late replies (a second answer to the last question) still count; duplicates too.
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), 0.2))
            if frame["type"] == "message":
                if frame["id"] in seen_ids:
                    result.duplicated += 1
                else:
                    result.replies += 1
                    result.last_reply_at = time.perf_counter()
                seen_ids.add(frame["id"])
    except TimeoutError:
        pass


def shop_questions(shop: str, path: Path | None = None) -> list[str]:
    """The questions to ask: the lines of ``path``, else the shop's FAQ questions, else common ones."""
    if path is not None:
        try:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        questions = [line for line in lines if line]
        if not questions:
            raise CommandError(f"{path} holds no questions")
        return questions
    from knowledge.models import FAQCard

    cards = FAQCard.objects.filter(shop__slug=shop, enabled=True).order_by("pk")
    return list(cards.values_list("question", flat=True)[:200]) or COMMON_QUESTIONS


class Command(BaseCommand):
    help = "Open N shopper sockets to a running Shopbee server, ask M questions on each, print the figures."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="ws://127.0.0.1:8000", help="server base URL (ws:// or wss://)")
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--clients", type=int, default=100, help="concurrent shopper sockets")
        parser.add_argument("--messages", type=int, default=5, help="questions per socket")
        parser.add_argument(
            "--interval-ms",
            type=float,
            default=2000,
            help="how often each shopper asks (offered load: clients/interval); 0: next question right after "
            "the answer, for the maximum throughput",
        )
        parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for a connect or a reply")
        parser.add_argument("--connect-concurrency", type=int, default=50, help="handshakes in flight at once")
        parser.add_argument("--questions", type=Path, help="a file with one question per line")
        parser.add_argument(
            "--server-pid", type=int, action="append", default=[], help="report this PID's memory and CPU time"
        )
        parser.add_argument(
            "--floor",
            action="store_true",
            help="then run the same test on the server's echo socket (BENCH_ECHO=true) and print the ratios",
        )

    def handle(self, *args, **options):
        if options["clients"] < 1 or options["messages"] < 1:
            raise CommandError("--clients and --messages must be at least 1")
        if not math.isfinite(options["interval_ms"]) or options["interval_ms"] < 0:
            raise CommandError("--interval-ms must be 0 (as fast as answers come) or a positive number")
        if not math.isfinite(options["timeout"]) or options["timeout"] <= 0:
            raise CommandError("--timeout must be a positive number of seconds")
        if options["connect_concurrency"] < 1:
            raise CommandError("--connect-concurrency must be at least 1")
        base = options["url"].rstrip("/")
        if not base.startswith(("ws://", "wss://")):
            raise CommandError("--url must start with ws:// or wss://")
        questions = shop_questions(options["shop"], options["questions"])
        self.warn_of_holdout(options["shop"])
        origin = base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        memory_before = {pid: rss_mb(pid) for pid in options["server_pid"]}
        shop_path = f"/ws/chat/{options['shop']}/"
        replies_per_s, cpu = self.measure(base + shop_path, origin, questions, options, "questions")
        self.report_memory(memory_before)
        if not options["floor"]:
            return
        self.stdout.write("floor: the same test on the bare echo socket of the same server")
        echo_per_s, echo_cpu = self.measure(base + "/ws/bench/echo/", origin, questions, options, "echo floor")
        clients = options["clients"]
        self.stdout.write(
            f"bench chat_replies_per_s_{clients} figure={replies_per_s:.1f} floor={echo_per_s:.1f} unit=replies/s "
            f"ratio={replies_per_s / echo_per_s:.2f} goal>=0.3"
        )
        if cpu is not None and echo_cpu is not None:
            self.stdout.write(
                f"bench chat_cpu_per_reply_{clients} figure={cpu:.2f} floor={echo_cpu:.2f} unit=ms_cpu "
                f"ratio={cpu / echo_cpu:.2f} goal<=2.5"
            )

    def measure(
        self, url: str, origin: str, questions: list[str], options: dict, desc: str
    ) -> tuple[float, float | None]:
        """One run against ``url``: its report printed; replies per second and the server's CPU ms per reply."""
        total = options["clients"] * options["messages"]
        cpu_before = cpu_seconds(options["server_pid"]) if options["server_pid"] else None
        with tqdm(total=total, desc=desc, unit="q", disable=None) as progress:
            results, elapsed = asyncio.run(self.run(url, origin, questions, options, progress))
        cpu_after = cpu_seconds(options["server_pid"]) if options["server_pid"] else None
        replies = self.report(results, elapsed, options)
        cpu = None
        if cpu_before is not None and cpu_after is not None and replies:
            cpu = (cpu_after - cpu_before) * 1000 / replies
            self.stdout.write(f"server CPU per reply: {cpu:.2f} ms")
        return replies / elapsed, cpu

    def report_memory(self, memory_before: dict) -> None:
        for pid, before in memory_before.items():
            after = rss_mb(pid)
            if before is not None and after is not None:
                self.stdout.write(f"server pid {pid} RSS MB: before={before:.0f} after={after:.0f}")

    async def run(self, url: str, origin: str, questions: list[str], options: dict, progress: tqdm):
        run = Run(
            url=url,
            origin=origin,
            questions=questions,
            messages=options["messages"],
            interval=options["interval_ms"] / 1000,
            timeout=options["timeout"],
            progress=progress,
            all_connected=asyncio.Event(),
            clients=options["clients"],
        )
        slots = asyncio.Semaphore(options["connect_concurrency"])
        tasks = [asyncio.create_task(shopper(run, n, slots)) for n in range(options["clients"])]
        results = await asyncio.gather(*tasks)
        # From the first scheduled question to the last reply (or, with no reply at all, the last give-up).
        finished = max((r.last_reply_at for r in results), default=0.0) or max(r.finished_at for r in results)
        return results, max(finished - run.start, 1e-9)

    def warn_of_holdout(self, shop: str) -> None:
        """A shop running a bot holdout sends a share of new shoppers to the agents: their questions get no bot
        answer and count as lost here. Said before the run (when this database knows the shop)."""
        from chat.models import MeasurementPolicy

        percent = (
            MeasurementPolicy.objects.filter(shop__slug=shop).values_list("bot_holdout_percent", flat=True).first()
        )
        if percent:
            self.stderr.write(
                f"note: {shop} runs a {percent}% bot holdout: those shoppers get no bot answers and count as lost"
            )

    def report(self, results: list[ClientResult], elapsed: float, options: dict) -> int:
        """Print the run's figures; the number of replies."""
        failed = [r.error for r in results if r.error]
        if failed and all(r.acked == 0 for r in results):
            raise CommandError(f"no question got through: {failed[0]}")
        round_trips = [t * 1000 for r in results for t in r.round_trips]
        replies = sum(r.replies for r in results)
        lost = sum(r.lost for r in results)
        duplicated = sum(r.duplicated for r in results)
        sent = options["clients"] * options["messages"]
        interval = options["interval_ms"] / 1000
        offered = f"{options['clients'] / interval:.1f}" if interval > 0 else "max"
        write = self.stdout.write
        write(
            f"clients={options['clients']} questions={sent} offered_per_s={offered} "
            f"acked={sum(r.acked for r in results)} replies={replies} elapsed_s={elapsed:.2f} "
            f"client_errors={len(failed)}"
        )
        if failed:
            write(f"first client error: {failed[0]}")
        if round_trips:
            write(
                f"round trip ms: p50={percentile(round_trips, 0.5):.1f} p90={percentile(round_trips, 0.9):.1f} "
                f"p99={percentile(round_trips, 0.99):.1f} max={max(round_trips):.1f} "
                f"mean={statistics.fmean(round_trips):.1f}"
            )
        write(
            f"replies_per_s={replies / elapsed:.1f} p99_ms={percentile(round_trips, 0.99):.1f} "
            f"lost={lost} dup={duplicated}"
        )
        return replies
