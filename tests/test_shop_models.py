from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shops.models import Membership
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RefundFactory,
    ShopFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_negative_price_is_rejected_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(price=Decimal("-1.00"))


def test_a_sku_is_unique_within_one_shop(shop_a):
    ProductFactory(shop=shop_a, sku="RUN-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(shop=shop_a, sku="RUN-1")


def test_the_same_sku_in_two_shops_is_fine(shop_a, shop_b):
    ProductFactory(shop=shop_a, sku="RUN-1")
    ProductFactory(shop=shop_b, sku="RUN-1")
    assert shop_a.products.count() == shop_b.products.count() == 1


def test_a_customer_external_id_is_unique_per_shop(shop_a, shop_b):
    CustomerFactory(shop=shop_a, external_id="u1")
    CustomerFactory(shop=shop_b, external_id="u1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(shop=shop_a, external_id="u1")


def test_an_order_cannot_be_paid_more_than_its_total():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(total_amount=Decimal("10"), paid_amount=Decimal("11"))


def test_an_order_line_needs_a_positive_quantity():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory(quantity=0)


def test_a_refund_needs_a_positive_amount():
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundFactory(amount=Decimal("0"))


def test_a_user_holds_one_role_per_shop(shop_a):
    user = UserFactory()
    MembershipFactory(user=user, shop=shop_a, role=Membership.Role.AGENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=user, shop=shop_a, role=Membership.Role.TRAINER)


def test_an_order_of_one_shop_cannot_name_a_customer_of_another(shop_a, shop_b):
    from django.core.exceptions import ValidationError

    order = OrderFactory.build(shop=shop_a, customer=CustomerFactory(shop=shop_b))
    with pytest.raises(ValidationError):
        order.full_clean()


def test_models_read_as_sentences():
    order = OrderFactory(external_id="NO1", status="shipped")
    assert str(order) == f"NO1 · {order.get_status_display()}"
    assert str(ShopFactory(name="迅驰")) == "迅驰"
