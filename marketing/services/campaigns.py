"""Running campaigns: find due targets with set-based queries, create touches once, send each once.

A scan of one shop (a Celery beat task per shop) does three things:
1. retire pending touches whose goal already happened, whose customer opted out or whose campaign
   was switched off (set-based UPDATEs);
2. per enabled campaign, select the due targets in one query and ``bulk_create`` touches with
   ``ignore_conflicts``: the unique idempotency key makes a second scan create nothing new;
3. enqueue the touches that are due (not in quiet hours) in batches of ``send_touches`` tasks.

Sending claims the touch with a conditional UPDATE (``status=pending`` -> ``sent``) in the same
transaction as the chat message or webhook delivery, so a redelivered task never sends twice.
Touches held back by quiet hours or the daily cap get a later ``scheduled_at``; a later scan enqueues them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Conversation, Message
from shops.models import Customer, Order, Product, Refund, Shop

from ..models import Campaign, Touch
from .delivery import deliver
from .money import yuan
from .timing import next_allowed_time, start_of_day, start_of_next_day

Kind = Campaign.Kind
PRESALE_STATUSES = (Order.Status.DEPOSIT_PAID, Order.Status.AWAITING_FINAL)
# Presale reminders are triggered this long before the final payment deadline.
PRESALE_NOTICE = timedelta(hours=24)
# A touch enqueued this long ago and still pending (worker lost, broker restarted) is enqueued again.
REENQUEUE_AFTER = timedelta(minutes=15)
SEND_BATCH = 500
CREATE_BATCH = 2000
WAKE_UP_WINDOW = timedelta(hours=24)
CONVERSION_WINDOW = timedelta(hours=72)

# Messages that show interest in products: the shopper asked for a recommendation or a product's
# details, or the bot showed product cards (payload "products" not empty).
INTEREST_INTENTS = ("recommend", "product_detail")
INTEREST = Q(sender=Message.Sender.SHOPPER, intent__in=INTEREST_INTENTS) | Q(
    sender=Message.Sender.BOT, payload__products__0__isnull=False
)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def shop_tz(shop: Shop) -> ZoneInfo:
    return ZoneInfo(shop.timezone)


# --- who is due ---------------------------------------------------------------------------------


def _customer_messages() -> QuerySet[Message]:
    # Through the customer's conversations (indexed by customer), not the shop's whole message table.
    return Message.objects.filter(conversation__customer=OuterRef("pk"))


def _customer_targets(campaign: Campaign, now: datetime, trigger: Subquery, extra: Q) -> QuerySet:
    """Customers whose trigger time (a subquery) is due and inside the window, with no order since."""
    delay = timedelta(minutes=campaign.delay_minutes)
    return (
        Customer.objects.filter(shop=campaign.shop, marketing_opt_out=False)
        .order_by()
        .annotate(trigger_at=trigger)
        .filter(trigger_at__lte=now - delay, trigger_at__gte=now - timedelta(hours=campaign.window_hours))
        .filter(extra)
        .exclude(Exists(Order.objects.filter(customer=OuterRef("pk"), created_at__gte=OuterRef("trigger_at"))))
    )


def _cart_targets(campaign: Campaign, now: datetime) -> QuerySet:
    # 催拍: the last time the customer showed interest in a product, and the product cards shown last.
    interest = _customer_messages().filter(INTEREST).order_by("-created_at", "-pk")
    shown = (
        _customer_messages()
        .filter(sender=Message.Sender.BOT, payload__products__0__isnull=False)
        .order_by("-created_at", "-pk")
    )
    return (
        _customer_targets(campaign, now, Subquery(interest.values("created_at")[:1]), Q())
        .annotate(shown=Subquery(shown.values("payload")[:1]))
        .values("pk", "trigger_at", "shown")
    )


def _wake_up_targets(campaign: Campaign, now: datetime) -> QuerySet:
    # Wake-up: interested within the window, then silent: the trigger is the customer's last message.
    messages = _customer_messages()
    last_said = messages.filter(sender=Message.Sender.SHOPPER).order_by("-created_at", "-pk")
    interested = Exists(messages.filter(INTEREST, created_at__gte=now - timedelta(hours=campaign.window_hours)))
    return _customer_targets(campaign, now, Subquery(last_said.values("created_at")[:1]), Q(interested)).values(
        "pk", "trigger_at"
    )


def _payment_targets(campaign: Campaign, now: datetime) -> QuerySet:
    delay = timedelta(minutes=campaign.delay_minutes)
    return Order.objects.filter(
        shop=campaign.shop,
        status=Order.Status.UNPAID,
        created_at__lte=now - delay,
        created_at__gte=now - timedelta(hours=campaign.window_hours),
        customer__marketing_opt_out=False,
    ).values("pk", "customer_id", "created_at")


def _presale_targets(campaign: Campaign, now: datetime) -> QuerySet:
    delay = timedelta(minutes=campaign.delay_minutes)
    return Order.objects.filter(
        shop=campaign.shop,
        status__in=PRESALE_STATUSES,
        final_payment_due__gt=now,
        final_payment_due__lte=now + PRESALE_NOTICE - delay,
        customer__marketing_opt_out=False,
    ).values("pk", "customer_id", "final_payment_due")


def _refund_targets(campaign: Campaign, now: datetime) -> QuerySet:
    delay = timedelta(minutes=campaign.delay_minutes)
    return Refund.objects.filter(
        shop=campaign.shop,
        status=Refund.Status.REQUESTED,
        created_at__lte=now - delay,
        created_at__gte=now - timedelta(hours=campaign.window_hours),
        order__customer__marketing_opt_out=False,
    ).values("pk", "order_id", "order__customer_id", "created_at")


def _first_product_id(shown: dict | None) -> int | None:
    products = (shown or {}).get("products") or [None]
    product_id = products[0].get("id") if isinstance(products[0], dict) else None
    return product_id if isinstance(product_id, int) else None


def _touch_fields(campaign: Campaign, row: dict[str, Any]) -> dict[str, Any]:
    """Who a due row targets, when it was triggered and its idempotency key."""
    c = campaign.pk
    match campaign.kind:
        case Kind.PAYMENT:
            return {
                "customer_id": row["customer_id"],
                "order_id": row["pk"],
                "trigger_at": row["created_at"],
                "idempotency_key": f"{c}:order:{row['pk']}",
            }
        case Kind.PRESALE_FINAL:
            return {
                "customer_id": row["customer_id"],
                "order_id": row["pk"],
                "trigger_at": row["final_payment_due"] - PRESALE_NOTICE,
                "idempotency_key": f"{c}:order:{row['pk']}",
            }
        case Kind.REFUND_RETENTION:
            return {
                "customer_id": row["order__customer_id"],
                "order_id": row["order_id"],
                "refund_id": row["pk"],
                "trigger_at": row["created_at"],
                "idempotency_key": f"{c}:refund:{row['pk']}",
            }
        case _:
            # One touch per episode of interest: a later trigger is a new episode with a new key.
            fields = {
                "customer_id": row["pk"],
                "trigger_at": row["trigger_at"],
                "idempotency_key": f"{c}:customer:{row['pk']}:{int(row['trigger_at'].timestamp())}",
            }
            if campaign.kind == Kind.CART and row.get("shown"):
                fields["product_id"] = _first_product_id(row["shown"])
            return fields


TARGETS = {
    Kind.WAKE_UP: _wake_up_targets,
    Kind.CART: _cart_targets,
    Kind.PAYMENT: _payment_targets,
    Kind.PRESALE_FINAL: _presale_targets,
    Kind.REFUND_RETENTION: _refund_targets,
}


def due_targets(campaign: Campaign, now: datetime) -> QuerySet:
    return TARGETS[campaign.kind](campaign, now)


def create_touches(campaign: Campaign, now: datetime) -> int:
    """Insert a pending touch for every due target (once per idempotency key); returns the number due."""
    scheduled_at = next_allowed_time(now, shop_tz(campaign.shop), campaign.quiet_start, campaign.quiet_end)
    shop_products = None
    due = 0
    for rows in _chunks(due_targets(campaign, now).iterator(chunk_size=CREATE_BATCH), CREATE_BATCH):
        fields = [_touch_fields(campaign, row) for row in rows]
        if campaign.kind == Kind.CART:
            # Product ids come from stored JSON: keep only this shop's products.
            if shop_products is None:
                shop_products = set(Product.objects.filter(shop=campaign.shop).values_list("pk", flat=True))
            for f in fields:
                if f.get("product_id") not in shop_products:
                    f["product_id"] = None
        Touch.objects.bulk_create(
            [
                Touch(
                    campaign=campaign,
                    shop_id=campaign.shop_id,
                    channel=campaign.channel,
                    scheduled_at=scheduled_at,
                    **f,
                )
                for f in fields
            ],
            batch_size=CREATE_BATCH,
            ignore_conflicts=True,
        )
        due += len(rows)
    return due


# --- when a touch is no longer wanted -----------------------------------------------------------


def _ordered_since_trigger() -> Exists:
    return Exists(Order.objects.filter(customer=OuterRef("customer"), created_at__gte=OuterRef("trigger_at")))


def goal_reached(kind: str, now: datetime) -> Q:
    """On Touch: the campaign's goal happened (or can no longer happen) for this touch."""
    match kind:
        case Kind.PAYMENT:
            return ~Q(order__status=Order.Status.UNPAID)
        case Kind.PRESALE_FINAL:
            return ~Q(order__status__in=PRESALE_STATUSES) | Q(order__final_payment_due__lte=now)
        case Kind.REFUND_RETENTION:
            return ~Q(refund__status=Refund.Status.REQUESTED)
        case Kind.CART:
            return Q(_ordered_since_trigger())
        case _:
            came_back = Exists(
                Message.objects.filter(
                    sender=Message.Sender.SHOPPER,
                    conversation__customer=OuterRef("customer"),
                    created_at__gt=OuterRef("trigger_at"),
                )
            )
            return Q(_ordered_since_trigger()) | Q(came_back)


