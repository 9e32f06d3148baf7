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
from django.utils import timezone
from tqdm import tqdm

from chat.intents import Intent
from chat.models import Conversation, Message
from marketing.models import Campaign, Touch
from marketing.services.campaigns import (
    create_shop_touches,
    enqueue_due_touches,
    retire_pending_touches,
    scan_shop,
    send_in_batches,
)
from shops.models import Customer, Order, Product, Refund, Shop

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


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _series(count: int) -> str:
    """A ``WITH`` clause naming the numbers 0 .. count - 1 ``series(n)``."""
    if connection.vendor == "postgresql":
        return f"WITH series(n) AS (SELECT generate_series(0, {int(count) - 1}))"
    return f"WITH RECURSIVE series(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM series WHERE n < {int(count) - 1})"


def _insert_select(cursor, model, columns: dict[str, tuple[str, list]], select: str, params=()) -> None:
    """``INSERT INTO <model's table> <select>``: ``select`` has a ``{columns}`` placeholder where ``columns``
    (column -> SQL expression and its parameters, values of that column) go; every other column gets its
    field's default. Parameters are adapted by the column's field (dates, decimals, JSON on either database)."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    expressions, values = [], []
    for field in fields:
        expression, arguments = columns.get(field.column, ("%s", [field.get_default()]))
        expressions.append(expression)
        values += [field.get_db_prep_save(value, connection) for value in arguments]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"INSERT INTO {_table(model)} ({names}) " + select.format(columns=", ".join(expressions))
    cursor.execute(sql, [*values, *params])


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
        """The shop's customers, conversations, messages, orders and refunds, one INSERT ... SELECT per table
        (rows built in Python took over half an hour at 1,000,000 customers)."""
        started = time.perf_counter()
        product = Product.objects.create(shop=shop, sku="BENCH-1", title="压测跑鞋", category="跑步鞋", price=299)
        card = {"id": product.pk, "sku": product.sku, "title": product.title, "price": "299.00"}
        for kind in Campaign.Kind.values:
            Campaign.objects.create(
                shop=shop, name=f"{kind} bench", kind=kind, delay_minutes=60, template="{nickname} 您好"
            )
        status = Order.Status
        # The customer's number n, read back from the external id "b<n>".
        customers = (
            f"(SELECT id, CAST(SUBSTR(external_id, 2) AS INTEGER) AS n FROM {_table(Customer)} "
            f"WHERE shop_id = {shop.pk}) customer"
        )
        order_status = (
            f"CASE WHEN n %% 100 < {UNPAID_BELOW} THEN '{status.UNPAID}' "
            f"WHEN n %% 100 < {PAID_BELOW} THEN '{status.PAID}' "
            f"WHEN n %% 100 < {PRESALE_BELOW} THEN '{status.DEPOSIT_PAID}' "
            f"ELSE '{status.REFUND_REQUESTED}' END"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            _insert_select(
                cursor,
                Customer,
                {
                    "shop_id": (str(shop.pk), []),
                    "external_id": ("'b' || n", []),
                    "nickname": ("'顾客' || n", []),
                    "created_at": ("%s", [now]),
                },
                f"{_series(count)} SELECT {{columns}} FROM series",
            )
            _insert_select(
                cursor,
                Conversation,
                {
                    "shop_id": (str(shop.pk), []),
                    "customer_id": ("id", []),
                    "visitor_token": ("'vb' || n", []),
                    "started_at": ("%s", [now]),
                },
                f"SELECT {{columns}} FROM {customers}",
            )
            # Two days ago: a question about a product, then the bot's card a second later.
            conversations = f"(SELECT id FROM {_table(Conversation)} WHERE shop_id = {shop.pk}) chat"
            for sender, text, intent, payload, at in (
                (Message.Sender.SHOPPER, "这款有42码吗", Intent.PRODUCT_DETAIL, {}, now - timedelta(hours=48)),
                (Message.Sender.BOT, "有的", "", {"products": [card]}, now - timedelta(hours=48, seconds=-1)),
            ):
                _insert_select(
                    cursor,
                    Message,
                    {
                        "conversation_id": ("id", []),
                        "shop_id": (str(shop.pk), []),
                        "sender": ("%s", [sender]),
                        "text": ("%s", [text]),
                        "intent": ("%s", [intent]),
                        "payload": ("%s", [payload]),
                        "created_at": ("%s", [at]),
                    },
                    f"SELECT {{columns}} FROM {conversations}",
                )
            unpaid = f"n %% 100 < {UNPAID_BELOW}"
            _insert_select(
                cursor,
                Order,
                {
                    "shop_id": (str(shop.pk), []),
                    "customer_id": ("id", []),
                    "external_id": ("'B' || n", []),
                    "status": (order_status, []),
                    "total_amount": ("%s", [Decimal("299")]),
                    "paid_amount": (
                        f"CASE WHEN {unpaid} THEN %s ELSE %s END",
                        [Decimal("0"), Decimal("299")],
                    ),
                    "created_at": (
                        f"CASE WHEN {unpaid} THEN %s ELSE %s END",
                        [now - timedelta(hours=h) for h in (2, 30)],
                    ),
                    "final_payment_due": (
                        f"CASE WHEN n %% 100 >= {PAID_BELOW} AND n %% 100 < {PRESALE_BELOW} THEN %s END",
                        [now + timedelta(hours=10)],
                    ),
                    "updated_at": ("%s", [now]),
                },
                f"SELECT {{columns}} FROM {customers} WHERE n %% 100 < {REFUND_BELOW}",
            )
            _insert_select(
                cursor,
                Refund,
                {
                    "shop_id": (str(shop.pk), []),
                    "order_id": ("id", []),
                    "amount": ("total_amount", []),
                    "created_at": ("%s", [now - timedelta(hours=3)]),
                },
                f"SELECT {{columns}} FROM {_table(Order)} WHERE shop_id = {shop.pk} AND status = %s",
                [status.REFUND_REQUESTED],
            )
        if connection.vendor == "postgresql":
            # Planner statistics as a live database has them: autovacuum would have analysed the bulk load.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(f"synthetic shop of {count:,} customers: {time.perf_counter() - started:.1f} s")

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
            inserted = {c.kind: created for c, created in create_shop_touches(shop, now).items()}
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
        table = _table(Touch)
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
                table = _table(model)
                column = connection.ops.quote_name(model._meta.get_field("shop").column)
                cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [shop.pk])
        shop.delete()
