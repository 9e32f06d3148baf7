"""A high-severity finding reaches the shop's managers over the alert socket at once, and nobody else."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from analytics.default_rules import install_default_rules
from api.models import WebhookSubscription
from chat.messaging import store_message
from chat.models import Conversation, Message
from config.asgi import application
from shops.models import Membership
from tests.conftest import staff_of
from tests.deliveries import settle

pytestmark = pytest.mark.django_db(transaction=True)
Role = Membership.Role


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user=None, origin: bytes = b"http://127.0.0.1"):
    headers = [(b"origin", origin)]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, "/ws/alerts/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.fixture
def conversation_a(shop_a):
    install_default_rules(shop_a)
    return Conversation.objects.create(shop=shop_a, visitor_token="v-alert")


@database_sync_to_async
def agent_says(conversation, text, agent=None):
    return store_message(conversation, Message.Sender.AGENT, text, agent=agent)[0]


async def test_a_high_severity_finding_reaches_the_shops_manager_and_not_another_shops(
    conversation_a, manager_a, shop_b, agent_a
):
    manager_b = await database_sync_to_async(staff_of)(shop_b, Role.MANAGER)
    socket_a, connected_a, _ = await connect(manager_a)
    socket_b, connected_b, _ = await connect(manager_b)
    assert connected_a and connected_b
    assert (await socket_a.receive_json_from())["shops"] == [conversation_a.shop_id]
    await socket_b.receive_json_from()

    message = await agent_says(conversation_a, "爱买不买", agent_a)

    alert = await socket_a.receive_json_from(timeout=3)
    assert alert["type"] == "alert"
    assert alert["message"] == message.pk
    assert alert["severity"] == "high"
    assert alert["kind"] == "banned_words"
    assert alert["text"] == "爱买不买"
    assert await socket_b.receive_nothing(timeout=0.3)
    await socket_a.disconnect()
    await socket_b.disconnect()


async def test_a_low_severity_finding_raises_no_alert(conversation_a, manager_a, agent_a):
    socket, connected, _ = await connect(manager_a)
    assert connected
    await socket.receive_json_from()
    await agent_says(conversation_a, "保证正品", agent_a)  # a forbidden promise: medium
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_a_qa_reviewer_of_the_shop_gets_alerts_too(conversation_a, shop_a, agent_a):
    reviewer = await database_sync_to_async(staff_of)(shop_a, Role.QA)
    socket, connected, _ = await connect(reviewer)
    assert connected
    await socket.receive_json_from()
    await agent_says(conversation_a, "您打 13812345678 找我", agent_a)
    alert = await socket.receive_json_from(timeout=3)
    assert alert["kind"] == "personal_data"
    assert alert["evidence"] == "138****5678"
    await socket.disconnect()


async def test_an_agent_and_an_anonymous_visitor_are_refused(conversation_a, agent_a):
    _, connected, code = await connect(agent_a)
    assert not connected and code == 4403
    _, connected, code = await connect(None)
    assert not connected and code == 4401


async def test_a_foreign_origin_is_refused(manager_a):
    _, connected, _ = await connect(manager_a, origin=b"http://evil.example")
    assert not connected


async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(manager_a):
    socket, connected, _ = await connect(manager_a)
    assert connected
    await socket.receive_json_from()
    await socket.send_to(text_data="not json")
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "unknown_frame"
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


def test_a_high_severity_finding_is_posted_to_the_shops_qa_alert_webhook(conversation_a, webhook_receiver, agent_a):
    WebhookSubscription.objects.create(shop=conversation_a.shop, url=webhook_receiver.url, events=["qa.alert"])
    WebhookSubscription.objects.create(
        shop=conversation_a.shop, url=webhook_receiver.url + "/other", events=["conversation.closed"]
    )
    store_message(conversation_a, Message.Sender.SHOPPER, "我要投诉你们，骗子")
    settle()
    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    assert request["headers"]["X-Shopbee-Event"] == "qa.alert"
    body = json.loads(request["body"])
    assert body["data"]["kind"] == "angry_shopper"
    assert body["data"]["shop"] == conversation_a.shop_id
