"""The trainer's admin pages in a real browser: the impact preview beside save, and the language pack page."""

import os
import re

import pytest
from playwright.sync_api import expect

from knowledge.models import AnswerLog, FAQCard, SwitchedOffPackEntry
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.factories import FAQCardFactory
from tests.live_server import wait_until_idle

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

# Where the screenshots go for a person to look at (not kept by the test run).
SHOTS = os.environ.get("SHOPBEE_SCREENSHOTS", "")


@pytest.fixture
def context(browser, chat_server):
    """A fresh browser profile that asks for Chinese, as a trainer's browser does (the admin follows it)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield context
    context.close()
    wait_until_idle(chat_server)


def log_in(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.press("#id_password", "Enter")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_trainer_previews_a_new_similar_question_then_saves_it_with_one_click(base_url, context, shop_a, trainer_a):
    card = FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货", similar=["多久发货"])
    FAQCardFactory(shop=shop_a, question="退款多久到账", answer="1-3个工作日到账")
    AnswerLog.objects.bulk_create(
        [AnswerLog(shop=shop_a, question="能加急吗", score=0.1, outcome="fallback") for _ in range(3)]
        + [AnswerLog(shop=shop_a, question="什么时候发货", score=0.9, outcome="answer")]
    )
    page = context.new_page()
    log_in(page, base_url, trainer_a.username, f"/admin/knowledge/faqcard/{card.pk}/change/")
    page.fill("#id_similar_questions-1-text", "能加急吗")
    page.click("#impact-preview-button")
    result = page.locator("#impact-result")
    expect(result).to_contain_text("新增可回答：3", timeout=TIMEOUT_MS)
    expect(result.locator("table.impact-answered td").first).to_have_text("能加急吗")
    shot(page, "impact-preview")
    assert list(FAQCard.objects.get(pk=card.pk).similar_questions.values_list("text", flat=True)) == ["多久发货"]

    page.click("[name=_save]")
    expect(page).to_have_url(re.compile(r"/admin/knowledge/faqcard/(\?.*)?$"), timeout=TIMEOUT_MS)
    texts = set(FAQCard.objects.get(pk=card.pk).similar_questions.values_list("text", flat=True))
    assert texts == {"多久发货", "能加急吗"}
    page.close()


def test_a_trainer_switches_a_pack_entry_off_on_the_language_pack_page(base_url, context, shop_a, trainer_a):
    page = context.new_page()
    log_in(page, base_url, trainer_a.username, f"/admin/knowledge/switchedoffpackentry/pack/?shop={shop_a.pk}")
    page.fill("#id_q", "揽收")
    page.press("#id_q", "Enter")
    row = page.locator("tr[data-entry='syn:发货']")
    expect(row).to_contain_text("使用中", timeout=TIMEOUT_MS)
    shot(page, "language-pack")
    row.locator("button[name=on]").click()
    expect(page.locator("tr[data-entry='syn:发货']")).to_contain_text("本店已关闭", timeout=TIMEOUT_MS)
    shot(page, "language-pack-switched-off")
    assert SwitchedOffPackEntry.objects.filter(shop=shop_a, entry_id="syn:发货").exists()
    page.close()


def test_on_a_phone_the_knowledge_points_read_as_blocks_as_wide_as_the_screen(base_url, browser, shop_a, trainer_a):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    pack = "/admin/knowledge/switchedoffpackentry/pack/"
    log_in(page, base_url, trainer_a.username, pack)
    expect(page.locator("#pack-entries")).to_be_visible(timeout=TIMEOUT_MS)
    page.goto(f"{base_url}{pack}?shop={shop_a.pk}&kind=point")
    row = page.locator("tr[data-entry='point:ship_time']")
    expect(row).to_contain_text("发货时间", timeout=TIMEOUT_MS)
    expect(row).to_contain_text("始终启用")
    expect(row.locator("button")).to_have_count(0)
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "language-pack-points-phone")
    context.close()
