"""The conversation lifecycle: start or resume, bot turns, hand-off, accept, transfer, close, rate.

Consumers, views and the admin call these functions and nothing else. Every change a socket must see is
sent to its Channels group after the transaction commits, so no socket hears of a row that was rolled
back, and sockets served by other processes hear of it too.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from chat.intents import Intent
from core import rows
from core.llm import Completion, Endpoint
from knowledge.models import GroundedAnswer
from knowledge.services import FALLBACK_TEXT, HUMAN_QUICK_REPLY, answer_message, suggest_answers
from shops import llm
from shops.hours import service_hours
from shops.models import Customer, Membership, Product, Shop
from shops.quota import WITHOUT_BOT_REASONS, bot_quota_exceeded
from shops.services import has_shop_role

from . import assignment, dialogue, grounding, guard, sla
from .assignment import PRESENCE_TTL, SERVICE_ROLES, online_agent_ids, serving_shop_ids
from .channels.delivery import record_close
from .dialogue import BotReply, DialogueResult
from .dialogue.replies import product_card
from .frames import (
    HistoryFrame,
    MessageFrame,
    PresenceFrame,
    QueueFrame,
    QueueItem,
    Suggestion,
    WelcomeFrame,
)
from .identity import InvalidIdentity, SignedIdentity, verify_identity
from .intents import HandoffReason
from .measurement import in_bot_holdout
from .messaging import (
    Outbox,
    agent_name,
    agent_user_group,
    announce_messages,
    deliver,
    message_frame,
    new_message,
    post_message,
    store_messages,
    stored_client_message,
)
from .messaging import announce_assignment as _announce_assignment
from .messaging import announce_queue as _announce_queue
from .messaging import announce_status as _announce_status
from .messaging import status_frame as status_frame  # the consumers' name for it
from .models import (
    AgentPresence,
    AgentSeat,
    Conversation,
    EmailAttachment,
    Message,
    QueueEntry,
    ServiceDesk,
    SkillGroup,
)
from .packet import handoff_packet
from .signals import conversation_closed

logger = logging.getLogger(__name__)

Role = Membership.Role
Status = Conversation.Status
Sender = Message.Sender

MAX_TEXT_LENGTH = 2000


class ChatError(Exception):
    """A request the protocol refuses; ``code`` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def not_found() -> ChatError:
    # Another shop's conversation is reported exactly like a missing one.
    return ChatError("not_found", "会话不存在")


# --- who may serve which shop: the one check every consumer and page uses -------------------------


def can_serve(user: User | AnonymousUser, shop_id: int) -> bool:
    return has_shop_role(user, shop_id, SERVICE_ROLES)


def conversation_for_staff(user: User, conversation_id: Any) -> Conversation:
    """The conversation if ``user`` may serve its shop, else ChatError(not_found)."""
    try:
        conversation = Conversation.objects.select_related("shop", "assigned_agent").get(pk=int(conversation_id))
    except (TypeError, ValueError, Conversation.DoesNotExist):
        raise not_found() from None
    if not can_serve(user, conversation.shop_id):
        raise not_found()
    return conversation


def attachment_for_staff(user: User | AnonymousUser, attachment_id: int) -> EmailAttachment:
    """A file a shopper sent by mail, if ``user`` may serve its shop, else ChatError(not_found)."""
    attachment = EmailAttachment.objects.filter(pk=attachment_id).first()
    if attachment is None or not can_serve(user, attachment.shop_id):
        raise not_found()
    return attachment


def withdraw_agent(user_id: int) -> None:
    """After a staff member's roles changed or they were deactivated: the conversations they hold in shops
    they may no longer serve go back to the waiting queue, and their open consoles hear which shops they
    still serve (a console showing any other shop closes at once, so it receives nothing more)."""
    user = get_user_model().objects.get(pk=user_id)
    still = serving_shop_ids(user)
    assignment.requeue_held(user_id, keep_shop_ids=still)
    deliver(agent_user_group(user_id), {"type": "chat.access", "shops": sorted(still)})


def staff_access_changed(sender, instance, **kwargs) -> None:
    """Receiver of a membership saved or deleted, and of a user saved: see ``withdraw_agent``."""
    if isinstance(instance, Membership):
        if kwargs.get("created"):
            return  # a new role takes nothing away
        user_id = instance.user_id
    elif not instance.is_active:
        user_id = instance.pk
    else:
        return  # an active user saved (a login, a profile edit) serves the same shops as before
    transaction.on_commit(lambda: withdraw_agent(user_id))


# --- delivery -------------------------------------------------------------------------------------


# --- shoppers ------------------------------------------------------------------------------------


# Visitor tokens are signed: a shopper keeps theirs before any conversation stores it, and the server
# still recognises only tokens it issued (a client cannot choose its own, or be handed a chosen one).
_VISITOR_SIGNER = signing.Signer(salt="shopbee.chat.visitor")


VISITOR_RANDOM_LENGTH = 16  # secrets.token_urlsafe(12)


def new_visitor_token(random_part: str | None = None) -> str:
    """A signed visitor token; ``random_part`` only for a caller that must replay the same tokens (the demo
    history, whose bot holdout and answer experiments draw anonymous shoppers by their token), at most as long
    as a random one (16 characters), so the signed token fits its column."""
    if random_part is not None and len(random_part) > VISITOR_RANDOM_LENGTH:
        raise ValueError(f"a visitor token's own part is at most {VISITOR_RANDOM_LENGTH} characters")
    return _VISITOR_SIGNER.sign(random_part or secrets.token_urlsafe(12))


