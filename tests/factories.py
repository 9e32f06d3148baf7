"""factory_boy factories for every model the tests build."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from analytics.models import QAFinding, QARule, Severity
from api.keys import issue_key
from api.models import ApiKey, Scope
from chat.models import Conversation, InvoiceRequest, Message, WorkOrder
from knowledge.models import FAQCard, SimilarQuestion, SynonymGroup
from marketing.models import Campaign, Coupon, LiveSession, Touch
from shops.models import Customer, Membership, Order, OrderLine, Product, QuotaWarning, Refund, Shop


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


class FAQCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQCard
        skip_postgeneration_save = True

    shop = factory.SubFactory(ShopFactory)
    question = factory.Sequence(lambda n: f"测试问题{n}")
    answer = factory.Sequence(lambda n: f"测试答案{n}")
    category = "物流"

    @factory.post_generation
    def similar(self, create, extracted, **kwargs):
        for text in extracted or ():
            SimilarQuestion.objects.create(card=self, text=text)


class SynonymGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SynonymGroup

    shop = factory.SubFactory(ShopFactory)
    canonical = "快递"
    words = "物流 快递公司"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    shop = factory.SubFactory(ShopFactory)
    visitor_token = factory.Sequence(lambda n: f"visitor-{n:06d}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    shop = factory.SelfAttribute("conversation.shop")
    sender = Message.Sender.SHOPPER
    text = "这双鞋有 42 码吗？"


class WorkOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkOrder

    shop = factory.SubFactory(ShopFactory)
    kind = WorkOrder.Kind.ADDRESS_CHANGE
    details = "收货地址改为：上海市浦东新区世纪大道 100 号"


class InvoiceRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceRequest

    shop = factory.SubFactory(ShopFactory)
    title = "杭州小蜂科技有限公司"
    tax_id = "91330106MA27XK1A0B"
    email = "finance@example.com"


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A key issued the real way; its plaintext is on ``key.plaintext`` for the test's Authorization header."""

    class Meta:
        model = ApiKey

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"ISV {n}")
    scopes = factory.LazyFunction(lambda: list(Scope.values))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        key, plaintext = issue_key(**kwargs)
        key.plaintext = plaintext
        return key


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
    # Every target touched unless a test sets a control group (tests/test_value_holdouts.py does).
    control_percent = 0


class LiveSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiveSession

    shop = factory.SubFactory(ShopFactory)
    title = "秋冬上新专场"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))


class TouchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touch

    campaign = factory.SubFactory(CampaignFactory)
    shop = factory.SelfAttribute("campaign.shop")
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    channel = factory.SelfAttribute("campaign.channel")
    idempotency_key = factory.Sequence(lambda n: f"touch-{n:06d}")
    trigger_at = factory.LazyFunction(timezone.now)
    scheduled_at = factory.SelfAttribute("trigger_at")


class QARuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QARule

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"投诉{n}")
    kind = QARule.Kind.ANGRY_SHOPPER
    severity = Severity.HIGH
    words = "投诉"


class QAFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QAFinding

    message = factory.SubFactory(MessageFactory, text="我要投诉")
    conversation = factory.SelfAttribute("message.conversation")
    shop = factory.SelfAttribute("message.shop")
    rule = factory.SubFactory(QARuleFactory, shop=factory.SelfAttribute("..shop"))
    kind = factory.SelfAttribute("rule.kind")
    severity = factory.SelfAttribute("rule.severity")
    actor = QAFinding.Actor.SHOPPER
    evidence = "投诉"


class QuotaWarningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuotaWarning

    shop = factory.SubFactory(ShopFactory)
    month = date(2026, 11, 1)
    threshold = QuotaWarning.Threshold.NEAR
    used = 1600
    quota = 2000


def channel_connection(shop, kind: str, name: str = "", **values: str):
    """A saved channel connection of ``shop`` with ``values`` for its declared fields (secrets encrypted), through
    the service the admin uses."""
    from chat.channels.connections import save_connection
    from chat.models import ChannelConnection

    return save_connection(ChannelConnection(shop=shop, kind=kind, name=name or f"{kind} of {shop.slug}"), values)
