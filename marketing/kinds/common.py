"""Building blocks several campaign kinds share: the target queries of chat episodes and of orders,
and the template variables whose meaning does not depend on the kind."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from chat.intents import Intent
from chat.models import Message
from shops.models import Order

from ..models import Campaign
from ..money import yuan
from .base import NO_ID, TemplateVariable, TouchContext, target_key

# Messages that show interest in products: the shopper asked for a recommendation or a product's
# details, or the bot showed product cards (payload "products" not empty).
INTEREST_INTENTS = (Intent.RECOMMEND, Intent.PRODUCT_DETAIL)
INTEREST = Q(sender=Message.Sender.SHOPPER, intent__in=INTEREST_INTENTS) | Q(
    sender=Message.Sender.BOT, payload__products__0__isnull=False
)


def customer_messages() -> QuerySet[Message]:
    """The messages of the outer row's customer (the outer rows are trigger messages, see customer_targets)."""
    # Through the customer's conversations (indexed by customer), not the shop's whole message table.
    return Message.objects.filter(conversation__customer=OuterRef("conversation__customer"))


def customer_targets(campaign: Campaign, now: datetime, trigger: Q, extra: Q) -> QuerySet:
    """Customers whose trigger message (their latest message matching ``trigger`` in the window) is due, with
    no order since. One touch per trigger message: a later message is a new episode with a new key.

    ``extra``: a condition on the message's customer (not on the message itself), like the opt-out.

    The rows are the trigger messages themselves, numbered per customer from the latest (by time, then id) in
    one pass over the shop's messages of the window: the latest is number 1, and it is due when it is older
    than the campaign's delay. No correlated subquery names the latest trigger, so the database finds it once
    whatever its statistics say. Messages followed by an order are left out before the numbering: an order
    after the latest trigger is after every earlier one too, so the customer is left out either way.
    """
    window = Q(trigger, created_at__gte=now - timedelta(hours=campaign.window_hours))
    ordered_since = Order.objects.filter(
        customer=OuterRef("conversation__customer"), created_at__gte=OuterRef("created_at")
    )
    customer = F("conversation__customer")
    return (
        Message.objects.filter(
            window,
            shop=campaign.shop,
            conversation__customer__shop=campaign.shop,
            conversation__customer__marketing_opt_out=False,
        )
        .order_by()
        .filter(extra)
        .exclude(Exists(ordered_since))
        .annotate(
            t_rank=Window(RowNumber(), partition_by=customer, order_by=[F("created_at").desc(), F("pk").desc()]),
            t_latest=Window(Max("created_at"), partition_by=customer),
        )
        .filter(t_rank=1, t_latest__lte=now - timedelta(minutes=campaign.delay_minutes))
        .annotate(
            t_customer=customer,
            t_order=NO_ID,
            t_refund=NO_ID,
            t_message=F("pk"),
            t_trigger=F("created_at"),
        )
        .annotate(t_key=target_key(campaign, "message", "pk"))
    )


def order_targets(campaign: Campaign, orders: QuerySet[Order], trigger) -> QuerySet:
    """One target per order of ``orders`` (of the campaign's shop, customer not opted out)."""
    return (
        orders.filter(shop=campaign.shop, customer__marketing_opt_out=False)
        .order_by()
        .annotate(
            t_customer=F("customer_id"),
            t_order=F("pk"),
            t_refund=NO_ID,
            t_message=NO_ID,
            t_trigger=trigger,
            t_key=target_key(campaign, "order", "pk"),
        )
    )


def ordered_since_trigger() -> Q:
    """On Touch: the customer placed an order since the touch's trigger."""
    return Q(Exists(Order.objects.filter(customer=OuterRef("customer"), created_at__gte=OuterRef("trigger_at"))))


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%m月%d日 %H:%M}"


def _nickname(context: TouchContext) -> str:
    return context.touch.customer.nickname or "亲"


def _product(context: TouchContext) -> str:
    return context.product_title


def coupon_deadline(context: TouchContext) -> str:
    return local_time(context.coupon.valid_until, context.tz) if context.coupon is not None else ""


def _amount_due(context: TouchContext) -> str:
    order = context.touch.order
    assert order is not None  # the kinds that fill this variable target orders
    return yuan(order.total_amount - order.discount_amount - order.paid_amount)


NICKNAME = TemplateVariable(_("the customer's nickname (亲 when there is none)"), _nickname)
PRODUCT_SHOWN = TemplateVariable(_("the product whose card the bot showed last before the trigger"), _product)
ORDER_PRODUCT = TemplateVariable(_("the product of the order's first line"), _product)
COUPON_DEADLINE = TemplateVariable(
    _("the end of the campaign's coupon, in the shop's timezone (empty without a valid coupon)"), coupon_deadline
)
AMOUNT_DUE = TemplateVariable(_("the amount still due on the order"), _amount_due)