def _issued_visitor_token(token: str) -> bool:
    try:
        _VISITOR_SIGNER.unsign(token)
    except signing.BadSignature:
        return False
    return True


def active_shop(slug: str) -> Shop | None:
    # On every shopper socket's handshake: plain SQL on the unique slug (see core.rows).
    return rows.first(Shop, "slug = %s AND is_active = %s", [slug, True])


@dataclass
class Visitor:
    """A shopper socket's side of the chat: their shop, identity, token and conversation, which is None
    until their first message. A handshake alone stores nothing and uses none of the shop's quota."""

    shop: Shop
    visitor_token: str
    customer: Customer | None = None
    conversation: Conversation | None = None


_LATEST_BY_TOKEN = "shop_id = %s AND visitor_token = %s ORDER BY started_at DESC, id DESC"


def _latest_conversation(shop: Shop, visitor_token: str, customer: Customer | None) -> Conversation | None:
    current = None
    if visitor_token:
        # On every resume and every new visitor's first message: plain SQL on the (shop, token, start) index,
        # a fraction of the ORM's cost.
        current = rows.first(Conversation, _LATEST_BY_TOKEN, [shop.pk, visitor_token])
        if current is not None and customer is not None and current.customer_id not in (None, customer.pk):
            return None  # another customer's browser: never show their conversation
    if current is None and customer is not None:
        current = (
            Conversation.objects.filter(shop=shop, customer=customer)
            .exclude(status=Status.CLOSED)
            .select_related("assigned_agent")
            .order_by("-started_at", "-pk")
            .first()
        )
    return current


def open_visitor(
    shop: Shop, *, visitor_token: str = "", customer: Customer | None = None, channel: str = Conversation.Channel.WEB
) -> Visitor:
    """The shopper's latest conversation in this shop to resume, or a visitor without one yet.

    A visitor token only ever resumes a conversation of this shop; a token the server never issued, or
    one of another customer's conversation, is replaced by a new one. A signed customer resumes their
    latest open conversation from any device.
    """
    current = _latest_conversation(shop, visitor_token, customer)
    if current is None:
        token_free = _issued_visitor_token(visitor_token) and not (
            customer is not None and Conversation.objects.filter(shop=shop, visitor_token=visitor_token).exists()
        )
        return Visitor(shop, visitor_token if token_free else new_visitor_token(), customer)
    if customer is not None and current.customer_id is None:
        current.customer = customer
        current.save(update_fields=["customer"])
    return Visitor(shop, current.visitor_token, customer, current)


def open_shopper(slug: str, visitor_token: str, identity: SignedIdentity | None) -> tuple[Visitor | None, bool]:
    """A shopper socket's handshake in one trip to the database thread: the visitor of the active shop
    ``slug`` (None when there is no such shop), with the customer of a valid signed ``identity``; and whether
    the identity was refused (the shopper then goes on as an anonymous visitor)."""
    shop = active_shop(slug)
    if shop is None:
        return None, False
    customer = None
    if identity is not None:
        try:
            customer = verify_identity(shop, identity)
        except InvalidIdentity:
            return open_visitor(shop, visitor_token=visitor_token), True
    return open_visitor(shop, visitor_token=visitor_token, customer=customer), False


# Told once, on the shopper's first message, when a conversation starts with the agents (the quota, the holdout).
QUOTA_NOTICE = "正在为您转接人工客服，请稍候～客服会尽快回复您，您的消息都已记录。"


def _without_bot_reason(shop: Shop, fields: dict[str, Any]) -> str | None:
    """Why a new conversation must start with the agents: the plan's bot quota is used up, or the shop's bot
    holdout drew this shopper; None when the bot takes it."""
    if bot_quota_exceeded(shop):
        return HandoffReason.QUOTA
    customer = fields.get("customer")
    customer_id = customer.pk if customer is not None else fields.get("customer_id")
    if in_bot_holdout(shop.pk, customer_id, fields.get("visitor_token", "")):
        return HandoffReason.HOLDOUT
    return None


def new_conversation(shop: Shop, *, outbox: Outbox | None = None, **fields: Any) -> Conversation:
    """A new conversation with the bot; straight in the agents' queue instead (never dropped) when a basic
    shop has used its monthly bot-conversation quota, or the shop's bot holdout drew the shopper (the
    reason is recorded on the conversation, and it joins the queue like any hand-off)."""
    reason = _without_bot_reason(shop, fields)
    if reason is None:
        return Conversation.objects.create(shop=shop, **fields)
    conversation = Conversation.objects.create(
        shop=shop,
        status=Status.WAITING,
        handoff_reason=reason,
        handed_over_at=timezone.now(),
        **fields,
    )
    assignment.enqueue(conversation)
    _announce_queue(shop.pk, outbox)
    assignment.schedule_assignment(shop.pk, outbox)
    return conversation


def history(conversation: Conversation, since: int | None = None) -> list[Message]:
    messages = conversation.messages.all()
    if since is not None:
        messages = messages.filter(pk__gt=since)
    return list(messages.order_by("pk"))


