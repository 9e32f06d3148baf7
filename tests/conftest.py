import pytest

from shops.models import Membership
from tests.factories import MembershipFactory, ShopFactory, UserFactory


@pytest.fixture
def shop_a(db):
    return ShopFactory(name="店铺A", slug="shop-a")


@pytest.fixture
def shop_b(db):
    return ShopFactory(name="店铺B", slug="shop-b")


def staff_of(shop, role: str, username: str | None = None):
    user = UserFactory(username=username or f"{role}-{shop.slug}")
    MembershipFactory(user=user, shop=shop, role=role)
    return user


@pytest.fixture
def manager_a(shop_a):
    return staff_of(shop_a, Membership.Role.MANAGER)


@pytest.fixture
def trainer_a(shop_a):
    return staff_of(shop_a, Membership.Role.TRAINER)


@pytest.fixture
def agent_a(shop_a):
    return staff_of(shop_a, Membership.Role.AGENT)
