"""The channel pages in a real browser against the live server: a manager connects WeCom customer service
through the admin form, sees the URL to give WeCom, presses "测试连接" (against a local WeCom server), and
sees the connection's state in the list; an agent's console shows a channel conversation with its channel.

With SHOPBEE_SCREENSHOTS=<folder> the pages are saved there."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from chat.channels.inbound import receive
from chat.models import ChannelConnection
from tests.browser.conftest import TIMEOUT_MS, admin_page, requires_chromium, screenshot
from tests.channel_support import WECOM_AES_KEY
from tests.conftest import staff_of
from tests.factories import ShopFactory, channel_connection

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]


def _staff(shop, role: str):
    user = staff_of(shop, role)
    user.set_password("pw-channels-1")
    user.save()
    return user


def test_a_manager_connects_wecom_tests_it_and_sees_its_state(base_url, browser, chat_server, wecom):
    shop = ShopFactory(name="迅跑运动旗舰店", slug="swift")
    manager = _staff(shop, "manager")
    context = browser.new_context(locale="zh-CN")
    page = admin_page(context, base_url, manager.username, "pw-channels-1")
    page.goto(f"{base_url}/admin/chat/channelconnection/add/")
    page.select_option("#id_shop", str(shop.pk))
    page.select_option("#id_kind", "wecom")
    page.fill("#id_name", "微信客服·售前")
    page.fill("#id_wecom__corp_id", "wwCORP1")
    page.fill("#id_wecom__secret", "kf-secret")
    page.fill("#id_wecom__token", "cbtoken")
    page.fill("#id_wecom__encoding_aes_key", WECOM_AES_KEY)
    page.fill("#id_wecom__product_url", "https://shop.example.com/item/{sku}")
    screenshot(page, "channels-add")
    page.click("[name=_continue]")
    connection = ChannelConnection.objects.get()
    expect(page.locator(".channel-endpoint")).to_contain_text(f"/channels/wecom/{connection.pk}/callback")
    page.get_by_role("button", name="测试连接").click()
    expect(page.locator("body")).to_contain_text("已连接企业微信", timeout=TIMEOUT_MS)
    screenshot(page, "channels-change-tested")
    wecom.secret = "rotated-in-wecom"
    page.get_by_role("button", name="测试连接").click()
    expect(page.locator("body")).to_contain_text("Secret 不正确", timeout=TIMEOUT_MS)
    page.goto(f"{base_url}/admin/chat/channelconnection/")
    expect(page.locator("#result_list")).to_contain_text("Secret 不正确")
    screenshot(page, "channels-list")
    context.close()


def test_the_agent_console_shows_the_channel_of_a_waiting_conversation(base_url, browser, chat_server):
    shop = ShopFactory(name="迅跑运动旗舰店", slug="swift")
    agent = _staff(shop, "agent")
    connection = channel_connection(shop, "api", url="http://127.0.0.1:9/bridge")
    with ThreadPoolExecutor(1) as pool:  # off the browser's thread (Playwright's event loop)
        pool.submit(
            receive, connection, conversation_id="tb-1", message_id="m-1", text="转人工", sender_name="淘宝买家小王"
        ).result()
    context = browser.new_context(locale="zh-CN")
    page = admin_page(context, base_url, agent.username, "pw-channels-1")
    page.goto(f"{base_url}/agent/")
    expect(page.locator("#waiting")).to_contain_text("淘宝买家小王", timeout=TIMEOUT_MS)
    expect(page.locator("#waiting")).to_contain_text("渠道 API（电商平台网桥）")
    screenshot(page, "channels-agent-console")
    context.close()