def welcome_frame(visitor: Visitor, since: int | None = None) -> WelcomeFrame:
    """The first frame of a shopper socket: the conversation (None before the first message) and what the
    shopper has not seen yet."""
    conversation = visitor.conversation
    if conversation is None:
        return {
            "type": "welcome",
            "conversation": None,
            "visitor": visitor.visitor_token,
            "status": Status.BOT,
            "agent": "",
            "messages": [],
        }
    return {
        "type": "welcome",
        "conversation": conversation.pk,
        "visitor": conversation.visitor_token,
        "status": conversation.status,
        "agent": agent_name(conversation.assigned_agent) if conversation.assigned_agent is not None else "",
        # The shopper's own messages carry their client_msg_id: the page matches what it still waits on.
        "messages": [_own_message_frame(m) for m in history(conversation, since)],
    }


def _own_message_frame(message: Message) -> MessageFrame:
    frame = message_frame(message)
    if message.client_msg_id:
        frame["client_msg_id"] = message.client_msg_id
    return frame


def checked_text(text: str | None) -> str:
    """The text of a shopper's or agent's message, stripped, or ChatError when empty or too long."""
    text = (text or "").strip()
    if not text:
        raise ChatError("empty_text", "消息内容不能为空")
    if len(text) > MAX_TEXT_LENGTH:
        raise ChatError("text_too_long", f"消息太长了，最多 {MAX_TEXT_LENGTH} 个字")
    return text


@dataclass(frozen=True)
class ModelTurn:
    """A bot turn waiting on the shop's model (the retrieval engine was unsure): the shopper's message is
    stored, the retrieval engine's replies are not yet. ``finish_grounded_turn`` sends one or the other."""

    endpoint: Endpoint
    facts: grounding.Facts
    fallback: list[BotReply]


@dataclass(frozen=True)
class ShopperTurn:
    """What one shopper message led to. ``message.conversation`` is where the chat now goes on;
    ``created`` is False for a resent ``client_msg_id`` (nothing new was stored or sent); ``model`` is set
    when the bot's answer waits on the shop's model."""

    message: Message
    created: bool
    replies: list[Message]
    model: ModelTurn | None = None


def receive_shopper_message(
    conversation: Conversation,
    text: str,
    client_msg_id: str = "",
    *,
    outbox: Outbox | None = None,
    with_model: bool = False,
) -> ShopperTurn:
    """Store the shopper's message and, while the bot has the conversation, the bot's answer to it.

    One transaction holds the conversation's row lock, stores the message with the replies and saves
    the dialogue state: the shopper is acknowledged after it commits. If the bot fails, the transaction
    is rolled back and the message stored unanswered in a second one, so nothing the shopper said is
    lost. A closed conversation continues in a new one. ``with_model`` (the shopper socket, which can
    stream): when the retrieval engine is unsure and the shop has a model, the bot's replies wait on it
    (``ShopperTurn.model``).
    """
    text = checked_text(text)
    delivered = len(outbox.events) if outbox is not None else 0
    try:
        with transaction.atomic():
            return _receive(conversation, text, client_msg_id, outbox, bot=True, with_model=with_model)
    except ChatError:
        raise
    except Exception:
        # Rare, so the common path needs no savepoint: try again without the bot.
        logger.exception("The bot failed on a message in conversation %s; storing it unanswered", conversation.pk)
        if outbox is not None:
            del outbox.events[delivered:]  # events of the rolled-back writes must not go out
        with transaction.atomic():
            return _receive(conversation, text, client_msg_id, outbox, bot=False)


def _visitor_conversation(visitor: Visitor, outbox: Outbox | None) -> tuple[Conversation, bool]:
    """The conversation a visitor's message goes to: theirs, or the one their first message starts (counted
    against the quota); and whether it was started now."""
    if visitor.conversation is None:
        # Another tab of the same visitor may have started it in the meantime.
        visitor.conversation = _latest_conversation(visitor.shop, visitor.visitor_token, visitor.customer)
    if visitor.conversation is not None:
        return visitor.conversation, False
    visitor.conversation = new_conversation(
        visitor.shop, customer=visitor.customer, visitor_token=visitor.visitor_token, outbox=outbox
    )
    return visitor.conversation, True


def receive_visitor_message(
    visitor: Visitor, text: str, client_msg_id: str = "", *, outbox: Outbox | None = None, with_model: bool = False
) -> ShopperTurn:
    """A shopper's message; their first one starts the conversation (and counts against the quota).
    ``visitor.conversation`` is where the chat goes on afterwards."""
    text = checked_text(text)
    conversation, _ = _visitor_conversation(visitor, outbox)
    turn = receive_shopper_message(conversation, text, client_msg_id, outbox=outbox, with_model=with_model)
    visitor.conversation = turn.message.conversation
    return turn


@dataclass(frozen=True)
class VisitorMessage:
    """A shopper socket's message for ``receive_visitor_messages``; its group events go to ``outbox``."""

    visitor: Visitor
    text: str
    client_msg_id: str
    outbox: Outbox


def receive_visitor_messages(messages: list[VisitorMessage]) -> list[ShopperTurn | Exception]:
    """The messages of several shopper sockets, each received as by ``receive_visitor_message`` with the model
    (a socket streams its answer), in one transaction: the process's one database thread commits once for
    every message that came while it was busy, not once per message. Returns each message's turn, in order, or
    the exception it raised.

    When anything fails (a bot, a lock the database gave up on), the whole transaction is rolled back and each
    message is received again on its own, so a failure costs no more than it did alone: a failing bot only
    its own message's answer, and nothing any shopper said is lost.
    """
    if len(messages) > 1:
        before = [(m.visitor.conversation, len(m.outbox.events)) for m in messages]
        try:
            with transaction.atomic():
                return [_receive_batched(m) for m in messages]
        except Exception:
            logger.warning("A batch of %d shopper messages failed; receiving each on its own", len(messages))
            for m, (conversation, delivered) in zip(messages, before, strict=True):
                m.visitor.conversation = conversation  # possibly started in the rolled-back transaction
                del m.outbox.events[delivered:]  # events of the rolled-back writes must not go out
    turns: list[ShopperTurn | Exception] = []
    for m in messages:
        try:
            turns.append(receive_visitor_message(m.visitor, m.text, m.client_msg_id, outbox=m.outbox, with_model=True))
        except Exception as error:
            turns.append(error)
    return turns


