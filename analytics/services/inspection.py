"""Inspecting stored messages and closed conversations, and keeping each process's compiled rules current."""

from functools import partial

from django.db import transaction
from django.db.models import Count, Min, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.guard import Breach
from chat.intents import Intent
from chat.models import Conversation, Message
from core.caching import ShopCache
from core.models import ChangeStamp

from ..alerts import alert_managers
from ..models import QAFinding, QARule, Severity
from ..rule_kinds.base import OnSend, RuleKind
from .rules import CompiledRules, ConversationFacts, Hit, MessageFacts, RuleSpec

Sender = Message.Sender


def compile_rules(shop_id: int) -> CompiledRules:
    rules = QARule.objects.filter(Q(shop_id=shop_id) | Q(shop__isnull=True), enabled=True).order_by("pk")
    return CompiledRules(RuleSpec.of(rule) for rule in rules)


# Each process's compiled rules per shop, rebuilt when the shop's or the global rules' stamp moved (see
# core.caching; analytics.receivers bumps it on every rule save and delete).
compiled_rules: ShopCache[CompiledRules] = ShopCache("QA rules", ChangeStamp.Kind.QA_RULES, compile_rules)


def rules_for_shop(shop_id: int) -> CompiledRules:
    """The shop's compiled rules, rebuilt only after a change."""
    return compiled_rules.get(shop_id)


def _wait_facts(message: Message, conversation: Conversation) -> tuple[float | None, bool]:
    """How long the shopper had waited for this agent message, and whether it is the first agent reply.

    One query: the earliest shopper message after the last reply (agent or bot), and whether an agent
    has spoken before.
    """
    earlier = Message.objects.filter(conversation_id=message.conversation_id, pk__lt=message.pk)
    last_reply = earlier.filter(sender__in=[Sender.AGENT, Sender.BOT]).order_by("-pk").values("pk")[:1]
    seen = earlier.aggregate(
        agent_messages=Count("pk", filter=Q(sender=Sender.AGENT)),
        waiting_since=Min(
            "created_at", filter=Q(sender=Sender.SHOPPER, pk__gt=Coalesce(Subquery(last_reply), Value(0)))
        ),
    )
    if seen["agent_messages"] == 0 and conversation.handed_over_at is not None:
        return (message.created_at - conversation.handed_over_at).total_seconds(), True
    if seen["waiting_since"] is None:
        return None, False
    return (message.created_at - seen["waiting_since"]).total_seconds(), False


def _fallback_streak(message: Message, longest: int) -> int:
    intents = (
        Message.objects.filter(conversation_id=message.conversation_id, sender=Sender.BOT, pk__lte=message.pk)
        .order_by("-pk")
        .values_list("intent", flat=True)[: longest + 1]
    )
    streak = 0
    for intent in intents:
        if intent != Intent.FALLBACK:
            break
        streak += 1
    return streak


def message_facts(message: Message, rules: CompiledRules) -> MessageFacts:
    """The message with the timing facts its shop's rules need; no query when no rule needs one."""
    wait_seconds, first_reply, streak = None, False, 0
    if message.sender == Sender.AGENT and rules.needs_wait_time:
        wait_seconds, first_reply = _wait_facts(message, message.conversation)
    if message.sender == Sender.BOT and message.intent == Intent.FALLBACK and rules.longest_streak:
        streak = _fallback_streak(message, rules.longest_streak)
    return MessageFacts(
        text=message.text,
        sender=message.sender,
        intent=message.intent,
        wait_seconds=wait_seconds,
        first_agent_reply=first_reply,
        fallback_streak=streak,
    )


def _actor(sender: str) -> str:
    actors: dict[str, str] = {Sender.AGENT: QAFinding.Actor.AGENT, Sender.BOT: QAFinding.Actor.BOT}
    return actors.get(sender, QAFinding.Actor.SHOPPER)


