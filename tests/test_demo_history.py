"""load_demo plays each demo shop's history through the real services: deterministic, once, and every
dashboard of a demo shop shows it."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from analytics.models import QAFinding, QAReport
from analytics.services.dashboard import build_dashboard
from analytics.services.value import build_value_report
from chat.intents import HandoffReason
from chat.models import Conversation, Message
from core.caching import ShopCache
from devtools.demo import history
from knowledge.models import AnswerLog, FAQCard
from marketing.models import Touch
from shops.models import Membership, Order, Shop

# Real commits: the services assign, inspect and send after them.
pytestmark = pytest.mark.django_db(transaction=True)

DAYS = 7


def load(days: int = DAYS) -> str:
    out = StringIO()
    call_command("load_demo", "--days", str(days), stdout=out)
    return out.getvalue()


def played() -> dict[str, object]:
    """How much of each kind was played, independent of row ids, visitor tokens and the minute it ran."""
    return {
        "messages": counted(Message.objects, "conversation__shop__slug", "sender", "intent"),
        "conversations": counted(Conversation.objects, "shop__slug", "status", "satisfaction"),
        "answers": counted(AnswerLog.objects, "shop__slug", "outcome"),
        "touches": counted(Touch.objects, "shop__slug", "campaign__kind", "status"),
        "findings": counted(QAFinding.objects, "shop__slug", "rule__kind"),
        "orders": counted(Order.objects.filter(external_id__startswith="H"), "shop__slug", "status"),
    }


def counted(queryset, *fields: str) -> list[tuple]:
    return list(queryset.order_by(*fields).values_list(*fields).annotate(n=Count("pk")))


def test_load_demo_plays_as_much_of_everything_on_a_fresh_database_and_nothing_more_when_run_again():
    # A fresh database (ids from 1, as on a new machine): the holdouts and experiments draw by ids.
    call_command("flush", "--noinput")
    load()
    first = played()
    hits = list(FAQCard.objects.order_by("shop__slug", "question").values_list("hit_count", flat=True))
    out = load()
    assert played() == first
    assert list(FAQCard.objects.order_by("shop__slug", "question").values_list("hit_count", flat=True)) == hits
    assert "swift-sports" in out
    # A fresh database, as on another machine.
    call_command("flush", "--noinput")
    ShopCache.forget_everything()
    load()
    assert played() == first


def test_the_played_history_went_through_the_engine_and_the_agents_and_fills_every_dashboard():
    load()
    today = timezone.localdate()
    for shop in Shop.objects.filter(slug__in=history.DEMO_SHOPS):
        conversations = Conversation.objects.filter(shop=shop)
        # The engine answered from the shop's cards and logged each answer; the hit counts come from that log.
        logged = AnswerLog.objects.filter(shop=shop, card__isnull=False, conversation__in=conversations)
        assert logged.exists()
        hits = dict(logged.values("card").annotate(n=Count("pk")).values_list("card", "n"))
        assert dict(FAQCard.objects.filter(pk__in=hits).values_list("pk", "hit_count")) == hits
        # Every hand-off was assigned to one of the shop's demo agents, who answered and closed it.
        handed = conversations.filter(handed_over_at__isnull=False)
        assert handed.exists()
        agents = set(shop.memberships.filter(role=Membership.Role.AGENT).values_list("user_id", flat=True))
        assert set(handed.values_list("assigned_agent_id", flat=True)) <= agents
        assert Message.objects.filter(conversation__in=handed, sender=Message.Sender.AGENT).exists()
        assert not conversations.exclude(status=Conversation.Status.CLOSED).exists()
        # Spread over the played days, in the past.
        local_days = {c.started_at.astimezone(shop.tz).date() for c in conversations}
        assert len(local_days) >= DAYS - 1
        assert not conversations.filter(started_at__gt=timezone.now()).exists()
        assert QAReport.objects.filter(shop=shop).exists()
        # Its dashboard shows conversations, resolution, satisfaction and campaign results.
        dashboard = build_dashboard([shop.pk], today - timedelta(days=DAYS + 1), today, Decimal("300"))
        totals = dashboard.totals
        assert totals.conversations > 0
        assert 0 < totals.bot_resolved < totals.conversations
        assert totals.satisfied > 0
        assert sum(row["touches_sent"] for row in dashboard.campaigns) > 0
        assert sum(row["converted"] for row in dashboard.campaigns) > 0
        # Its proof-of-value page: durable resolution, campaigns against their control groups with intervals,
        # answer experiments that shoppers saw both sides of, and (jingjia-clean) the bot holdout.
        value = build_value_report([shop.pk], today - timedelta(days=DAYS + 1), today, timezone.now())
        assert value.durable.total.bot_resolved + value.durable.pending > 0
        assert any(lift.conversion.difference is not None for lift in value.campaigns)
        assert Touch.objects.filter(shop=shop, skip_reason=Touch.SkipReason.CONTROL).exists()
        assert {log.variant for log in AnswerLog.objects.filter(shop=shop, experiment__isnull=False)} == {"a", "b"}
        holdout = conversations.filter(handoff_reason=HandoffReason.HOLDOUT)
        assert holdout.exists() == (shop.slug in history.BOT_HOLDOUT)
        assert [h.shop_id for h in value.bot_holdouts] == ([shop.pk] if shop.slug in history.BOT_HOLDOUT else [])


def test_load_demo_refuses_days_out_of_range():
    with pytest.raises(Exception, match="--days"):
        call_command("load_demo", "--days", "-1")


def test_a_demo_cards_trial_answer_greets_once_and_keeps_the_facts():
    assert history.trial_answer("亲，我们默认发中通快递。") == (
        "亲，我们默认发中通快递～还有不清楚的随时问小蜂，回复“转人工”可找客服哦。"
    )
    assert history.trial_answer("付款后48小时内发货！").startswith("亲，付款后48小时内发货～")
