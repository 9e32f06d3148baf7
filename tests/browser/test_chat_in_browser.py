"""The shopper page and the agent console in a real browser against a real uvicorn server."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from chat.messaging import post_message
from chat.models import Conversation, Message
from shops.models import Membership
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.conftest import staff_of
from tests.factories import FAQCardFactory

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/agent/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("[type=submit]")  # the theme's login has a button


def test_a_shopper_asks_a_question_and_sees_the_answer(base_url, context, shop_a):
    FAQCardFactory(
        shop=shop_a, question="什么时候发货", answer="亲，付款后48小时内发货哦～", quick_replies=["用什么快递"]
    )
    page = context.new_page()
    page.goto(f"{base_url}/chat/{shop_a.slug}/")
    expect(page.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    page.fill("#input", "什么时候发货？")
    page.click("#send")
    expect(page.locator(".message.shopper .bubble")).to_have_text(["什么时候发货？"])
    expect(page.locator(".message.bot:not(.greeting) .bubble").first).to_contain_text(
        "48小时内发货", timeout=TIMEOUT_MS
    )
    # Quick replies are buttons that ask the question they show.
    page.locator(".message.bot:not(.greeting) .quick-reply", has_text="用什么快递").first.click()
    expect(page.locator(".message.shopper .bubble")).to_have_text(["什么时候发货？", "用什么快递"])
    page.close()


def test_a_shopper_asks_for_a_human_and_an_agent_accepts_and_replies(base_url, context, shop_a):
    agent = staff_of(shop_a, Membership.Role.AGENT, "agent-browser")
    console = context.new_page()
    log_in(console, base_url, agent.username)
    expect(console.locator("#status")).to_have_text("在线", timeout=TIMEOUT_MS)

    shopper = context.new_page()
    shopper.goto(f"{base_url}/chat/{shop_a.slug}/")
    expect(shopper.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    shopper.fill("#input", "转人工")
    shopper.press("#input", "Enter")
    expect(shopper.locator(".message.system .bubble").last).to_contain_text("正在为您转接人工客服", timeout=TIMEOUT_MS)

    console.locator("#waiting .accept").first.click(timeout=TIMEOUT_MS)
    expect(console.locator("#messages")).to_contain_text("转人工", timeout=TIMEOUT_MS)
    expect(shopper.locator("#status")).to_have_text("客服 agent-browser 为您服务", timeout=TIMEOUT_MS)

    console.fill("#input", "您好，我是客服小美，请问有什么可以帮您？")
    console.click("#send")
    expect(shopper.locator(".message.agent .bubble")).to_have_text(
        ["您好，我是客服小美，请问有什么可以帮您？"], timeout=TIMEOUT_MS
    )

    # The shopper's answer reaches the console, with suggested replies to click.
    shopper.fill("#input", "<b>鞋子</b>什么时候发货")
    shopper.click("#send")
    expect(console.locator(".message.shopper .bubble").last).to_have_text("<b>鞋子</b>什么时候发货", timeout=TIMEOUT_MS)
    shopper.close()
    console.close()


def test_shopper_text_is_shown_as_text_never_as_html(base_url, context, shop_a):
    page = context.new_page()
    page.goto(f"{base_url}/chat/{shop_a.slug}/")
    expect(page.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    page.fill("#input", "<img src=x onerror=\"document.title='pwned'\">")
    page.click("#send")
    expect(page.locator(".message.shopper .bubble")).to_have_text(["<img src=x onerror=\"document.title='pwned'\">"])
    expect(page.locator(".message.bot:not(.greeting)").first).to_be_visible(timeout=TIMEOUT_MS)
    assert page.locator("#messages img").count() == 0
    assert page.title() != "pwned"
    page.close()


def test_the_page_reconnects_by_itself_and_shows_what_it_missed_once(base_url, context, shop_a):
    page = context.new_page()
    sockets = []

    def through(route) -> None:
        route.connect_to_server()  # frames pass both ways untouched
        sockets.append(route)

    page.route_web_socket(re.compile(r"/ws/chat/"), through)
    page.goto(f"{base_url}/chat/{shop_a.slug}/")
    expect(page.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    page.fill("#input", "你好")
    page.click("#send")
    expect(page.locator(".message.bot:not(.greeting)").first).to_be_visible(timeout=TIMEOUT_MS)
    bot_replies = page.locator(".message.bot:not(.greeting)").count()

    sockets[0].close(code=4000, reason="network drop")
    expect(page.locator("#status")).to_have_text("连接中断，正在重连…", timeout=TIMEOUT_MS)
    # While the page is away, the shop sends something; the page must fetch it on its own.
    conversation = Conversation.objects.get(shop=shop_a)
    # From another thread: delivery uses async_to_sync, which cannot run beside Playwright's loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(post_message, conversation, Message.Sender.SYSTEM, "您的优惠券已到账").result()
    expect(page.locator(".message.system .bubble")).to_have_text(["您的优惠券已到账"], timeout=TIMEOUT_MS)
    assert len(sockets) >= 2
    # Nothing shown twice after the resume.
    expect(page.locator(".message.shopper")).to_have_count(1)
    expect(page.locator(".message.bot:not(.greeting)")).to_have_count(bot_replies)

    # And a reload resumes the same conversation from the visitor token the page kept.
    page.reload()
    expect(page.locator(".message.shopper .bubble")).to_have_text(["你好"], timeout=TIMEOUT_MS)
    expect(page.locator(".message.system .bubble")).to_have_text(["您的优惠券已到账"])
    page.close()


def test_the_console_needs_a_login_and_shows_no_foreign_shop(base_url, context, shop_a, shop_b):
    page = context.new_page()
    page.goto(f"{base_url}/agent/")
    expect(page.locator("#id_username")).to_be_visible(timeout=TIMEOUT_MS)
    agent = staff_of(shop_a, Membership.Role.AGENT, "agent-only-a")
    log_in(page, base_url, agent.username)
    expect(page.locator("#shops")).to_have_text("店铺A", timeout=TIMEOUT_MS)
    page.close()
