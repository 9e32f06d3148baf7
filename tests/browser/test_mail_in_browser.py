"""An email conversation in the agent console of a real browser: the channel beside the shopper's name, the
mail's attachment as a download link, the one past the size limit named; and the channel form for a mailbox."""

from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chat.channels.email_sync import Cursor, receive_mail
from shops.models import Membership
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.browser.test_chat_in_browser import log_in
from tests.conftest import staff_of
from tests.factories import channel_connection
from tests.mail_servers import free_port

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp/mail-shots")


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES = 2048


def mail_waiting_for_an_agent(shop):
    # Replies go to an SMTP port nobody listens on: they wait for their retry, which is not this test's concern.
    closed = str(free_port())
    connection = channel_connection(
        shop,
        "email",
        address="kefu@shop-a.example",
        imap_host="127.0.0.1",
        imap_port=closed,
        imap_security="none",
        imap_password="app-password",
        smtp_host="127.0.0.1",
        smtp_port=closed,
        smtp_security="none",
    )
    mail = EmailMessage()
    mail["From"] = "李女士 <li@example.net>"
    mail["To"] = "kefu@shop-a.example"
    mail["Subject"] = "鞋子开胶，转人工"
    mail["Message-ID"] = "<browser-1@example.net>"
    mail.set_content("刚收到的鞋子鞋底开胶了，照片和视频在附件里。\n\n在 2026年12月1日 写道：\n> 欢迎光临")
    mail.add_attachment(b"\x89PNG photo", maintype="image", subtype="png", filename="开胶照片.png")
    mail.add_attachment(b"0" * 4096, maintype="video", subtype="mp4", filename="开胶视频.mp4")
    receive_mail(connection, mail.as_bytes(policy=SMTP), Cursor(1, 1))


def test_an_agent_sees_the_mail_channel_and_downloads_the_attachment(base_url, context, shop_a):
    SCREENSHOTS.mkdir(exist_ok=True)
    agent = staff_of(shop_a, Membership.Role.AGENT, "mail-agent")
    with ThreadPoolExecutor(1) as pool:  # delivery uses async_to_sync, which cannot run beside Playwright's loop
        pool.submit(mail_waiting_for_an_agent, shop_a).result()

    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 760})
    log_in(page, base_url, agent.username)
    item = page.locator("#waiting .queue-item").first
    expect(item).to_contain_text("李女士", timeout=TIMEOUT_MS)
    expect(item).to_contain_text("电子邮件")
    item.locator(".accept").click()
    expect(page.locator("#conversation-title")).to_contain_text("李女士", timeout=TIMEOUT_MS)
    expect(page.locator("#conversation-title")).to_contain_text("电子邮件")
    link = page.locator("#messages a.attachment")
    expect(link).to_have_text("附件：开胶照片.png（1 KB）")
    expect(page.locator("#messages .attachment.too-large")).to_contain_text("开胶视频.mp4（超过大小限制")
    expect(page.locator("#messages")).not_to_contain_text("欢迎光临")  # the quoted history is not shown
    page.screenshot(path=SCREENSHOTS / "console-mail-attachment.png")

    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "开胶照片.png"
    assert Path(download.value.path()).read_bytes() == b"\x89PNG photo"


def test_a_manager_fills_in_a_mailbox_on_the_channel_form(base_url, context, shop_a):
    SCREENSHOTS.mkdir(exist_ok=True)
    manager = staff_of(shop_a, Membership.Role.MANAGER, "mail-manager")
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 1400})
    log_in(page, base_url, manager.username)
    page.goto(f"{base_url}/admin/chat/channelconnection/add/")
    page.select_option("#id_kind", "email")
    expect(page.locator("#id_email__address")).to_be_visible(timeout=TIMEOUT_MS)
    page.fill("#id_email__address", "kefu@shop-a.example")
    page.fill("#id_email__imap_host", "imap.qq.com")
    page.screenshot(path=SCREENSHOTS / "channel-form-email.png", full_page=True)
