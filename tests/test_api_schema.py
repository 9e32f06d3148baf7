"""The OpenAPI 3 schema and its offline Swagger UI (tests/test_hostile_api.py fuzzes the API through it)."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

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


def test_the_schema_validates_without_a_generation_warning(tmp_path):
    target = tmp_path / "schema.yml"
    # --fail-on-warn makes any unresolvable serializer, enum clash or path parameter an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert yaml.safe_load(target.read_text())["info"]["title"] == "Shopbee Open API"
