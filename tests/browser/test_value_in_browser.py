"""The proof-of-value pages in a real browser: a manager reads durable resolution and a campaign's lift with its
interval, a trainer keeps the winning answer of an experiment with one click.

With SHOPBEE_SCREENSHOTS=<folder> the pages are saved there as PNGs."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from chat.models import Conversation
from knowledge.experiments import start_experiment
from knowledge.models import AnswerExperiment, AnswerLog, AnswerOutcome, FAQCard
from marketing.models import Campaign, Touch
from shops.models import Customer, Order, Shop
from tests.browser.conftest import TIMEOUT_MS, admin_page, requires_chromium, screenshot
from tests.live_server import wait_until_idle

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "shopbee-demo"


@pytest.fixture
def figures(db):
    """The demo shops, and in swift-sports: settled bot conversations, a campaign's two arms, an experiment."""
    call_command("load_demo", "--days", "0", verbosity=0)
    shop = Shop.objects.get(slug="swift-sports")
    long_ago = timezone.now() - timedelta(days=12)
    customers = list(Customer.objects.filter(shop=shop).order_by("pk"))
    card = FAQCard.objects.filter(shop=shop).order_by("pk").first()
    experiment = start_experiment(card, "亲，顺丰包邮，当天发出～")
    for n in range(40):
        conversation = Conversation.objects.create(
            shop=shop, visitor_token=f"value-{n}", status=Conversation.Status.CLOSED, ended_at=long_ago
        )
        Conversation.objects.filter(pk=conversation.pk).update(started_at=long_ago)
        AnswerLog.objects.create(
            shop=shop, conversation=conversation, question=card.question, card=card, score=0.9,
            outcome=AnswerOutcome.ANSWER, experiment=experiment, variant="ab"[n % 2],
        )  # fmt: skip
    campaign = Campaign.objects.filter(shop=shop, kind=Campaign.Kind.CART).get()
    for n in range(120):
        customer = customers[n % len(customers)]
        control = n % 3 == 0
        Touch.objects.create(
            campaign=campaign, shop=shop, customer=customer, channel=campaign.channel, idempotency_key=f"b:{n}",
            trigger_at=long_ago, scheduled_at=long_ago, status=Touch.Status.SKIPPED if control else Touch.Status.SENT,
            skip_reason=Touch.SkipReason.CONTROL if control else "", sent_at=None if control else long_ago,
        )  # fmt: skip
    return shop, campaign, experiment


def test_a_manager_reads_durable_resolution_and_a_campaigns_lift(base_url, browser, chat_server, figures):
    shop, campaign, _experiment = figures
    Order.objects.filter(shop=shop).delete()
    context = browser.new_context(locale="zh-CN")
    page = admin_page(context, base_url, "manager", DEMO_PASSWORD)
    expect(page.locator("#nav-sidebar-apps")).to_contain_text("价值证明", timeout=TIMEOUT_MS)
    page.goto(f"{base_url}/admin/analytics/qareport/value/{shop.pk}/")
    expect(page.locator("#value-durable")).to_contain_text("100.0%", timeout=TIMEOUT_MS)
    expect(page.locator("#value-by-channel")).to_contain_text("网页插件")
    row = page.locator("#value-campaigns tr", has_text=campaign.name)
    expect(row).to_contain_text("80 / 40")
    expect(row).to_contain_text("95% 置信区间")
    expect(row).to_contain_text("样本太小，尚无结论")
    screenshot(page, "value-page")
    context.close()
    wait_until_idle(chat_server)


def test_a_trainer_keeps_the_winning_answer_with_one_click(base_url, browser, chat_server, figures):
    _shop, _campaign, experiment = figures
    context = browser.new_context(locale="zh-CN")
    page = admin_page(context, base_url, "trainer", DEMO_PASSWORD)
    expect(page.locator("#nav-sidebar-apps")).to_contain_text("答案实验结果", timeout=TIMEOUT_MS)
    page.goto(f"{base_url}/admin/analytics/qareport/experiments/")
    row = page.locator("#value-experiments tr", has_text="顺丰包邮")
    expect(row).to_contain_text("20 / 20", timeout=TIMEOUT_MS)
    screenshot(page, "value-experiments")
    row.locator("button[value=b]").click()
    expect(page.locator("#value-experiments tr", has_text="顺丰包邮")).to_contain_text("已结束", timeout=TIMEOUT_MS)
    experiment.refresh_from_db()
    assert experiment.kept == AnswerExperiment.Variant.B
    assert FAQCard.objects.get(pk=experiment.card_id).answer == "亲，顺丰包邮，当天发出～"
    context.close()
    wait_until_idle(chat_server)
