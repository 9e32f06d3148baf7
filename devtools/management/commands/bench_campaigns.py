"""Benchmark: scan and enqueue every campaign type over a synthetic shop of N customers.

The floor, on the same database right after the scan: one plain ``INSERT ... SELECT`` copying the rows the
scan inserted (the same touches, every column) into an empty table of the same columns; ``ratio=`` is the
scan's time over the floor's. The synthetic shop is removed afterwards with one set-based DELETE per table
(bottom-up), on SQLite and PostgreSQL alike.
"""

import os
import resource
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from celery import current_app as celery_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from tqdm import tqdm

from chat.intents import Intent
from chat.models import Conversation, Message
from marketing.models import Campaign, Touch
from marketing.services.campaigns import (
    create_touches,
    enqueue_due_touches,
    retire_pending_touches,
    scan_shop,
    send_in_batches,
)
from shops.models import Customer, Order, Product, Refund, Shop

BATCH = 5000
# Share of customers in each situation (by customer number modulo 100).
UNPAID_BELOW, PAID_BELOW, PRESALE_BELOW, REFUND_BELOW = 30, 40, 45, 48


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _server_cpu_seconds() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend so far, when the server runs on this machine (its
    /proc entry is readable); None otherwise. SQLite runs in this process: its work is in ``process_time``."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Command(BaseCommand):
    help = "Make a synthetic shop of N customers, then time the campaign scan and the enqueueing of touches."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic shop afterwards.")

    def handle(self, *args, customers: int, keep: bool, **options) -> None:
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        now = timezone.now()
        shop = Shop.objects.create(name=f"压测店铺 {customers}", slug=f"bench-{int(now.timestamp())}")
        try:
            self._populate(shop, customers, now)
            self._measure(shop, customers)
        finally:
            if not keep:
                self._remove(shop)

    def _populate(self, shop: Shop, count: int, now) -> None:
        product = Product.objects.create(shop=shop, sku="BENCH-1", title="压测跑鞋", category="跑步鞋", price=299)
        card = {"id": product.pk, "sku": product.sku, "title": product.title, "price": "299.00"}
        kinds = [(k, f"{k} bench") for k in Campaign.Kind.values]
        for kind, name in kinds:
            Campaign.objects.create(shop=shop, name=name, kind=kind, delay_minutes=60, template="{nickname} 您好")
        for start in tqdm(range(0, count, BATCH), desc="customers, chats, orders", unit="batch"):
            numbers = range(start, min(start + BATCH, count))
            people = Customer.objects.bulk_create(
                [Customer(shop=shop, external_id=f"b{n}", nickname=f"顾客{n}") for n in numbers]
            )
            chats = Conversation.objects.bulk_create(
                [Conversation(shop=shop, customer=c, visitor_token=f"v{c.external_id}") for c in people]
            )
            Message.objects.bulk_create(
                message
                for chat in chats
                for message in (
                    Message(
                        conversation=chat,
                        shop=shop,
                        sender="shopper",
                        text="这款有42码吗",
                        intent=Intent.PRODUCT_DETAIL,
                    ),
                    Message(conversation=chat, shop=shop, sender="bot", text="有的", payload={"products": [card]}),
                )
            )
            orders = []
            for n, c in zip(numbers, people, strict=True):
                share = n % 100
                if share >= REFUND_BELOW:
                    continue
                status = (
                    Order.Status.UNPAID
                    if share < UNPAID_BELOW
                    else Order.Status.PAID
                    if share < PAID_BELOW
                    else Order.Status.DEPOSIT_PAID
                    if share < PRESALE_BELOW
                    else Order.Status.REFUND_REQUESTED
                )
                orders.append(
                    Order(
                        shop=shop,
                        customer=c,
                        external_id=f"B{n:08d}",
                        status=status,
                        total_amount=Decimal("299"),
                        paid_amount=Decimal("299") if status != Order.Status.UNPAID else Decimal("0"),
                        created_at=now - timedelta(hours=2 if status == Order.Status.UNPAID else 30),
                        final_payment_due=now + timedelta(hours=10) if status == Order.Status.DEPOSIT_PAID else None,
                    )
                )
            orders = Order.objects.bulk_create(orders)
            Refund.objects.bulk_create(
                Refund(shop=shop, order=o, amount=o.total_amount)
                for o in orders
                if o.status == Order.Status.REFUND_REQUESTED
            )
        # Conversations were two days ago (messages and refunds get their times on insert).
        Message.objects.filter(shop=shop).update(created_at=F("created_at") - timedelta(hours=48))
        Refund.objects.filter(shop=shop).update(created_at=F("created_at") - timedelta(hours=3))
        if connection.vendor == "postgresql":
            # Planner statistics as a live database has them: autovacuum would have analysed the bulk
            # load, and without them PostgreSQL plans the correlated subqueries for empty tables.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def _measure(self, shop: Shop, count: int) -> None:
        eager = celery_app.conf.task_always_eager
        # Measure enqueueing onto the broker, not sending: tasks go to the configured broker even when
        # the embedded setup would run them in-process.
        celery_app.conf.task_always_eager = False
        try:
            now = timezone.now()
            rss_before = _rss_mib()
            server_started = _server_cpu_seconds()
            started, started_cpu = time.perf_counter(), time.process_time()
            retire_pending_touches(shop, now)
            inserted = {
                c.kind: create_touches(c, now) for c in Campaign.objects.filter(shop=shop).select_related("shop")
            }
            scanned, scanned_cpu = time.perf_counter(), time.process_time()
            server_scanned = _server_cpu_seconds()
            fresh = [pk for ids, send_now in inserted.values() if send_now for pk in ids]
            send_in_batches(fresh)
            enqueued = len(fresh) + enqueue_due_touches(shop, now)
            done = time.perf_counter()
            rss_after = _rss_mib()
            second_started = time.perf_counter()
            second = scan_shop(shop, now)
            second_done = time.perf_counter()
            total = Touch.objects.filter(shop=shop).count()
            floor = self._floor(shop)
        finally:
            celery_app.conf.task_always_eager = eager
            if not eager:
                celery_app.control.purge()
        out = self.stdout.write
        out(f"database: {connection.vendor} · broker: {settings.CELERY_BROKER_URL.split('@')[-1]}")
        out(f"customers: {count:,}")
        out("touches created: " + ", ".join(f"{kind} {len(ids):,}" for kind, (ids, _) in inserted.items()))
        out(f"scan (retire + find due + INSERT ... SELECT): {scanned - started:.2f} s")
        # CPU time, which a machine shared with other work does not inflate as much as wall time: this process,
        # and the database server's backend for this connection (PostgreSQL on this machine).
        server = (
            f", database server {server_scanned - server_started:.2f} s"
            if server_started is not None and server_scanned is not None
            else ""
        )
        out(f"scan CPU: this process {scanned_cpu - started_cpu:.2f} s{server}")
        out(f"enqueue ({enqueued:,} touches in batches): {done - scanned:.2f} s")
        out(f"scan + enqueue: {done - started:.2f} s")
        out(
            f"second scan (idempotent): {second_done - second_started:.2f} s, "
            f"{second.created:,} new touches, {second.enqueued} enqueued, {total:,} touches in all"
        )
        out(f"memory: process max RSS {rss_before:.0f} MiB before the scan, {rss_after:.0f} MiB after")
        out(f"floor (plain INSERT ... SELECT of the same {total:,} touches): {floor:.2f} s")
        out(
            f"bench campaign_scan_{count}_{connection.vendor} figure={scanned - started:.4f} floor={floor:.4f} "
            f"unit=s ratio={(scanned - started) / floor:.2f}"
        )

    def _floor(self, shop: Shop) -> float:
        """Seconds to copy the shop's touches, every column, into an empty table with one INSERT ... SELECT."""
        table = connection.ops.quote_name(Touch._meta.db_table)
        copy = connection.ops.quote_name("bench_touch_floor")
        shop_column = connection.ops.quote_name(Touch._meta.get_field("shop").column)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {copy} AS SELECT * FROM {table} WHERE 1 = 0")
            started = time.perf_counter()
            cursor.execute(f"INSERT INTO {copy} SELECT * FROM {table} WHERE {shop_column} = %s", [shop.pk])
            elapsed = time.perf_counter() - started
            cursor.execute(f"DROP TABLE {copy}")
        return elapsed

    def _remove(self, shop: Shop) -> None:
        # Bottom-up, one DELETE per table: Django's collector would gather every row's key into IN lists,
        # past PostgreSQL's 65,535 parameters at 100,000 customers.
        with transaction.atomic(), connection.cursor() as cursor:
            for model in tqdm(
                (Touch, Message, Refund, Order, Conversation, Customer, Campaign, Product), desc="cleanup"
            ):
                table = connection.ops.quote_name(model._meta.db_table)
                column = connection.ops.quote_name(model._meta.get_field("shop").column)
                cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [shop.pk])
        shop.delete()