def _receive_batched(m: VisitorMessage) -> ShopperTurn:
    """One message of a batch, in the batch's transaction (``receive_visitor_messages``)."""
    conversation, started = _visitor_conversation(m.visitor, m.outbox)
    turn = _receive(
        conversation, checked_text(m.text), m.client_msg_id, m.outbox, bot=True, with_model=True, started=started
    )
    m.visitor.conversation = turn.message.conversation
    return turn


def _receive(
    conversation: Conversation,
    text: str,
    client_msg_id: str,
    outbox: Outbox | None,
    *,
    bot: bool,
    with_model: bool = False,
    started: bool = False,
) -> ShopperTurn:
    """``started``: the conversation was created in this transaction, so it is as stored, no other transaction
    can have written to it, and it holds no message yet: neither read again nor searched for a resent one."""
    if not started:
        shop = conversation.shop  # a conversation's shop never changes: the caller's copy has it loaded
        conversation = rows.locked(Conversation, conversation.pk)
        conversation.shop = shop
        if client_msg_id:
            existing = stored_client_message(conversation, client_msg_id)
            if existing is not None:
                return ShopperTurn(existing, False, [])  # resent (a reconnect, say): acknowledged again, nothing new
    if conversation.status == Status.CLOSED:
        score = survey_score(conversation, text)
        if score is not None:
            # A tap on the closing survey's quick reply: the answer belongs to the closed conversation.
            message = post_message(
                conversation,
                Sender.SHOPPER,
                text,
                outbox=outbox,
                client_msg_id=client_msg_id,
                intent=Intent.SATISFACTION,
            )
            return ShopperTurn(message, True, [rate_conversation(conversation, score, outbox=outbox)])
        conversation = new_conversation(
            conversation.shop,
            customer_id=conversation.customer_id,
            visitor_token=conversation.visitor_token,
            channel=conversation.channel,
            connection_id=conversation.connection_id,
            external_id=conversation.external_id,
            external_name=conversation.external_name,
            outbox=outbox,
        )
    with_bot = (
        conversation.status in (Status.BOT, Status.WAITING) and conversation.handoff_reason not in WITHOUT_BOT_REASONS
    )
    if bot and with_bot:
        return _bot_answers(conversation, text, client_msg_id, outbox, with_model)
    message = post_message(conversation, Sender.SHOPPER, text, outbox=outbox, client_msg_id=client_msg_id)
    replies = []
    if conversation.status == Status.WAITING:
        _announce_queue(conversation.shop_id, outbox)  # agents see the waiting shopper's latest words
        if conversation.handoff_reason in WITHOUT_BOT_REASONS and not _quota_notice_given(conversation):
            # Past the plan's quota, or in the holdout, the bot stays out; the shopper hears once that an agent
            # will answer.
            replies.append(
                post_message(conversation, Sender.SYSTEM, QUOTA_NOTICE, outbox=outbox, intent=Intent.HANDOFF)
            )
    return ShopperTurn(message, True, replies)


def _quota_notice_given(conversation: Conversation) -> bool:
    return conversation.messages.filter(sender=Sender.SYSTEM, intent=Intent.HANDOFF).exists()


# What a bot reply that breaks one of the shop's QA rules is replaced with (chat.guard).
def safe_fallback() -> BotReply:
    return BotReply(FALLBACK_TEXT, [HUMAN_QUICK_REPLY], intent=Intent.FALLBACK)


def guarded(shop_id: int, replies: list[BotReply]) -> list[BotReply]:
    """The replies with any that breaks one of the shop's before-send rules replaced by the safe fallback."""
    checked = []
    for reply in replies:
        if guard.check(shop_id, "bot", reply.text).ok:
            checked.append(reply)
        else:
            logger.info("A bot reply in shop %s broke a QA rule and was replaced by the fallback", shop_id)
            checked.append(safe_fallback())
    return checked


def _bot_drafts(conversation: Conversation, replies: list[BotReply]) -> list[Message]:
    return [
        new_message(
            conversation,
            Sender.BOT,
            reply.text,
            payload=reply.payload(),
            intent=reply.intent,
            confidence=reply.confidence,
        )
        for reply in replies
    ]


def _model_turn(
    conversation: Conversation, text: str, result: DialogueResult, replies: list[BotReply]
) -> ModelTurn | None:
    """The model's turn, when the retrieval engine was unsure and the shop's model may be called now."""
    if result.intent != Intent.CLARIFY or result.handoff:
        return None
    endpoint = llm.endpoint_for(conversation.shop)
    if endpoint is None:
        return None
    answers = answer_message(conversation.shop, text, record=False)
    facts = grounding.facts_for(conversation.shop, text, answers, conversation)
    return ModelTurn(endpoint, facts, replies) if facts is not None else None


