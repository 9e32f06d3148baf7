"""The shopper chat page from opening to close: greeting and 猜你想问, who says what, the rating question only
at the close, and a status line that stays true when the shopper writes again after the close."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from chat import services
from chat.models import Conversation
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.factories import FAQCardFactory

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]


def test_the_chat_opens_with_the_greeting_and_the_most_asked_questions_only(base_url, context, shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货", hit_count=30)
    FAQCardFactory(shop=shop_a, question="用什么快递", answer="默认顺丰", hit_count=5)
    FAQCardFactory(shop=shop_a, question="从没人问过的问题", answer="……", hit_count=0)
    FAQCardFactory(shop=shop_a, question="停用的问题", answer="……", hit_count=99, enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/chat/{shop_a.slug}/")
    expect(page.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    expect(page.locator(".message.greeting .bubble")).to_have_text(shop_a.widget_greeting)
    expect(page.locator(".suggested-question")).to_have_text(["什么时候发货", "用什么快递"])
    expect(page.locator("#rating")).to_be_hidden()
    page.close()


def test_the_rating_shows_at_the_close_and_a_new_message_brings_the_bot_back(base_url, context, shop_a):
    page = context.new_page()
    page.goto(f"{base_url}/chat/{shop_a.slug}/")
    expect(page.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    page.fill("#input", "你好")
    page.click("#send")
    expect(page.locator(".message.bot:not(.greeting)").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".message.shopper .name")).to_have_text(["我"])
    expect(page.locator("#rating")).to_be_hidden()

    conversation = Conversation.objects.get(shop=shop_a)
    with ThreadPoolExecutor(1) as pool:  # delivery uses async_to_sync, which cannot run beside Playwright's loop
        pool.submit(services.close_conversation, conversation).result()
    expect(page.locator("#status")).to_have_text("会话已结束", timeout=TIMEOUT_MS)
    expect(page.locator("#rating")).to_be_visible()
    # Asked once: the survey's text in the chat, its scores only on the rating bar.
    survey = page.locator(".message.bot", has_text="打个分")
    expect(survey).to_have_count(1)
    expect(survey.locator(".quick-reply")).to_have_count(0)
    page.locator("#rating [data-score='5']").click()
    expect(page.locator("#rating")).to_be_hidden()

    page.fill("#input", "还有一个问题")
    page.click("#send")
    expect(page.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    expect(page.locator("#rating")).to_be_hidden()
    page.close()
