"""Load test of the shopper socket: N concurrent shoppers, M questions each, against a running server.

    python manage.py loadtest_chat --url ws://127.0.0.1:8000 --shop swift-sports --clients 1000 --messages 5

Every shopper connects first (all N sockets are open at once), then asks its questions one after the
other: each is sent, acknowledged, answered, and the next goes out after the answer (and no sooner
than --interval-ms after the previous one, like a fast typist, so the per-socket rate limit is not
what is measured). Round trip is from sending a question to the first reply frame for it.
Lost: questions never acknowledged or never answered within --timeout. Duplicated: a message id
delivered twice to the same socket, or two different questions acknowledged with the same id.
"""

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

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

    def arrived(self) -> None:
        """One more shopper is connected (or gave up); the questions start when all are."""
        self.connected += 1
        if self.connected == self.clients:
            self.all_connected.set()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


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
            opening = connect(run.url, origin=run.origin, open_timeout=run.timeout, max_queue=None, ping_interval=None)
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
    """Send this shopper's questions one after the other, each after the previous one's answer."""
    last_sent = 0.0
    asked = 0
    try:
        for index in range(run.messages):
            await asyncio.sleep(max(0.0, last_sent + run.interval - time.perf_counter()))
            client_msg_id = f"load-{number}-{index}"
            text = run.questions[(number + index) % len(run.questions)]
            last_sent = time.perf_counter()
            await socket.send(json.dumps({"type": "message", "text": text, "client_msg_id": client_msg_id}))
            acked = answered = False
            deadline = last_sent + run.timeout
            while not answered:
                try:
                    left = max(0.001, deadline - time.perf_counter())
                    frame = json.loads(await asyncio.wait_for(socket.recv(), left))
                except TimeoutError:
                    break
                if frame["type"] == "ack" and frame["client_msg_id"] == client_msg_id:
                    acked = True
                    if acked_ids.setdefault(frame["id"], client_msg_id) != client_msg_id:
                        result.duplicated += 1
                elif frame["type"] == "message":
                    if frame["id"] in seen_ids:
                        result.duplicated += 1
                        continue
                    seen_ids.add(frame["id"])
                    result.replies += 1
                    if acked:
                        answered = True
                        result.round_trips.append(time.perf_counter() - last_sent)
                elif frame["type"] == "error":
                    result.error = f"{frame['code']}: {frame['message']}"
                    break
            result.acked += acked
            result.lost += not (acked and answered)
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
                result.duplicated += frame["id"] in seen_ids
                result.replies += frame["id"] not in seen_ids
                seen_ids.add(frame["id"])
    except TimeoutError:
        pass


class Command(BaseCommand):
    help = "Open N shopper sockets to a running Shopbee server, ask M questions on each, print the figures."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="ws://127.0.0.1:8000", help="server base URL (ws:// or wss://)")
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--clients", type=int, default=100, help="concurrent shopper sockets")
        parser.add_argument("--messages", type=int, default=5, help="questions per socket")
        parser.add_argument("--interval-ms", type=float, default=250, help="least time between two questions")
        parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for a connect or a reply")
        parser.add_argument("--connect-concurrency", type=int, default=50, help="handshakes in flight at once")
        parser.add_argument("--questions", type=Path, help="a file with one question per line")
        parser.add_argument("--server-pid", type=int, action="append", default=[], help="report this PID's memory")

    def handle(self, *args, **options):
        if options["clients"] < 1 or options["messages"] < 1:
            raise CommandError("--clients and --messages must be at least 1")
        base = options["url"].rstrip("/")
        if not base.startswith(("ws://", "wss://")):
            raise CommandError("--url must start with ws:// or wss://")
        questions = self.questions(options["shop"], options["questions"])
        origin = base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        total = options["clients"] * options["messages"]
        memory_before = {pid: rss_mb(pid) for pid in options["server_pid"]}
        with tqdm(total=total, desc="questions", unit="q", disable=None) as progress:
            results, elapsed = asyncio.run(self.run(base, origin, questions, options, progress))
        self.report(results, elapsed, options, memory_before)

    def questions(self, shop: str, path: Path | None) -> list[str]:
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

    async def run(self, base: str, origin: str, questions: list[str], options: dict, progress: tqdm):
        run = Run(
            url=f"{base}/ws/chat/{options['shop']}/",
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
        await run.all_connected.wait()
        started = time.perf_counter()
        results = await asyncio.gather(*tasks)
        finished = max((r.finished_at for r in results), default=started)
        return results, max(finished - started, 1e-9)

    def report(self, results: list[ClientResult], elapsed: float, options: dict, memory_before: dict) -> None:
        failed = [r.error for r in results if r.error]
        if failed and all(r.acked == 0 for r in results):
            raise CommandError(f"no question got through: {failed[0]}")
        round_trips = [t * 1000 for r in results for t in r.round_trips]
        replies = sum(r.replies for r in results)
        lost = sum(r.lost for r in results)
        duplicated = sum(r.duplicated for r in results)
        sent = options["clients"] * options["messages"]
        write = self.stdout.write
        write(
            f"clients={options['clients']} questions={sent} acked={sum(r.acked for r in results)} "
            f"replies={replies} elapsed_s={elapsed:.2f} client_errors={len(failed)}"
        )
        if failed:
            write(f"first client error: {failed[0]}")
        if round_trips:
            write(
                f"round trip ms: p50={percentile(round_trips, 0.5):.1f} p90={percentile(round_trips, 0.9):.1f} "
                f"p99={percentile(round_trips, 0.99):.1f} max={max(round_trips):.1f} "
                f"mean={statistics.fmean(round_trips):.1f}"
            )
        for pid, before in memory_before.items():
            after = rss_mb(pid)
            if before is not None and after is not None:
                write(f"server pid {pid} RSS MB: before={before:.0f} after={after:.0f}")
        write(
            f"replies_per_s={replies / elapsed:.1f} p99_ms={percentile(round_trips, 0.99):.1f} "
            f"lost={lost} dup={duplicated}"
        )
