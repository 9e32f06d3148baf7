"""Shop knowledge: answers from the knowledge engine, several questions in one message answered together."""

from typing import Any

from chat.intents import Intent
from knowledge.models import AnswerOutcome
from knowledge.services import Answer, record_answers, with_trial_answers
from shops.models import Product

from ..measurement import shopper_key
from .handler import Handler, Responder, Stage
from .replies import BotReply, DialogueResult, product_card
from .turn import Turn

_REPLY_INTENT: dict[str, Intent] = {AnswerOutcome.ANSWER: Intent.FAQ, AnswerOutcome.CLARIFY: Intent.CLARIFY}


def knows(turn: Turn) -> bool:
    """Whether shop knowledge has a confident answer for the message (nothing is recorded)."""
    return any(answer.outcome == AnswerOutcome.ANSWER for answer in turn.knowledge)


def respond(turn: Turn) -> DialogueResult:
    """Answer every question of the message; the fallback answer asks whether to bring in a human.

    The question is named in front of each answer when the message (or the one it is part of) holds several.
    """
    conversation = turn.conversation
    # A card with an answer on trial shows this shopper their side of the experiment (chat.measurement's key).
    answers = with_trial_answers(turn.knowledge, shopper_key(conversation.customer_id, conversation.visitor_token))
    record_answers(turn.shop, answers, turn.conversation.pk)
    cards = _product_cards(turn, answers)
    replies = []
    for answer in answers:
        text = answer.text
        if turn.of_several or len(answers) > 1:
            text = f"关于「{answer.question}」：{text}"
        replies.append(
            BotReply(
                text,
                list(answer.quick_replies),
                [cards[pk] for pk in answer.product_ids if pk in cards],
                intent=_REPLY_INTENT.get(answer.outcome, Intent.FALLBACK),
                confidence=round(min(1.0, max(0.0, answer.score)), 4),
            )
        )
    outcomes = {answer.outcome for answer in answers}
    if AnswerOutcome.ANSWER in outcomes:
        intent = Intent.FAQ
    elif AnswerOutcome.CLARIFY in outcomes:
        intent = Intent.CLARIFY
    else:
        intent = Intent.FALLBACK
        if turn.pending is None:  # a task in progress keeps its question; the quick reply still offers a human
            turn.ask({"kind": "offer_handoff"})
    return DialogueResult(intent, replies)


def _product_cards(turn: Turn, answers: list[Answer]) -> dict[int, dict[str, Any]]:
    ids = {pk for answer in answers for pk in answer.product_ids}
    if not ids:
        return {}
    products = Product.objects.filter(shop_id=turn.conversation.shop_id, pk__in=ids, on_sale=True)
    return {p.pk: product_card(p) for p in products}


def detect(turn: Turn) -> Responder:
    """Shop knowledge answers any message, if only with the fallback."""
    return lambda: respond(turn)


HANDLER = Handler(
    name="faq",
    stage=Stage.KNOWLEDGE,
    intents=frozenset({Intent.FAQ, Intent.CLARIFY, Intent.FALLBACK}),
    detect=detect,
)
