"""The dialogue manager: offers every shopper message to the handlers of registry.py, in their order.

Order of precedence, and why (handler.Stage):
1. a request for a human or an angry message (INTERRUPT): nothing else matters then;
2. the answer to the question the bot is waiting on (``state["pending"]``), read by the handler whose
   ``pending`` kinds include it: invoice details, the order number, a new address, a recommendation
   slot, "yes" to a human;
3. clear small talk (WHOLE_MESSAGE: the whole message is a greeting, thanks, a joke), never shop questions;
4. the task handlers (TASK), each with its own detector, in the registry's order; but a question the shop's
   FAQ answers confidently ("可以开发票吗", "退款多久到账") gets the card's answer unless the shopper asks to
   do the task ("我要开发票", "帮我改地址", "我的退款到哪了", an order number);
5. everything else is shop knowledge (KNOWLEDGE, the FAQ), whose fallback counts toward a hand-off.

A message that does not answer the pending question is routed normally; a pending task (one whose
handler has a ``recall`` line) is then recalled in one short line, and dropped after two unrelated
messages. The router names intents only to count fallbacks and to tell tasks from knowledge answers
when one message held several questions.
"""

import re

from django.db import transaction

from chat.intents import HandoffReason, Intent
from chat.models import Conversation
from shops.models import Product

from . import faq, handoff, recommend, smalltalk
from .handler import FullAnswer, Responder, Stage, Verified
from .orders import ORDER_NUMBER
from .registry import HANDLERS, answering, owner
from .replies import BotReply, DialogueResult, reply
from .state import PendingQuestion
from .turn import Turn

FALLBACKS_BEFORE_HANDOFF = 2
MAX_IGNORED = 2

_CANCEL = re.compile(r"^(?:取消|算了|不用了|不要了|不开了|不改了|不查了|先不)")
# Intents of answers that are not a task, when a message of several questions is answered as one.
_NOT_TASKS = (Intent.FAQ, Intent.CLARIFY, Intent.FALLBACK)
# A shopper asking to have something done (or about their own order), not asking how things work.
_WANTS_TASK = re.compile(r"我要|我想|帮我|给我|替我|麻烦|请帮|我的|我买的|我下的|申请|催|查一下|查下|订单号?")


def respond(conversation: Conversation, text: str) -> DialogueResult:
    """Answer one shopper message; updates and saves ``conversation.state``. Stores no Message rows."""
    with transaction.atomic():
        # The state as stored now, the row locked until saved: another socket of the same shopper, on
        # another worker process, may have moved the conversation on since this object was loaded.
        stored = Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("state", flat=True)
        conversation.state = stored.first() or {}
        result = decide(conversation, text)
        conversation.save(update_fields=["state"])
    return result


def decide(conversation: Conversation, text: str) -> DialogueResult:
    """Answer one shopper message from ``conversation.state`` as loaded, and leave the new state on it.

    For a caller that has just read the conversation under its row lock and saves the state itself,
    with whatever else it writes to the row (the live chat's bot turn): one read and one write.
    """
    turn = Turn.start(conversation, text)
    result = _count_fallbacks(turn, _route(turn))
    if result.handoff:
        turn.clear_pending()
    conversation.state = turn.state
    return result


def product_details(conversation: Conversation, product: Product) -> BotReply:
    """The bot's reply when the shopper opens a product's card: its details, and it is the product in focus.
    For a caller holding the conversation's row lock; leaves the new state on ``conversation``."""
    turn = Turn.start(conversation, "")
    result = recommend.show_product(turn, product)
    turn.clear_pending()  # a slot question is not waited on any more: the shopper moved to a product
    conversation.state = turn.state
    return result.replies[0]


def _detect(turn: Turn, stage: Stage) -> Responder | None:
    """The responder of the first handler of the stage that takes the message."""
    for handler in HANDLERS:
        if handler.stage == stage and (responder := handler.detect(turn)) is not None:
            return responder
    return None


def _task(turn: Turn) -> Responder | None:
    """The task handler that takes the message, unless it is a question the shop's FAQ answers confidently."""
    task = _detect(turn, Stage.TASK)
    if task is None or isinstance(task, FullAnswer) or _WANTS_TASK.search(turn.text) or ORDER_NUMBER.search(turn.text):
        return task
    return None if faq.knows(turn) else task


