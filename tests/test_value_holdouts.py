"""Campaign control groups: drawn by the stable hash at scan time, never touched, and the campaign's lift
counted from the trigger in both arms, with the interval and the verdict of analytics.statistics."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from analytics.services.value import campaign_lifts
from analytics.statistics import Verdict, compare
from core.splits import campaign_experiment, in_share
from marketing.models import Campaign, Touch
from marketing.services import campaign_arms, scan_shop
from shops.models import Order, Refund
from tests.factories import CampaignFactory, CustomerFactory, OrderFactory, RefundFactory

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
LATER = NOON + timedelta(days=20)


def unpaid_orders(shop, customers):
    return [
        OrderFactory(shop=shop, customer=c, status=Order.Status.UNPAID, paid_amount=0, created_at=NOON)
        for c in customers
    ]


def test_the_scan_holds_out_the_control_group_by_the_stable_hash_and_never_touches_it(shop_a):
    customers = [CustomerFactory(shop=shop_a) for _ in range(60)]
    unpaid_orders(shop_a, customers)
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=10, control_percent=30)
    with time_machine.travel(NOON + timedelta(minutes=11), tick=False):
        report = scan_shop(shop_a)
    expected = {c.pk for c in customers if in_share(campaign_experiment(campaign.pk), c.pk, 30)}
    control = Touch.objects.filter(campaign=campaign, skip_reason=Touch.SkipReason.CONTROL)
    assert set(control.values_list("customer_id", flat=True)) == expected
    assert 0 < len(expected) < 60
    assert not control.exclude(status=Touch.Status.SKIPPED).exists()
    assert not control.filter(sent_at__isnull=False).exists() and not control.filter(enqueued_at__isnull=False).exists()
    treated = Touch.objects.filter(campaign=campaign).exclude(skip_reason=Touch.SkipReason.CONTROL)
    assert treated.count() == report.created == 60 - len(expected)
    assert set(treated.values_list("status", flat=True)) == {Touch.Status.PENDING}
    with time_machine.travel(NOON + timedelta(minutes=40), tick=False):
        assert scan_shop(shop_a).created == 0  # a second scan adds nobody to either arm


def test_a_customer_stays_in_the_same_arm_for_every_trigger_of_the_campaign(shop_a):
    customers = [CustomerFactory(shop=shop_a) for _ in range(30)]
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=10, control_percent=50)
    unpaid_orders(shop_a, customers)
    with time_machine.travel(NOON + timedelta(minutes=11), tick=False):
        scan_shop(shop_a)
    with time_machine.travel(NOON + timedelta(hours=5), tick=False):
        for customer in customers:
            OrderFactory(
                shop=shop_a,
                customer=customer,
                status=Order.Status.UNPAID,
                paid_amount=0,
                created_at=NOON + timedelta(hours=5),
            )
    with time_machine.travel(NOON + timedelta(hours=5, minutes=11), tick=False):
        scan_shop(shop_a)
    arms = {}
    for customer_id, reason in Touch.objects.filter(campaign=campaign).values_list("customer_id", "skip_reason"):
        arms.setdefault(customer_id, set()).add(reason == Touch.SkipReason.CONTROL)
    assert all(len(sides) == 1 for sides in arms.values()) and len(arms) == 30


def test_no_control_group_when_the_share_is_zero(shop_a):
    unpaid_orders(shop_a, [CustomerFactory(shop=shop_a) for _ in range(20)])
    CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=10, control_percent=0)
    with time_machine.travel(NOON + timedelta(minutes=11), tick=False):
        assert scan_shop(shop_a).created == 20
    assert not Touch.objects.filter(skip_reason=Touch.SkipReason.CONTROL).exists()


def touch(campaign, customer, *, control, trigger=NOON, refund=None, n=[0]):  # noqa: B006 (a counter)
    n[0] += 1
    return Touch.objects.create(
        campaign=campaign, shop=campaign.shop, customer=customer, refund=refund, channel=campaign.channel,
        idempotency_key=f"t:{n[0]}", trigger_at=trigger, scheduled_at=trigger,
        status=Touch.Status.SKIPPED if control else Touch.Status.SENT,
        skip_reason=Touch.SkipReason.CONTROL if control else "",
        sent_at=None if control else trigger,
    )  # fmt: skip


def paid(shop, customer, at, amount):
    return OrderFactory(
        shop=shop, customer=customer, status=Order.Status.PAID, paid_amount=amount, paid_at=at, created_at=at
    )


def test_both_arms_are_counted_from_the_trigger_over_the_same_window(shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.CART, delay_minutes=60, control_percent=10)
    buyer, late, idle, control_buyer, control_idle = (CustomerFactory(shop=shop_a) for _ in range(5))
    for customer in (buyer, late, idle):
        touch(campaign, customer, control=False)
    for customer in (control_buyer, control_idle):
        touch(campaign, customer, control=True)
    touch(campaign, CustomerFactory(shop=shop_a), control=False, trigger=LATER - timedelta(hours=2))
    paid(shop_a, buyer, NOON + timedelta(hours=5), Decimal("100"))
    paid(shop_a, late, NOON + timedelta(hours=74), Decimal("80"))  # after the delay plus 72 hours
    paid(shop_a, control_buyer, NOON + timedelta(hours=30), Decimal("50"))
    paid(shop_a, idle, NOON - timedelta(hours=1), Decimal("70"))  # before the trigger
    [arms] = campaign_arms([campaign], LATER)
    assert (arms.treated.targets, arms.treated.converted, sorted(arms.treated.paid)) == (3, 1, [0.0, 0.0, 100.0])
    assert (arms.control.targets, arms.control.converted, sorted(arms.control.paid)) == (2, 1, [0.0, 50.0])
    assert arms.in_window == 1


def test_refunds_retained_count_withdrawals_within_the_window(shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.REFUND_RETENTION, delay_minutes=0, control_percent=10)
    kept, lost, control_kept = (RefundFactory(order__shop=shop_a) for _ in range(3))
    Refund.objects.filter(pk__in=[kept.pk, control_kept.pk]).update(
        status=Refund.Status.WITHDRAWN, resolved_at=NOON + timedelta(hours=3)
    )
    Refund.objects.filter(pk=lost.pk).update(status=Refund.Status.APPROVED, resolved_at=NOON + timedelta(hours=3))
    for refund, control in ((kept, False), (lost, False), (control_kept, True)):
        touch(campaign, refund.order.customer, control=control, refund=refund)
    [arms] = campaign_arms([campaign], LATER)
    assert (arms.treated.refunds, arms.treated.refunds_retained) == (2, 1)
    assert (arms.control.refunds, arms.control.refunds_retained) == (1, 1)


def test_the_lift_is_treated_minus_control_with_newcombes_interval_and_a_verdict(shop_a, shop_b):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.CART, control_percent=50)
    customers = CustomerFactory.create_batch(200, shop=shop_a)
    for n, customer in enumerate(customers):
        control = n >= 100
        touch(campaign, customer, control=control)
        if (not control and n % 5 < 2) or (control and n % 10 == 0):  # 40% treated, 10% control
            paid(shop_a, customer, NOON + timedelta(hours=2), Decimal("60"))
    CampaignFactory(shop=shop_b, control_percent=10)
    [lift] = campaign_lifts([shop_a.pk], LATER)
    assert lift.campaign == campaign
    assert lift.conversion == compare(40, 100, 10, 100)
    assert lift.conversion.verdict == Verdict.HIGHER
    assert lift.conversion.difference is not None and lift.conversion.difference.estimate == pytest.approx(30.0)
    assert lift.paid.first_mean == pytest.approx(24.0) and lift.paid.second_mean == pytest.approx(6.0)
    assert lift.paid.verdict == Verdict.HIGHER and lift.refunds is None


def test_a_small_campaign_says_its_sample_is_too_small(shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.CART, control_percent=10)
    for n in range(12):
        touch(campaign, CustomerFactory(shop=shop_a), control=n < 2)
    [lift] = campaign_lifts([shop_a.pk], LATER)
    assert lift.conversion.verdict == Verdict.TOO_SMALL and lift.paid.verdict == Verdict.TOO_SMALL


def test_the_api_serves_a_campaigns_lift_in_its_own_shop_only(shop_a, shop_b, api_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.CART, control_percent=50)
    for n, customer in enumerate(CustomerFactory.create_batch(80, shop=shop_a)):
        touch(campaign, customer, control=n >= 40, trigger=timezone.now() - timedelta(days=10))
        if n < 20:
            paid(shop_a, customer, timezone.now() - timedelta(days=9), Decimal("30"))
    body = api_a.get(f"/api/v1/campaigns/{campaign.pk}/lift/").json()
    assert (body["treated_targets"], body["control_targets"], body["in_window"]) == (40, 40, 0)
    assert body["conversion"]["treated"] == 20 and body["conversion"]["control"] == 0
    expected = compare(20, 40, 0, 40).difference
    assert body["conversion"]["difference_points"]["low"] == pytest.approx(expected.low)
    assert body["conversion"]["verdict"] == "higher"
    assert body["paid"]["treated_mean"] == pytest.approx(15.0) and body["refunds_retained"] is None
    foreign = CampaignFactory(shop=shop_b)
    assert api_a.get(f"/api/v1/campaigns/{foreign.pk}/lift/").status_code == 404
