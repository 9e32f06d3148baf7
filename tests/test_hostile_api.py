"""Hostile input on the open API: schemathesis generates requests (valid and invalid) for every operation of the
project's own OpenAPI schema, sent with a valid key of one shop. No request gets a server error, and a request
the API refuses (any 4xx) stores nothing."""

import pytest
import schemathesis
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.factories import (
    ApiKeyFactory,
    ConversationFactory,
    CustomerFactory,
    FAQCardFactory,
    InvoiceRequestFactory,
    ProductFactory,
    ShopFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db

# Every table an API call could add rows to.
WRITABLE_APPS = ("shops", "chat", "knowledge", "marketing", "analytics", "api")


def stored_rows() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for name in WRITABLE_APPS
        for model in apps.get_app_config(name).get_models()
    }


@pytest.fixture
def no_connection_closing():
    """What Django's test client does: keep the test's connection (and its transaction) across requests."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def fuzz_key(db, no_connection_closing):
    """A shop with a row of each kind and an all-scopes key, so generated requests reach real rows."""
    shop = ShopFactory()
    customer = CustomerFactory(shop=shop, external_id="c-1")
    ProductFactory(shop=shop, sku="AIR-1")
    conversation = ConversationFactory(shop=shop, customer=customer)
    WorkOrderFactory(shop=shop, conversation=conversation)
    InvoiceRequestFactory(shop=shop)
    FAQCardFactory(shop=shop)
    ShopFactory(slug="other-shop")
    return ApiKeyFactory(shop=shop)


# Loaded at collection from the app itself (the schema view needs no database); each generated request then
# goes through the whole WSGI stack inside the test's database transaction. Bounded and deterministic for CI:
# a fixed seed, the schema's examples plus generated cases per operation (valid and invalid); the exhaustive
# coverage phase is left to a manual `schemathesis run`.
FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {"seed": 20261124, "phases": {"coverage": {"enabled": False}}, "generation": {"mode": "all"}}
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application(), config=FUZZ_CONFIG)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_gets_a_server_error_and_a_refused_one_stores_nothing(case, fuzz_key):
    before = stored_rows()
    response = case.call(headers={"Authorization": f"Bearer {fuzz_key.plaintext}"})
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        assert stored_rows() == before, (response.status_code, response.text[:300])