def _bot_answers(
    conversation: Conversation, text: str, client_msg_id: str, outbox: Outbox | None, with_model: bool = False
) -> ShopperTurn:
    """The bot's turn: the shopper's message and the replies in one INSERT, the dialogue state and the
    last message time in one UPDATE of the locked conversation. Every reply passes the shop's QA rules
    first. When the model is to answer, only the shopper's message is stored now."""
    result = dialogue.decide(conversation, text)
    bot_replies = guarded(conversation.shop_id, result.replies)
    model = _model_turn(conversation, text, result, bot_replies) if with_model else None
    drafts = [new_message(conversation, Sender.SHOPPER, text, intent=result.intent, client_msg_id=client_msg_id)]
    if model is None:
        drafts += _bot_drafts(conversation, bot_replies)
    message, *replies = store_messages(conversation, drafts, touch=False)
    rows.update(conversation, ["state", "last_message_at"])
    announce_messages(conversation, [message, *replies], outbox)
    if conversation.status == Status.WAITING:
        _announce_queue(conversation.shop_id, outbox)
    if result.handoff:
        replies.extend(request_handoff(conversation, result.handoff, outbox=outbox))
    return ShopperTurn(message, True, replies, model)


def finish_grounded_turn(
    conversation: Conversation, model: ModelTurn, completion: Completion, *, outbox: Outbox | None = None
) -> Message | None:
    """Send the model's reply if it is grounded and passes the shop's QA rules, else the retrieval engine's
    replies; record the call's tokens and cost either way. Returns the model's message when it was sent."""
    shop = conversation.shop
    outcome, judged = grounding.outcome_of(shop.pk, model.facts, completion)
    with transaction.atomic():
        llm.record_usage(shop, llm.Purpose.ANSWER, outcome, model.endpoint, completion)
        if outcome != llm.Outcome.SENT:
            stored = store_messages(conversation, _bot_drafts(conversation, model.fallback))
            announce_messages(conversation, stored, outbox)
            return None
        products = Product.objects.filter(shop=shop, pk__in=judged.products, on_sale=True)
        citations = {"cards": judged.cards, "products": judged.products}
        message = post_message(
            conversation,
            Sender.BOT,
            judged.text,
            outbox=outbox,
            payload={"quick_replies": [], "products": [product_card(p) for p in products], "citations": citations},
            intent=Intent.MODEL_ANSWER,
        )
        GroundedAnswer.objects.create(
            shop=shop,
            conversation=conversation,
            question=model.facts.question[:500],
            answer=judged.text,
            cited_cards=judged.cards,
            cited_products=judged.products,
        )
    return message


def show_product_details(visitor: Visitor, product_id: Any, *, outbox: Outbox | None = None) -> Message:
    """The shopper opened a product card (the ``product_details`` frame): the bot replies with that product's
    details from the catalogue and keeps it in focus, so "有货吗" or "有黑色吗" next is about it. Only an
    on-sale product of the visitor's shop, in a conversation the bot is serving."""
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        raise ChatError("invalid_product_id", "product_id 需要是商品 id（整数）")
    product = Product.objects.filter(shop_id=visitor.shop.pk, pk=product_id, on_sale=True).first()
    if product is None:
        # Another shop's product reads exactly like a missing or off-sale one.
        raise ChatError("product_not_found", "商品不存在或已下架")
    if visitor.conversation is None:
        visitor.conversation = _latest_conversation(visitor.shop, visitor.visitor_token, visitor.customer)
    if visitor.conversation is None:
        raise not_found()
    with transaction.atomic():
        conversation = rows.locked(Conversation, visitor.conversation.pk)
        conversation.shop = visitor.shop
        if conversation.status == Status.CLOSED:
            raise ChatError("conversation_closed", "会话已结束，发送消息即可开始新的咨询")
        if conversation.status != Status.BOT or conversation.handoff_reason in WITHOUT_BOT_REASONS:
            raise ChatError("not_with_bot", "当前由人工客服为您服务，请直接发送消息咨询这件商品")
        [reply] = guarded(conversation.shop_id, [dialogue.product_details(conversation, product)])
        message = new_message(
            conversation,
            Sender.BOT,
            reply.text,
            payload={"quick_replies": reply.quick_replies, "products": reply.products},
            intent=reply.intent,
        )
        [message] = store_messages(conversation, [message], touch=False)
        rows.update(conversation, ["state", "last_message_at"])
        announce_messages(conversation, [message], outbox)
    return message


@transaction.atomic
def request_handoff(conversation: Conversation, reason: str, *, outbox: Outbox | None = None) -> list[Message]:
    """Queue the conversation for a human, in the skill group its topic asks for; the shop's consoles hear of
    it and the queue is assigned once this commits. The shopper is told where they stand, that nobody is
    online yet, or, outside the shop's service hours, the shop's away message and when agents are back: their
    request is then a left message (留言), first in the queue when the hours start. Returns the notices posted."""
    conversation = Conversation.objects.select_for_update(of=("self",)).select_related("shop").get(pk=conversation.pk)
    if conversation.status == Status.AGENT:
        return []
    now = timezone.now()
    if conversation.status != Status.WAITING:
        conversation.status = Status.WAITING
        conversation.handoff_reason = reason[:30]
        conversation.handed_over_at = now
        conversation.save(update_fields=["status", "handoff_reason", "handed_over_at"])
        _announce_status(conversation, outbox)
        _announce_queue(conversation.shop_id, outbox)
    hours = service_hours(conversation.shop_id)
    group = assignment.skill_group_for(conversation, reason)
    if not hours.is_open(now):
        assignment.enqueue(conversation, skill_group=group, at_head=True, left_message=True)
        text = away_text(conversation.shop, hours.next_opening(now))
    else:
        assignment.enqueue(conversation, skill_group=group)
        if online_agent_ids(conversation.shop_id):
            ahead = assignment.queue_order(conversation.shop_id).index(conversation.pk)
            text = f"正在为您转接人工客服，您前面还有 {ahead} 位顾客在排队，请稍候～"
        else:
            text = "现在没有在线的人工客服，您的问题已经记录下来，客服上线后会第一时间回复您。您也可以继续问小蜂哦～"
    assignment.schedule_assignment(conversation.shop_id, outbox)
    return [post_message(conversation, Sender.SYSTEM, text, outbox=outbox, intent=Intent.HANDOFF)]


