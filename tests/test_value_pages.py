"""The proof-of-value page: who may open it, each report scoped to the user's shops (another shop's page is a
404, its figures never shown), bad input a 400, and the figures on the page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from analytics.statistics import compare, compare_amounts
from analytics.templatetags.value_figures import lift
from chat.models import Conversation, MeasurementPolicy
from knowledge.experiments import start_experiment
from marketing.models import Touch
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import CampaignFactory, CustomerFactory, FAQCardFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_shops(shop_a, shop_b):
    """Each shop with a closed bot conversation, a campaign with a control target, an experiment, a holdout."""
    long_ago = timezone.now() - timedelta(days=10)
    for shop, name in ((shop_a, "A"), (shop_b, "B")):
        conversation = Conversation.objects.create(
            shop=shop, visitor_token=f"v-{name}", status=Conversation.Status.CLOSED, ended_at=long_ago
        )
        Conversation.objects.filter(pk=conversation.pk).update(started_at=long_ago)
        campaign = CampaignFactory(shop=shop, name=f"活动{name}", control_percent=10)
        Touch.objects.create(
            campaign=campaign, shop=shop, customer=CustomerFactory(shop=shop), channel=campaign.channel,
            idempotency_key=f"k-{name}", trigger_at=long_ago, scheduled_at=long_ago, status=Touch.Status.SKIPPED,
            skip_reason=Touch.SkipReason.CONTROL,
        )  # fmt: skip
        start_experiment(FAQCardFactory(shop=shop, question=f"问题{name}"), f"新答案{name}")
        MeasurementPolicy.objects.create(shop=shop, bot_holdout_percent=10, bot_holdout_since=long_ago)
    return shop_a, shop_b


def test_a_manager_sees_their_shops_figures_and_none_of_another_shops(client, both_shops, manager_a):
    shop_a, _shop_b = both_shops
    client.force_login(manager_a)
    page = client.get(reverse("admin:analytics_value"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "活动A" in html and "新答案A" in html and "店铺A" in html
    assert "活动B" not in html and "新答案B" not in html and "店铺B" not in html
    assert 'id="value-durable"' in html
    one = client.get(reverse("admin:analytics_shop_value", args=[shop_a.pk]))
    assert one.status_code == 200 and "活动A" in one.content.decode()


def test_another_shops_page_is_a_404(client, both_shops, manager_a):
    _shop_a, shop_b = both_shops
    client.force_login(manager_a)
    assert client.get(reverse("admin:analytics_shop_value", args=[shop_b.pk])).status_code == 404


def test_staff_who_are_not_managers_are_refused(client, both_shops, agent_a, trainer_a):
    for user in (agent_a, trainer_a):
        client.force_login(user)
        assert client.get(reverse("admin:analytics_value")).status_code == 403
    client.logout()
    assert client.get(reverse("admin:analytics_value")).status_code == 302  # to the login page


def test_a_bad_period_is_a_400_with_the_reason(client, both_shops, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("admin:analytics_value"), {"start": "2026-11-20", "end": "2026-11-01"})
    assert response.status_code == 400


def test_a_manager_of_both_shops_sees_both(client, both_shops):
    shop_a, shop_b = both_shops
    manager = staff_of(shop_a, Membership.Role.MANAGER, "both")
    MembershipFactory(user=manager, shop=shop_b, role=Membership.Role.MANAGER)
    client.force_login(manager)
    html = client.get(reverse("admin:analytics_value")).content.decode()
    assert "活动A" in html and "活动B" in html


def test_a_lift_reads_as_the_difference_its_interval_and_its_verdict():
    with translation.override("en"):
        points = str(lift(compare(560, 700, 480, 800)))
        money = str(lift(compare_amounts([0.0] * 40 + [10.0] * 40, [0.0] * 60 + [10.0] * 20), "¥"))
        small = str(lift(compare(3, 10, 1, 10)))
    assert "+20.0 pp" in points and "95% CI +15.4 pp to +24.4 pp" in points and "higher, beyond chance" in points
    assert "+¥2.50" in money and "¥" in money
    assert "sample too small to conclude" in small
    assert lift(None) == "—"
