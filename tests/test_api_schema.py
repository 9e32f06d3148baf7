"""The OpenAPI 3 schema, its offline Swagger UI, and a bounded schemathesis run with no server error."""

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.factories import ApiKeyFactory, ConversationFactory, CustomerFactory, ProductFactory, ShopFactory

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_with_bearer_auth_and_every_endpoint():
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A shop's API key: `sb_<prefix>_<secret>`.",
    }
    paths = set(schema["paths"])
    for path in (
        "/api/v1/products/{sku}/",
        "/api/v1/products/batch/",
        "/api/v1/customers/batch/",
        "/api/v1/orders/{external_id}/",
        "/api/v1/conversations/",
        "/api/v1/messages/",
        "/api/v1/work-orders/{id}/",
        "/api/v1/invoice-requests/{id}/fulfil/",
        "/api/v1/webhooks/",
        "/api/v1/faq-cards/{id}/disable/",
        "/api/v1/qa-findings/",
        "/api/v1/live-sessions/",
        "/api/v1/campaigns/{id}/",
        "/api/v1/follow-ups/",
    ):
        assert path in paths, path


def test_swagger_ui_is_served_from_local_assets():
    page = APIClient().get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html


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
    """A shop with a little data and an all-scopes key, so generated requests reach real rows."""
    shop = ShopFactory()
    CustomerFactory(shop=shop, external_id="c-1")
    ProductFactory(shop=shop, sku="AIR-1")
    ConversationFactory(shop=shop)
    ShopFactory(slug="other-shop")
    return ApiKeyFactory(shop=shop)


# Loaded at collection from the app itself (the schema view needs no database); each generated request then
# goes through the whole WSGI stack inside the test's database transaction.
# Bounded for CI: a fixed seed, the schema's examples plus a few generated cases per operation (positive and
# negative); the exhaustive coverage phase is left to a manual `schemathesis run`.
FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {"seed": 20261124, "phases": {"coverage": {"enabled": False}}, "generation": {"mode": "all"}}
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application(), config=FUZZ_CONFIG)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_gets_a_server_error(case, fuzz_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_key.plaintext}"}, checks=[not_a_server_error])


def test_the_schema_validates_without_a_generation_warning(tmp_path):
    target = tmp_path / "schema.yml"
    # --fail-on-warn makes any unresolvable serializer, enum clash or path parameter an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert yaml.safe_load(target.read_text())["info"]["title"] == "Shopbee Open API"
