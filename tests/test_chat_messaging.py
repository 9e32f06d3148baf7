"""Storing and delivering messages: stored once, delivered to the conversation's group, a shopper's
question stored with the bot's answer."""

import pytest
from asgiref.sync import async_to_sync

from chat import dialogue
from chat.messaging import Outbox, conversation_group, post_message, store_message
from chat.models import Conversation, Message
from chat.services import (
    ShopperTurn,
    VisitorMessage,
    open_visitor,
    receive_shopper_message,
    receive_visitor_messages,
)
from chat.signals import message_stored
from knowledge.models import AnswerLog
from knowledge.services import answer_message
from tests.chat_sockets import group_event
from tests.factories import FAQCardFactory

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
    posted = []

    def post() -> None:
        posted.append(
            post_message(conversation, Message.Sender.SYSTEM, "您的地址已修改", payload={"quick_replies": ["好的"]})
        )

    event = async_to_sync(group_event)(conversation_group(conversation.pk), post)
    [message] = posted
    assert event["type"] == "chat.messages"
    assert [frame["id"] for frame in event["frames"]] == [message.pk]
    assert event["frames"][0]["quick_replies"] == ["好的"]
    conversation.refresh_from_db()
    assert conversation.last_message_at == message.created_at


def test_a_shoppers_question_and_the_bots_answer_are_stored_in_one_turn(conversation):
    FAQCardFactory(shop=conversation.shop, question="什么时候发货", answer="付款后48小时内发货")
    outbox = Outbox()
    turn = receive_shopper_message(conversation, "什么时候发货", "c1", outbox=outbox)
    assert turn.created and turn.message.intent == "faq"
    assert [r.text for r in turn.replies] == ["付款后48小时内发货"]
    assert turn.replies[0].pk > turn.message.pk
    conversation.refresh_from_db()
    assert conversation.last_message_at == turn.replies[-1].created_at
    assert conversation.state["fallbacks"] == 0
    # One event: the shopper's message first, then the answer, the order every socket shows them in.
    assert [[frame["id"] for frame in event["frames"]] for _, event in outbox.events] == [
        [turn.message.pk, turn.replies[0].pk]
    ]


def test_a_resent_question_is_answered_once(conversation):
    FAQCardFactory(shop=conversation.shop, question="什么时候发货", answer="付款后48小时内发货")
    first = receive_shopper_message(conversation, "什么时候发货", "c1")
    again = receive_shopper_message(conversation, "什么时候发货", "c1")
    assert not again.created and again.message.pk == first.message.pk and again.replies == []
    assert list(conversation.messages.values_list("sender", flat=True)) == ["shopper", "bot"]


def test_when_the_bot_fails_the_shoppers_message_is_still_stored_and_nothing_of_the_bot_is(conversation, monkeypatch):
    FAQCardFactory(shop=conversation.shop, question="什么时候发货", answer="付款后48小时内发货")

    def broken_bot(conversation, text):
        answer_message(conversation.shop, text, conversation_id=conversation.pk)  # writes the answer log first
        raise RuntimeError("the bot broke")

    monkeypatch.setattr("chat.services.dialogue.decide", broken_bot)
    outbox = Outbox()
    turn = receive_shopper_message(conversation, "什么时候发货", "c1", outbox=outbox)
    assert turn.created and turn.replies == []
    assert list(conversation.messages.values_list("sender", "text")) == [("shopper", "什么时候发货")]
    assert not AnswerLog.objects.exists()  # the bot's writes were rolled back with it
    assert [[frame["id"] for frame in event["frames"]] for _, event in outbox.events] == [[turn.message.pk]]


def test_messages_of_several_shoppers_received_together_are_each_answered_in_their_own_conversation(shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货")
    visitors = [open_visitor(shop_a) for _ in range(3)]
    messages = [VisitorMessage(visitor, "什么时候发货", f"c{n}", Outbox()) for n, visitor in enumerate(visitors)]
    turns = receive_visitor_messages(messages)
    assert all(isinstance(turn, ShopperTurn) for turn in turns)
    assert [[r.text for r in turn.replies] for turn in turns if isinstance(turn, ShopperTurn)] == [
        ["付款后48小时内发货"]
    ] * 3
    conversations = [visitor.conversation for visitor in visitors]
    assert len({c.pk for c in conversations if c is not None}) == 3
    for message, turn in zip(messages, turns, strict=True):
        assert isinstance(turn, ShopperTurn) and turn.message.conversation == message.visitor.conversation
        # Each socket's outbox holds its own conversation's event only.
        assert [[frame["id"] for frame in event["frames"]] for _, event in message.outbox.events] == [
            [turn.message.pk, turn.replies[0].pk]
        ]
    assert AnswerLog.objects.count() == 3


def test_when_the_bot_fails_on_one_message_of_a_batch_only_that_one_goes_unanswered(shop_a, monkeypatch):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货")
    working_bot = dialogue.decide

    def bot_failing_on_one_question(conversation, text):
        if text == "这个问题让机器人出错":
            raise RuntimeError("the bot broke")
        return working_bot(conversation, text)

    monkeypatch.setattr("chat.services.dialogue.decide", bot_failing_on_one_question)
    visitors = [open_visitor(shop_a) for _ in range(3)]
    texts = ["什么时候发货", "这个问题让机器人出错", "什么时候发货"]
    messages = [
        VisitorMessage(visitor, text, f"c{n}", Outbox())
        for n, (visitor, text) in enumerate(zip(visitors, texts, strict=True))
    ]
    turns = receive_visitor_messages(messages)
    assert [[r.text for r in turn.replies] for turn in turns if isinstance(turn, ShopperTurn)] == [
        ["付款后48小时内发货"],
        [],
        ["付款后48小时内发货"],
    ]
    # Nothing of the rolled-back batch is left: one conversation per shopper, each message stored once.
    assert Conversation.objects.count() == 3
    assert Message.objects.filter(sender=Message.Sender.SHOPPER).count() == 3
    assert sorted(Message.objects.values_list("client_msg_id", flat=True).exclude(client_msg_id="")) == [
        "c0",
        "c1",
        "c2",
    ]
    assert AnswerLog.objects.count() == 2
    for message in messages:
        assert len(message.outbox.events) == 1  # the rolled-back batch's events were dropped


def test_a_resent_message_in_a_batch_is_acknowledged_again_and_answered_once(shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货")
    visitor = open_visitor(shop_a)
    resent = [VisitorMessage(visitor, "什么时候发货", "c1", Outbox()) for _ in range(2)]
    first, again = receive_visitor_messages(resent)
    assert isinstance(first, ShopperTurn) and isinstance(again, ShopperTurn)
    assert first.created and not again.created and again.message.pk == first.message.pk
    assert list(Message.objects.values_list("sender", flat=True)) == ["shopper", "bot"]
