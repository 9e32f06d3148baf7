"""The chat pages and the conversation admin: who may open them, and no foreign shop's data in them."""

import pytest
from django.urls import reverse

from chat import services
from chat.messaging import post_message
from chat.models import Conversation, Message
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import ShopFactory, UserFactory

Role = Membership.Role


@pytest.fixture
def conversation_a(shop_a):
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="visitor-a")
    post_message(conversation, Message.Sender.SHOPPER, "<script>alert('x')</script>鞋码偏大吗")
    return conversation


@pytest.fixture
def conversation_b(shop_b):
    conversation = Conversation.objects.create(shop=shop_b, visitor_token="visitor-b")
    post_message(conversation, Message.Sender.SHOPPER, "B店顾客的悄悄话")
    return conversation


def test_the_shopper_page_of_an_active_shop_loads_its_script(client, shop_a):
    response = client.get(reverse("chat:shopper", args=[shop_a.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert shop_a.name in html and 'data-shop="shop-a"' in html and "chat/shopper.js" in html


@pytest.mark.django_db
def test_the_shopper_page_of_an_unknown_or_inactive_shop_is_404(client):
    ShopFactory(slug="gone", is_active=False)
    assert client.get(reverse("chat:shopper", args=["gone"])).status_code == 404
    assert client.get(reverse("chat:shopper", args=["nobody"])).status_code == 404


def test_the_console_page_sends_an_anonymous_visitor_to_the_login(client, shop_a):
    response = client.get(reverse("chat:agent-console"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_the_console_page_refuses_staff_without_an_agent_or_manager_role(client, trainer_a):
    client.force_login(trainer_a)
    assert client.get(reverse("chat:agent-console")).status_code == 403


def test_the_console_page_refuses_a_non_staff_user_even_with_the_agent_role(client, shop_a):
    user = UserFactory(username="not-staff", is_staff=False)
    Membership.objects.create(user=user, shop=shop_a, role=Role.AGENT)
    client.force_login(user)
    assert client.get(reverse("chat:agent-console")).status_code == 302


def test_the_console_page_names_only_the_agents_own_shops(client, agent_a, shop_b):
    client.force_login(agent_a)
    response = client.get(reverse("chat:agent-console"))
    html = response.content.decode()
    assert response.status_code == 200 and "chat/agent.js" in html
    assert "店铺A" in html and "店铺B" not in html


def test_an_agent_reads_their_shops_transcripts_in_the_admin_with_text_escaped(client, agent_a, conversation_a):
    client.force_login(agent_a)
    response = client.get(reverse("admin:chat_conversation_change", args=[conversation_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "鞋码偏大吗" in html and "<script>alert" not in html and "&lt;script&gt;" in html


def test_a_foreign_shops_conversation_never_shows_in_the_admin(client, agent_a, conversation_a, conversation_b):
    client.force_login(agent_a)
    changelist = client.get(reverse("admin:chat_conversation_changelist")).content.decode()
    assert reverse("admin:chat_conversation_change", args=[conversation_a.pk]) in changelist
    assert reverse("admin:chat_conversation_change", args=[conversation_b.pk]) not in changelist
    assert client.get(reverse("admin:chat_conversation_change", args=[conversation_b.pk])).status_code == 404
    search = client.get(reverse("admin:chat_conversation_changelist"), {"q": "悄悄话"}).content.decode()
    assert reverse("admin:chat_conversation_change", args=[conversation_b.pk]) not in search


def test_a_trainer_cannot_read_transcripts(client, trainer_a, conversation_a):
    client.force_login(trainer_a)
    assert client.get(reverse("admin:chat_conversation_changelist")).status_code == 403
    assert client.get(reverse("admin:chat_conversation_change", args=[conversation_a.pk])).status_code == 404


def test_a_manager_closes_conversations_from_the_admin_and_the_shopper_is_asked_for_a_rating(
    client, manager_a, conversation_a, conversation_b
):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:chat_conversation_changelist"),
        {"action": "close_selected", "_selected_action": [conversation_a.pk, conversation_b.pk]},
    )
    assert response.status_code == 302
    conversation_a.refresh_from_db()
    conversation_b.refresh_from_db()
    assert conversation_a.status == "closed" and conversation_b.status == "bot"
    assert conversation_a.messages.filter(sender="bot").exists()


def test_conversations_cannot_be_added_or_deleted_in_the_admin(client, manager_a, conversation_a):
    client.force_login(manager_a)
    assert client.get(reverse("admin:chat_conversation_add")).status_code == 403
    assert client.get(reverse("admin:chat_conversation_delete", args=[conversation_a.pk])).status_code == 403


def test_a_superuser_console_serves_every_shop(shop_a, shop_b):
    admin = UserFactory(username="root", is_superuser=True)
    assert services.serving_shop_ids(admin) == {shop_a.pk, shop_b.pk}
    assert (
        staff_of(shop_a, Role.QA, "qa-a")
        and services.serving_shop_ids(Membership.objects.get(user__username="qa-a").user) == set()
    )
