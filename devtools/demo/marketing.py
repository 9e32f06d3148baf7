"""Demo marketing data for every demo shop: coupons, the five campaign types, bundle rules, a live
session and the beat scan task. Loading twice changes nothing."""

from datetime import time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from marketing.models import BundleRule, Campaign, Coupon, LiveSession
from marketing.services import ensure_scan_schedule
from shops.models import Shop

Kind = Campaign.Kind
QUIET = {"quiet_start": time(22), "quiet_end": time(8)}
# The demo campaigns hold out 30% of their targets (the default is 10%): a small shop's month then has a control
# group large enough to read a lift from on the proof-of-value page.
CONTROL_PERCENT = 30

# (name, kind, delay in minutes, window in hours, template, coupon name or None)
CAMPAIGNS = [
    ("唤醒咨询未下单", Kind.WAKE_UP, 24 * 60, 7 * 24, "{nickname}，上次看中的宝贝还在等你哦，有问题随时问我～", None),
    (
        "催拍：看过没下单",
        Kind.CART,
        120,
        72,
        "{nickname}，您关注的{product}库存不多了，喜欢就早点带走吧～",
        "满199减20",
    ),
    (
        "催付：订单未支付",
        Kind.PAYMENT,
        30,
        48,
        "{nickname}，您的订单还差 ¥{amount} 就完成啦，{product}已为您预留～",
        None,
    ),
    (
        "预售尾款提醒",
        Kind.PRESALE_FINAL,
        0,
        72,
        "{nickname}，您预订的{product}尾款 ¥{amount} 请在 {deadline} 前支付哦",
        None,
    ),
    (
        "退款挽留",
        Kind.REFUND_RETENTION,
        10,
        72,
        "{nickname}，很抱歉商品没让您满意，换个尺码或颜色也可以哦～",
        "满299减40",
    ),
]
COUPONS = [("满199减20", "199", "20"), ("满299减40", "299", "40"), ("满499减80", "499", "80")]


def _coupons(shop: Shop, now) -> dict[str, Coupon]:
    coupons = {}
    for name, threshold, discount in COUPONS:
        coupons[name], _ = Coupon.objects.update_or_create(
            shop=shop,
            name=name,
            defaults={
                "threshold": Decimal(threshold),
                "discount": Decimal(discount),
                "valid_from": now - timedelta(days=1),
                "valid_until": now + timedelta(days=30),
                "is_active": True,
            },
        )
    return coupons


def _campaigns(shop: Shop, coupons: dict[str, Coupon]) -> None:
    for name, kind, delay, window, template, coupon in CAMPAIGNS:
        Campaign.objects.update_or_create(
            shop=shop,
            name=name,
            defaults={
                "kind": kind,
                "delay_minutes": delay,
                "window_hours": window,
                "template": template,
                "coupon": coupons.get(coupon) if coupon else None,
                "daily_cap": 1,
                "channel": Campaign.Channel.IN_CHAT,
                "control_percent": CONTROL_PERCENT,
                **QUIET,
            },
        )


def _bundles_and_live(shop: Shop, now) -> None:
    products = list(shop.products.filter(on_sale=True).order_by("price", "sku"))
    if len(products) < 4:
        return
    cheapest, dearest = products[:2], products[-2:]
    for position, (product, companion) in enumerate(zip(dearest, cheapest, strict=True)):
        BundleRule.objects.update_or_create(
            product=product,
            companion=companion,
            defaults={"shop": shop, "reason": "店长推荐搭配", "position": position},
        )
    tonight = now.astimezone(shop.tz).replace(hour=20, minute=0, second=0, microsecond=0)
    if tonight < now:
        tonight += timedelta(days=1)
    session, _ = LiveSession.objects.update_or_create(
        shop=shop,
        title=f"{shop.name} 直播专场",
        defaults={"starts_at": tonight, "ends_at": tonight + timedelta(hours=2)},
    )
    session.featured_products.set(products[-3:])


@transaction.atomic
def load_demo() -> None:
    now = timezone.now()
    for shop in Shop.objects.filter(slug__in=["swift-sports", "lanyi-women", "jingjia-clean"]):
        _campaigns(shop, _coupons(shop, now))
        _bundles_and_live(shop, now)
        ensure_scan_schedule(shop)
