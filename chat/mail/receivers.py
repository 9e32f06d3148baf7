"""The email channel listens to chat: a reply stored in an email conversation is mailed to the shopper."""

from typing import Any

from celery import current_app

from chat.models import Conversation, Message

from .outbound import REPLY_SENDERS

SEND_TASK = "chat.tasks.send_email_replies"


def mail_reply(sender: type[Message], message: Message, **kwargs: Any) -> None:
    """Receiver of ``message_stored`` (after commit): a bot, agent or system message of an email
    conversation queues the mailing of the conversation's unsent replies."""
    if message.sender in REPLY_SENDERS and message.conversation.channel == Conversation.Channel.EMAIL:
        current_app.tasks[SEND_TASK].delay(message.conversation_id)
