"""Running campaigns: find due targets with set-based queries, create touches once, send each once.

A scan of one shop (a Celery beat task per shop) does three things:
1. retire pending touches whose goal already happened, whose customer opted out or whose campaign
   was switched off (set-based UPDATEs);
2. per enabled campaign, insert the due targets' touches with one INSERT ... SELECT ... ON CONFLICT DO
   NOTHING: the unique idempotency key makes a second scan create nothing new;
3. enqueue the touches that are due (not in quiet hours) in batches of ``send_touches`` tasks.

Sending claims the touch with a conditional UPDATE (``status=pending`` -> ``sent``) in the same
transaction as the chat message or webhook delivery, so a redelivered task never sends twice.
Touches held back by quiet hours or the daily cap get a later ``scheduled_at``; a later scan enqueues them.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, TypedDict

from celery import current_app
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from chat.dialogue.replies import product_card
from chat.models import Conversation, Message
from core import shoptime
from core.splits import campaign_experiment, in_share
from shops.models import Customer, Order, Product, Refund, Shop

from ..kinds import KINDS, TEMPLATE_VARIABLES
from ..kinds.base import TARGET_COLUMNS, TouchContext
from ..kinds.common import local_time
from ..models import Campaign, Touch
from .delivery import deliver

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# A touch enqueued this long ago and still pending (worker lost, broker restarted) is enqueued again.
REENQUEUE_AFTER = timedelta(minutes=15)
SEND_BATCH = 500
# The Celery task that sends a batch (marketing.tasks.send_touches, registered under this name).
SEND_TASK = "marketing.tasks.send_touches"
# A scan inserting at least this many touches refreshes PostgreSQL's statistics of the touch table: planned on
# the old ones, the next statements (retiring, the second scan) took a nested loop over every pending touch
# for each one (over 13 minutes at 20,000 customers instead of seconds).
ANALYZE_AFTER_ROWS = 5_000
# Sort and hash memory of a scan's statements on PostgreSQL (see _set_based_transaction).
SCAN_WORK_MEM = "64MB"
WAKE_UP_WINDOW = timedelta(hours=24)
CONVERSION_WINDOW = timedelta(hours=72)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@contextmanager
def _set_based_transaction() -> Iterator[None]:
    """A transaction for the scan's large set-based statements.

    PostgreSQL's JIT compiles them first because their estimated cost is high, which took longer
    than running them (1.4 s of 2 s at 20,000 customers): it is switched off for this transaction only.
    Its default 4 MB of sort memory sent the numbering of a shop's trigger messages to disk from about
    100,000 customers: the transaction may use more.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(f"SET LOCAL work_mem = '{SCAN_WORK_MEM}'")
        yield


# --- who is due ---------------------------------------------------------------------------------
#
# Each campaign kind (marketing/kinds/) contributes one query whose rows are the due targets, with the
# columns of the touch to insert (kinds.base.TARGET_COLUMNS). The insert is one INSERT ... SELECT ...
# ON CONFLICT (idempotency_key) DO NOTHING: rows never pass through Python, so 100,000 customers scan
# in seconds and a second scan inserts nothing.


