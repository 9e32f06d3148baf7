"""Building blocks several campaign kinds share: the target queries of chat episodes and of orders,
and the template variables whose meaning does not depend on the kind."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from chat.intents import Intent
from chat.models import Message
from shops.models import Customer, Order

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
    # Through the customer's conversations (indexed by customer), not the shop's whole message table.
    return Message.objects.filter(conversation__customer=OuterRef("pk"))


def customer_targets(campaign: Campaign, now: datetime, trigger: QuerySet[Message], extra: Q) -> QuerySet:
    """Customers whose trigger message (latest of ``trigger``) is due and in the window, with no order since.

    One touch per trigger message: a later message is a new episode with a new key."""
    delay = timedelta(minutes=campaign.delay_minutes)
    latest = trigger.filter(created_at__gte=now - timedelta(hours=campaign.window_hours)).order_by("-created_at", "-pk")
    return (
        Customer.objects.filter(shop=campaign.shop, marketing_opt_out=False)
        .order_by()
        .annotate(t_trigger=Subquery(latest.values("created_at")[:1]))
        .filter(t_trigger__lte=now - delay)
        .filter(extra)
        .exclude(Exists(Order.objects.filter(customer=OuterRef("pk"), created_at__gte=OuterRef("t_trigger"))))
        .annotate(
            t_customer=F("pk"),
            t_order=NO_ID,
            t_refund=NO_ID,
            t_message=Subquery(latest.values("pk")[:1]),
        )
        .annotate(t_key=target_key(campaign, "message", "t_message"))
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
