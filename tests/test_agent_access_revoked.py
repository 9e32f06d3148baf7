"""An agent whose role is removed, or who is deactivated, is off their consoles and conversations at once:
the console closes before another of the shopper's messages (phone, address) reaches it, and the
conversation they held goes back to the waiting queue."""

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.models import Conversation
from shops.models import Membership
from tests.chat_sockets import agent_socket, send_message, shopper_socket
from tests.conftest import staff_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
Role = Membership.Role


@database_sync_to_async
def held_by(shop, agent) -> Conversation:
    return Conversation.objects.create(
        shop=shop, visitor_token=services.new_visitor_token(), status=Conversation.Status.AGENT, assigned_agent=agent
    )


@database_sync_to_async
def current(conversation: Conversation) -> tuple[str, int | None]:
    conversation.refresh_from_db()
    return conversation.status, conversation.assigned_agent_id


async def closed_with(console) -> int:
    """The close code of the console, after whatever frames came before it."""
    while True:
        output = await console.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output["code"]


async def test_removing_the_agents_role_closes_their_console_and_requeues_the_conversation(shop_a):
    agent = await database_sync_to_async(staff_of)(shop_a, Role.AGENT)
    conversation = await held_by(shop_a, agent)
    console, _ = await agent_socket(agent)
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await database_sync_to_async(Membership.objects.filter(user=agent, shop=shop_a).delete)()
    assert await closed_with(console) == 4403
    assert await current(conversation) == ("waiting", None)
    await send_message(shopper, "我的电话是13800138000，地址是幸福路1号", "p-1")
    assert await console.receive_nothing(timeout=0.3)
    await shopper.disconnect()


async def test_deactivating_the_agent_closes_their_console_and_requeues_the_conversation(shop_a):
    agent = await database_sync_to_async(staff_of)(shop_a, Role.AGENT)
    conversation = await held_by(shop_a, agent)
    console, _ = await agent_socket(agent)
    agent.is_active = False
    await database_sync_to_async(agent.save)()
    assert await closed_with(console) == 4403
    assert await current(conversation) == ("waiting", None)


async def test_an_agent_of_two_shops_loses_only_the_one_shop(shop_a, shop_b):
    agent = await database_sync_to_async(staff_of)(shop_a, Role.AGENT)
    await database_sync_to_async(MembershipFactory)(user=agent, shop=shop_b, role=Role.AGENT)
    in_a, in_b = await held_by(shop_a, agent), await held_by(shop_b, agent)
    console, _ = await agent_socket(agent)
    await database_sync_to_async(Membership.objects.filter(user=agent, shop=shop_a).delete)()
    assert await closed_with(console) == 4001  # the page reconnects, to shop B only
    assert await current(in_a) == ("waiting", None)
    assert await current(in_b) == ("agent", agent.pk)
    again, first = await agent_socket(agent)
    assert first["type"] == "queue"
    assert [c["conversation"] for c in first["waiting"]] == []
    await again.disconnect()


async def test_an_agents_login_or_a_new_role_leaves_the_console_open(shop_a, shop_b):
    agent = await database_sync_to_async(staff_of)(shop_a, Role.AGENT)
    conversation = await held_by(shop_a, agent)
    console, _ = await agent_socket(agent)
    await database_sync_to_async(agent.save)()
    await database_sync_to_async(MembershipFactory)(user=agent, shop=shop_b, role=Role.QA)
    assert await console.receive_nothing(timeout=0.3)
    assert await current(conversation) == ("agent", agent.pk)
    await console.disconnect()
