"""Benchmark: N shoppers asking for a human at the same instant against M online agents of capacity C.

On PostgreSQL only (its row and advisory locks are what assignment relies on; SQLite serialises every
writer). A throwaway shop gets M agents with a live console, switched online, under the chosen rule, and N
conversations with the bot. Shopper workers then all call ``request_handoff`` at once, each for its share of
the shoppers in turn, through an outbox whose events it sends once the call returns, as the shopper's socket
does; agent workers close each chat their agents are given (after ``--serve-ms``), freeing the slot for the
head of the queue, until every conversation has been assigned. Each worker is a process with one database
connection, as each ASGI process runs its database work on one thread (threads of one process would time
Python's interpreter lock: a thread back from the database waits for the others' CPU turns). A watcher
polls (every 5 ms) for conversations whose assignment is committed, i.e. what an agent's console can load:
the "客服 X 为您服务" notice is stored in the same transaction. Printed: the time from each shopper's own
request (the moment its ``request_handoff`` call starts) to that commit being seen, p50/p99/max, for those
served at once and for all; the same from the common start; the throughput; the database queries per
hand-off (the shopper workers' statements: the request and the assignment passes it ran; the agents'
closing and their passes apart); and the checks: every conversation assigned exactly once, no agent ever
over capacity.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopbee DEBUG=true \\
        python manage.py bench_assignment --shoppers 200 --agents 20 --capacity 5
"""

import multiprocessing
import queue
import secrets
import threading
import time
from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from chat import services
from chat.messaging import Outbox, post_message, publish
from chat.models import AgentSeat, Conversation, Message, ServiceDesk
from devtools.stats import percentile
from shops.models import Membership, Shop

SERVING = "为您服务"


def _greetings(shop_id: int):
    return Message.objects.filter(shop_id=shop_id, sender=Message.Sender.SYSTEM, text__contains=SERVING)


