"""The hot path's hand-written INSERT and UPDATE store exactly what the ORM would, on every backend."""

import pytest
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Message
from core import rows

pytestmark = pytest.mark.django_db


def test_inserted_messages_read_back_as_written_with_ids_in_order(shop_a, agent_a):
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="v-1")
    before = timezone.now()
    question = Message(conversation=conversation, shop=shop_a, sender="shopper", text="有42码吗", client_msg_id="c-1")
    answer = Message(
        conversation=conversation,
        shop=shop_a,
        sender="agent",
        agent=agent_a,
        text="有的亲",
        payload={"quick_replies": ["好的"], "products": [{"title": "缓震跑步鞋", "price": "299.00"}]},
        intent="agent_reply",
        confidence=0.875,
    )
    rows.insert([question, answer])
    assert question.pk < answer.pk
    stored = {m.pk: m for m in Message.objects.all()}
    assert stored[question.pk].text == "有42码吗" and stored[question.pk].client_msg_id == "c-1"
    assert stored[question.pk].agent is None and stored[question.pk].payload == {}
    assert stored[answer.pk].payload == answer.payload
    assert (stored[answer.pk].agent, stored[answer.pk].intent, stored[answer.pk].confidence) == (
        agent_a,
        "agent_reply",
        0.875,
    )
    assert stored[answer.pk].created_at == answer.created_at and answer.created_at >= before
    assert not answer._state.adding


def test_an_update_writes_the_named_fields_and_leaves_the_rest(shop_a):
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="v-1", handoff_reason="requested")
    stale = Conversation.objects.get(pk=conversation.pk)
    conversation.state = {"slots": {"categories": ["跑步鞋"], "high": "300"}, "fallbacks": 0}
    conversation.last_message_at = timezone.now()
    conversation.handoff_reason = "not written"
    rows.update(conversation, ["state", "last_message_at"])
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.state == conversation.state
    assert stored.last_message_at == conversation.last_message_at
    assert stored.handoff_reason == stale.handoff_reason == "requested"


def test_a_locked_read_returns_the_row_as_stored_with_its_json_and_dates(shop_a):
    conversation = Conversation.objects.create(
        shop=shop_a, visitor_token="v-1", state={"pending": {"kind": "invoice", "step": "title"}}
    )
    Conversation.objects.filter(pk=conversation.pk).update(status="waiting", last_message_at=timezone.now())
    with transaction.atomic():
        row = rows.locked(Conversation, conversation.pk)
    stored = Conversation.objects.get(pk=conversation.pk)
    assert (row.status, row.state, row.last_message_at, row.started_at) == (
        "waiting",
        {"pending": {"kind": "invoice", "step": "title"}},
        stored.last_message_at,
        stored.started_at,
    )


def test_a_locked_read_of_a_missing_row_raises_does_not_exist(db):
    with transaction.atomic(), pytest.raises(Conversation.DoesNotExist):
        rows.locked(Conversation, 987654)