def create_touches(campaign: Campaign, now: datetime) -> tuple[list[int], bool, int]:
    """Insert a pending touch for every due target not touched yet; the control group's are skipped at once.

    Returns the ids of the new touches to send (not the control group's), whether they may go out now
    (else quiet hours hold them) and how many touches were inserted in all. Touches that may go out are
    inserted as enqueued: the caller hands them to the send task, which spares updating every new row a
    second time."""
    scheduled_at = shoptime.after_window(now, campaign.shop.tz, campaign.quiet_start, campaign.quiet_end)
    send_now = scheduled_at <= now
    constants = {
        "campaign_id": Value(campaign.pk, output_field=BigIntegerField()),
        "shop_id": Value(campaign.shop_id, output_field=BigIntegerField()),
        "channel": Value(campaign.channel, output_field=CharField()),
        "scheduled_at": Value(scheduled_at, output_field=DateTimeField()),
        "status": Value(Touch.Status.PENDING, output_field=CharField()),
        "skip_reason": Value("", output_field=CharField()),
        "text": Value("", output_field=CharField()),
        "created_at": Value(now, output_field=DateTimeField()),
        # A bare NULL parameter would reach PostgreSQL as text: cast it to the column's type.
        "enqueued_at": Value(now, output_field=DateTimeField())
        if send_now
        else Cast(Value(None), output_field=DateTimeField()),
    }
    aliases = {f"c_{column}": expression for column, expression in constants.items()}
    rows = KINDS[Campaign.Kind(campaign.kind)].targets(campaign, now).annotate(**aliases)
    # Every annotation: a kind's query may select more than it stores (the numbering of customer_targets).
    rows = rows.values(*rows.query.annotation_select)
    select_sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Touch._meta.db_table)
    columns = ", ".join(quote(c) for c in [*TARGET_COLUMNS, *constants])
    selected = ", ".join(quote(alias) for alias in [*TARGET_COLUMNS.values(), *aliases])
    key = quote("idempotency_key")
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
    returned = ", ".join(quote(c) for c in ("id", "customer_id"))
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {selected} FROM ({select_sql}) due WHERE true "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING {returned}"
    )
    with _set_based_transaction(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows_created = cursor.fetchall()
        control = hold_out_control(campaign, rows_created)
    return [pk for pk, _customer in rows_created if pk not in control], send_now, len(rows_created)


def hold_out_control(campaign: Campaign, created: list[tuple[int, int]]) -> set[int]:
    """Of the touches just created (id, customer), those of the campaign's control group: skipped at once
    (``Touch.SkipReason.CONTROL``), never sent, kept as the comparison the campaign's lift is measured
    against. The group is drawn by a stable hash of (campaign, customer): a customer is in it or not for
    every trigger of the campaign, whichever scan finds them."""
    if not campaign.control_percent:
        return set()
    experiment = campaign_experiment(campaign.pk)
    control = {pk for pk, customer in created if in_share(experiment, customer, campaign.control_percent)}
    for batch in _chunks(sorted(control), SEND_BATCH):
        Touch.objects.filter(pk__in=batch).update(
            status=Touch.Status.SKIPPED, skip_reason=Touch.SkipReason.CONTROL, enqueued_at=None
        )
    return control


def create_shop_touches(shop: Shop, now: datetime) -> dict[Campaign, tuple[list[int], bool]]:
    """``create_touches`` for each enabled campaign of the shop: per campaign, the ids of the touches to send
    and whether they may go out now. After a bulk insert, PostgreSQL's statistics of the touch table are
    refreshed once for the whole scan."""
    created: dict[Campaign, tuple[list[int], bool]] = {}
    inserted = 0
    for campaign in Campaign.objects.filter(shop=shop, enabled=True).select_related("shop"):
        ids, send_now, rows = create_touches(campaign, now)
        created[campaign] = (ids, send_now)
        inserted += rows
    if inserted >= ANALYZE_AFTER_ROWS and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Touch._meta.db_table)}")
    return created


# --- when a touch is no longer wanted -----------------------------------------------------------


def retire_pending_touches(shop: Shop, now: datetime) -> int:
    """Skip the shop's pending touches that must not go out any more; returns how many."""
    pending = Touch.objects.filter(shop=shop, status=Touch.Status.PENDING)
    skip = Touch.Status.SKIPPED
    with _set_based_transaction():
        retired = pending.filter(customer__marketing_opt_out=True).update(
            status=skip, skip_reason=Touch.SkipReason.OPTED_OUT
        )
        retired += pending.filter(campaign__enabled=False).update(
            status=skip, skip_reason=Touch.SkipReason.CAMPAIGN_DISABLED
        )
        for kind, spec in KINDS.items():
            retired += (
                pending.filter(campaign__kind=kind)
                .filter(spec.goal_reached(now))
                .update(status=skip, skip_reason=Touch.SkipReason.GOAL_REACHED)
            )
    return retired


# --- scanning and enqueueing --------------------------------------------------------------------


@dataclass(frozen=True)
class ScanReport:
    retired: int
    created: int
    enqueued: int


def enqueue_due_touches(shop: Shop, now: datetime) -> int:
    """Hand due pending touches not enqueued lately to ``send_touches``; returns how many."""
    due = Touch.objects.filter(shop=shop, status=Touch.Status.PENDING, scheduled_at__lte=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - REENQUEUE_AFTER)
    )
    with _set_based_transaction():
        due_ids = list(due.order_by("pk").values_list("pk", flat=True))
        # By primary key, batch by batch: a plan that stays cheap whatever the table's statistics say.
        for batch in _chunks(due_ids, SEND_BATCH):
            Touch.objects.filter(pk__in=batch).update(enqueued_at=now)
        send_in_batches(due_ids)
    return len(due_ids)