def retire_pending_touches(shop: Shop, now: datetime) -> int:
    """Skip the shop's pending touches that must not go out any more; returns how many."""
    pending = Touch.objects.filter(shop=shop, status=Touch.Status.PENDING)
    reason = Touch.SkipReason
    retired = pending.filter(customer__marketing_opt_out=True).update(
        status=Touch.Status.SKIPPED, skip_reason=reason.OPTED_OUT
    )
    retired += pending.filter(campaign__enabled=False).update(
        status=Touch.Status.SKIPPED, skip_reason=reason.CAMPAIGN_DISABLED
    )
    for kind in Kind.values:
        retired += (
            pending.filter(campaign__kind=kind)
            .filter(goal_reached(kind, now))
            .update(status=Touch.Status.SKIPPED, skip_reason=reason.GOAL_REACHED)
        )
    return retired


# --- scanning and enqueueing --------------------------------------------------------------------


@dataclass(frozen=True)
class ScanReport:
    retired: int
    due: int
    created: int
    enqueued: int


def enqueue_due_touches(shop: Shop, now: datetime) -> int:
    """Hand due pending touches to ``send_touches`` in batches; returns how many were enqueued."""
    from ..tasks import send_touches

    due_ids = list(
        Touch.objects.filter(shop=shop, status=Touch.Status.PENDING, scheduled_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - REENQUEUE_AFTER))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for batch in _chunks(due_ids, SEND_BATCH):
        with transaction.atomic():
            Touch.objects.filter(pk__in=batch).update(enqueued_at=now)
            transaction.on_commit(lambda batch=batch: send_touches.delay(batch))
    return len(due_ids)


