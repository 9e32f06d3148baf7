"""The widget's server side: validated embedding origins managed per shop in the admin, the embedded chat's
frame-ancestors, the widget config's refusal, the chat page's opening, and the front page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from chat.dialogue.catalogue import Catalogue
from chat.dialogue.replies import product_card
from shops.models import EmbedOrigin, Membership
from tests.conftest import shop_change_form, staff_of
from tests.factories import FAQCardFactory, ProductFactory, ShopFactory

pytestmark = pytest.mark.django_db


def origin_rows(*origins: str) -> dict:
    data = {"embed_origins-TOTAL_FORMS": len(origins)}
    for n, origin in enumerate(origins):
        data[f"embed_origins-{n}-origin"] = origin
    return data


@pytest.mark.parametrize(
    "origin",
    ["https://www.example.com", "http://127.0.0.1:8080", "https://shop.example.cn:8443", "HTTPS://Example.COM/"],
)
def test_a_site_origin_validates(shop_a, origin):
    EmbedOrigin(shop=shop_a, origin=origin).full_clean()


@pytest.mark.parametrize(
    "origin",
    [
        "www.example.com",
        "ftp://example.com",
        "https://example.com/shop",
        "https://example.com?x=1",
        "https://*.example.com",
        "https://user@example.com",
        "https://example.com:99999",
        "https://exa mple.com",
        "javascript:alert(1)",
        "'none'",
        "https://example.com; script-src *",
    ],
)
def test_anything_but_a_site_origin_is_refused(shop_a, origin):
    with pytest.raises(ValidationError) as error:
        EmbedOrigin(shop=shop_a, origin=origin).full_clean()
    assert list(error.value.message_dict) == ["origin"]


def test_an_origin_is_stored_as_browsers_send_it_and_once_per_shop(shop_a):
    row = EmbedOrigin(shop=shop_a, origin=" HTTPS://WWW.Example.com:443/ ")
    row.full_clean()
    row.save()
    assert row.origin == "https://www.example.com"
    with pytest.raises(ValidationError):
        EmbedOrigin(shop=shop_a, origin="https://www.example.com/").full_clean()


def test_a_manager_lists_allowed_sites_in_the_shop_admin_with_field_errors_for_bad_ones(client, shop_a, manager_a):
    client.force_login(manager_a)
    url = reverse("admin:shops_shop_change", args=[shop_a.pk])
    response = client.post(
        url, shop_change_form(shop_a, **origin_rows("https://www.shop-a.example/", "shop-a.example"))
    )
    assert response.status_code == 200
    [origins] = [i.formset for i in response.context["inline_admin_formsets"] if i.formset.prefix == "embed_origins"]
    assert "origin" in origins.errors[1]
    assert not EmbedOrigin.objects.exists()

    response = client.post(url, shop_change_form(shop_a, **origin_rows("https://www.shop-a.example/")))
    assert response.status_code == 302
    assert list(EmbedOrigin.objects.values_list("shop", "origin")) == [(shop_a.pk, "https://www.shop-a.example")]


def test_another_shops_manager_can_neither_see_nor_set_its_allowed_sites(client, shop_a, shop_b):
    EmbedOrigin.objects.create(shop=shop_a, origin="https://www.shop-a.example")
    client.force_login(staff_of(shop_b, Membership.Role.MANAGER))
    url = reverse("admin:shops_shop_change", args=[shop_a.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, shop_change_form(shop_a, **origin_rows("https://evil.example"))).status_code == 404
    assert list(EmbedOrigin.objects.values_list("origin", flat=True)) == ["https://www.shop-a.example"]


def test_a_trainer_cannot_change_the_allowed_sites(client, shop_a, trainer_a):
    client.force_login(trainer_a)
    url = reverse("admin:shops_shop_change", args=[shop_a.pk])
    client.post(url, shop_change_form(shop_a, **origin_rows("https://evil.example")))
    assert not EmbedOrigin.objects.exists()


def test_the_embedded_chat_may_be_framed_by_the_shops_sites_only(client, shop_a, shop_b):
    EmbedOrigin.objects.create(shop=shop_a, origin="https://www.shop-a.example")
    EmbedOrigin.objects.create(shop=shop_a, origin="http://127.0.0.1:8080")
    EmbedOrigin.objects.create(shop=shop_b, origin="https://www.shop-b.example")
    response = client.get(reverse("chat:embedded", args=[shop_a.slug]))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "http://127.0.0.1:8080 https://www.shop-a.example"
    assert directives["script-src"] == "'self'"  # the rest of the policy is kept
    assert "X-Frame-Options" not in response


def test_a_shop_without_allowed_sites_cannot_be_framed_anywhere(client, shop_a):
    response = client.get(reverse("chat:embedded", args=[shop_a.slug]))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_full_chat_page_is_never_framed(client, shop_a):
    EmbedOrigin.objects.create(shop=shop_a, origin="https://www.shop-a.example")
    response = client.get(reverse("chat:shopper", args=[shop_a.slug]))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_an_inactive_or_unknown_shop_has_no_embedded_chat(client, shop_a):
    shop_a.is_active = False
    shop_a.save()
    assert client.get(reverse("chat:embedded", args=[shop_a.slug])).status_code == 404
    assert client.get(reverse("chat:embedded", args=["no-such-shop"])).status_code == 404


def test_the_widget_config_answers_an_allowed_site_with_the_shops_look(client, shop_a):
    shop_a.widget_colour = "#1f6feb"
    shop_a.widget_greeting = "欢迎光临店铺A"
    shop_a.save()
    EmbedOrigin.objects.create(shop=shop_a, origin="https://www.shop-a.example")
    response = client.get(
        reverse("chat:widget-config", args=[shop_a.slug]), headers={"Origin": "https://www.shop-a.example"}
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://www.shop-a.example"
    assert response.json() == {
        "shop": "店铺A",
        "colour": "#1f6feb",
        "greeting": "欢迎光临店铺A",
        "chat_url": "http://testserver/chat/shop-a/embed/",
    }


def test_the_widget_config_refuses_another_shops_site_and_says_why(client, shop_a, shop_b):
    EmbedOrigin.objects.create(shop=shop_b, origin="https://www.shop-b.example")
    url = reverse("chat:widget-config", args=[shop_a.slug])
    response = client.get(url, headers={"Origin": "https://www.shop-b.example"})
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"
    assert "https://www.shop-b.example" in response.json()["message"]
    assert "chat_url" not in response.json()
    assert client.get(url).status_code == 403  # no Origin: not a page that may embed it
    assert client.get(reverse("chat:widget-config", args=["no-such-shop"])).status_code == 404


def test_the_chat_opens_with_the_shops_greeting_and_its_most_asked_questions(client, shop_a, shop_b):
    shop_a.widget_greeting = "欢迎光临店铺A"
    shop_a.save()
    for question, hits in [("什么时候发货", 40), ("用什么快递", 20), ("可以开发票吗", 30), ("没人问过", 0)]:
        FAQCardFactory(shop=shop_a, question=question, hit_count=hits)
    FAQCardFactory(shop=shop_b, question="店铺B的热门问题", hit_count=500)
    response = client.get(reverse("chat:shopper", args=[shop_a.slug]))
    assert response.context["opening"] == {
        "greeting": "欢迎光临店铺A",
        "questions": ["什么时候发货", "可以开发票吗", "用什么快递"],
    }


def test_the_front_page_links_the_back_office_the_console_and_the_listed_shops(client, shop_a):
    ShopFactory(name="公开店铺", slug="listed", listed_on_front_page=True)
    ShopFactory(name="停业店铺", slug="closed-shop", listed_on_front_page=True, is_active=False)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for link in ['href="/admin/"', 'href="/agent/"', 'href="/chat/listed/"', 'rel="icon"']:
        assert link in page
    assert "/chat/shop-a/" not in page  # not listed
    assert "/chat/closed-shop/" not in page
    assert client.get("/favicon.ico").status_code == 301


def test_widget_js_is_the_static_script(client):
    response = client.get("/widget.js")
    assert response.status_code == 302
    assert response["Location"].endswith("/chat/widget.js")


def test_a_product_card_carries_the_products_https_picture(shop_a):
    product = ProductFactory(shop=shop_a, image_url="https://img.example.com/shoe.png")
    assert product_card(product)["image"] == "https://img.example.com/shoe.png"
    item = Catalogue.build(shop_a.pk).by_id(product.pk)
    assert item is not None and product_card(item)["image"] == "https://img.example.com/shoe.png"
    product.image_url = "http://img.example.com/shoe.png"  # the chat's policy shows https pictures only
    with pytest.raises(ValidationError) as error:
        product.full_clean()
    assert list(error.value.message_dict) == ["image_url"]
