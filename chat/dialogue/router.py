"""The dialogue manager: routes every shopper message to one small intent handler.

Order of precedence, and why:
1. a request for a human or an angry message: nothing else matters then;
2. the answer to the question the bot is waiting on (``state["pending"]``): invoice details, the
   order number, a new address, a recommendation slot, "yes" to a human;
3. clear small talk (the whole message is a greeting, thanks, a joke) — never shop questions;
4. the task intents, each with its own detector: address change, invoice, orders, live streams and
   搭配 / 凑单 (promotions), products;
5. everything else is shop knowledge (FAQ), whose fallback counts toward a hand-off.

A message that does not answer the pending question is routed normally; a pending task (invoice,
verification, address) is then recalled in one short line, and dropped after two unrelated messages.
"""

import re
from collections.abc import Callable

from django.db import transaction

from chat.models import Conversation
from knowledge.services import split_questions

from . import address, faq, handoff, invoice, orders, promotions, recommend, smalltalk
from .replies import BotReply, DialogueResult, HandoffReason, Intent, reply
from .turn import Turn

FALLBACKS_BEFORE_HANDOFF = 2
MAX_IGNORED = 2

_YES = re.compile(r"^(?:是|是的|对|好|好的|好啊|嗯|嗯嗯|要|需要|可以|行|转吧|转|ok|yes)[的吧呀啊]*$")
_NO = re.compile(r"^(?:不用|不需要|不要|不了|算了|没事|没事了)")
# A message that may hold several questions (full-width marks are half-width after normalising).
_SEVERAL = re.compile(r"[?!.;,\s。；，、]|还有|另外|此外|顺便|以及")
_CANCEL = re.compile(r"^(?:取消|算了|不用了|不要了|不开了|不改了|不查了|先不)")

# Tasks worth recalling when the shopper talks about something else meanwhile.
_RECALL = {
    "invoice": lambda p: invoice.reminder(p["step"]),
    "verify_order": lambda p: "（查询订单还需要您的订单号和收货人手机号后四位哦）",
    "new_address": lambda p: "（修改地址还需要您发送新的收货地址哦）",
}
_RECALL_INTENT = {"invoice": Intent.INVOICE, "verify_order": Intent.ORDER_STATUS, "new_address": Intent.ADDRESS_CHANGE}


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


def _route(turn: Turn) -> DialogueResult:
    if not turn.plain:
        return reply(Intent.GREETING, "您好～请问有什么可以帮您？")
    if handoff.is_request(turn.text) and not smalltalk.match_identity(turn):
        return handoff.handoff(HandoffReason.REQUESTED)
    if handoff.is_angry(turn.text):
        return handoff.handoff(HandoffReason.ANGRY)
    pending = turn.pending
    if pending is not None:
        if pending["kind"] in _RECALL and _CANCEL.match(turn.plain):
            turn.clear_pending()
            return reply(_RECALL_INTENT[pending["kind"]], "好的，已为您取消～还有其他可以帮您的吗？")
        answered = _PENDING[pending["kind"]](turn)
        if isinstance(answered, orders.Verified):
            return _after_verification(turn, answered)
        if answered is not None:
            return answered
    result = _route_fresh(turn)
    if pending is not None and turn.pending is pending:
        result = _recall(turn, pending, result)
    return result


def _route_fresh(turn: Turn) -> DialogueResult:
    if (chat := smalltalk.match(turn)) is not None:
        return chat
    turn.text = smalltalk.strip_greeting(turn.text)
    task = _task(turn)
    if task is None:
        return faq.respond(turn)  # the knowledge engine answers each question of the message itself
    if _SEVERAL.search(turn.text) and len(questions := split_questions(turn.raw)) > 1:
        # 长句多问 mixing a task with other questions: each question goes to its own handler, in order.
        parts = [turn.part(question) for question in questions]
        tasks = [_task(part) for part in parts]
        if any(tasks):
            return _merge([t() if t else faq.respond(p, label=True) for p, t in zip(parts, tasks, strict=True)])
    return task()


def _task(turn: Turn) -> Callable[[], DialogueResult] | None:
    """The handler of a task intent the message expresses, or None for shop knowledge."""
    if address.detect(turn):
        return lambda: address.respond(turn)
    if invoice.detect(turn):
        return lambda: invoice.respond(turn)
    if intent := orders.detect(turn):
        return lambda: orders.respond(turn, intent)
    if promoted := promotions.detect(turn):
        return promoted
    kind, certain = recommend.detect(turn, turn.catalogue)
    if kind and (certain or not faq.knows(turn)):
        return lambda: recommend.respond(turn, turn.catalogue, kind)
    return None


def _merge(results: list[DialogueResult]) -> DialogueResult:
    """One result for a message of several questions: the replies in order, the first task's intent."""
    tasks = [r.intent for r in results if r.intent not in (Intent.FAQ, Intent.CLARIFY, Intent.FALLBACK)]
    intent = tasks[0] if tasks else results[0].intent
    handoff_reason = next((r.handoff for r in results if r.handoff), "")
    return DialogueResult(intent, [reply for r in results for reply in r.replies], handoff_reason)


def _after_verification(turn: Turn, verified: orders.Verified) -> DialogueResult:
    if verified.purpose == Intent.ADDRESS_CHANGE:
        return address.for_order(turn, verified.order, Turn.start(turn.conversation, verified.asked).text)
    return orders.answer(turn, verified.order, verified.purpose)


def _answer_handoff_offer(turn: Turn) -> DialogueResult | None:
    turn.clear_pending()
    if _YES.match(turn.plain):
        return handoff.handoff(HandoffReason.REQUESTED)
    if _NO.match(turn.plain):
        return reply(Intent.SMALLTALK, "好的～还有其他问题随时问小蜂哦")
    return None


def _recall(turn: Turn, pending: dict, result: DialogueResult) -> DialogueResult:
    """Keep a task the shopper left for a moment: remind once or twice, then let it go."""
    if pending["kind"] not in _RECALL:
        turn.clear_pending()  # a soft question (a slot, "need a human?"): the new topic replaces it
        return result
    ignored = pending.get("ignored", 0) + 1
    if ignored >= MAX_IGNORED or result.handoff:
        turn.clear_pending()
        return result
    pending["ignored"] = ignored
    line = BotReply(_RECALL[pending["kind"]](pending), intent=_RECALL_INTENT[pending["kind"]])
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


_PENDING: dict[str, Callable[[Turn], DialogueResult | orders.Verified | None]] = {
    "verify_order": orders.answer_verification,
    "new_address": address.answer_pending,
    "invoice": invoice.answer_pending,
    "recommend_slot": lambda turn: recommend.answer_pending(turn, turn.catalogue),
    "offer_handoff": _answer_handoff_offer,
}
