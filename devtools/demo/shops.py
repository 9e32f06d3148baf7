"""Demo shops, staff, products, customers and orders. Loading twice changes nothing."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from shops.models import Customer, EmbedOrigin, Membership, Order, OrderLine, Product, Refund, Shop

from .shop_catalog import SHOPS

DEMO_PASSWORD = "shopbee-demo"
# Sites allowed to embed the demo shops' widget: a page served on this machine, port 8080.
DEMO_EMBED_ORIGINS = ("http://127.0.0.1:8080", "http://localhost:8080")
Role = Membership.Role
Status = Order.Status

# (username, [(shop slug, role)]): one login per role, and one manager of two shops.
DEMO_STAFF = [
    ("manager", [("swift-sports", Role.MANAGER), ("lanyi-women", Role.MANAGER)]),
    ("manager_jingjia", [("jingjia-clean", Role.MANAGER)]),
    ("trainer", [("swift-sports", Role.TRAINER), ("lanyi-women", Role.TRAINER), ("jingjia-clean", Role.TRAINER)]),
    ("agent", [("swift-sports", Role.AGENT), ("lanyi-women", Role.AGENT)]),
    ("agent_jingjia", [("jingjia-clean", Role.AGENT)]),
    ("qa", [("swift-sports", Role.QA), ("lanyi-women", Role.QA), ("jingjia-clean", Role.QA)]),
]

NICKNAMES = [
    "小鹿乱撞",
    "橘子汽水",
    "跑步的阿杰",
    "晴天娃娃",
    "木子李",
    "夏天的风",
    "一只猫",
    "奶茶不加糖",
    "老王",
    "陈小姐",
    "追风少年",
    "柠檬精",
    "安静的美男子",
    "lily_wang",
    "Tom",
    "蓝莓酱",
    "早睡早起",
    "小胖",
    "海盐芝士",
    "周末去爬山",
]
CITIES = [
    "浙江省杭州市西湖区文三路 90 号",
    "上海市浦东新区张江路 500 弄 3 号",
    "北京市朝阳区望京街 10 号院",
    "广东省深圳市南山区科技园南路 18 号",
    "四川省成都市高新区天府大道 1700 号",
    "江苏省南京市鼓楼区中山北路 30 号",
]
CARRIERS = ["顺丰速运", "中通快递", "圆通速递", "韵达快递"]
# Every order status, with how many demo orders of each per shop.
ORDER_MIX = [
    (Status.UNPAID, 5),
    (Status.PAID, 5),
    (Status.DEPOSIT_PAID, 3),
    (Status.AWAITING_FINAL, 3),
    (Status.SHIPPED, 6),
    (Status.COMPLETED, 8),
    (Status.REFUND_REQUESTED, 3),
    (Status.REFUNDED, 2),
    (Status.CLOSED, 2),
]


def _staff() -> list[tuple[str, str]]:
    User = get_user_model()
    admin, created = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
    logins = [("admin", "superuser")]
    for username, roles in DEMO_STAFF:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        for slug, role in roles:
            Membership.objects.update_or_create(user=user, shop=Shop.objects.get(slug=slug), defaults={"role": role})
        logins.append((username, ", ".join(f"{slug}:{role}" for slug, role in roles)))
    return logins


def _shop(spec: dict) -> Shop:
    shop, _ = Shop.objects.update_or_create(
        slug=spec["slug"],
        defaults={
            "name": spec["name"],
            "industry": spec["industry"],
            "plan": spec["plan"],
            "listed_on_front_page": True,
        },
        # The widget's look is the manager's to change: set once, kept by later loads.
        create_defaults={
            "name": spec["name"],
            "industry": spec["industry"],
            "plan": spec["plan"],
            "listed_on_front_page": True,
            "widget_colour": spec["widget_colour"],
            "widget_greeting": f"您好，欢迎光临{spec['name']}！我是智能客服小蜂，有什么可以帮您？",
        },
    )
    # A page served locally (docs/chat.md, "Try the widget") may embed the demo shops' chat.
    for origin in DEMO_EMBED_ORIGINS:
        EmbedOrigin.objects.get_or_create(shop=shop, origin=origin)
    warranty = spec["warranty_months"]
    for n, (category, title, price, colors, sizes, uses, points) in enumerate(spec["products"], start=1):
        Product.objects.update_or_create(
            shop=shop,
            sku=f"{spec['slug'][:2].upper()}-{n:03d}",
            defaults={
                "title": title,
                "category": category,
                "price": Decimal(price),
                "colors": colors,
                "sizes": sizes,
                "uses": uses,
                "selling_points": points,
                "stock": 50 + (n * 37) % 400,
                "warranty_months": warranty.get(title, warranty.get(category, 0)),
                "on_sale": True,
            },
        )
    return shop


def _customers_and_orders(shop: Shop, rng: random.Random) -> None:
    customers = []
    for n, nickname in enumerate(NICKNAMES, start=1):
        customer, _ = Customer.objects.get_or_create(
            shop=shop,
            external_id=f"c{n:04d}",
            defaults={"nickname": nickname, "phone": f"138{rng.randrange(10**8):08d}"},
        )
        customers.append(customer)
    products = list(shop.products.order_by("sku"))
    now = timezone.now()
    serial = 0
    for status, count in ORDER_MIX:
        for _ in range(count):
            serial += 1
            external_id = f"{shop.slug[:2].upper()}{serial:06d}"
            if Order.objects.filter(shop=shop, external_id=external_id).exists():
                continue
            _make_order(
                shop,
                external_id,
                status,
                rng.choice(customers),
                rng.sample(products, k=rng.randint(1, 3)),
                now - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23)),
                rng,
            )


def _make_order(shop, external_id, status, customer, products, created, rng) -> None:
    lines = [(p, rng.randint(1, 2)) for p in products]
    total = sum((p.price * qty for p, qty in lines), Decimal("0"))
    presale = status in (Status.DEPOSIT_PAID, Status.AWAITING_FINAL)
    deposit = (total * Decimal("0.2")).quantize(Decimal("0.01")) if presale else Decimal("0")
    paid = Decimal("0") if status in (Status.UNPAID, Status.CLOSED) else (deposit if presale else total)
    shipped = status in (Status.SHIPPED, Status.COMPLETED, Status.REFUND_REQUESTED, Status.REFUNDED)
    # Paid and shipped soon after the order, but never later than now: an order placed an hour ago was paid
    # and shipped within that hour, not tomorrow.
    elapsed = timezone.now() - created
    paid_after = min(timedelta(minutes=5), elapsed / 4)
    shipped_after = min(timedelta(days=1), elapsed / 2)
    order = Order.objects.create(
        shop=shop,
        customer=customer,
        external_id=external_id,
        status=status,
        total_amount=total,
        deposit_amount=deposit,
        paid_amount=paid,
        receiver_name=customer.nickname[:10],
        receiver_phone=customer.phone,
        shipping_address=rng.choice(CITIES),
        created_at=created,
        paid_at=created + paid_after if paid else None,
        shipped_at=created + shipped_after if shipped else None,
        carrier=rng.choice(CARRIERS) if shipped else "",
        tracking_number=f"SF{rng.randrange(10**12):012d}" if shipped else "",
        final_payment_due=created + timedelta(days=10) if presale else None,
    )
    for product, qty in lines:
        OrderLine.objects.create(
            order=order,
            product=product,
            title=product.title,
            unit_price=product.price,
            quantity=qty,
            color=rng.choice(product.colors) if product.colors else "",
            size=rng.choice(product.sizes) if product.sizes else "",
        )
    if status in (Status.REFUND_REQUESTED, Status.REFUNDED):
        Refund.objects.create(
            shop=shop,
            order=order,
            amount=total,
            reason=rng.choice(["尺码不合适", "不喜欢颜色", "质量问题"]),
            status=Refund.Status.REQUESTED if status == Status.REFUND_REQUESTED else Refund.Status.REFUNDED,
        )


@transaction.atomic
def load_demo() -> list[tuple[str, str]]:
    """Create or refresh the demo shops; returns the demo logins as (username, what they can do)."""
    rng = random.Random(20261124)
    for spec in SHOPS:
        _customers_and_orders(_shop(spec), rng)
    return _staff()
