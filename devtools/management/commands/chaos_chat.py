"""Reliability benchmark of the shopper socket: shoppers keep chatting while the server is killed.

    python manage.py chaos_chat --shop swift-sports --clients 20 --duration 60 --kill-every 5

Starts the ASGI server itself (uvicorn on a free port of 127.0.0.1, as a child process with this process's
environment, so the same settings and database), then N shoppers chat over real WebSockets the way the chat
page does: every message carries a client_msg_id, a shopper asks its next question once the previous one is
answered, and after a dropped connection it reconnects (0.2 s, doubling to 2 s) with ``?visitor=&since=`` and
sends again whatever was not acknowledged. Every --kill-every seconds the server gets SIGKILL (no goodbye, no
flush) and is started again at once. After --duration no new questions are asked and the server is left
alone until every shopper has its answers (at most --timeout seconds).

Then the database is read: lost = acknowledged messages not stored under their id and client_msg_id;
dup = one client_msg_id stored twice, acknowledged with two ids, or a message delivered twice to a shopper;
unacked = questions never acknowledged by the end. The longest wait is from a question's first send to its
first reply (restarts included). The goal is lost=0 dup=0 unacked=0.

In production mode (PostgreSQL and Redis on this machine), ``--pause-services SECONDS`` also takes turns
with the kills: the PostgreSQL server's processes are stopped (SIGSTOP) for that long and continued, and Redis
is made to sleep (``DEBUG SLEEP``) as long. Both stall every other user of those servers meanwhile: run it on
a machine of its own.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.models import Count
from tqdm import tqdm
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from chat.models import Message
from devtools.management.commands.loadtest_chat import shop_questions
from devtools.stats import percentile

HOST = "127.0.0.1"
RECONNECT_FIRST, RECONNECT_MAX = 0.2, 2.0


@dataclass
class Question:
    client_msg_id: str
    text: str
    first_sent: float
    ack_ids: set[int] = field(default_factory=set)
    answered_at: float | None = None

    @property
    def ack_id(self) -> int | None:
        return min(self.ack_ids) if self.ack_ids else None


@dataclass
class Shopper:
    number: int
    visitor: str = ""
    last_id: int = 0
    seen: set[int] = field(default_factory=set)
    questions: list[Question] = field(default_factory=list)
    delivered_twice: int = 0
    reconnects: int = 0
    backoff: float = RECONNECT_FIRST
    error: str = ""

    @property
    def current(self) -> Question | None:
        return self.questions[-1] if self.questions else None

    def url(self, base: str) -> str:
        query = {"visitor": self.visitor, "since": self.last_id or ""}
        return f"{base}?{urlencode({k: v for k, v in query.items() if v})}"

    def receive(self, frame: dict, now: float) -> None:
        """What the chat page does with a frame: match acks to what it waits on, show each message once."""
        question = self.current
        if frame["type"] == "ack":
            if question is not None and frame["client_msg_id"] == question.client_msg_id:
                question.ack_ids.add(frame["id"])
            self._saw(frame["id"])
        elif frame["type"] == "message":
            if frame["id"] in self.seen:
                self.delivered_twice += 1
                return
            self._saw(frame["id"])
            if question is None:
                return
            if frame.get("client_msg_id") == question.client_msg_id:
                question.ack_ids.add(frame["id"])  # stored before the connection dropped: its ack was lost
            elif frame["sender"] != "shopper" and question.ack_id is not None and frame["id"] > question.ack_id:
                question.answered_at = question.answered_at or now
        elif frame["type"] == "error" and frame["code"] != "rate_limited":
            self.error = self.error or f"{frame['code']}: {frame['message']}"

    def _saw(self, message_id: int) -> None:
        self.seen.add(message_id)
        self.last_id = max(self.last_id, message_id)


@dataclass
class Run:
    url: str
    origin: str
    questions: list[str]
    interval: float
    prefix: str
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


async def chat(run: Run, shopper: Shopper) -> None:
    """Ask questions until the run stops, over as many connections as it takes."""
    while not (run.stopping.is_set() and (shopper.current is None or shopper.current.answered_at is not None)):
        try:
            async with connect(
                shopper.url(run.url), origin=Origin(run.origin), open_timeout=5, ping_interval=None, max_queue=None
            ) as websocket:
                await converse(run, shopper, websocket)
        except (OSError, TimeoutError, ConnectionClosed):
            shopper.reconnects += 1
            await asyncio.sleep(shopper.backoff)
            shopper.backoff = min(shopper.backoff * 2, RECONNECT_MAX)


async def converse(run: Run, shopper: Shopper, websocket) -> None:
    """One connection: the welcome, the unacknowledged question again, then question after question."""
    welcome = json.loads(await asyncio.wait_for(websocket.recv(), 10))
    if welcome["type"] != "welcome":
        raise CommandError(f"refused: {welcome.get('code')} {welcome.get('message', '')}")
    shopper.backoff = RECONNECT_FIRST
    shopper.visitor = welcome["visitor"]
    for frame in welcome["messages"]:
        shopper.receive(frame, time.monotonic())
    while True:
        question = shopper.current
        if question is None or question.answered_at is not None:
            if not await next_question(run, shopper):
                return
            question = shopper.current
            assert question is not None, "next_question() set the shopper's next question"
        if question.ack_id is None:
            payload = {"type": "message", "text": question.text, "client_msg_id": question.client_msg_id}
            await websocket.send(json.dumps(payload, ensure_ascii=False))
        while question.answered_at is None:
            try:
                frame = json.loads(await asyncio.wait_for(websocket.recv(), 1))
            except TimeoutError:
                continue
            shopper.receive(frame, time.monotonic())
            if frame["type"] == "error" and frame.get("client_msg_id") == question.client_msg_id:
                await asyncio.sleep(1)  # rate_limited (or refused): sent again, as the shopper would
                break


async def next_question(run: Run, shopper: Shopper) -> bool:
    """After a pause, the shopper's next question; False once the run stops."""
    if shopper.current is not None:
        await sleep_unless(run.stopping, run.interval)
    if run.stopping.is_set():
        return False
    number = len(shopper.questions)
    text = run.questions[(shopper.number + number) % len(run.questions)]
    shopper.questions.append(Question(f"{run.prefix}-{shopper.number}-{number}", text, time.monotonic()))
    return True


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """uvicorn serving config.asgi in a child process with this process's environment."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.process: subprocess.Popen | None = None
        self.boot_times: list[float] = []

    async def start(self) -> None:
        command = [
            sys.executable,
            *("-m", "uvicorn", "config.asgi:application", "--host", HOST, "--port", str(self.port)),
            *("--ws-per-message-deflate", "false", "--lifespan", "off", "--log-level", "warning"),
        ]
        started = time.monotonic()
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=log, stderr=log)
        while True:
            if self.process.poll() is not None:
                raise CommandError(f"the server exited with {self.process.returncode}; see {self.log}")
            try:
                _reader, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            self.boot_times.append(time.monotonic() - started)
            return

    async def kill(self) -> None:
        process = self.process
        assert process is not None, "the server was started"
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(asyncio.to_thread(self.process.wait), 10)
            except TimeoutError:
                await self.kill()


class Services:
    """Pauses of the local PostgreSQL and Redis servers, the outages a production setup must ride out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.pauses = 0

    @staticmethod
    def check() -> str:
        """Why the services cannot be paused here ("" when they can)."""
        database = settings.DATABASES["default"]
        if "postgresql" not in database["ENGINE"] or database.get("HOST") not in ("127.0.0.1", "localhost", "", None):
            return "--pause-services needs PostgreSQL on this machine (DATABASE_URL)"
        if not settings.REDIS_URL:
            return "--pause-services needs Redis (REDIS_URL)"
        return ""

    async def pause_database(self) -> None:
        pids = [
            int(pid)
            for pid in subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
        ]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
        self.pauses += 1

    async def pause_redis(self) -> None:
        sleeping = await asyncio.create_subprocess_exec(
            "redis-cli", "-u", settings.REDIS_URL, "DEBUG", "SLEEP", str(self.seconds), stdout=subprocess.DEVNULL
        )
        await sleeping.wait()
        self.pauses += 1


