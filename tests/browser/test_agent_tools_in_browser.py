"""The agent console's tools in a real browser: the SLA timer on the queue, the hand-off packet, the
customer panel filled from the shop's records, a canned reply inserted with "/", the transcript fixes."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chat import dialogue, services
from chat.intents import HandoffReason
from chat.messaging import post_message
from chat.models import CannedReply, Conversation, ConversationTag, Message, SlaPolicy
from shops.models import Membership, Order
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.browser.test_chat_in_browser import log_in
from tests.conftest import staff_of
from tests.factories import CustomerFactory, FAQCardFactory, OrderFactory, OrderLineFactory

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp/shopbee-agent-tools")


def waiting_customer(shop) -> Conversation:
    """A known customer with an order on its way, a past conversation, a long chat with the bot (the closing
    survey of an earlier exchange in it) and a hand-off."""
    customer = CustomerFactory(shop=shop, nickname="阿杰")
    order = OrderFactory(
        shop=shop,
        customer=customer,
        external_id="NO20261130",
        status=Order.Status.SHIPPED,
        carrier="顺丰",
        tracking_number="SF1234567890",
    )
    OrderLineFactory(order=order, title="云感缓震跑鞋", color="黑色", size="42")
    past = Conversation.objects.create(
        shop=shop, customer=customer, visitor_token="v-past", status=Conversation.Status.CLOSED, satisfaction=5
    )
    ConversationTag.objects.create(shop=shop, conversation=past, name="老顾客")
    conversation = Conversation.objects.create(shop=shop, customer=customer, visitor_token=services.new_visitor_token())
    for n in range(12):
        post_message(conversation, Message.Sender.SHOPPER, f"第{n}个问题")
        post_message(conversation, Message.Sender.BOT, f"第{n}个回答")
    survey = dialogue.closing_survey()
    post_message(conversation, Message.Sender.BOT, survey.text, payload={"quick_replies": survey.quick_replies})
    post_message(conversation, Message.Sender.SHOPPER, "我的快递到哪了，转人工")
    services.request_handoff(conversation, HandoffReason.REQUESTED)
    return conversation


def test_an_agent_sees_the_timer_packet_and_panel_and_inserts_a_canned_reply_with_slash(base_url, context, shop_a):
    SCREENSHOTS.mkdir(exist_ok=True)
    agent = staff_of(shop_a, Membership.Role.AGENT, "agent-tools")
    SlaPolicy.objects.create(shop=shop_a, first_response_minutes=3)
    CannedReply.objects.create(
        shop=shop_a, shortcut="发货", category="物流", text="{顾客昵称}您好，订单 {订单号} 已发出，运单号 {物流单号}"
    )
    CannedReply.objects.create(shop=shop_a, shortcut="再见", text="感谢光临", close_after=True)
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货", similar=["几天发货"])
    with ThreadPoolExecutor(1) as pool:  # delivery uses async_to_sync, which cannot run beside Playwright's loop
        conversation = pool.submit(waiting_customer, shop_a).result()

    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 760})
    log_in(page, base_url, agent.username)
    expect(page.locator("#status")).to_have_text("在线", timeout=TIMEOUT_MS)
    expect(page.locator("#waiting .sla-timer")).to_contain_text("首次响应 剩余", timeout=TIMEOUT_MS)
    # Beside assignment's part of the console: the presence switch and the waiting shopper's place.
    expect(page.locator("#presence")).to_have_value("online")
    expect(page.locator("#waiting .queue-item").first.locator(".position")).to_have_text("#1")
    # Nothing open yet: no empty conversation pane, packet or panel.
    expect(page.locator("#conversation")).to_be_hidden()
    expect(page.locator("#customer-panel")).to_be_hidden()
    page.screenshot(path=SCREENSHOTS / "1-queue-with-timer.png")

    page.locator("#waiting .accept").first.click()
    expect(page.locator("#handoff-packet")).to_contain_text("顾客要求转人工", timeout=TIMEOUT_MS)
    panel = page.locator("#customer-panel")
    expect(panel).to_contain_text("阿杰", timeout=TIMEOUT_MS)
    expect(panel).to_contain_text("老顾客")
    expect(panel).to_contain_text("NO20261130")
    expect(panel).to_contain_text("SF1234567890")
    expect(panel).to_contain_text("云感缓震跑鞋")

    # The closing survey's 1-5 buttons in the transcript are shown, not pressable.
    survey_button = page.locator("#messages .quick-reply").first
    expect(survey_button).to_be_disabled()
    assert survey_button.evaluate("b => getComputedStyle(b).cursor") != "pointer"

    page.locator("#input").press_sequentially("/发")
    menu = page.locator("#canned-menu")
    expect(menu).to_be_visible(timeout=TIMEOUT_MS)
    expect(menu.locator(".canned-item").first).to_contain_text("阿杰您好，订单 NO20261130 已发出，运单号 SF1234567890")
    page.screenshot(path=SCREENSHOTS / "2-canned-menu-and-panel.png")
    page.locator("#input").press("Enter")
    expect(page.locator("#input")).to_have_value("阿杰您好，订单 NO20261130 已发出，运单号 SF1234567890")
    expect(menu).to_be_hidden()
    page.click("#send")
    expect(page.locator("#messages .message.agent .bubble").last).to_have_text(
        "阿杰您好，订单 NO20261130 已发出，运单号 SF1234567890", timeout=TIMEOUT_MS
    )

    # A shopper question brings suggestions; the newest message stays in view above them.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(post_message, conversation, Message.Sender.SHOPPER, "几天发货呀").result()
    expect(page.locator("#suggestions .suggestion").first).to_be_visible(timeout=TIMEOUT_MS)
    newest = page.locator("#messages .message").last
    expect(newest).to_contain_text("几天发货呀")
    box, view = newest.bounding_box(), page.locator("#messages").bounding_box()
    assert box["y"] + box["height"] <= view["y"] + view["height"] + 1
    page.screenshot(path=SCREENSHOTS / "3-suggestions-newest-in-view.png")

    # A macro from the same menu: the reply goes out and the conversation closes.
    page.locator("#input").fill("")
    page.locator("#input").press_sequentially("/再见")
    expect(menu.locator(".canned-item").first).to_contain_text("宏：结束会话", timeout=TIMEOUT_MS)
    menu.locator(".canned-item").first.click()
    expect(page.locator("#messages .message.agent .bubble").last).to_have_text("感谢光临", timeout=TIMEOUT_MS)
    expect(page.locator("#close")).to_be_disabled(timeout=TIMEOUT_MS)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    page.close()


def test_on_a_phone_the_console_shows_the_list_or_the_conversation_and_the_panel_on_demand(base_url, context, shop_a):
    SCREENSHOTS.mkdir(exist_ok=True)
    agent = staff_of(shop_a, Membership.Role.AGENT, "agent-phone")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(waiting_customer, shop_a).result()

    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, base_url, agent.username)
    expect(page.locator("#status")).to_have_text("在线", timeout=TIMEOUT_MS)
    # The list takes the screen until a conversation is open.
    expect(page.locator("nav")).to_be_visible()
    accept = page.locator("#waiting .accept").first
    expect(accept).to_be_visible(timeout=TIMEOUT_MS)
    accept.click()

    messages = page.locator("#messages")
    expect(messages).to_contain_text("我的快递到哪了", timeout=TIMEOUT_MS)
    expect(page.locator("nav")).to_be_hidden()
    assert messages.bounding_box()["width"] >= 380  # the whole width, not what a side list leaves
    # The hand-off packet took its room after the transcript was drawn: the newest message is still in view.
    expect(page.locator("#handoff-packet")).to_be_visible(timeout=TIMEOUT_MS)
    newest, view = page.locator("#messages .message").last.bounding_box(), messages.bounding_box()
    assert newest["y"] + newest["height"] <= view["y"] + view["height"] + 1
    expect(page.locator("#customer-panel")).to_be_hidden()
    page.screenshot(path=SCREENSHOTS / "4-phone-conversation.png")

    page.click("#show-panel")
    expect(page.locator("#customer-panel")).to_be_visible()
    expect(page.locator("#customer-panel")).to_contain_text("阿杰")
    page.screenshot(path=SCREENSHOTS / "5-phone-customer-panel.png")
    page.click("#hide-panel")
    expect(page.locator("#customer-panel")).to_be_hidden()

    page.click("#back")
    expect(page.locator("nav")).to_be_visible()
    expect(page.locator("#conversation")).to_be_hidden()
    page.locator("#mine .queue-item").first.click()
    expect(messages).to_contain_text("我的快递到哪了", timeout=TIMEOUT_MS)
    page.close()
