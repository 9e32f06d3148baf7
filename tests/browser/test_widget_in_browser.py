"""The embeddable widget in a real browser: a plain HTML page served from another origin (another port of
127.0.0.1) embeds the shop's chat with the one <script> line merchants paste."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from chat.dialogue.replies import product_card
from chat.messaging import post_message
from chat.models import Conversation, Message
from shops.models import EmbedOrigin
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.factories import FAQCardFactory, ProductFactory
from tests.live_server import HOST, PORT

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

GREETING = "您好，欢迎光临店铺A！"


class MerchantPage(SimpleHTTPRequestHandler):
    """A merchant's site: one HTML page, whatever the path."""

    def __init__(self, *args, html: str, **kwargs):
        self.html = html.encode()
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.html)))
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, format, *args):
        pass


def merchant_html(slug: str, extra: str = "") -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>商家网站</title></head>"
        "<body><h1>商家自己的网站</h1>"
        f'<script src="http://{HOST}:{PORT}/widget.js" data-shop="{slug}" async></script>'
        f"{extra}</body></html>"
    )


@pytest.fixture
def merchant_site():
    """Serves an HTML page on a free port of 127.0.0.1 (another origin than Shopbee's); yields a function
    taking the page's HTML and returning the site's origin."""
    servers = []

    def serve(html: str) -> str:
        server = ThreadingHTTPServer((HOST, 0), partial(MerchantPage, html=html))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://{HOST}:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_allowed_site_embeds_the_chat_with_one_script_line(context, merchant_site, shop_a):
    shop_a.widget_greeting = GREETING
    shop_a.save()
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="亲，付款后48小时内发货哦～", hit_count=12)
    product = ProductFactory(shop=shop_a, title="轻风缓震跑步鞋", price="399.00")
    origin = merchant_site(merchant_html(shop_a.slug))
    EmbedOrigin.objects.create(shop=shop_a, origin=origin)

    page = context.new_page()
    with page.expect_websocket(lambda ws: "/ws/chat/shop-a/" in ws.url, timeout=TIMEOUT_MS) as socket_info:
        page.goto(origin)
    socket = socket_info.value
    launcher = page.locator("#shopbee-widget .launcher")
    expect(launcher).to_be_visible(timeout=TIMEOUT_MS)
    panel = page.locator("#shopbee-widget .panel")
    expect(panel).to_be_hidden()

    launcher.click()
    expect(panel).to_be_visible()
    chat = page.frame_locator("#shopbee-widget iframe")
    expect(chat.locator("#status")).to_have_text("智能客服小蜂为您服务", timeout=TIMEOUT_MS)
    expect(chat.locator(".message.greeting .bubble")).to_have_text(GREETING)
    # 猜你想问: the shop's most asked card, one click asks it.
    chat.locator(".suggested-question", has_text="什么时候发货").click()
    expect(chat.locator(".message.shopper .bubble")).to_have_text(["什么时候发货"])
    expect(chat.locator(".message.bot:not(.greeting) .bubble").first).to_contain_text(
        "48小时内发货", timeout=TIMEOUT_MS
    )
    expect(chat.locator(".message.bot:not(.greeting) .name").first).to_have_text("智能客服小蜂")

    # A product card (as a recommendation shows it): image, price, and a button asking about it by id.
    conversation = Conversation.objects.get(shop=shop_a)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            post_message,
            conversation,
            Message.Sender.BOT,
            "为您找到这款：",
            payload={"quick_replies": [], "products": [product_card(product)]},
        ).result()
    card = chat.locator(f".product[data-product-id='{product.pk}']")
    expect(card.locator(".price")).to_have_text("¥399.00", timeout=TIMEOUT_MS)
    expect(card.locator(".image")).to_be_visible()
    with socket.expect_event("framesent", lambda payload: "product_details" in payload) as sent:
        card.locator(".ask-product").click()
    assert json.loads(sent.value) == {"type": "product_details", "product_id": product.pk}
    # The bot answers from the catalogue about that very product (no search on its title).
    expect(chat.locator(".message.bot .bubble").last).to_contain_text(
        f"「{product.title}」售价 ¥399.00", timeout=TIMEOUT_MS
    )

    # Closed from inside the chat; what arrives meanwhile shows on the button's badge.
    chat.locator("#close-widget").click()
    expect(panel).to_be_hidden()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(post_message, conversation, Message.Sender.SYSTEM, "您的优惠券已到账").result()
    expect(page.locator("#shopbee-widget .badge")).to_have_text("1", timeout=TIMEOUT_MS)
    launcher.click()
    expect(page.locator("#shopbee-widget .badge")).to_be_hidden()
    expect(chat.locator(".message.system .bubble")).to_have_text(["您的优惠券已到账"])
    page.close()


def test_a_site_not_allowed_is_refused_and_cannot_frame_the_chat(context, merchant_site, shop_a):
    EmbedOrigin.objects.create(shop=shop_a, origin="https://www.shop-a.example")
    frame = f'<iframe id="direct" src="http://{HOST}:{PORT}/chat/{shop_a.slug}/embed/"></iframe>'
    origin = merchant_site(merchant_html(shop_a.slug, extra=frame))

    page = context.new_page()
    # The browser itself refuses to show the chat in a frame of this site (CSP frame-ancestors).
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=TIMEOUT_MS):
        page.goto(origin)
    launcher = page.locator("#shopbee-widget .launcher")
    expect(launcher).to_be_visible(timeout=TIMEOUT_MS)
    launcher.click()
    refusal = page.locator("#shopbee-widget .refusal")
    expect(refusal).to_contain_text("在线客服无法在此网站使用", timeout=TIMEOUT_MS)
    expect(refusal.locator(".reason")).to_contain_text(origin)
    expect(page.locator("#shopbee-widget iframe")).to_have_count(0)
    page.close()
