"""Storing and delivering messages: stored once, delivered to the conversation's group."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.messaging import conversation_group, post_message, store_message
from chat.models import Conversation, Message
from chat.signals import message_stored

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(shop_a):
    return Conversation.objects.create(shop=shop_a, visitor_token="v-1")


def test_a_repeated_client_message_id_is_stored_once(conversation):
    first, created = store_message(conversation, Message.Sender.SHOPPER, "发货了吗", client_msg_id="c1")
    again, created_again = store_message(conversation, Message.Sender.SHOPPER, "发货了吗", client_msg_id="c1")
    assert created and not created_again
    assert again.pk == first.pk
    assert Message.objects.count() == 1


def test_storing_a_message_announces_it_after_commit(conversation):
    seen = []

    def receiver(message, **kwargs):
        seen.append(message.text)

    message_stored.connect(receiver)
    try:
        store_message(conversation, Message.Sender.SHOPPER, "有42码吗")
    finally:
        message_stored.disconnect(receiver)
    assert seen == ["有42码吗"]


def test_a_posted_message_reaches_sockets_in_the_conversation_group(conversation):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(conversation.pk), channel)
    message = post_message(conversation, Message.Sender.SYSTEM, "您的地址已修改", payload={"quick_replies": ["好的"]})
    event = async_to_sync(layer.receive)(channel)
    assert event["type"] == "chat.message"
    assert event["frame"]["id"] == message.pk
    assert event["frame"]["quick_replies"] == ["好的"]
    conversation.refresh_from_db()
    assert conversation.last_message_at == message.created_at
