import os

import pytest
from asgiref.sync import SyncToAsync
from django.core.cache import cache
from django.db import connections
from hypothesis import HealthCheck, settings

from core.caching import ShopCache
from shops.models import Membership
from tests.channel_support import WECOM_AES_KEY, WeComServer
from tests.factories import MembershipFactory, ShopFactory, UserFactory
from tests.live_server import chat_server  # noqa: F401  (the live uvicorn fixture, for tests/browser and others)
from tests.llm_server import model_server  # noqa: F401  (the local OpenAI-compatible server, tests/test_llm.py)

# Property-based tests (the hostile-input suite): the same examples on every run, so CI is deterministic and
# bounded; HYPOTHESIS_PROFILE=thorough searches at random, ten times as long, when hunting for new cases.
# Fixtures are function-scoped on purpose: the examples of one test share its shop, and each example checks
# what it stored itself.
_SHARED = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=60, derandomize=True, database=None, print_blob=True, **_SHARED)
settings.register_profile("thorough", max_examples=600, **_SHARED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def close_the_sockets_database_connection(django_db_setup):
    """The socket tests' database calls run in asgiref's one shared thread, whose connection would
    otherwise still be open when pytest-django drops the PostgreSQL test database (this fixture comes
    after django_db_setup, so it is torn down before it)."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def empty_django_cache():
    """Each test starts with no rate-limit counters (core.limits) or throttle history: one client address
    (the test client's) sends every test's requests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def empty_shop_caches():
    """Each test starts with empty per-process caches: a flushed test database reuses shop ids."""
    ShopCache.forget_everything()
    yield
    ShopCache.forget_everything()


@pytest.fixture(autouse=True)
def webhook_deliveries_end_with_the_test():
    """No delivery thread (webhooks, channel replies) may still write while the test database is flushed, nor a
    retry of this test's deliveries run during the next test. (Set up after the database fixtures, so torn down
    before them.)"""
    from api.dispatch import executor
    from chat.channels.jobs import executor as channel_executor

    yield
    for pool in (executor, channel_executor):
        pool.wait_idle(timeout=60)
        pool.discard_waiting()


@pytest.fixture
def shop_a(db):
    return ShopFactory(name="店铺A", slug="shop-a")


@pytest.fixture
def shop_b(db):
    return ShopFactory(name="店铺B", slug="shop-b")


def shop_change_form(shop, **changes) -> dict:
    """The shop admin's change form as posted, with ``changes`` (inline rows: their formset fields)."""
    data = {
        "name": shop.name,
        "slug": shop.slug,
        "industry": shop.industry,
        "plan": shop.plan,
        "timezone": shop.timezone,
        "is_active": "on",
        "widget_secret": shop.widget_secret,
        "widget_colour": shop.widget_colour,
        "widget_greeting": shop.widget_greeting,
    }
    for prefix in ("memberships", "opening_hours", "holidays", "embed_origins"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
    return {**data, **changes}


def staff_of(shop, role: str, username: str | None = None):
    user = UserFactory(username=username or f"{role}-{shop.slug}")
    MembershipFactory(user=user, shop=shop, role=role)
    return user


@pytest.fixture
def manager_a(shop_a):
    return staff_of(shop_a, Membership.Role.MANAGER)


@pytest.fixture
def trainer_a(shop_a):
    return staff_of(shop_a, Membership.Role.TRAINER)


@pytest.fixture
def agent_a(shop_a):
    return staff_of(shop_a, Membership.Role.AGENT)


class WebhookReceiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it is sent and answers with scripted codes.

    ``answer_headers`` and ``answer_body`` shape every answer (a redirect's ``Location``, an error page);
    with ``hold`` set, a request is recorded, ``arrived`` is set and the answer waits until ``hold`` is set
    (a hanging target). Any method is recorded, so a followed redirect would show up here.
    """

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.requests: list[dict] = []
        self.codes: list[int] = []
        self.answer_headers: dict[str, str] = {}
        self.answer_body: bytes | None = None
        self.hold: threading.Event | None = None
        self.arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"method": self.command, "headers": dict(self.headers), "body": body})
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait(timeout=60)
                code = receiver.codes.pop(0) if receiver.codes else 200
                try:
                    self.send_response(code)
                    for name, value in receiver.answer_headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(receiver.answer_body or (b"ok" if code < 400 else b"nope"))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (a timeout) or reading (a body cap): nothing to answer

            do_GET = do_PUT = do_DELETE = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def api_client_for(key):
    """A DRF test client that sends ``key`` (an ApiKeyFactory key) as ``Authorization: Bearer``."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")
    return client


@pytest.fixture
def api_key_a(shop_a):
    from tests.factories import ApiKeyFactory

    return ApiKeyFactory(shop=shop_a)


@pytest.fixture
def api_a(api_key_a):
    return api_client_for(api_key_a)


@pytest.fixture
def wecom(settings):
    """A WeCom customer-service API of one corp on a local port, the one Shopbee talks to for the test."""
    server = WeComServer("wwCORP1", "kf-secret", "cbtoken", WECOM_AES_KEY)
    settings.WECOM_API_BASE = server.base
    yield server
    server.close()