def away_text(shop: Shop, opens: datetime | None) -> str:
    """What a shopper asking for a human outside service hours is told: the shop's away message, and when
    agents will read what they leave."""
    desk = ServiceDesk.objects.filter(shop=shop).first()
    away = (desk.away_message if desk is not None else "") or assignment.DEFAULT_AWAY_MESSAGE
    if opens is None:
        return f"{away}您的留言已经记下，客服上班后会第一时间回复您。"
    local = opens.astimezone(shop.tz)
    return f"{away}您的留言已经记下，客服将于 {local:%m月%d日 %H:%M}（{shop.timezone}）上班后第一时间回复您。"


def survey_score(conversation: Conversation, text: str) -> int | None:
    """The score when ``text`` answers the closing survey of an unrated conversation, else None."""
    answer = text.strip()
    if conversation.satisfaction is not None or answer not in dialogue.closing_survey().quick_replies:
        return None
    return int(answer) if answer.isdigit() and 1 <= int(answer) <= 5 else None


def rate_conversation(conversation: Conversation, score: Any, *, outbox: Outbox | None = None) -> Message:
    """Record the shopper's satisfaction (1-5) and thank them."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ChatError("invalid_score", "评分需要是 1 到 5 的整数")
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(satisfaction=score)
        conversation.satisfaction = score
        text = "感谢您的评价！我们会继续努力～" if score >= 4 else "感谢您的评价，给您添麻烦了，我们会尽快改进。"
        return post_message(conversation, Sender.BOT, text, outbox=outbox, intent=Intent.SATISFACTION)


# --- agents --------------------------------------------------------------------------------------


def register_console(user: User, channel_name: str, *, outbox: Outbox | None = None) -> None:
    """A console opened: the agent counts as online (unless they chose away), and queues may reach them."""
    AgentPresence.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "last_seen_at": timezone.now()}
    )
    # Rows of consoles whose process died without saying goodbye.
    AgentPresence.objects.filter(last_seen_at__lt=timezone.now() - 10 * PRESENCE_TTL).delete()
    shop_ids = serving_shop_ids(user)
    assignment.ensure_seats(user, shop_ids)
    if AgentSeat.objects.filter(user=user, shop_id__in=shop_ids, presence=AgentSeat.Presence.OFFLINE).exists():
        assignment.set_presence(user, AgentSeat.Presence.ONLINE, outbox=outbox)


def refresh_console(channel_name: str) -> None:
    AgentPresence.objects.filter(channel_name=channel_name).update(last_seen_at=timezone.now())


def unregister_console(channel_name: str) -> int | None:
    """A console closed. Returns the agent's id when it was their last one: the caller schedules
    ``offline_if_gone`` after the grace period (a reload or a dropped connection coming back keeps them
    online, and their chats)."""
    presence = AgentPresence.objects.filter(channel_name=channel_name).first()
    if presence is None:
        return None
    presence.delete()
    return None if AgentPresence.objects.filter(user_id=presence.user_id).exists() else presence.user_id


def offline_if_gone(user_id: int) -> bool:
    """Switch the agent offline (their chats requeued at the head) if no console of theirs is live."""
    fresh = AgentPresence.objects.filter(user_id=user_id, last_seen_at__gte=timezone.now() - PRESENCE_TTL)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or fresh.exists():
        return False
    assignment.set_presence(user, AgentSeat.Presence.OFFLINE)
    return True


def sweep_silent_agents() -> int:
    """Agents counted online or away without a live console (its process died) go offline. Returns how many."""
    fresh = AgentPresence.objects.filter(last_seen_at__gte=timezone.now() - PRESENCE_TTL).values("user_id")
    silent = (
        AgentSeat.objects.exclude(presence=AgentSeat.Presence.OFFLINE)
        .exclude(user_id__in=fresh)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return sum(offline_if_gone(user_id) for user_id in list(silent))


def change_presence(user: User, status: Any, *, outbox: Outbox | None = None) -> PresenceFrame:
    """The console's presence switch: online, away (no new chats) or offline (chats back to the queue)."""
    if status not in AgentSeat.Presence.values:
        raise ChatError("invalid_presence", "状态只能是 online、away 或 offline")
    assignment.set_presence(user, status, outbox=outbox)
    return assignment.presence_frame(user)


_ENCODER = DjangoJSONEncoder()


