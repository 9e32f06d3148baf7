"""The nightly QA report's figures on a fixed day of conversations and findings."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from analytics.models import QAFinding, QAReport, QARule, Severity
from analytics.services.reports import quality_score, scorecards
from analytics.tasks import build_daily_reports
from chat.models import Conversation, Message
from shops.models import Membership
from tests.conftest import staff_of

pytestmark = pytest.mark.django_db

Kind = QARule.Kind
Sender = Message.Sender
Scope = QAReport.Scope
DAY = date(2026, 11, 20)
ZONE = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def message(conversation, sender, when, agent=None):
    with time_machine.travel(when, tick=False):
        return Message.objects.create(
            conversation=conversation, shop=conversation.shop, sender=sender, text="…", agent=agent
        )


def finding(conversation, rule, actor, when, agent=None, status=QAFinding.Status.OPEN):
    with time_machine.travel(when, tick=False):
        return QAFinding.objects.create(
            shop=conversation.shop,
            conversation=conversation,
            rule=rule,
            kind=rule.kind,
            severity=rule.severity,
            actor=actor,
            agent=agent,
            status=status,
            reviewed_at=None if status == QAFinding.Status.OPEN else when,
        )


@pytest.fixture
def day_of_work(shop_a, shop_b, agent_a):
    agent_b = staff_of(shop_a, Membership.Role.AGENT, username="agent-two")
    rule = {
        kind: QARule.objects.create(shop=shop_a, name=kind, kind=kind, severity=severity, words=words, threshold=n)
        for kind, severity, words, n in [
            (Kind.BANNED_WORDS, Severity.HIGH, "闭嘴", None),
            (Kind.SLOW_REPLY, Severity.LOW, "", 60),
            (Kind.FORBIDDEN_PROMISE, Severity.MEDIUM, "保证", None),
            (Kind.ANGRY_SHOPPER, Severity.HIGH, "投诉", None),
        ]
    }
    bot_only, with_a, with_b = (Conversation.objects.create(shop=shop_a, visitor_token=f"v{n}") for n in range(3))
    for sender, hour in [(Sender.SHOPPER, 9), (Sender.BOT, 9), (Sender.BOT, 10)]:
        message(bot_only, sender, at(hour))
    message(with_a, Sender.SHOPPER, at(11))
    message(with_a, Sender.BOT, at(11, 1))
    message(with_a, Sender.AGENT, at(11, 5), agent_a)
    message(with_a, Sender.AGENT, at(23, 59), agent_a)
    message(with_b, Sender.SHOPPER, at(0, 0))
    message(with_b, Sender.AGENT, at(0, 1), agent_b)
    # Noise: the days around, and another shop.
    message(with_a, Sender.AGENT, at(23, 59, DAY - timedelta(days=1)), agent_a)
    message(with_a, Sender.AGENT, at(0, 0, DAY + timedelta(days=1)), agent_a)
    message(Conversation.objects.create(shop=shop_b, visitor_token="b"), Sender.SHOPPER, at(12))

    finding(with_a, rule[Kind.BANNED_WORDS], QAFinding.Actor.AGENT, at(11, 5), agent_a)
    finding(with_a, rule[Kind.SLOW_REPLY], QAFinding.Actor.AGENT, at(23, 59), agent_a)
    finding(bot_only, rule[Kind.FORBIDDEN_PROMISE], QAFinding.Actor.BOT, at(10))
    finding(with_a, rule[Kind.ANGRY_SHOPPER], QAFinding.Actor.SHOPPER, at(11))
    finding(with_b, rule[Kind.FORBIDDEN_PROMISE], QAFinding.Actor.AGENT, at(0, 1), agent_b, QAFinding.Status.DISMISSED)
    finding(with_b, rule[Kind.BANNED_WORDS], QAFinding.Actor.AGENT, at(0, 0, DAY + timedelta(days=1)), agent_b)
    return {"agent_a": agent_a, "agent_b": agent_b}


def report(shop, scope, agent=None) -> QAReport:
    return QAReport.objects.get(shop=shop, day=DAY, scope=scope, agent=agent)


def test_the_shops_report_counts_the_days_conversations_messages_and_undismissed_findings(shop_a, day_of_work):
    assert build_daily_reports.delay(DAY.isoformat()).get() == 5
    shop = report(shop_a, Scope.SHOP)
    assert (shop.conversations, shop.messages, shop.findings, shop.high_findings) == (3, 9, 4, 2)
    assert shop.findings_by_rule == {
        Kind.BANNED_WORDS: 1,
        Kind.SLOW_REPLY: 1,
        Kind.FORBIDDEN_PROMISE: 1,
        Kind.ANGRY_SHOPPER: 1,
    }
    # Penalty 10 (high) + 1 (low) + 3 (medium); the angry shopper costs nobody points: 100 - 140 / 3.
    assert shop.score == Decimal("53.3")


def test_the_bot_and_each_agent_get_their_own_report(shop_a, day_of_work):
    build_daily_reports(DAY.isoformat())
    bot = report(shop_a, Scope.BOT)
    assert (bot.conversations, bot.messages, bot.findings, bot.score) == (2, 3, 1, Decimal("85.0"))
    first = report(shop_a, Scope.AGENT, day_of_work["agent_a"])
    assert (first.conversations, first.messages, first.findings, first.high_findings) == (1, 2, 2, 1)
    assert first.score == Decimal("0.0")
    second = report(shop_a, Scope.AGENT, day_of_work["agent_b"])
    assert (second.conversations, second.messages, second.findings, second.score) == (1, 1, 0, Decimal("100.0"))


def test_rebuilding_a_day_replaces_its_rows(shop_a, shop_b, day_of_work):
    build_daily_reports(DAY.isoformat())
    QAFinding.objects.filter(kind=Kind.BANNED_WORDS).update(status=QAFinding.Status.DISMISSED, reviewed_at=at(12))
    build_daily_reports(DAY.isoformat())
    assert QAReport.objects.filter(shop=shop_a, day=DAY).count() == 4
    assert report(shop_a, Scope.SHOP).findings == 3
    assert report(shop_b, Scope.SHOP).conversations == 1


def test_scorecards_sum_the_days_and_weigh_the_score_by_conversations(shop_a, day_of_work):
    call_command("build_qa_reports", day=DAY.isoformat(), days=2, stdout=StringIO())
    cards = {card["agent__username"]: card for card in scorecards([shop_a.pk], DAY, DAY + timedelta(days=1))}
    first = cards[day_of_work["agent_a"].username]
    assert (first["days"], first["conversations"], first["messages"], first["findings"]) == (2, 2, 3, 2)
    assert first["score"] == Decimal("50.0")  # (0 × 1 + 100 × 1) / 2
    second = cards["agent-two"]
    assert (second["findings"], second["open"], second["confirmed"]) == (1, 1, 0)


def test_the_score_is_100_for_a_clean_day_and_never_negative():
    assert quality_score(10, 0) == Decimal("100.0")
    assert quality_score(4, 3) == Decimal("92.5")
    assert quality_score(1, 50) == Decimal("0.0")


def test_the_nightly_report_is_scheduled_in_celery_beat():
    task = PeriodicTask.objects.get(task="analytics.build_daily_reports")
    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("0", "30")


def test_the_report_command_rejects_a_bad_day():
    with pytest.raises(CommandError, match="--day"):
        call_command("build_qa_reports", day="20-11-2026")
