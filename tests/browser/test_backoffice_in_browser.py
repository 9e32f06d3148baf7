"""The back office in a real browser against the live server: each demo role logs in and lands on its own
home page, a manager opens the KPI dashboard and a conversation's transcript.

With SHOPBEE_SCREENSHOTS=docs/screenshots the pages are also saved there (the README's and
docs/backoffice.md's pictures): `SHOPBEE_SCREENSHOTS=docs/screenshots .venv/bin/pytest
tests/browser/test_backoffice_in_browser.py`. Chinese glyphs need a CJK font on the machine
(fonts-noto-cjk); the test's checks read the page's text, not its pixels.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from chat import services
from chat.intents import HandoffReason
from chat.models import Conversation
from shops.models import Shop
from tests.browser.conftest import TIMEOUT_MS, admin_page, requires_chromium, screenshot
from tests.live_server import wait_until_idle

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "shopbee-demo"
# What shoppers of the demo shop ask, one conversation each, through the real dialogue engine.
CONVERSATIONS = [
    ["你好", "什么时候发货", "用什么快递"],
    ["有没有适合跑步的鞋", "预算500以内", "42码"],
    ["这个能开发票吗", "谢谢"],
    ["你们家衣服起球吗？", "太差了我要投诉", "转人工"],
    ["可以用花呗吗", "能便宜点吗"],
]


def _play_demo_conversations() -> Conversation:
    """Conversations of swift-sports played through the chat service; returns the one handed to a human."""
    shop = Shop.objects.get(slug="swift-sports")
    handed = None
    for number, questions in enumerate(CONVERSATIONS):
        conversation = services.new_conversation(shop, visitor_token=f"browser-demo-{number:04d}")
        for text in questions:
            conversation = services.receive_shopper_message(conversation, text).message.conversation
        conversation.refresh_from_db()
        if conversation.status == Conversation.Status.WAITING:
            handed = conversation
    if handed is None:  # the engine did not hand any over by itself: the shopper asks once more
        handed = conversation
        services.request_handoff(handed, HandoffReason.REQUESTED)
    return handed


def _load_demo() -> Conversation:
    call_command("load_demo", "--days", "0", verbosity=0)
    return _play_demo_conversations()


@pytest.fixture
def demo(db):
    # Off the browser's thread: Playwright's event loop there refuses the chat's sync-to-async calls.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_load_demo).result()


# Each demo login, the role section its home page opens on and a figure of that role.
HOMES = [
    ("manager", "manager", "今日会话"),
    ("trainer", "trainer", "未解决问题组"),
    ("agent", "agent", "等待客服"),
    ("qa", "qa", "待复核问题"),
    ("admin", "manager", "今日会话"),
]


def test_each_demo_role_lands_on_its_own_home_page(base_url, browser, chat_server, demo):
    for username, role, expected in HOMES:
        context = browser.new_context(locale="zh-CN")
        page = admin_page(context, base_url, username, DEMO_PASSWORD)
        expect(page.locator(f'section[data-role="{role}"]')).to_contain_text(expected, timeout=TIMEOUT_MS)
        expect(page.locator("#nav-sidebar-apps")).to_contain_text("今日待办")
        screenshot(page, f"backoffice-home-{username}")
        context.close()
        wait_until_idle(chat_server)


def test_a_manager_opens_the_dashboard_and_a_conversations_transcript(base_url, browser, chat_server, demo):
    context = browser.new_context(locale="zh-CN")
    page = admin_page(context, base_url, "manager", DEMO_PASSWORD)
    expect(page.locator('section[data-role="manager"]')).to_be_visible(timeout=TIMEOUT_MS)
    page.goto(f"{base_url}/admin/analytics/qareport/dashboard/")
    expect(page.locator("#kpi-volume")).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "backoffice-dashboard")
    page.goto(f"{base_url}/admin/chat/conversation/{demo.pk}/change/")
    transcript = page.locator(".shopbee-transcript")
    expect(transcript).to_contain_text("转人工", timeout=TIMEOUT_MS)
    expect(transcript.locator(".transcript-shopper").first).to_be_visible()
    # A window tall enough for the whole transcript: the form's bar stays fixed at its bottom edge.
    page.set_viewport_size({"width": 1366, "height": 2000})
    screenshot(page, "backoffice-transcript", full_page=False)
    context.close()
    wait_until_idle(chat_server)
