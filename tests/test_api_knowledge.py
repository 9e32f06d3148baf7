"""FAQ cards through the open API: list, create, update, disable; the shop's answers follow at once."""

import pytest

from knowledge.models import FAQCard
from knowledge.services import answer_question
from tests.conftest import api_client_for
from tests.factories import ApiKeyFactory, FAQCardFactory, ProductFactory

pytestmark = pytest.mark.django_db

CARD = {
    "question": "什么时候发货",
    "answer": "亲，付款后 48 小时内发货哦",
    "category": "物流",
    "similar_questions": ["几天发货", "多久能发出"],
    "quick_replies": ["查物流"],
}


def test_a_card_created_through_the_api_answers_the_shops_shoppers(shop_a, api_a):
    response = api_a.post("/api/v1/faq-cards/", CARD, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["similar_questions"] == ["几天发货", "多久能发出"] and body["enabled"] is True
    card = FAQCard.objects.get(pk=body["id"])
    assert card.shop == shop_a
    answer = answer_question(shop_a, "几天发货呀", record=False)
    assert answer.outcome == "answer" and answer.card_id == card.pk


def test_a_question_the_shop_already_has_is_a_400(shop_a, api_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货")
    response = api_a.post("/api/v1/faq-cards/", CARD, format="json")
    assert response.status_code == 400 and "question" in response.json()
    assert FAQCard.objects.filter(shop=shop_a).count() == 1


def test_the_same_question_in_another_shop_is_fine(shop_b, api_a):
    FAQCardFactory(shop=shop_b, question="什么时候发货")
    assert api_a.post("/api/v1/faq-cards/", CARD, format="json").status_code == 201


def test_updating_a_card_replaces_its_similar_questions_and_links_products_of_the_shop(shop_a, shop_b, api_a):
    card = api_a.post("/api/v1/faq-cards/", CARD, format="json").json()
    ProductFactory(shop=shop_a, sku="AIR-1")
    ProductFactory(shop=shop_b, sku="B-ONLY")
    response = api_a.patch(
        f"/api/v1/faq-cards/{card['id']}/",
        {"answer": "今天下单明天发", "similar_questions": ["啥时候发"], "products": ["AIR-1"]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["similar_questions"] == ["啥时候发"] and response.json()["products"] == ["AIR-1"]
    assert FAQCard.objects.get(pk=card["id"]).answer == "今天下单明天发"
    foreign = api_a.patch(f"/api/v1/faq-cards/{card['id']}/", {"products": ["B-ONLY"]}, format="json")
    assert foreign.status_code == 400 and "products" in foreign.json()


def test_a_disabled_card_no_longer_answers(shop_a, api_a):
    card = api_a.post("/api/v1/faq-cards/", CARD, format="json").json()
    response = api_a.post(f"/api/v1/faq-cards/{card['id']}/disable/")
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert answer_question(shop_a, "什么时候发货", record=False).card_id != card["id"]
    listed = api_a.get("/api/v1/faq-cards/?enabled=false").json()["results"]
    assert [row["id"] for row in listed] == [card["id"]]


def test_bad_card_fields_are_a_400_with_field_messages(api_a):
    response = api_a.post("/api/v1/faq-cards/", {"question": "", "quick_replies": "查物流"}, format="json")
    assert response.status_code == 400
    assert {"question", "answer", "quick_replies"} <= set(response.json())
    window = {**CARD, "valid_from": "2026-12-01T00:00:00Z", "valid_to": "2026-11-01T00:00:00Z"}
    response = api_a.post("/api/v1/faq-cards/", window, format="json")
    assert response.status_code == 400 and "valid_to" in response.json()
    assert not FAQCard.objects.exists()


def test_another_shops_card_and_the_industry_templates_are_invisible(shop_a, shop_b, api_a):
    theirs = FAQCardFactory(shop=shop_b)
    FAQCardFactory(shop=None, industry="sportswear")
    mine = FAQCardFactory(shop=shop_a)
    assert [row["id"] for row in api_a.get("/api/v1/faq-cards/").json()["results"]] == [mine.pk]
    assert api_a.get(f"/api/v1/faq-cards/{theirs.pk}/").status_code == 404
    assert api_a.post(f"/api/v1/faq-cards/{theirs.pk}/disable/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled


def test_reading_cards_needs_the_knowledge_scope(shop_a):
    client = api_client_for(ApiKeyFactory(shop=shop_a, scopes=["knowledge:read"]))
    assert client.get("/api/v1/faq-cards/").status_code == 200
    assert client.post("/api/v1/faq-cards/", CARD, format="json").status_code == 403
    other = api_client_for(ApiKeyFactory(shop=shop_a, scopes=["products:read"]))
    assert other.get("/api/v1/faq-cards/").status_code == 403
