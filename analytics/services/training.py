"""模拟客服: a new agent answers a simulated shopper, and each reply is scored against the reference answer
(the knowledge engine's similarity) and the shop's QA rules."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Avg, Exists, OuterRef
from django.utils import timezone

from chat.intents import Intent
from chat.models import Conversation, Message
from knowledge.models import FAQCard
from knowledge.services import similarity
from shops.models import Shop

from ..models import QAFinding, Severity, TrainingSession, TrainingTurn
from .inspection import rules_for_shop
from .rules import MessageFacts

Sender = Message.Sender
# Points a reply loses for each QA rule it breaks, by the rule's severity.
VIOLATION_PENALTY = {Severity.LOW: 10, Severity.MEDIUM: 25, Severity.HIGH: 50}


class TrainingUnavailable(ValueError):
    """The shop has nothing to practise with (no suitable conversation or FAQ card)."""


@dataclass(frozen=True)
class Exchange:
    question: str
    reference: str


def replay_exchanges(conversation: Conversation) -> list[Exchange]:
    """The shopper's turns of a past conversation, each with the shop's replies that followed."""
    exchanges: list[Exchange] = []
    asked: list[str] = []
    answered: list[str] = []
    rows = (
        conversation.messages.exclude(sender=Sender.SYSTEM)
        .exclude(intent=Intent.SATISFACTION)
        .order_by("pk")
        .values_list("sender", "text")
    )
    for sender, text in [*rows, (Sender.SHOPPER, "")]:
        if sender == Sender.SHOPPER:
            if asked and answered:
                exchanges.append(Exchange("\n".join(asked), "\n".join(answered)))
                asked, answered = [], []
            if text:
                asked.append(text)
        elif asked:
            answered.append(text)
    return exchanges


def replayable_conversations(shop: Shop):
    """Closed conversations an agent answered without any finding against the shop's side that stood."""
    blamed = (
        QAFinding.objects.filter(conversation=OuterRef("pk"))
        .exclude(actor=QAFinding.Actor.SHOPPER)
        .exclude(status=QAFinding.Status.DISMISSED)
    )
    answered = Message.objects.filter(conversation=OuterRef("pk"), sender=Sender.AGENT)
    return Conversation.objects.filter(shop=shop, status=Conversation.Status.CLOSED).filter(
        Exists(answered), ~Exists(blamed)
    )


def start_training(
    shop: Shop, trainee, source: str, turns: int = 5, conversation: Conversation | None = None
) -> TrainingSession:
    """A new session with up to ``turns`` questions from a past conversation or the shop's FAQ cards."""
    if source == TrainingSession.Source.CONVERSATION:
        if conversation is None:
            conversation = replayable_conversations(shop).order_by("?").first()
        if conversation is None or conversation.shop_id != shop.pk:
            raise TrainingUnavailable("这个店铺还没有可供练习的已结束人工会话。")
        exchanges = replay_exchanges(conversation)[:turns]
    elif source == TrainingSession.Source.FAQ:
        cards = FAQCard.objects.filter(shop=shop, enabled=True).order_by("?")[:turns]
        exchanges = [Exchange(card.question, card.answer) for card in cards]
    else:
        raise TrainingUnavailable(f"未知的练习来源：{source}")
    if not exchanges:
        raise TrainingUnavailable("没有找到可以练习的问题。")
    with transaction.atomic():
        session = TrainingSession.objects.create(shop=shop, trainee=trainee, source=source, conversation=conversation)
        TrainingTurn.objects.bulk_create(
            TrainingTurn(session=session, position=n, question=e.question, reference_answer=e.reference)
            for n, e in enumerate(exchanges, start=1)
        )
    return session


@dataclass(frozen=True)
class ReplyScore:
    similarity: float
    violations: list[str]
    score: Decimal


def score_reply(shop: Shop, reply: str, reference: str) -> ReplyScore:
    """Similarity to the reference as 0-100, minus points for every QA rule the reply breaks."""
    close = similarity(shop, reply, reference)
    hits = rules_for_shop(shop.pk).inspect(MessageFacts(text=reply, sender=Sender.AGENT))
    penalty = sum(VIOLATION_PENALTY[Severity(hit.rule.severity)] for hit in hits)
    score = max(Decimal(0), min(Decimal(100), Decimal(str(close)) * 100 - penalty))
    return ReplyScore(close, sorted({hit.rule.kind for hit in hits}), score.quantize(Decimal("0.1")))


def current_turn(session: TrainingSession) -> TrainingTurn | None:
    return session.turns.filter(answered_at__isnull=True).order_by("position").first()


def answer_turn(session: TrainingSession, reply: str) -> TrainingTurn:
    """Score the trainee's reply to the current question; the last answer finishes the session."""
    with transaction.atomic():
        session = TrainingSession.objects.select_for_update().get(pk=session.pk)
        turn = current_turn(session)
        if session.status != TrainingSession.Status.ACTIVE or turn is None:
            raise TrainingUnavailable("这次练习已经结束。")
        result = score_reply(session.shop, reply, turn.reference_answer)
        turn.reply = reply
        turn.similarity = result.similarity
        turn.violations = result.violations
        turn.score = result.score
        turn.answered_at = timezone.now()
        turn.save()
        if current_turn(session) is None:
            average = session.turns.aggregate(average=Avg("score"))["average"]
            session.score = Decimal(average).quantize(Decimal("0.1"))
            session.status = TrainingSession.Status.FINISHED
            session.finished_at = timezone.now()
            session.save()
    return turn