def send_in_batches(touch_ids: list[int]) -> None:
    """Queue ``send_touches`` tasks for these touches once the current transaction commits."""
    # By name: marketing.tasks runs these services, so they cannot import it back.
    send_touches = current_app.tasks[SEND_TASK]
    for batch in _chunks(touch_ids, SEND_BATCH):
        transaction.on_commit(partial(send_touches.delay, batch))


def scan_shop(shop: Shop, now: datetime | None = None) -> ScanReport:
    now = now or timezone.now()
    retired = retire_pending_touches(shop, now)
    created = create_shop_touches(shop, now)
    fresh = [pk for ids, send_now in created.values() if send_now for pk in ids]
    send_in_batches(fresh)
    return ScanReport(
        retired=retired,
        created=sum(len(ids) for ids, _ in created.values()),
        enqueued=len(fresh) + enqueue_due_touches(shop, now),
    )


# --- sending ------------------------------------------------------------------------------------


def _product_shown(touch: Touch) -> Product | None:
    """The product whose card the bot showed the customer last, up to the episode's trigger."""
    if touch.order_id is not None:
        return None
    shown = (
        Message.objects.filter(
            conversation__customer=touch.customer_id,
            sender=Message.Sender.BOT,
            payload__products__0__isnull=False,
            created_at__lte=touch.trigger_at,
        )
        .order_by("-created_at", "-pk")
        .values_list("payload", flat=True)
        .first()
    )
    card = shown["products"][0] if shown else None
    product_id = card.get("id") if isinstance(card, dict) else None
    # The id comes from stored JSON: only a product of this shop is used.
    return Product.objects.filter(shop=touch.shop_id, pk=product_id).first() if isinstance(product_id, int) else None


def message_for(touch: Touch, now: datetime) -> tuple[str, dict[str, Any]]:
    """The rendered text and the structured parts (product cards, coupon) of a touch."""
    campaign, order, tz = touch.campaign, touch.order, touch.shop.tz
    product = touch.product or _product_shown(touch)
    line = None
    if product is None and order is not None:
        line = order.lines.select_related("product").order_by("pk").first()
        product = line.product if line else None
    # An order line keeps its title when its product is gone.
    product_title = product.title if product else (line.title if line else "")
    coupon = campaign.coupon
    if coupon is not None and not (coupon.is_active and coupon.valid_from <= now < coupon.valid_until):
        coupon = None
    context = TouchContext(touch=touch, tz=tz, product_title=product_title, coupon=coupon)
    # A variable another kind fills is accepted in the template and left empty here.
    values = dict.fromkeys(TEMPLATE_VARIABLES, "")
    values.update(
        (name, variable.fill(context)) for name, variable in KINDS[Campaign.Kind(campaign.kind)].variables.items()
    )
    text = campaign.template.format_map(values)
    coupon_data = None
    if coupon is not None:
        text += f"\n送您一张{coupon.label}的优惠券，{local_time(coupon.valid_until, tz)}前有效。"
        coupon_data = {
            "id": coupon.pk,
            "name": coupon.name,
            "threshold": f"{coupon.threshold:.2f}",
            "discount": f"{coupon.discount:.2f}",
            "valid_until": coupon.valid_until.isoformat(),
        }
    return text, {"products": [product_card(product)] if product else [], "coupon": coupon_data}


def _card_product(payload: dict[str, Any]) -> int | None:
    return payload["products"][0]["id"] if payload["products"] else None


class SendOutcome:
    SENT = "sent"
    ALREADY_DONE = "already_done"
    NOT_DUE = "not_due"
    RESCHEDULED = "rescheduled"
    SKIPPED = "skipped"


def _skip(touch: Touch, reason: str) -> str:
    Touch.objects.filter(pk=touch.pk, status=Touch.Status.PENDING).update(
        status=Touch.Status.SKIPPED, skip_reason=reason
    )
    return SendOutcome.SKIPPED