class Command(BaseCommand):
    help = "Chat over real sockets while the server is killed and restarted; print messages lost and duplicated."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--clients", type=int, default=20, help="concurrent shoppers")
        parser.add_argument("--duration", type=float, default=60, help="seconds of questions (and kills)")
        parser.add_argument("--kill-every", type=float, default=5, help="seconds between two SIGKILLs of the server")
        parser.add_argument("--interval-ms", type=float, default=1000, help="pause of a shopper after an answer")
        parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the last answers")
        parser.add_argument("--server-log", type=Path, help="where the server writes (default: a temporary file)")
        parser.add_argument(
            "--pause-services",
            type=float,
            metavar="SECONDS",
            help="also pause PostgreSQL and Redis this long, in turn with the kills (production mode only)",
        )

    def handle(self, *args, **options):
        for name in ("clients", "duration", "kill_every", "timeout"):
            if not options[name] > 0:
                raise CommandError(f"--{name.replace('_', '-')} must be positive")
        if not options["interval_ms"] >= 0:
            raise CommandError("--interval-ms must be 0 or positive")
        services = None
        if options["pause_services"] is not None:
            if not options["pause_services"] > 0:
                raise CommandError("--pause-services must be positive")
            if problem := Services.check():
                raise CommandError(problem)
            services = Services(options["pause_services"])
        questions = shop_questions(options["shop"])
        connections.close_all()  # the server processes have the database to themselves until the end
        log = options["server_log"] or Path(tempfile.mkstemp(prefix="chaos-server-", suffix=".log")[1])
        self.stdout.write(f"server log: {log}")
        server = Server(free_port(), log)
        run = Run(
            url=f"ws://{HOST}:{server.port}/ws/chat/{options['shop']}/",
            origin=f"http://{HOST}:{server.port}",
            questions=questions,
            interval=options["interval_ms"] / 1000,
            prefix=f"chaos-{uuid.uuid4().hex[:8]}",
        )
        shoppers = [Shopper(number) for number in range(options["clients"])]
        kills, elapsed = asyncio.run(self.run(run, server, shoppers, options, services))
        self.report(run, shoppers, kills, elapsed, server)
        if services is not None:
            self.stdout.write(f"service pauses: {services.pauses} of {services.seconds:g} s")

    async def run(
        self, run: Run, server: Server, shoppers: list[Shopper], options: dict, services: Services | None
    ) -> tuple[int, float]:
        await server.start()
        kills = events = 0
        started = time.monotonic()
        tasks = [asyncio.create_task(chat(run, shopper)) for shopper in shoppers]
        try:
            with tqdm(total=round(options["duration"]), unit="s", desc="chaos", disable=None) as progress:
                next_kill = started + options["kill_every"]
                while (now := time.monotonic()) < started + options["duration"]:
                    await asyncio.sleep(min(1.0, max(0.0, next_kill - now)))
                    if time.monotonic() >= next_kill and time.monotonic() < started + options["duration"]:
                        # In turn: a kill of the server, then (production mode) a database pause, a Redis pause.
                        turn = events % 3
                        events += 1
                        if services is not None and turn == 1:
                            await services.pause_database()
                        elif services is not None and turn == 2:
                            await services.pause_redis()
                        else:
                            await server.kill()
                            kills += 1
                            await server.start()
                        next_kill = time.monotonic() + options["kill_every"]
                    progress.n = min(progress.total, round(time.monotonic() - started))
                    acked = sum(1 for s in shoppers for q in s.questions if q.ack_id is not None)
                    progress.set_postfix(kills=kills, acked=acked, refresh=True)
            run.stopping.set()
            _done, pending = await asyncio.wait(tasks, timeout=options["timeout"])
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await server.stop()
        return kills, time.monotonic() - started

    def report(self, run: Run, shoppers: list[Shopper], kills: int, elapsed: float, server: Server) -> None:
        questions = [q for s in shoppers for q in s.questions]
        acked = [q for q in questions if q.ack_id is not None]
        stored = {
            m["pk"]: m["client_msg_id"]
            for m in Message.objects.filter(pk__in=[q.ack_id for q in acked], sender=Message.Sender.SHOPPER).values(
                "pk", "client_msg_id"
            )
        }
        lost = sum(1 for q in acked if q.ack_id is None or stored.get(q.ack_id) != q.client_msg_id)
        stored_twice = sum(
            row["copies"] - 1
            for row in Message.objects.filter(client_msg_id__startswith=f"{run.prefix}-")
            .values("client_msg_id")
            .annotate(copies=Count("pk"))
            .filter(copies__gt=1)
        )
        acked_twice = sum(len(q.ack_ids) - 1 for q in acked)
        delivered_twice = sum(s.delivered_twice for s in shoppers)
        end = time.monotonic()
        waits = [(q.answered_at or end) - q.first_sent for q in questions]
        errors = [s.error for s in shoppers if s.error]
        write = self.stdout.write
        write(
            f"clients={len(shoppers)} elapsed_s={elapsed:.1f} kills={kills} questions={len(questions)} "
            f"acked={len(acked)} answered={sum(q.answered_at is not None for q in questions)} "
            f"reconnects={sum(s.reconnects for s in shoppers)} client_errors={len(errors)}"
        )
        if errors:
            write(f"first client error: {errors[0]}")
        if server.boot_times:
            boots = server.boot_times
            write(f"server start s: mean={sum(boots) / len(boots):.2f} max={max(boots):.2f} starts={len(boots)}")
        write(f"duplicates: stored_twice={stored_twice} acked_twice={acked_twice} delivered_twice={delivered_twice}")
        write(f"wait for an answer s: p50={percentile(waits, 0.5):.2f} p99={percentile(waits, 0.99):.2f}")
        write(
            f"lost={lost} dup={stored_twice + acked_twice + delivered_twice} "
            f"unacked={len(questions) - len(acked)} longest_wait_s={max(waits, default=0):.2f}"
        )