def scan_shop(shop: Shop, now: datetime | None = None) -> ScanReport:
    now = now or timezone.now()
    retired = retire_pending_touches(shop, now)
    before = Touch.objects.filter(shop=shop).count()
    due = sum(create_touches(c, now) for c in Campaign.objects.filter(shop=shop, enabled=True).select_related("shop"))
    created = Touch.objects.filter(shop=shop).count() - before
    return ScanReport(retired=retired, due=due, created=created, enqueued=enqueue_due_touches(shop, now))


# --- sending ------------------------------------------------------------------------------------


def product_card(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "sku": product.sku,
        "title": product.title,
        "price": f"{product.price:.2f}",
        "colors": product.colors,
        "sizes": product.sizes,
        "stock": product.stock,
    }


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%m月%d日 %H:%M}"


def message_for(touch: Touch, now: datetime) -> tuple[str, dict[str, Any]]:
    """The rendered text and the structured parts (product cards, coupon) of a touch."""
    campaign, order, tz = touch.campaign, touch.order, shop_tz(touch.shop)
    product = touch.product
    if product is None and order is not None:
        line = order.lines.select_related("product").order_by("pk").first()
        product = line.product if line else None
    product_title = product.title if product else ""
    if not product_title and order is not None:
        product_title = order.lines.order_by("pk").values_list("title", flat=True).first() or ""
    amount: Decimal | None = None
    if touch.refund is not None:
        amount = touch.refund.amount
    elif order is not None:
        amount = order.total_amount - order.discount_amount - order.paid_amount
    coupon = campaign.coupon
    if coupon is not None and not (coupon.is_active and coupon.valid_from <= now < coupon.valid_until):
        coupon = None
    deadline = ""
    if campaign.kind == Kind.PRESALE_FINAL and order is not None and order.final_payment_due:
        deadline = _local(order.final_payment_due, tz)
    elif coupon is not None:
        deadline = _local(coupon.valid_until, tz)
    text = campaign.template.format_map(
        {
            "nickname": touch.customer.nickname or "亲",
            "product": product_title,
            "amount": yuan(amount) if amount is not None else "",
            "deadline": deadline,
        }
    )
    coupon_data = None
    if coupon is not None:
        text += f"\n送您一张{coupon.label}的优惠券，{_local(coupon.valid_until, tz)}前有效。"
        coupon_data = {
            "id": coupon.pk,
            "name": coupon.name,
            "threshold": f"{coupon.threshold:.2f}",
            "discount": f"{coupon.discount:.2f}",
            "valid_until": coupon.valid_until.isoformat(),
        }
    return text, {"products": [product_card(product)] if product else [], "coupon": coupon_data}


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
        campaign, tz = touch.campaign, shop_tz(touch.shop)
        if customer.marketing_opt_out:
            return _skip(touch, Touch.SkipReason.OPTED_OUT)
        if not campaign.enabled:
            return _skip(touch, Touch.SkipReason.CAMPAIGN_DISABLED)
        if Touch.objects.filter(pk=touch.pk).filter(goal_reached(campaign.kind, now)).exists():
            return _skip(touch, Touch.SkipReason.GOAL_REACHED)
        allowed = next_allowed_time(now, tz, campaign.quiet_start, campaign.quiet_end)
        if allowed == now:
            sent_today = Touch.objects.filter(
                shop_id=touch.shop_id,
                customer_id=touch.customer_id,
                status=Touch.Status.SENT,
                sent_at__gte=start_of_day(now, tz),
            ).count()
            if sent_today >= campaign.daily_cap:
                allowed = next_allowed_time(start_of_next_day(now, tz), tz, campaign.quiet_start, campaign.quiet_end)
        if allowed != now:
            Touch.objects.filter(pk=touch.pk, status=Touch.Status.PENDING).update(scheduled_at=allowed)
            return SendOutcome.RESCHEDULED
        text, payload = message_for(touch, now)
        claimed = Touch.objects.filter(pk=touch.pk, status=Touch.Status.PENDING).update(
            status=Touch.Status.SENT, sent_at=now, text=text
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


def with_results(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
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
