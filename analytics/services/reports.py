"""Daily QA reports (per shop, per agent and for the bot) and the agents' scorecards, aggregated in SQL."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q, Sum

from chat.models import Message

from ..models import QAFinding, QAReport, Severity
from .periods import in_local_days, shops_by_zone, yesterdays

Scope = QAReport.Scope
Actor = QAFinding.Actor
# Penalty points of a finding by severity; a day's score loses 10 points per point per conversation.
PENALTY = {Severity.LOW: 1, Severity.MEDIUM: 3, Severity.HIGH: 10}


def quality_score(conversations: int, penalty: int) -> Decimal:
    """100 for a clean day; one high-severity finding per conversation on average brings it to 0."""
    score = Decimal(100) - Decimal(10 * penalty) / max(conversations, 1)
    return max(Decimal(0), score).quantize(Decimal("0.1"))


@dataclass
class _Tally:
    conversations: int = 0
    messages: int = 0
    findings: int = 0
    high: int = 0
    penalty: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)

    def add_findings(self, kind: str, severity: str, count: int, *, penalised: bool) -> None:
        self.findings += count
        self.high += count if severity == Severity.HIGH else 0
        self.penalty += PENALTY[Severity(severity)] * count if penalised else 0
        self.by_rule[kind] = self.by_rule.get(kind, 0) + count


def build_reports(day: date, shop_ids: Iterable[int] | None = None) -> int:
    """(Re)build the QAReport rows of ``day`` for the given shops (all when None); returns rows written.

    Activity is what happened that day, the shop's local day: conversations with a message that day,
    the messages, and the findings raised that day that were not dismissed. Shopper findings (an angry
    shopper) count in the shop's figures but cost nobody points.
    """
    if shop_ids is not None:
        shop_ids = list(shop_ids)
    zones = shops_by_zone(shop_ids)
    messages = Message.objects.filter(in_local_days("created_at", zones, day, day))
    findings = QAFinding.objects.filter(in_local_days("created_at", zones, day, day)).exclude(
        status=QAFinding.Status.DISMISSED
    )

    tallies: dict[tuple[int, str, int | None], _Tally] = {}

    def tally(shop_id: int, scope: str, agent_id: int | None = None) -> _Tally:
        return tallies.setdefault((shop_id, scope, agent_id), _Tally())

    activity = messages.values("shop_id").annotate(
        conversations=Count("conversation", distinct=True),
        messages=Count("pk"),
        bot_conversations=Count("conversation", distinct=True, filter=Q(sender=Message.Sender.BOT)),
        bot_messages=Count("pk", filter=Q(sender=Message.Sender.BOT)),
    )
    for row in activity:
        shop = tally(row["shop_id"], Scope.SHOP)
        shop.conversations, shop.messages = row["conversations"], row["messages"]
        if row["bot_messages"]:
            bot = tally(row["shop_id"], Scope.BOT)
            bot.conversations, bot.messages = row["bot_conversations"], row["bot_messages"]
    per_agent = (
        messages.filter(sender=Message.Sender.AGENT, agent__isnull=False)
        .values("shop_id", "agent_id")
        .annotate(conversations=Count("conversation", distinct=True), messages=Count("pk"))
    )
    for agent_row in per_agent:
        agent = tally(agent_row["shop_id"], Scope.AGENT, agent_row["agent_id"])
        agent.conversations, agent.messages = agent_row["conversations"], agent_row["messages"]

    found = findings.values("shop_id", "actor", "agent_id", "kind", "severity").annotate(count=Count("pk"))
    for finding in found:
        shop_id, actor, count = finding["shop_id"], finding["actor"], finding["count"]
        kind, severity = finding["kind"], finding["severity"]
        tally(shop_id, Scope.SHOP).add_findings(kind, severity, count, penalised=actor != Actor.SHOPPER)
        if actor == Actor.BOT:
            tally(shop_id, Scope.BOT).add_findings(kind, severity, count, penalised=True)
        elif actor == Actor.AGENT and finding["agent_id"] is not None:
            tally(shop_id, Scope.AGENT, finding["agent_id"]).add_findings(kind, severity, count, penalised=True)

    rows = [
        QAReport(
            shop_id=shop_id,
            day=day,
            scope=scope,
            agent_id=agent_id,
            conversations=t.conversations,
            messages=t.messages,
            findings=t.findings,
            high_findings=t.high,
            findings_by_rule=t.by_rule,
            score=quality_score(t.conversations, t.penalty),
        )
        for (shop_id, scope, agent_id), t in tallies.items()
    ]
    with transaction.atomic():
        stale = QAReport.objects.filter(day=day)
        if shop_ids is not None:
            stale = stale.filter(shop_id__in=shop_ids)
        stale.delete()
        QAReport.objects.bulk_create(rows)
    return len(rows)


def build_yesterdays_reports(now: datetime) -> int:
    """(Re)build every shop's reports of its yesterday at ``now``, in its own timezone (nightly)."""
    return sum(build_reports(day, shop_ids) for day, shop_ids in yesterdays(now).items())


def scorecards(shop_ids: Iterable[int], start: date, end: date) -> list[dict]:
    """Per agent and shop over the days: totals of the daily reports, the conversation-weighted score,
    and how many of their findings reviewers confirmed or left open."""
    shop_ids = list(shop_ids)
    reports = (
        QAReport.objects.filter(scope=Scope.AGENT, shop_id__in=shop_ids, day__gte=start, day__lte=end)
        .values("shop_id", "shop__name", "agent_id", "agent__username")
        .annotate(
            days=Count("pk"),
            # First: below, "conversations" becomes the sum and would no longer name the column.
            weighted=Sum(F("score") * F("conversations")),
            conversations=Sum("conversations"),
            messages=Sum("messages"),
            findings=Sum("findings"),
            high_findings=Sum("high_findings"),
        )
        .order_by("shop__name", "agent__username")
    )
    reviews = {
        (row["shop_id"], row["agent_id"]): row
        for row in QAFinding.objects.filter(in_local_days("created_at", shops_by_zone(shop_ids), start, end))
        .filter(actor=Actor.AGENT)
        .values("shop_id", "agent_id")
        .annotate(
            confirmed=Count("pk", filter=Q(status=QAFinding.Status.CONFIRMED)),
            open=Count("pk", filter=Q(status=QAFinding.Status.OPEN)),
        )
    }
    cards = []
    for row in reports:
        review = reviews.get((row["shop_id"], row["agent_id"]), {"confirmed": 0, "open": 0})
        conversations = row["conversations"] or 0
        score = Decimal(row["weighted"]) / conversations if conversations else Decimal(100)
        cards.append(
            {
                **row,
                "score": score.quantize(Decimal("0.1")),
                "confirmed": review["confirmed"],
                "open": review["open"],
            }
        )
    return cards
