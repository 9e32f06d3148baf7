"""Helpers for the assignment tests: shops with a rule, agents online through a console, hand-offs."""

import itertools

from chat import services
from chat.messaging import post_message
from chat.models import AgentSeat, Conversation, Message, ServiceDesk
from shops.models import Membership
from tests.conftest import staff_of

_consoles = itertools.count()


def set_rule(shop, rule: str) -> ServiceDesk:
    desk, _ = ServiceDesk.objects.get_or_create(shop=shop)
    desk.rule = rule
    desk.save()
    return desk


def online_agent(shop, username: str, *, max_chats: int = 5, skill_group: str = "", role=Membership.Role.AGENT):
    """An agent of the shop with a console open (as the console registers it), at the given capacity."""
    user = staff_of(shop, role, username)
    AgentSeat.objects.update_or_create(
        user=user, shop=shop, defaults={"max_chats": max_chats, "skill_group": skill_group}
    )
    services.register_console(user, f"test-console-{next(_consoles)}")
    return user


def shopper_asking(shop, *said: tuple[str, str], reason: str = "requested") -> Conversation:
    """A shopper conversation with the given (text, intent) shopper messages that asks for a human."""
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    for text, intent in said:
        post_message(conversation, Message.Sender.SHOPPER, text, intent=intent)
    services.request_handoff(conversation, reason)
    conversation.refresh_from_db()
    return conversation


def holder(conversation: Conversation) -> int | None:
    conversation.refresh_from_db()
    return conversation.assigned_agent_id if conversation.status == Conversation.Status.AGENT else None
