"""Production hygiene: a Content-Security-Policy every page of the project passes, HTTPS when DEBUG is
off, and no visitor token in the conversation.closed webhook."""

import json
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from api.events import closed_payload
from chat import services
from chat.models import Conversation
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import FAQCardFactory, UserFactory

pytestmark = pytest.mark.django_db


# Inline handlers of third-party templates, each bound again from a static file.
REBOUND = {("input", "onchange", "select-toggle"): "shops/inline_handlers.js"}


class InlineCode(HTMLParser):
    """What a ``script-src 'self'`` policy would block: inline scripts, and inline event handlers that no
    static file binds again."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.rebound: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") not in ("application/json",):
            self.found.append(f"<script> at {self.getpos()}")
        handlers = [name for name, _ in attrs if name.startswith("on")]
        self.found += [f"{tag} {name}=" for name in handlers if (tag, name, names.get("class")) not in REBOUND]
        self.rebound += [
            REBOUND[(tag, name, names.get("class"))] for name in handlers if (tag, name, names.get("class")) in REBOUND
        ]


def blocked_by_policy(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found + [f"{path} missing" for path in parser.rebound if path not in html]


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_superuser=True)


def pages(shop, superuser) -> list[str]:
    card = FAQCardFactory(shop=shop)
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    return [
        reverse("front-page"),
        reverse("chat:shopper", args=[shop.slug]),
        reverse("chat:embedded", args=[shop.slug]),
        reverse("chat:agent-console"),
        reverse("admin:index"),
        reverse("admin:knowledge_faqcard_changelist"),
        reverse("admin:knowledge_faqcard_change", args=[card.pk]),
        reverse("admin:knowledge_faqcard_add"),
        reverse("admin:knowledge_faqcard_import"),
        reverse("admin:knowledge_faqcard_export"),
        reverse("admin:chat_conversation_change", args=[conversation.pk]),
        reverse("admin:analytics_dashboard"),
        reverse("admin:shops_shop_changelist"),
        reverse("admin:shops_shop_change", args=[shop.pk]),
        "/api/v1/docs/",
    ]


def test_every_page_sends_the_policy_and_holds_no_inline_script(client, shop_a, superuser):
    staff_of(shop_a, Membership.Role.MANAGER)
    client.force_login(superuser)
    for url in pages(shop_a, superuser):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        # Only the back office's theme (Alpine.js) evaluates its attributes (docs/backoffice.md).
        assert ("unsafe-eval" in policy) == url.startswith(reverse("admin:index")), url
        assert blocked_by_policy(response.content.decode()) == [], url


def test_a_managers_admin_pages_with_the_shop_switcher_hold_no_inline_handler(client, shop_a, shop_b):
    manager = staff_of(shop_a, Membership.Role.MANAGER)
    Membership.objects.create(user=manager, shop=shop_b, role=Membership.Role.MANAGER)
    client.force_login(manager)
    for url in (reverse("admin:index"), reverse("admin:marketing_followupcustomer_changelist")):
        page = client.get(url).content.decode()
        assert 'id="shop-switcher-select"' in page and "data-submit-on-change" in page, url
        assert blocked_by_policy(page) == [], url
        assert "shops/inline_handlers.js" in page, url


def test_the_swagger_ui_start_up_script_is_a_file_of_the_same_origin(client):
    page = client.get("/api/v1/docs/").content.decode()
    script = client.get("/api/v1/docs/?script=")
    assert 'src="/api/v1/docs/?script="' in page
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_with_debug_off_plain_http_is_redirected_to_https_with_hsts(settings, shop_a):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    assert Client().get(reverse("chat:shopper", args=[shop_a.slug])).status_code == 301
    secure = Client().get(reverse("chat:shopper", args=[shop_a.slug]), secure=True)
    assert secure.status_code == 200 and secure["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_a_trusted_proxy_a_forwarded_https_request_is_not_redirected(settings, shop_a):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = reverse("chat:shopper", args=[shop_a.slug])
    assert Client().get(url, HTTP_X_FORWARDED_PROTO="https").status_code == 200


def test_the_conversation_closed_webhook_carries_no_visitor_token(shop_a):
    conversation = Conversation.objects.create(shop=shop_a, visitor_token=services.new_visitor_token())
    payload = closed_payload(conversation)
    assert "visitor" not in payload
    assert conversation.visitor_token not in json.dumps(payload, default=str)
