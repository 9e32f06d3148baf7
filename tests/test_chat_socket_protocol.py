"""The shopper socket's frames and errors: welcome, ack, resend, resume, typing, rate, every bad frame."""

import pytest
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware
from channels.testing import WebsocketCommunicator

from chat import services
from chat.messaging import post_message
from chat.models import Conversation, Message
from config.asgi import application
from config.routing import websocket_urlpatterns
from shops.models import Shop
from shops.quota import quota_usage
from tests.chat_sockets import ORIGIN, agent_socket, conversation_of, send_message, shopper_socket
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_held_conversation(shop, agent) -> Conversation:
    """A conversation an agent already holds: shopper messages go to the agent, not the bot."""
    return Conversation.objects.create(
        shop=shop, visitor_token=services.new_visitor_token(), status=Conversation.Status.AGENT, assigned_agent=agent
    )


@database_sync_to_async
def bot_conversation(shop) -> Conversation:
    return Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())


@database_sync_to_async
def messages_of(conversation_id: int) -> list[tuple[str, str]]:
    return list(Message.objects.filter(conversation_id=conversation_id).values_list("sender", "text"))


@database_sync_to_async
def conversations_of(shop) -> list[Conversation]:
    return list(Conversation.objects.filter(shop=shop))


async def test_a_new_shopper_is_welcomed_with_a_visitor_token_and_no_conversation_yet(shop_a):
    socket, welcome = await shopper_socket(shop_a.slug)
    assert welcome == {
        "type": "welcome",
        "conversation": None,
        "visitor": welcome["visitor"],
        "status": "bot",
        "agent": "",
        "messages": [],
    }
    assert len(welcome["visitor"]) >= 24
    await socket.send_json_to({"type": "typing"})
    assert await socket.receive_nothing(timeout=0.1)
    assert await conversations_of(shop_a) == []
    await socket.disconnect()


async def test_many_handshakes_without_a_message_create_no_conversation_and_use_no_quota(shop_a, settings):
    settings.SHOPBEE_BASIC_MONTHLY_BOT_CONVERSATIONS = 5
    for _ in range(30):
        socket, _ = await shopper_socket(shop_a.slug)
        await socket.disconnect()
    assert await conversations_of(shop_a) == []
    assert (await database_sync_to_async(quota_usage)(shop_a)).used == 0
    assert shop_a.plan == Shop.Plan.BASIC


async def test_the_first_message_starts_exactly_one_conversation_under_the_welcomed_token(shop_a):
    socket, welcome = await shopper_socket(shop_a.slug)
    again, rewelcome = await shopper_socket(shop_a.slug, visitor=welcome["visitor"])
    assert rewelcome["visitor"] == welcome["visitor"] and rewelcome["conversation"] is None
    await again.disconnect()
    first = await send_message(socket, "你好", "f-1")
    second = await send_message(socket, "有42码吗", "f-2")
    conversations = await conversations_of(shop_a)
    assert [c.pk for c in conversations] == [await conversation_of(first)] == [await conversation_of(second)]
    assert conversations[0].visitor_token == welcome["visitor"]
    assert (await database_sync_to_async(quota_usage)(shop_a)).used == 1
    await socket.disconnect()
    resumed_socket, resumed = await shopper_socket(shop_a.slug, visitor=welcome["visitor"])
    assert resumed["conversation"] == conversations[0].pk
    assert [m["text"] for m in resumed["messages"] if m["sender"] == "shopper"] == ["你好", "有42码吗"]
    await resumed_socket.disconnect()


async def test_a_visitor_token_the_server_never_issued_is_replaced(shop_a):
    socket, welcome = await shopper_socket(shop_a.slug, visitor="made-up-token")
    assert welcome["visitor"] != "made-up-token"
    await send_message(socket, "你好", "m-1")
    assert [c.visitor_token for c in await conversations_of(shop_a)] == [welcome["visitor"]]
    await socket.disconnect()


