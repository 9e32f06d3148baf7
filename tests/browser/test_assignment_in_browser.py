"""Automatic assignment in a real browser: two agents and four shoppers. Hand-offs reach the agents without a
click, the shoppers left waiting see their queue position and it moves up when an agent frees a slot.
Screenshots go to $SCREENSHOT_DIR (default: the temp directory)/shopbee-assignment/."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chat.models import AgentSeat, ServiceDesk
from shops.models import Membership
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.browser.test_chat_in_browser import log_in
from tests.conftest import staff_of
from tests.live_server import wait_until_idle

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", tempfile.gettempdir())) / "shopbee-assignment"


def test_two_agents_get_hand_offs_without_a_click_and_waiting_shoppers_see_their_place(
    base_url, browser, chat_server, shop_a
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ServiceDesk.objects.create(shop=shop_a, rule=ServiceDesk.Rule.ROUND_ROBIN)
    agents = [staff_of(shop_a, Membership.Role.AGENT, name) for name in ("agent-amy", "agent-bob")]
    for agent in agents:
        AgentSeat.objects.create(user=agent, shop=shop_a, max_chats=1)
    contexts = []
    try:
        consoles = []
        for agent in agents:
            contexts.append(browser.new_context(viewport={"width": 1100, "height": 700}))
            console = contexts[-1].new_page()
            log_in(console, base_url, agent.username)
            expect(console.locator("#presence")).to_have_attribute("data-status", "online", timeout=TIMEOUT_MS)
            consoles.append(console)

        shoppers = []
        for n in range(4):
            contexts.append(browser.new_context(viewport={"width": 480, "height": 640}))
            shopper = contexts[-1].new_page()
            shopper.goto(f"{base_url}/chat/{shop_a.slug}/")
            expect(shopper.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
            shopper.fill("#input", f"转人工，我是第{n + 1}位顾客")
            shopper.press("#input", "Enter")
            shoppers.append(shopper)
            if n < 2:  # a free agent takes it: nobody clicks anything
                expect(shopper.locator("#status")).to_have_text(
                    re.compile(r"客服 agent-(amy|bob) 为您服务"), timeout=TIMEOUT_MS
                )
        first_served = {shoppers[0].locator("#status").inner_text(), shoppers[1].locator("#status").inner_text()}
        assert first_served == {"客服 agent-amy 为您服务", "客服 agent-bob 为您服务"}  # round robin: one each
        for console in consoles:
            expect(console.locator("#conversation")).to_be_visible(timeout=TIMEOUT_MS)
            expect(console.locator("#messages")).to_contain_text("转人工", timeout=TIMEOUT_MS)
            expect(console.locator("#load")).to_contain_text("接待中 1/1", timeout=TIMEOUT_MS)
        expect(shoppers[2].locator("#status")).to_have_attribute("data-position", "1", timeout=TIMEOUT_MS)
        expect(shoppers[2].locator("#status")).to_contain_text("您排在第 1 位")
        expect(shoppers[3].locator("#status")).to_have_attribute("data-position", "2", timeout=TIMEOUT_MS)
        expect(consoles[0].locator("#waiting .queue-item")).to_have_count(2, timeout=TIMEOUT_MS)
        for n, page in enumerate(consoles + shoppers):
            page.screenshot(path=str(SCREENSHOTS / f"1-{'console' if n < 2 else 'shopper'}-{n}.png"))

        # Amy ends her chat: the head of the queue (the third shopper) is hers at once, the fourth moves up.
        consoles[0].click("#close")
        expect(shoppers[2].locator("#status")).to_have_text("客服 agent-amy 为您服务", timeout=TIMEOUT_MS)
        expect(shoppers[3].locator("#status")).to_have_attribute("data-position", "1", timeout=TIMEOUT_MS)
        expect(shoppers[3].locator("#status")).to_contain_text("您排在第 1 位")
        expect(consoles[0].locator("#messages")).to_contain_text("第3位顾客", timeout=TIMEOUT_MS)
        for n, page in enumerate(consoles + shoppers):
            page.screenshot(path=str(SCREENSHOTS / f"2-{'console' if n < 2 else 'shopper'}-{n}.png"))
    finally:
        for context in contexts:
            context.close()
        wait_until_idle(chat_server)