def _knowledge(turn: Turn) -> DialogueResult:
    responder = _detect(turn, Stage.KNOWLEDGE)
    if responder is None:
        raise LookupError("no knowledge handler is registered: every message needs one")
    return responder()


def _route(turn: Turn) -> DialogueResult:
    if not turn.plain:
        return smalltalk.greet()  # only punctuation or emoji: nothing to read, nothing to change
    if (interrupt := _detect(turn, Stage.INTERRUPT)) is not None:
        return interrupt()
    pending = turn.pending
    if pending is not None and (answered := _answer_pending(turn, pending)) is not None:
        return answered
    result = _route_fresh(turn)
    if pending is not None and turn.pending is pending:
        result = _recall(turn, pending, result)
    return result


def _answer_pending(turn: Turn, pending: PendingQuestion) -> DialogueResult | None:
    handler = answering(pending.get("kind", ""))
    if handler is None or handler.answer_pending is None:
        turn.clear_pending()  # a question no handler reads (any more): forget it
        return None
    if handler.cancel_intent is not None and _CANCEL.match(turn.plain):
        turn.clear_pending()
        return reply(handler.cancel_intent, "好的，已为您取消～还有其他可以帮您的吗？")
    answered = handler.answer_pending(turn)
    if isinstance(answered, Verified):
        then = owner(answered.intent).after_verification
        if then is None:
            raise LookupError(f"the handler of {answered.intent} asked for verification but has no next step")
        return then(turn, answered)
    return answered


def _route_fresh(turn: Turn) -> DialogueResult:
    if (chat := _detect(turn, Stage.WHOLE_MESSAGE)) is not None:
        return chat()
    turn.text = smalltalk.strip_greeting(turn.text)
    task = _task(turn)
    if task is None:
        return _knowledge(turn)  # the knowledge engine answers each question of the message itself
    if isinstance(task, FullAnswer):
        return task()  # it answers every question of the message itself
    if len(turn.knowledge) > 1:
        # 长句多问 mixing a task with other questions: each question goes to its own handler, in order, with
        # the knowledge engine's reading of it (where it cut the message, the topic it carried over).
        parts = [turn.part(answer.question, answer) for answer in turn.knowledge]
        tasks = [_task(part) for part in parts]
        if any(tasks):
            return _merge([t() if t else _knowledge(p) for p, t in zip(parts, tasks, strict=True)])
    return task()


def _merge(results: list[DialogueResult]) -> DialogueResult:
    """One result for a message of several questions: the replies in order, the first task's intent."""
    tasks = [r.intent for r in results if r.intent not in _NOT_TASKS]
    intent = tasks[0] if tasks else results[0].intent
    handoff_reason = next((r.handoff for r in results if r.handoff), None)
    return DialogueResult(intent, [reply for r in results for reply in r.replies], handoff_reason)


def _recall(turn: Turn, pending: PendingQuestion, result: DialogueResult) -> DialogueResult:
    """Keep a task the shopper left for a moment: remind once or twice, then let it go."""
    handler = answering(pending.get("kind", ""))
    if handler is None or handler.recall is None or handler.cancel_intent is None:
        turn.clear_pending()  # a soft question (a slot, "need a human?"): the new topic replaces it
        return result
    ignored = pending.get("ignored", 0) + 1
    if ignored >= MAX_IGNORED or result.handoff:
        turn.clear_pending()
        return result
    pending["ignored"] = ignored
    line = BotReply(handler.recall(pending), intent=handler.cancel_intent)
    return DialogueResult(result.intent, [*result.replies, line], result.handoff)


def _count_fallbacks(turn: Turn, result: DialogueResult) -> DialogueResult:
    if result.intent != Intent.FALLBACK or result.handoff:
        turn.state["fallbacks"] = 0
        return result
    count = turn.state.get("fallbacks", 0) + 1
    if count >= FALLBACKS_BEFORE_HANDOFF:
        turn.state["fallbacks"] = 0
        return handoff.handoff(HandoffReason.FALLBACKS, intent=Intent.FALLBACK)
    turn.state["fallbacks"] = count
    return result