async def test_an_unknown_shop_gets_an_error_and_the_socket_closes(db):
    communicator = WebsocketCommunicator(application, "/ws/chat/no-such-shop/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    frame = await communicator.receive_json_from()
    assert frame["type"] == "error" and frame["code"] == "shop_not_found"
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": 4404}


async def test_an_inactive_shop_is_refused_like_an_unknown_one(db):
    shop = await database_sync_to_async(ShopFactory)(slug="closed-shop", is_active=False)
    communicator = WebsocketCommunicator(application, f"/ws/chat/{shop.slug}/", headers=[ORIGIN])
    await communicator.connect()
    assert (await communicator.receive_json_from())["code"] == "shop_not_found"
    assert (await communicator.receive_output())["type"] == "websocket.close"


async def test_a_socket_from_a_foreign_origin_is_refused(shop_a):
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{shop_a.slug}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ('["a list"]', "unknown_type"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"text": "no type"}', "unknown_type"),
        ('{"type": "message", "client_msg_id": "m1"}', "empty_text"),
        ('{"type": "message", "text": "   ", "client_msg_id": "m1"}', "empty_text"),
        ('{"type": "message", "text": 42, "client_msg_id": "m1"}', "invalid_text"),
        ('{"type": "message", "text": "hi", "client_msg_id": {"x": 1}}', "invalid_client_msg_id"),
        ('{"type": "rate", "score": 6}', "invalid_score"),
        ('{"type": "rate", "score": "5"}', "invalid_score"),
        ('{"type": "rate"}', "invalid_score"),
    ],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(shop_a, raw, code):
    conversation = await bot_conversation(shop_a)
    socket, welcome = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await socket.send_to(text_data=raw)
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    # Still open and usable.
    await socket.send_to(text_data='{"type": "typing"}')
    await socket.send_to(text_data="again not json")
    assert (await socket.receive_json_from())["code"] == "invalid_json"
    assert await messages_of(welcome["conversation"]) == []
    await socket.disconnect()


async def test_text_over_two_thousand_characters_is_rejected_and_nothing_is_stored(shop_a):
    socket, _ = await shopper_socket(shop_a.slug)
    error = await send_message(socket, "好" * 2001, "long-1")
    assert error["code"] == "text_too_long" and error["client_msg_id"] == "long-1"
    assert await conversations_of(shop_a) == []
    await socket.disconnect()


