"""factory_boy factories for every model the tests build."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from shops.models import Customer, Membership, Order, OrderLine, Product, Refund, Shop


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pass-word-123")


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"测试店铺{n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    industry = Shop.Industry.SPORTSWEAR


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    shop = factory.SubFactory(ShopFactory)
    role = Membership.Role.MANAGER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"缓震跑步鞋 {n}号款")
    category = "跑步鞋"
    price = Decimal("299.00")
    colors = factory.LazyFunction(lambda: ["黑色", "白色"])
    sizes = factory.LazyFunction(lambda: ["40", "41", "42"])
    uses = factory.LazyFunction(lambda: ["跑步"])
    stock = 100


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    shop = factory.SubFactory(ShopFactory)
    external_id = factory.Sequence(lambda n: f"cust-{n}")
    nickname = factory.Sequence(lambda n: f"顾客{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    shop = factory.SubFactory(ShopFactory)
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    external_id = factory.Sequence(lambda n: f"NO{n:08d}")
    status = Order.Status.PAID
    total_amount = Decimal("299.00")
    paid_amount = Decimal("299.00")
    shipping_address = "浙江省杭州市西湖区文三路 90 号"
    created_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory, shop=factory.SelfAttribute("..order.shop"))
    title = factory.SelfAttribute("product.title")
    unit_price = factory.SelfAttribute("product.price")
    quantity = 1


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory, status=Order.Status.REFUND_REQUESTED)
    shop = factory.SelfAttribute("order.shop")
    amount = factory.SelfAttribute("order.total_amount")


# --- marketing ---------------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from marketing.models import Campaign, Coupon, LiveSession  # noqa: E402


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"满199减20 {n}")
    threshold = Decimal("199.00")
    discount = Decimal("20.00")
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"活动{n}")
    kind = Campaign.Kind.PAYMENT
    delay_minutes = 30
    window_hours = 72
    template = "{nickname}，您的订单还差 ¥{amount} 就完成啦～"
    daily_cap = 1
    channel = Campaign.Channel.IN_CHAT


class LiveSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiveSession

    shop = factory.SubFactory(ShopFactory)
    title = "秋冬上新专场"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