def send_touch(touch_id: int, now: datetime | None = None) -> str:
    """Send one touch at most once; quiet hours and the daily cap move it later, a reached goal stops it."""
    now = now or timezone.now()
    with transaction.atomic():
        touch = (
            Touch.objects.select_related("campaign__coupon", "shop", "customer", "order", "refund", "product")
            .filter(pk=touch_id)
            .first()
        )
        if touch is None or touch.status != Touch.Status.PENDING:
            return SendOutcome.ALREADY_DONE
        if touch.scheduled_at > now:
            return SendOutcome.NOT_DUE
        # Serialise sends to one customer so the daily cap holds across workers.
        customer = Customer.objects.select_for_update().get(pk=touch.customer_id)
        campaign, tz = touch.campaign, touch.shop.tz
        if customer.marketing_opt_out:
            return _skip(touch, Touch.SkipReason.OPTED_OUT)
        if not campaign.enabled:
            return _skip(touch, Touch.SkipReason.CAMPAIGN_DISABLED)
        if Touch.objects.filter(pk=touch.pk).filter(KINDS[Campaign.Kind(campaign.kind)].goal_reached(now)).exists():
            return _skip(touch, Touch.SkipReason.GOAL_REACHED)
        allowed = shoptime.after_window(now, tz, campaign.quiet_start, campaign.quiet_end)
        if allowed == now:
            sent_today = Touch.objects.filter(
                shop_id=touch.shop_id,
                customer_id=touch.customer_id,
                status=Touch.Status.SENT,
                sent_at__gte=shoptime.start_of_day(now, tz),
            ).count()
            if sent_today >= campaign.daily_cap:
                allowed = shoptime.after_window(
                    shoptime.start_of_next_day(now, tz), tz, campaign.quiet_start, campaign.quiet_end
                )
        if allowed != now:
            Touch.objects.filter(pk=touch.pk, status=Touch.Status.PENDING).update(scheduled_at=allowed)
            return SendOutcome.RESCHEDULED
        text, payload = message_for(touch, now)
        claimed = Touch.objects.filter(pk=touch.pk, status=Touch.Status.PENDING).update(
            status=Touch.Status.SENT, sent_at=now, text=text, product_id=_card_product(payload)
        )
        if not claimed:
            return SendOutcome.ALREADY_DONE
        delivery = deliver(touch, text, payload)
        if not delivery.delivered:
            Touch.objects.filter(pk=touch.pk).update(
                status=Touch.Status.SKIPPED, skip_reason=delivery.skip_reason, sent_at=None, text=""
            )
            return SendOutcome.SKIPPED
        if delivery.message is not None:
            Touch.objects.filter(pk=touch.pk).update(message=delivery.message)
    return SendOutcome.SENT


# --- results ------------------------------------------------------------------------------------


def _count(touches: QuerySet[Touch]) -> Coalesce:
    counted = touches.order_by().values("campaign").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


class CampaignResults(TypedDict):
    """What ``with_results`` annotates each campaign with."""

    touches_sent: int
    woken: int
    converted: int
    refunds_retained: int


def with_results(
    campaigns: QuerySet[Campaign],
) -> "QuerySet[WithAnnotations[Campaign, CampaignResults], WithAnnotations[Campaign, CampaignResults]]":
    """Annotate touches_sent, woken (replied or came back within 24 h), converted (paid within 72 h)
    and refunds_retained (refund withdrawn after the touch), all counted in SQL."""
    sent = Touch.objects.filter(campaign=OuterRef("pk"), status=Touch.Status.SENT)
    after_sent = {"gt": OuterRef("sent_at"), "lte": OuterRef("sent_at") + WAKE_UP_WINDOW}
    replied = Message.objects.filter(
        sender=Message.Sender.SHOPPER,
        conversation__customer=OuterRef("customer"),
        created_at__gt=after_sent["gt"],
        created_at__lte=after_sent["lte"],
    )
    came_back = Conversation.objects.filter(
        customer=OuterRef("customer"), started_at__gt=after_sent["gt"], started_at__lte=after_sent["lte"]
    )
    paid = Order.objects.filter(
        customer=OuterRef("customer"),
        paid_at__gt=OuterRef("sent_at"),
        paid_at__lte=OuterRef("sent_at") + CONVERSION_WINDOW,
    )
    return campaigns.annotate(
        touches_sent=_count(sent),
        woken=_count(sent.filter(Q(Exists(replied)) | Q(Exists(came_back)))),
        converted=_count(sent.filter(Exists(paid))),
        refunds_retained=_count(sent.filter(refund__status=Refund.Status.WITHDRAWN)),
    )