async def test_too_many_messages_in_the_window_are_refused_with_rate_limited(shop_a, agent_a, settings):
    settings.SHOPBEE_LIMITS = {**settings.SHOPBEE_LIMITS, "chat.message.socket": "2/min"}
    conversation = await make_held_conversation(shop_a, agent_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    assert (await send_message(socket, "第一条", "r1"))["type"] == "ack"
    assert (await send_message(socket, "第二条", "r2"))["type"] == "ack"
    refused = await send_message(socket, "第三条", "r3")
    assert refused["type"] == "error" and refused["code"] == "rate_limited" and refused["client_msg_id"] == "r3"
    assert [text for _, text in await messages_of(conversation.pk)] == ["第一条", "第二条"]
    await socket.disconnect()


async def test_a_shopper_message_is_stored_and_acked_with_its_id(shop_a, agent_a):
    conversation = await make_held_conversation(shop_a, agent_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    ack = await send_message(socket, "请问什么时候发货？", "c-1")
    message = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert ack == {"type": "ack", "client_msg_id": "c-1", "id": message.pk}
    assert (message.sender, message.text, message.conversation_id) == ("shopper", "请问什么时候发货？", conversation.pk)
    await socket.disconnect()


async def test_the_same_client_msg_id_sent_again_is_acked_with_the_same_id_and_stores_nothing(shop_a, agent_a):
    conversation = await make_held_conversation(shop_a, agent_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    first = await send_message(socket, "有42码吗", "dup-1")
    again = await send_message(socket, "有42码吗", "dup-1")
    assert first == again
    # Also from a new socket after a reconnect.
    await socket.disconnect()
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    assert await send_message(socket, "有42码吗", "dup-1") == first
    assert await messages_of(conversation.pk) == [("shopper", "有42码吗")]
    await socket.disconnect()


async def test_reconnecting_with_since_returns_exactly_what_was_missed(shop_a, agent_a):
    conversation = await make_held_conversation(shop_a, agent_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    seen = await send_message(socket, "我先问一句", "s-1")
    await socket.disconnect()
    # While the shopper is away, the agent answers twice.
    for text in ("您好，在的", "请问还有什么问题？"):
        await database_sync_to_async(post_message)(conversation, Message.Sender.AGENT, text, agent=agent_a)
    socket, welcome = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token, since=seen["id"])
    assert welcome["conversation"] == conversation.pk
    assert [(m["sender"], m["text"]) for m in welcome["messages"]] == [
        ("agent", "您好，在的"),
        ("agent", "请问还有什么问题？"),
    ]
    assert all(m["id"] > seen["id"] for m in welcome["messages"])
    await socket.disconnect()
    # Without since: the whole history, the shopper's own message with its client_msg_id.
    socket, welcome = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    assert [m["text"] for m in welcome["messages"]] == ["我先问一句", "您好，在的", "请问还有什么问题？"]
    assert welcome["messages"][0]["client_msg_id"] == "s-1"
    await socket.disconnect()


async def test_a_bad_since_is_reported_and_the_whole_history_is_sent(shop_a, agent_a):
    conversation = await make_held_conversation(shop_a, agent_a)
    await database_sync_to_async(post_message)(conversation, Message.Sender.AGENT, "在的", agent=agent_a)
    socket, welcome = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token, since="abc")
    assert [m["text"] for m in welcome["messages"]] == ["在的"]
    assert (await socket.receive_json_from())["code"] == "invalid_since"
    await socket.disconnect()


async def test_messages_posted_by_other_apps_reach_the_shopper_socket(shop_a):
    conversation = await bot_conversation(shop_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    # Marketing and work-order notices are delivered exactly this way.
    posted = await database_sync_to_async(post_message)(
        conversation,
        Message.Sender.SYSTEM,
        "您关注的跑鞋降价了",
        payload={"quick_replies": ["去看看"]},
        intent="marketing",
    )
    frame = await socket.receive_json_from()
    assert frame["type"] == "message" and frame["id"] == posted.pk
    assert (frame["sender"], frame["text"], frame["quick_replies"]) == ("system", "您关注的跑鞋降价了", ["去看看"])
    await socket.disconnect()


async def test_shopper_typing_reaches_the_agent_and_agent_typing_reaches_the_shopper(shop_a, agent_a):
    conversation = await make_held_conversation(shop_a, agent_a)
    agent, _ = await agent_socket(agent_a)
    shopper, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await shopper.send_json_to({"type": "typing"})
    assert await agent.receive_json_from() == {"type": "typing", "conversation": conversation.pk, "sender": "shopper"}
    await agent.send_json_to({"type": "typing", "conversation": conversation.pk})
    assert await shopper.receive_json_from() == {"type": "typing", "conversation": conversation.pk, "sender": "agent"}
    assert await shopper.receive_nothing()
    await shopper.disconnect()
    await agent.disconnect()


async def test_a_rating_is_saved_and_the_shopper_is_thanked(shop_a, agent_a):
    conversation = await make_held_conversation(shop_a, agent_a)
    socket, _ = await shopper_socket(shop_a.slug, visitor=conversation.visitor_token)
    await socket.send_json_to({"type": "rate", "score": 5})
    frame = await socket.receive_json_from()
    assert frame["type"] == "message" and frame["sender"] == "bot" and "感谢" in frame["text"]
    await database_sync_to_async(conversation.refresh_from_db)()
    assert conversation.satisfaction == 5
    await socket.disconnect()


async def test_a_shopper_socket_that_sends_nothing_is_closed_as_idle(shop_a, settings):
    settings.CHAT_IDLE_SOCKET_SECONDS = 0.2
    communicator, welcome = await shopper_socket(shop_a.slug)
    assert welcome["type"] == "welcome"
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4408}


def test_shopper_sockets_skip_the_session_lookup_that_staff_sockets_need():
    routes = {str(route.pattern): route.callback for route in websocket_urlpatterns}
    assert not isinstance(routes["ws/chat/<slug:slug>/"], CookieMiddleware)
    assert isinstance(routes["ws/agent/"], CookieMiddleware)
    assert isinstance(routes["ws/alerts/"], CookieMiddleware)