def _record(
    conversation: Conversation, message: Message | None, hits: list[Hit], actor: str, agent_id: int | None
) -> list[QAFinding]:
    """Store the findings (once each) and alert the managers of high-severity ones after commit."""
    findings = []
    with transaction.atomic():
        for hit in hits:
            finding, created = QAFinding.objects.get_or_create(
                rule_id=hit.rule.id,
                conversation=conversation,
                message=message,
                defaults={
                    "shop_id": conversation.shop_id,
                    "kind": hit.rule.kind,
                    "severity": hit.rule.severity,
                    "actor": actor,
                    "agent_id": agent_id,
                    "evidence": hit.evidence[:200],
                },
            )
            if created:
                findings.append(finding)
                if finding.severity == Severity.HIGH:
                    transaction.on_commit(partial(alert_managers, finding))
    return findings


def guard_outgoing(shop_id: int, speaker: str, text: str) -> list[Breach]:
    """The check before send (chat.guard): what ``text`` breaks of the shop's rules, each with whether an
    agent may send it anyway."""
    rules = rules_for_shop(shop_id)
    if not rules.rules:
        return []
    return [
        Breach(
            rule=hit.rule.name,
            kind=str(RuleKind(hit.rule.kind).label),
            evidence=hit.evidence[:60],
            overridable=hit.rule.on_send == OnSend.HOLD,
        )
        for hit in rules.guard(speaker, text)
    ]


def inspect_message(message: Message) -> list[QAFinding]:
    """Check one stored message against its shop's rules and record what it breaks."""
    rules = rules_for_shop(message.shop_id)
    if not rules.rules:
        return []
    hits = rules.inspect(message_facts(message, rules))
    if not hits:
        return []
    return _record(message.conversation, message, hits, _actor(message.sender), message.agent_id)


def conversation_facts(conversation: Conversation) -> ConversationFacts:
    messages = Message.objects.filter(conversation=conversation).exclude(sender=Sender.SYSTEM)
    survey_at = messages.filter(sender=Sender.BOT, intent=Intent.SATISFACTION).aggregate(first=Min("pk"))["first"]
    before_survey = messages.filter(pk__lt=survey_at) if survey_at else messages
    last = before_survey.order_by("-pk").values("sender", "intent").first() or {"sender": "", "intent": ""}
    agent_replied = messages.filter(sender=Sender.AGENT).exists()
    handed_over = conversation.handed_over_at is not None
    unanswered = None
    if conversation.handed_over_at is not None and not agent_replied:
        unanswered = ((conversation.ended_at or timezone.now()) - conversation.handed_over_at).total_seconds()
    return ConversationFacts(
        handed_over=handed_over,
        agent_replied=agent_replied,
        last_sender=last["sender"],
        last_intent=last["intent"],
        satisfaction=conversation.satisfaction,
        unanswered_handoff_seconds=unanswered,
    )


def inspect_closed_conversation(conversation: Conversation) -> list[QAFinding]:
    """Run the conversation-level rules on a conversation that has just closed."""
    rules = rules_for_shop(conversation.shop_id)
    if not rules.conversation_checks:
        return []
    facts = conversation_facts(conversation)
    hits = rules.inspect_conversation(facts)
    if not hits:
        return []
    actor = QAFinding.Actor.AGENT if facts.agent_replied or facts.handed_over else QAFinding.Actor.BOT
    return _record(conversation, None, hits, actor, conversation.assigned_agent_id)


def copy_rule_to_shop(rule: QARule, shop) -> QARule:
    """Give ``shop`` the same rule (a multi-shop manager's copy tool); a rule of that name is refreshed."""
    copy, _ = QARule.objects.update_or_create(
        shop=shop,
        name=rule.name,
        defaults={
            "kind": rule.kind,
            "severity": rule.severity,
            "words": rule.words,
            "threshold": rule.threshold,
            "enabled": rule.enabled,
        },
    )
    return copy