def queue_item(conversation: Conversation) -> QueueItem:
    last = conversation.messages.filter(sender=Sender.SHOPPER).order_by("-pk").first()
    waiting = conversation.status == Status.WAITING
    entry = QueueEntry.objects.filter(conversation=conversation).first() if waiting else None
    if conversation.customer_id:
        shopper = str(conversation.customer)
    else:
        anonymous = conversation.external_id[-6:] if conversation.external_id else conversation.visitor_token[:6]
        shopper = conversation.external_name or f"访客 {anonymous}"
    return {
        "conversation": conversation.pk,
        "shop": conversation.shop_id,
        "shop_name": conversation.shop.name,
        "shopper": shopper,
        "channel": conversation.channel,
        "channel_label": str(Conversation.Channel(conversation.channel).label),
        "status": conversation.status,
        "reason": conversation.handoff_reason,
        # As the JSON encoder writes datetimes (ISO 8601, milliseconds, "Z" for UTC), like the rest of the API.
        "handed_over_at": _ENCODER.default(conversation.handed_over_at) if conversation.handed_over_at else None,
        "agent_id": conversation.assigned_agent_id,
        "last_message": last.text[:100] if last else "",
        "skill_group": entry.skill_group if entry is not None else "",
        "left_message": entry.left_message if entry is not None else False,
        "sla": sla.timer_info(conversation),
    }


def console_state(user: User) -> QueueFrame:
    """What a console shows: the waiting queue of the agent's shops and the conversations they hold."""
    shop_ids = serving_shop_ids(user)
    # shop__sla_policy: each item's SLA clock reads the shop's policy (none is cached as none).
    base = Conversation.objects.filter(shop_id__in=shop_ids).select_related("shop__sla_policy", "customer")
    # In queue order: entries at the head (requeued, messages left outside hours) first, then first come.
    waiting = base.filter(status=Status.WAITING).order_by(
        "-queue_entry__at_head", "queue_entry__queued_at", "handed_over_at", "pk"
    )
    mine = base.filter(status=Status.AGENT, assigned_agent=user).order_by("handed_over_at", "pk")
    return {"type": "queue", "waiting": [queue_item(c) for c in waiting], "mine": [queue_item(c) for c in mine]}


def assigned_conversation_ids(user: User) -> list[int]:
    return list(
        Conversation.objects.filter(
            status=Status.AGENT, assigned_agent=user, shop_id__in=serving_shop_ids(user)
        ).values_list("pk", flat=True)
    )


def conversation_detail(user: User, conversation_id: Any) -> HistoryFrame:
    """The full history of a conversation of the agent's shops, with who is online to transfer to."""
    conversation = conversation_for_staff(user, conversation_id)
    colleagues, groups = assignment.transfer_options(conversation.shop_id, user.pk)
    return {
        "type": "history",
        **queue_item(conversation),
        "messages": [message_frame(m) for m in history(conversation)],
        "colleagues": colleagues,
        "groups": groups,
        "packet": handoff_packet(conversation),
        "model_assist": llm.endpoint_for(conversation.shop) is not None,
    }


@transaction.atomic
def accept_conversation(conversation: Conversation, agent: User, *, outbox: Outbox | None = None) -> Message:
    """The agent takes a waiting conversation, within their capacity; a second agent accepting the same one is
    refused. Under the shop's desk lock, like automatic assignment."""
    if not can_serve(agent, conversation.shop_id):
        raise not_found()
    assignment.locked_desk(conversation.shop_id)
    limit = assignment.seat_capacity(agent.pk, conversation.shop_id)
    if assignment.loads(conversation.shop_id, {agent.pk})[agent.pk] >= limit:
        raise ChatError("at_capacity", f"您在这家店同时接待的会话已达上限（{limit} 个）")
    if assignment.take(conversation.shop_id, conversation.pk, agent, outbox=outbox) is None:
        raise ChatError("not_waiting", "这个会话已被接待或已结束")
    return conversation.messages.order_by("-pk")[0]


def accept_waiting(user: User, conversation_id: Any, *, outbox: Outbox | None = None) -> Message:
    return accept_conversation(conversation_for_staff(user, conversation_id), user, outbox=outbox)


def held_conversation(user: User, conversation_id: Any) -> Conversation:
    conversation = conversation_for_staff(user, conversation_id)
    if conversation.status != Status.AGENT or conversation.assigned_agent_id != user.pk:
        raise ChatError("not_assigned", "这个会话不在您的接待中")
    return conversation


def agent_reply(
    agent: User,
    conversation_id: Any,
    text: str,
    client_msg_id: str = "",
    *,
    send_anyway: bool = False,
    outbox: Outbox | None = None,
) -> Message:
    """Send an agent's reply once it passes the shop's QA rules: one that breaks a rule is held
    (``guard.Held``, nothing stored); ``send_anyway`` sends it when every broken rule allows that, and the
    message records which rules the agent overrode."""
    text = checked_text(text)
    conversation = held_conversation(agent, conversation_id)
    verdict = guard.check(conversation.shop_id, "agent", text)
    payload: dict[str, Any] = {}
    if not verdict.ok:
        if not (send_anyway and verdict.overridable):
            raise guard.Held(guard.held_frame(conversation.pk, client_msg_id, text, verdict))
        payload["sent_anyway"] = [breach.rule for breach in verdict.breaches]
    return post_message(
        conversation,
        Sender.AGENT,
        text,
        outbox=outbox,
        agent=agent,
        intent=Intent.AGENT_REPLY,
        client_msg_id=client_msg_id,
        payload=payload,
    )


