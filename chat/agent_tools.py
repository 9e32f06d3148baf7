"""The agent console's tools: canned replies (快捷短语) searched with ``/``, macros, the customer panel.

Each entry point takes the agent and a conversation id from the socket and checks, with the one
consumer check (``services.conversation_for_staff``), that the agent serves the conversation's shop;
canned replies are the shop's own and the agent's personal ones, never another shop's or colleague's.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from knowledge.text import normalize
from shops.models import Order

from . import services
from .frames import CannedFrame, CannedItem, PanelFrame
from .messaging import Outbox
from .models import CannedReply, Conversation, ConversationTag, Message, SkillGroup
from .packet import customer_panel
from .services import ChatError

MAX_QUERY_LENGTH = 30
CANNED_SHOWN = 8
VARIABLE = re.compile(r"\{(顾客昵称|店铺名|订单号|物流单号|客服昵称)\}")


def conversation_order(conversation: Conversation) -> Order | None:
    """The order the conversation is about: the one the bot last talked about (a number the shopper gave
    and proved), else the customer's latest order in this shop."""
    orders = Order.objects.filter(shop_id=conversation.shop_id)
    talked_about = (conversation.state or {}).get("order")
    if isinstance(talked_about, int):
        order = orders.filter(pk=talked_about).first()
        if order is not None:
            return order
    if conversation.customer_id is None:
        return None
    return orders.filter(customer_id=conversation.customer_id).order_by("-created_at", "-pk").first()


@dataclass
class Variables:
    """The values of one conversation's variables; an unknown one (no order yet) is None."""

    values: dict[str, str | None]

    @classmethod
    def of(cls, conversation: Conversation, agent: User) -> "Variables":
        order = conversation_order(conversation)
        customer = conversation.customer
        return cls(
            {
                "顾客昵称": (customer.nickname or None) if customer is not None else None,
                "店铺名": conversation.shop.name,
                "订单号": order.external_id if order is not None else None,
                "物流单号": (order.tracking_number or None) if order is not None else None,
                "客服昵称": services.agent_name(agent),
            }
        )

    def fill(self, text: str, *, strict: bool = False) -> str:
        """The text with every variable known replaced. An unknown one stays as written, for the agent to
        fill in the reply box; ``strict`` (a macro, sent as it is) refuses it instead. An anonymous
        shopper's nickname is "亲"."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            known = self.values[name]
            if known is not None:
                return known
            if name == "顾客昵称":
                return "亲"
            if strict:
                raise ChatError("missing_variable", f"这个会话还没有{{{name}}}，请手动回复")
            return match.group(0)

        return VARIABLE.sub(value, text)


def _visible_replies(agent: User, shop_id: int):
    return CannedReply.objects.filter(shop_id=shop_id).filter(Q(owner__isnull=True) | Q(owner=agent))


def macro_steps(reply: CannedReply) -> list[str]:
    steps = []
    if reply.add_tag:
        steps.append(f"打标签「{reply.add_tag}」")
    if reply.transfer_group:
        steps.append(f"转{SkillGroup(reply.transfer_group).label}组排队")
    if reply.close_after:
        steps.append("结束会话")
    return steps


def _rank(reply: CannedReply, query: str) -> int | None:
    """How well the reply matches the typed query (lower first), None when it does not."""
    if not query:
        return 3
    shortcut, category = normalize(reply.shortcut), normalize(reply.category)
    if shortcut.startswith(query):
        return 0
    if query in shortcut or query in category:
        return 1
    if query in normalize(reply.text):
        return 2
    return None


def search_canned(agent: User, conversation_id: Any, query: Any) -> CannedFrame:
    """The canned replies and macros matching what the agent typed after ``/``, their variables filled from
    the conversation (shortcut matches first, then category, then text; personal before shop-wide)."""
    if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH:
        raise ChatError("invalid_query", f"query 需要是不超过 {MAX_QUERY_LENGTH} 个字符的字符串")
    conversation = services.conversation_for_staff(agent, conversation_id)
    wanted = normalize(query.lstrip("/／"))
    ranked = []
    for reply in _visible_replies(agent, conversation.shop_id).order_by("shortcut", "pk"):
        rank = _rank(reply, wanted)
        if rank is not None:
            ranked.append((rank, reply.owner_id is None, reply.shortcut, reply.pk, reply))
    ranked.sort(key=lambda row: row[:4])
    variables = Variables.of(conversation, agent)
    items: list[CannedItem] = [
        {
            "id": reply.pk,
            "shortcut": reply.shortcut,
            "category": reply.category,
            "text": variables.fill(reply.text),
            "personal": reply.owner_id is not None,
            "macro": macro_steps(reply),
        }
        for *_key, reply in ranked[:CANNED_SHOWN]
    ]
    return {"type": "canned", "conversation": conversation.pk, "query": query, "items": items}


def tag_conversation(conversation: Conversation, name: str, by: User | None = None) -> ConversationTag:
    name = name.strip()[:20]
    tag, _created = ConversationTag.objects.get_or_create(
        conversation=conversation, name=name, defaults={"shop_id": conversation.shop_id, "added_by": by}
    )
    return tag


def apply_macro(
    agent: User, conversation_id: Any, canned_id: Any, client_msg_id: str = "", *, outbox: Outbox | None = None
) -> Message:
    """Run a canned reply or macro on a conversation the agent holds, all or nothing: send its reply (every
    variable must be known), add its tag, then hand the conversation to its skill group
    (``services.transfer_to_group``: the queue and the shop's assignment rule take it on) or close it.
    Returns the reply sent."""
    conversation = services.held_conversation(agent, conversation_id)
    reply = (
        _visible_replies(agent, conversation.shop_id).filter(pk=canned_id).first()
        if isinstance(canned_id, int) and not isinstance(canned_id, bool)
        else None
    )
    if reply is None:
        raise ChatError("invalid_canned", "没有这条快捷短语")
    delivered = len(outbox.events) if outbox is not None else 0
    try:
        with transaction.atomic():
            text = Variables.of(conversation, agent).fill(reply.text, strict=True)
            message = services.agent_reply(agent, conversation.pk, text, client_msg_id, outbox=outbox)
            if reply.add_tag:
                tag_conversation(conversation, reply.add_tag, agent)
            if reply.transfer_group:
                services.transfer_to_group(agent, conversation.pk, reply.transfer_group, outbox=outbox)
            elif reply.close_after:
                services.close_held_conversation(agent, conversation.pk, outbox=outbox)
    except Exception:
        if outbox is not None:
            del outbox.events[delivered:]  # nothing of the rolled-back steps may reach a socket
        raise
    return message


def panel(agent: User, conversation_id: Any) -> PanelFrame:
    """The customer panel of a conversation of the agent's shops."""
    return customer_panel(services.conversation_for_staff(agent, conversation_id))