class QueryCount:
    """Counts the statements a connection runs (an execute wrapper: nothing is recorded but the count)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def _child(results, work, argument, start_barrier, done) -> None:
    """A worker process: runs ``work`` on its own connection and reports what it measured (or its error)."""
    counter = QueryCount()
    try:
        with connections["default"].execute_wrapper(counter):
            kind, payload = work(argument, start_barrier, done)
        results.put((kind, {**payload, "queries": counter.n}))
    except BaseException as error:  # the parent reports it and fails the run
        done.set()
        results.put(("error", repr(error)))
    finally:
        connections.close_all()


def _ask(conversation_ids, start_barrier, done):
    """A shopper worker: asks for a human in each of its conversations in turn, from the common start."""
    conversations = list(Conversation.objects.filter(pk__in=conversation_ids).order_by("pk"))
    asked: dict[int, float] = {}
    start_barrier.wait()
    for conversation in conversations:
        asked[conversation.pk] = time.time()
        outbox = Outbox()  # as the shopper's socket does: the events go out once the call returns
        services.request_handoff(conversation, "requested", outbox=outbox)
        publish(outbox)
    return "ask", {"asked": asked}


def _close(argument, _start_barrier, done):
    """An agent worker: its agents close every chat they are given (after ``serve_ms``) until the run ends."""
    shop_id, agent_ids, serve_ms = argument
    mine = {agent.pk: agent for agent in get_user_model().objects.filter(pk__in=agent_ids)}
    peak: Counter[int] = Counter()  # the most chats each agent was seen holding
    while not done.is_set():
        held = list(
            Conversation.objects.filter(
                shop_id=shop_id, status=Conversation.Status.AGENT, assigned_agent__in=list(mine)
            ).values_list("pk", "assigned_agent_id")
        )
        for agent_id, count in Counter(a for _pk, a in held).items():
            peak[agent_id] = max(peak[agent_id], count)
        if not held:
            time.sleep(0.01)
            continue
        if serve_ms:
            time.sleep(serve_ms / 1000)
        for pk, agent_id in held:
            outbox = Outbox()
            services.close_held_conversation(mine[agent_id], pk, outbox=outbox)
            publish(outbox)
    return "close", {"peak": dict(peak)}


def _watch(shop_id: int, total: int, seen: dict[int, float], done) -> None:
    # A shop's notices are written under its desk lock, one transaction at a time, so they commit in the
    # order of their ids: reading past the last id seen misses none.
    last = 0
    try:
        while len(seen) < total and not done.is_set():
            fresh = list(_greetings(shop_id).filter(pk__gt=last).values_list("pk", "conversation_id"))
            now = time.time()
            for pk, conversation_id in fresh:
                seen.setdefault(conversation_id, now)
                last = max(last, pk)
            time.sleep(0.005)
    finally:
        connections.close_all()


class Command(BaseCommand):
    help = "N shoppers asking for a human at once against M agents of capacity C (PostgreSQL): p50/p99 to assignment"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--shoppers", type=int, default=200)
        parser.add_argument("--agents", type=int, default=20)
        parser.add_argument("--capacity", type=int, default=5)
        parser.add_argument(
            "--rule", choices=[ServiceDesk.Rule.ROUND_ROBIN, ServiceDesk.Rule.LEAST_BUSY], default="round_robin"
        )
        parser.add_argument("--workers", type=int, default=4, help="shopper processes asking at once")
        parser.add_argument("--agent-workers", type=int, default=2, help="processes closing the agents' chats")
        parser.add_argument("--serve-ms", type=float, default=0.0, help="how long an agent keeps each chat")
        parser.add_argument("--timeout", type=float, default=120.0)
        parser.add_argument("--keep", action="store_true", help="keep the benchmark shop afterwards")

    def handle(self, *args, **options) -> None:
        for name in ("shoppers", "agents", "capacity", "workers", "agent_workers"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if options["capacity"] > 50:
            raise CommandError("--capacity must be at most 50 (an agent's maximum)")
        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            raise CommandError("bench_assignment needs PostgreSQL: set DATABASE_URL=postgres://…")
        shop, agents, conversations = self.prepare(options)
        try:
            self.run(shop, agents, conversations, options)
        finally:
            if not options["keep"]:
                Shop.objects.filter(pk=shop.pk).delete()
                get_user_model().objects.filter(pk__in=[a.pk for a in agents]).delete()

    def prepare(self, options):
        tag = secrets.token_hex(3)
        shop = Shop.objects.create(name=f"分配压测 {tag}", slug=f"bench-assign-{tag}", plan=Shop.Plan.UNLIMITED)
        ServiceDesk.objects.create(shop=shop, rule=options["rule"])
        users = get_user_model().objects
        agents = []
        for n in range(options["agents"]):
            agent = users.create_user(username=f"bench-assign-{tag}-{n}", is_staff=True)
            Membership.objects.create(user=agent, shop=shop, role=Membership.Role.AGENT)
            AgentSeat.objects.create(user=agent, shop=shop, max_chats=options["capacity"])
            services.register_console(agent, f"bench-assign-{tag}-{n}")  # a live console: online
            agents.append(agent)
        conversations = []
        for _ in tqdm(range(options["shoppers"]), desc="shoppers", unit="conv"):
            conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
            post_message(conversation, Message.Sender.SHOPPER, "转人工")
            conversations.append(conversation)
        return shop, agents, conversations

    def run(self, shop, agents, conversations, options) -> None:
        total = len(conversations)
        context = multiprocessing.get_context("fork")  # the children inherit the set-up Django
        results = context.Queue()
        done = context.Event()
        start_barrier = context.Barrier(options["workers"] + 1)
        batches = [[c.pk for c in conversations[n :: options["workers"]]] for n in range(options["workers"])]
        agent_ids = [a.pk for a in agents]
        closers = [agent_ids[n :: options["agent_workers"]] for n in range(min(options["agent_workers"], len(agents)))]
        connections.close_all()  # each child opens its own connection
        children = [
            context.Process(target=_child, args=(results, _ask, batch, start_barrier, done)) for batch in batches
        ] + [
            context.Process(target=_child, args=(results, _close, (shop.pk, mine, options["serve_ms"]), None, done))
            for mine in closers
        ]
        for child in children:
            child.start()
        seen: dict[int, float] = {}  # when each conversation's assignment was first seen committed
        watcher = threading.Thread(target=_watch, args=(shop.pk, total, seen, done))
        watcher.start()
        start_barrier.wait()  # every shopper worker asks from this instant on
        started_at, clock = time.time(), time.monotonic()
        asked: dict[int, float] = {}  # each conversation's request: when its request_handoff call started
        peak: Counter[int] = Counter()  # the most chats each agent was seen holding
        queries = {"ask": 0, "close": 0}
        errors: list[str] = []
        pending = len(children)
        with tqdm(total=total, desc="assigned", unit="conv") as progress:
            shown = 0
            while pending and not errors:
                if len(seen) >= total or time.monotonic() - clock > options["timeout"]:
                    done.set()
                try:
                    kind, payload = results.get(timeout=0.05)
                except queue.Empty:
                    pass
                else:
                    pending -= kind in ("ask", "close", "error")
                    if kind == "error":
                        errors.append(payload)
                    elif kind == "ask":
                        asked.update(payload["asked"])
                        queries["ask"] += payload["queries"]
                    else:
                        queries["close"] += payload["queries"]
                        for agent_id, n in payload["peak"].items():
                            peak[agent_id] = max(peak[agent_id], n)
                progress.update(len(seen) - shown)
                shown = len(seen)
        elapsed = time.monotonic() - clock
        done.set()
        watcher.join(timeout=60)
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
        if errors:
            raise CommandError(f"a worker failed: {errors[0]}")
        closed = Conversation.objects.filter(shop=shop, status=Conversation.Status.CLOSED).count()
        self.report(shop, conversations, started_at, asked, seen, elapsed, peak, options)
        self.stdout.write(
            f"queries per hand-off (request + the passes its worker ran): {queries['ask'] / total:.1f}; "
            f"per close by an agent (with its passes): {queries['close'] / max(closed, 1):.1f} over {closed} closes"
        )

    def report(self, shop, conversations, start, asked, seen, elapsed, peak, options) -> None:
        greetings = list(_greetings(shop.pk).values_list("conversation_id", flat=True))
        per_conversation = Counter(greetings)
        total = len(conversations)
        slots = options["agents"] * options["capacity"]
        self.stdout.write(
            f"{total} shoppers, {options['agents']} agents × {options['capacity']}, rule {options['rule']}, "
            f"{options['workers']} shopper workers, {options['agent_workers']} agent workers, "
            f"serve {options['serve_ms']:g} ms"
        )
        latency = 0.0  # the goal's figure: own request → assignment, p99 of the shoppers who found a free slot
        for label, since in (("own request", asked), ("common start", dict.fromkeys(seen, start))):
            waits = sorted((seen[c] - since[c]) * 1000 for c in seen if c in since)
            first_wave = waits[: min(slots, len(waits))]
            latency = latency or percentile(first_wave, 0.99)
            self.stdout.write(
                f"{label} → assignment committed, the first {len(first_wave)} (free slots): "
                f"p50 {percentile(first_wave, 0.5):.1f} ms, p99 {percentile(first_wave, 0.99):.1f} ms; "
                f"all {len(waits)}: p50 {percentile(waits, 0.5):.1f} ms, p99 {percentile(waits, 0.99):.1f} ms, "
                f"max {max(waits, default=0):.1f} ms"
            )
        self.stdout.write(f"throughput: {len(seen) / elapsed:.0f} assignments/s over {elapsed:.2f} s")
        self.stdout.write(
            f"bench assignment_p99 figure={latency:.1f} unit=ms goal<200: "
            f"{'met' if latency < 200 else 'missed'} (own request → assignment, the first {min(slots, total)})"
        )
        once = all(per_conversation[c.pk] == 1 for c in conversations)
        over = {agent: n for agent, n in peak.items() if n > options["capacity"]}
        self.stdout.write(
            f"every conversation assigned exactly once: {'yes' if once else 'NO'}; "
            f"most chats held by one agent: {max(peak.values(), default=0)} (capacity {options['capacity']})"
        )
        if not once or over:
            raise CommandError("an assignment check failed (see above)")