@transaction.atomic
def transfer_conversation(
    agent: User, conversation_id: Any, to_agent_id: Any, *, outbox: Outbox | None = None
) -> Message:
    """Hand a held conversation to another online agent of the same shop with a free slot; the slot freed
    lets the head of the queue through to the agent handing over."""
    conversation = held_conversation(agent, conversation_id)
    target = get_user_model().objects.filter(pk=to_agent_id).first() if isinstance(to_agent_id, int) else None
    if target is None or target.pk == agent.pk or not can_serve(target, conversation.shop_id):
        raise ChatError("invalid_agent", "只能转给本店的其他客服")
    if target.pk not in online_agent_ids(conversation.shop_id):
        raise ChatError("agent_offline", "这位客服现在不在线")
    assignment.locked_desk(conversation.shop_id)
    if assignment.loads(conversation.shop_id, {target.pk})[target.pk] >= assignment.seat_capacity(
        target.pk, conversation.shop_id
    ):
        raise ChatError("agent_full", "这位客服的接待已满")
    moved = Conversation.objects.filter(pk=conversation.pk, status=Status.AGENT, assigned_agent=agent).update(
        assigned_agent=target
    )
    if not moved:
        raise ChatError("not_assigned", "这个会话不在您的接待中")
    conversation.assigned_agent = target
    _announce_status(conversation, outbox)
    _announce_assignment(conversation, outbox)
    assignment.schedule_assignment(conversation.shop_id, outbox)
    return post_message(
        conversation, Sender.SYSTEM, f"已为您转接给客服 {agent_name(target)}，请稍候～", outbox=outbox, agent=target
    )


@transaction.atomic
def transfer_to_group(agent: User, conversation_id: Any, group: Any, *, outbox: Outbox | None = None) -> Message:
    """Hand a held conversation to a skill group: back to the head of the queue, for the group's next free
    agent by the shop's rule (under the manual rule, the group's agents accept it)."""
    if group not in SkillGroup.values:
        raise ChatError("invalid_group", "技能组只能是 presales 或 aftersales")
    conversation = held_conversation(agent, conversation_id)
    moved = Conversation.objects.filter(pk=conversation.pk, status=Status.AGENT, assigned_agent=agent).update(
        status=Status.WAITING, assigned_agent=None
    )
    if not moved:
        raise ChatError("not_assigned", "这个会话不在您的接待中")
    conversation.status, conversation.assigned_agent = Status.WAITING, None
    assignment.requeue_at_head(conversation, group, timezone.now())
    _announce_status(conversation, outbox)
    _announce_queue(conversation.shop_id, outbox)
    assignment.schedule_assignment(conversation.shop_id, outbox)
    with translation.override("zh-hans"):  # shoppers read Chinese whatever language this thread was left in
        label = str(SkillGroup(group).label)
    return post_message(conversation, Sender.SYSTEM, f"正在为您转接{label}客服，请稍候～", outbox=outbox)


@transaction.atomic
def close_conversation(
    conversation: Conversation, by: User | None = None, *, outbox: Outbox | None = None
) -> Conversation:
    """End the conversation: the satisfaction question goes to the shopper; ``conversation_closed`` after commit."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("assigned_agent", "customer")
        .get(pk=conversation.pk)
    )
    if conversation.status == Status.CLOSED:
        raise ChatError("closed", "会话已经结束")
    was_waiting = conversation.status == Status.WAITING
    was_held = conversation.status == Status.AGENT
    QueueEntry.objects.filter(conversation=conversation).delete()
    conversation.status = Status.CLOSED
    conversation.ended_at = timezone.now()
    conversation.save(update_fields=["status", "ended_at"])
    survey = dialogue.closing_survey()
    post_message(
        conversation,
        Sender.BOT,
        survey.text,
        outbox=outbox,
        payload=survey.payload(),
        intent=survey.intent,
        agent=by,
    )
    record_close(conversation)
    _announce_status(conversation, outbox)
    if was_waiting:
        _announce_queue(conversation.shop_id, outbox)
    if was_waiting or was_held:
        assignment.schedule_assignment(conversation.shop_id, outbox)  # a slot, or a place in the queue, freed
    transaction.on_commit(lambda: conversation_closed.send(sender=Conversation, conversation=conversation))
    return conversation


def close_held_conversation(agent: User, conversation_id: Any, *, outbox: Outbox | None = None) -> Conversation:
    return close_conversation(held_conversation(agent, conversation_id), by=agent, outbox=outbox)


def close_as_staff(user: User, conversation_id: Any, *, outbox: Outbox | None = None) -> Conversation:
    """Close any conversation of a shop ``user`` serves, held or not (the admin's close action)."""
    return close_conversation(conversation_for_staff(user, conversation_id), by=user, outbox=outbox)


def suggestions(conversation_id: int, text: str) -> list[Suggestion]:
    """The knowledge base's top three answers for a shopper message, for the agent to send with a click."""
    shop = Shop.objects.get(conversations=conversation_id)
    return [
        {"card_id": c.card_id, "question": c.question, "answer": c.answer, "score": round(c.score, 3)}
        for c in suggest_answers(shop, text, limit=3)
    ]


def close_idle_bot_conversations(idle_for: timedelta, *, now=None, limit: int = 2000) -> int:
    """Close conversations the bot still holds after ``idle_for`` without a message: the shopper has left.

    Without this a bot-only conversation would stay open for ever and never count as resolved.
    Each close is its own transaction, so one failure cannot undo the others.
    """
    cutoff = (now or timezone.now()) - idle_for
    idle_ids = list(
        Conversation.objects.filter(status=Status.BOT)
        .filter(Q(last_message_at__lt=cutoff) | Q(last_message_at__isnull=True, started_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    closed = 0
    for conversation_id in idle_ids:
        try:
            close_conversation(Conversation(pk=conversation_id))
        except ChatError:
            continue  # a shopper or agent closed it meanwhile
        closed += 1
    return closed
