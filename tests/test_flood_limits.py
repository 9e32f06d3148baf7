"""Floods: everything a stranger can send is limited per socket, visitor, address and shop (core.limits),
new sockets per address, invalid API keys per address and failed admin logins. A refused frame stores
nothing and the socket stays open."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from rest_framework.test import APIClient

from chat.models import Conversation, Message
from config.asgi import application
from tests.chat_sockets import ORIGIN, frames_until, send_message
from tests.conftest import api_client_for
from tests.factories import ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RATE_LIMITED = {"type": "error", "code": "rate_limited", "message": "您发送得太快了，请稍后再试"}


@pytest.fixture
def limits(settings):
    """Set some limits for one test; windows of a day, so no window ends while a test runs."""

    def set_limits(rates: dict[str, str]) -> None:
        assert set(rates) <= set(settings.SHOPBEE_LIMITS)
        settings.SHOPBEE_LIMITS = {**settings.SHOPBEE_LIMITS, **rates}

    return set_limits


def boss():
    user = UserFactory(username="boss", is_staff=True)
    user.set_password("right-horse-battery")
    user.save()


async def open_socket(slug: str, visitor: str = "", ip: str = "10.0.0.1") -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(application, f"/ws/chat/{slug}/?visitor={visitor}", headers=[ORIGIN])
    communicator.scope["client"] = (ip, 40000)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_json_from()


@database_sync_to_async
def shopper_texts(shop) -> list[str]:
    return sorted(
        Message.objects.filter(conversation__shop=shop, sender=Message.Sender.SHOPPER).values_list("text", flat=True)
    )


@database_sync_to_async
def bot_messages(conversation_id: int) -> int:
    return Message.objects.filter(conversation_id=conversation_id, sender=Message.Sender.BOT).count()


async def still_open(socket: WebsocketCommunicator) -> bool:
    await socket.send_to(text_data="{")
    return (await socket.receive_json_from())["code"] == "invalid_json"


async def test_sockets_sharing_one_visitor_token_share_the_visitors_limit(shop_a, limits):
    limits({"chat.message.visitor": "3/day"})
    first, welcome = await open_socket(shop_a.slug)
    sockets = [first] + [(await open_socket(shop_a.slug, welcome["visitor"]))[0] for _ in range(5)]
    answers = [await send_message(socket, f"第{n}条", f"v{n}") for n, socket in enumerate(sockets)]
    assert [a["type"] for a in answers] == ["ack"] * 3 + ["error"] * 3
    assert answers[3] == {**RATE_LIMITED, "client_msg_id": "v3"}
    assert await shopper_texts(shop_a) == ["第0条", "第1条", "第2条"]
    assert await still_open(sockets[4])
    for socket in sockets:
        await socket.disconnect()


async def test_one_socket_is_limited_on_its_own_and_the_refused_message_is_not_stored(shop_a, limits):
    limits({"chat.message.socket": "2/day"})
    socket, _ = await open_socket(shop_a.slug)
    answers = [(await send_message(socket, f"问题{n}", f"s{n}"))["type"] for n in range(3)]
    assert answers == ["ack", "ack", "error"]
    assert await shopper_texts(shop_a) == ["问题0", "问题1"]
    await socket.disconnect()


async def test_a_flood_on_one_shop_stops_at_its_ceiling_and_another_shop_still_chats(shop_a, shop_b, limits):
    limits({"chat.message.shop": "4/day", "chat.message.ip": "1000/day"})
    flood = [(await open_socket(shop_a.slug))[0] for _ in range(8)]
    answers = [(await send_message(socket, f"刷屏{n}", f"f{n}"))["type"] for n, socket in enumerate(flood)]
    assert answers.count("ack") == 4 and answers.count("error") == 4
    shopper, _ = await open_socket(shop_b.slug)
    assert (await send_message(shopper, "你好", "b1"))["type"] == "ack"
    assert len(await shopper_texts(shop_a)) == 4 and await shopper_texts(shop_b) == ["你好"]
    for socket in [*flood, shopper]:
        await socket.disconnect()


async def test_messages_from_one_address_are_limited_across_shops_and_visitors(shop_a, shop_b, limits):
    limits({"chat.message.ip": "3/day"})
    crowd = [(await open_socket(slug, ip="10.9.9.9"))[0] for slug in (shop_a.slug, shop_b.slug) * 2]
    answers = [(await send_message(socket, "在吗", f"i{n}"))["type"] for n, socket in enumerate(crowd)]
    assert answers == ["ack", "ack", "ack", "error"]
    elsewhere, _ = await open_socket(shop_b.slug, ip="10.1.1.1")
    assert (await send_message(elsewhere, "在吗", "other"))["type"] == "ack"
    for socket in [*crowd, elsewhere]:
        await socket.disconnect()


async def test_rate_frames_are_limited_and_a_refused_one_stores_no_thank_you(shop_a, limits):
    limits({"chat.rate.socket": "3/day"})
    socket, _ = await open_socket(shop_a.slug)
    ack = await send_message(socket, "你好", "r0")
    conversation = await database_sync_to_async(lambda: Message.objects.get(pk=ack["id"]).conversation_id)()
    before = await bot_messages(conversation)
    refused = 0
    for _ in range(6):
        await socket.send_json_to({"type": "rate", "score": 5})
        frames = await frames_until(socket, lambda f: f["type"] == "error" or f.get("text", "").startswith("感谢"))
        refused += frames[-1] == RATE_LIMITED
    assert refused == 3
    assert await bot_messages(conversation) - before == 3
    await socket.disconnect()


async def test_typing_frames_are_limited_and_refused_ones_reach_nobody(shop_a, limits):
    limits({"chat.typing.socket": "2/day"})
    typist, welcome = await open_socket(shop_a.slug)
    await send_message(typist, "你好", "t0")
    await frames_until(typist, lambda f: f["type"] == "message")  # the bot's answer
    watcher, _ = await open_socket(shop_a.slug, welcome["visitor"])
    for _ in range(6):
        await typist.send_json_to({"type": "typing"})
    errors = [await typist.receive_json_from() for _ in range(4)]
    assert errors == [RATE_LIMITED] * 4
    seen = [await watcher.receive_json_from() for _ in range(2)]
    assert [f["type"] for f in seen] == ["typing", "typing"]
    assert await watcher.receive_nothing(timeout=0.3)
    await typist.disconnect()
    await watcher.disconnect()


async def test_new_sockets_from_one_address_are_limited_and_the_refused_one_is_told_why(shop_a, limits):
    limits({"chat.connect.ip": "3/day"})
    sockets = [(await open_socket(shop_a.slug, ip="10.7.7.7"))[0] for _ in range(3)]
    refused = WebsocketCommunicator(application, f"/ws/chat/{shop_a.slug}/", headers=[ORIGIN])
    refused.scope["client"] = ("10.7.7.7", 40000)
    await refused.connect()
    assert await refused.receive_json_from() == RATE_LIMITED
    assert (await refused.receive_output())["code"] == 1013
    other, welcome = await open_socket(shop_a.slug, ip="10.7.7.8")
    assert welcome["type"] == "welcome"
    assert await database_sync_to_async(Conversation.objects.count)() == 0
    for socket in [*sockets, other]:
        await socket.disconnect()


def test_invalid_api_keys_from_one_address_are_throttled_with_a_clear_429(shop_a, limits):
    limits({"api.invalid_key.ip": "3/day"})
    stranger = APIClient(REMOTE_ADDR="10.5.5.5")
    codes = [
        stranger.get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer sb_guess{n}_{'x' * 43}").status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    refused = stranger.get("/api/v1/products/", HTTP_AUTHORIZATION="Bearer sb_guess_again")
    assert refused.status_code == 429 and "无效 API 密钥的请求过多" in refused.json()["detail"]
    assert "Retry-After" in refused
    valid = api_client_for(ApiKeyFactory(shop=shop_a))
    assert valid.get("/api/v1/products/", REMOTE_ADDR="10.5.5.5").status_code == 429  # the address waits
    assert valid.get("/api/v1/products/", REMOTE_ADDR="10.5.5.6").status_code == 200


def test_admin_login_stops_checking_passwords_after_too_many_failures_from_one_address(client, limits):
    limits({"admin.login.ip": "5/day"})
    boss()
    url = reverse("admin:login")
    for n in range(5):
        response = client.post(url, {"username": "boss", "password": f"wrong-{n}"}, REMOTE_ADDR="10.3.3.3")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(url, {"username": "boss", "password": "right-horse-battery"}, REMOTE_ADDR="10.3.3.3")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "登录失败次数过多" in response.content.decode()
    response = client.post(url, {"username": "boss", "password": "right-horse-battery"}, REMOTE_ADDR="10.3.3.4")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_admin_login_failures_for_one_username_are_limited_from_any_address(client, limits):
    limits({"admin.login.username": "3/day"})
    boss()
    url = reverse("admin:login")
    for n in range(3):
        client.post(url, {"username": "boss", "password": "wrong"}, REMOTE_ADDR=f"10.4.4.{n}")
    response = client.post(url, {"username": "boss", "password": "right-horse-battery"}, REMOTE_ADDR="10.4.4.9")
    assert "_auth_user_id" not in client.session and "登录失败次数过多" in response.content.decode()
