"""Signed shopper identity: a valid signature links the conversation to the merchant's customer."""

import time

import pytest
from channels.db import database_sync_to_async

from chat.identity import signed_identity_params
from chat.models import Conversation
from shops.models import Customer
from tests.chat_sockets import conversation_of, send_message, shopper_socket
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def conversation(pk: int) -> Conversation:
    return Conversation.objects.select_related("customer").get(pk=pk)


async def test_a_valid_signature_links_the_conversation_to_the_existing_customer(shop_a):
    customer = await database_sync_to_async(CustomerFactory)(shop=shop_a, external_id="u-100")
    socket, _ = await shopper_socket(shop_a.slug, **signed_identity_params(shop_a, "u-100"))
    assert await socket.receive_nothing(timeout=0.1)
    ack = await send_message(socket, "你好", "i-1")
    assert (await conversation(await conversation_of(ack))).customer_id == customer.pk
    await socket.disconnect()


async def test_a_customer_the_shop_has_not_synced_yet_is_created_from_the_signed_id(shop_a):
    socket, _ = await shopper_socket(shop_a.slug, **signed_identity_params(shop_a, "new-buyer"))
    linked = await conversation(await conversation_of(await send_message(socket, "你好", "i-1")))
    assert linked.customer.external_id == "new-buyer" and linked.customer.shop_id == shop_a.pk
    await socket.disconnect()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "sig": "0" * 64},
        lambda p: {**p, "customer": "someone-else"},
        lambda p: {**p, "ts": str(int(p["ts"]) - 1)},
        lambda p: {k: v for k, v in p.items() if k != "sig"},
        lambda p: {**p, "ts": "yesterday"},
    ],
)
async def test_a_bad_signature_is_reported_and_the_shopper_stays_anonymous(shop_a, tamper):
    socket, _ = await shopper_socket(shop_a.slug, **tamper(signed_identity_params(shop_a, "u-100")))
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "invalid_identity"
    ack = await send_message(socket, "你好", "i-1")
    assert (await conversation(await conversation_of(ack))).customer_id is None
    assert not await database_sync_to_async(Customer.objects.filter(external_id__in=["u-100", "someone-else"]).exists)()
    await socket.disconnect()


async def test_an_expired_signature_is_refused(shop_a):
    params = signed_identity_params(shop_a, "u-100", now=time.time() - 2 * 24 * 3600)
    socket, _ = await shopper_socket(shop_a.slug, **params)
    assert (await socket.receive_json_from())["code"] == "invalid_identity"
    await socket.disconnect()


async def test_a_signature_made_with_shop_a_secret_is_worthless_at_shop_b(shop_a, shop_b):
    socket, _ = await shopper_socket(shop_b.slug, **signed_identity_params(shop_a, "u-100"))
    assert (await socket.receive_json_from())["code"] == "invalid_identity"
    ack = await send_message(socket, "你好", "i-1")
    assert (await conversation(await conversation_of(ack))).customer_id is None
    await socket.disconnect()


async def test_a_signed_customer_resumes_their_open_conversation_on_another_device(shop_a):
    first, welcome = await shopper_socket(shop_a.slug, **signed_identity_params(shop_a, "u-7"))
    started = await conversation_of(await send_message(first, "你好", "i-1"))
    await first.disconnect()
    second, resumed = await shopper_socket(shop_a.slug, **signed_identity_params(shop_a, "u-7"))
    assert resumed["conversation"] == started and resumed["visitor"] == welcome["visitor"]
    await second.disconnect()


async def test_another_customer_on_the_same_browser_never_sees_the_previous_customers_chat(shop_a):
    first, welcome = await shopper_socket(shop_a.slug, **signed_identity_params(shop_a, "alice"))
    await send_message(first, "你好", "i-1")
    await first.disconnect()
    second, other = await shopper_socket(
        shop_a.slug, visitor=welcome["visitor"], **signed_identity_params(shop_a, "bob")
    )
    assert other["conversation"] is None and other["visitor"] != welcome["visitor"]
    ack = await send_message(second, "你好", "i-2")
    assert (await conversation(await conversation_of(ack))).customer.external_id == "bob"
    await second.disconnect()
