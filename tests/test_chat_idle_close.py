"""Bot conversations the shopper has left are closed, so they count as resolved and get the survey."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation, Message
from chat.signals import conversation_closed
from chat.tasks import close_idle_conversations
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_bot_conversations_idle_past_the_limit_are_closed(shop_a, settings):
    settings.CHAT_IDLE_CLOSE_MINUTES = 30
    long_ago = timezone.now() - timedelta(hours=2)
    idle = ConversationFactory(shop=shop_a, last_message_at=long_ago)
    recent = ConversationFactory(shop=shop_a, last_message_at=timezone.now() - timedelta(minutes=5))
    waiting = ConversationFactory(shop=shop_a, status=Conversation.Status.WAITING, last_message_at=long_ago)
    closed_ids = []

    def receiver(conversation, **kwargs):
        closed_ids.append(conversation.pk)

    conversation_closed.connect(receiver)
    try:
        assert close_idle_conversations.delay().get() == 1
    finally:
        conversation_closed.disconnect(receiver)
    assert closed_ids == [idle.pk]
    idle.refresh_from_db()
    assert idle.status == Conversation.Status.CLOSED and idle.ended_at is not None
    survey = idle.messages.get()
    assert survey.sender == Message.Sender.BOT and survey.intent == "satisfaction"
    for untouched in (recent, waiting):
        untouched.refresh_from_db()
        assert untouched.status != Conversation.Status.CLOSED
    assert close_idle_conversations.delay().get() == 0
