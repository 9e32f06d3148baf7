"""Proof of value: what the bot, the campaigns and the trainers' answers change, from randomised comparisons.

- Campaign holdouts: each campaign's treated targets against its control group (``marketing.campaign_arms``).
- Answer experiments: a card's answer A against the answer on trial, B, by the conversations that saw each.
- The bot holdout: conversations the bot served against those the shop's holdout sent straight to agents.

Each difference comes with its 95% interval and verdict (``analytics.statistics``): "too small to conclude"
rather than a lift read into noise.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet

from chat.intents import HandoffReason
from chat.models import Conversation, MeasurementPolicy
from knowledge.models import AnswerExperiment, AnswerLog
from marketing.models import Campaign
from marketing.services import CampaignArms, campaign_arms

from ..statistics import AmountComparison, Comparison, compare, compare_amounts
from .dashboard import conversations_in, ordered_within_window
from .durable import DurableReport, Outcome, durable_report, outcomes


def converted_ids(conversations: QuerySet[Conversation]) -> set[int]:
    """Of these conversations, those of known customers followed by an order within the conversion window."""
    return set(
        conversations.filter(customer__isnull=False)
        .annotate(ordered=ordered_within_window())
        .filter(ordered=True)
        .values_list("pk", flat=True)
    )


# --- campaigns ---------------------------------------------------------------------------------------


@dataclass
class CampaignLift:
    arms: CampaignArms
    conversion: Comparison
    paid: AmountComparison
    refunds: Comparison | None

    @property
    def campaign(self) -> Campaign:
        return self.arms.campaign


def campaign_lift(arms: CampaignArms) -> CampaignLift:
    """Treated against control: conversion, amount paid per target, refunds retained (where there are refunds)."""
    treated, control = arms.treated, arms.control
    refunds = (
        compare(treated.refunds_retained, treated.refunds, control.refunds_retained, control.refunds)
        if treated.refunds or control.refunds
        else None
    )
    return CampaignLift(
        arms,
        compare(treated.converted, treated.targets, control.converted, control.targets),
        compare_amounts(treated.paid, control.paid),
        refunds,
    )


def campaign_lifts(shop_ids: list[int], now: datetime) -> list[CampaignLift]:
    """Every campaign of the shops with a control group (now or before): treated against control."""
    campaigns = Campaign.objects.filter(shop_id__in=shop_ids).select_related("shop").order_by("shop__name", "name")
    return [
        campaign_lift(arms)
        for arms in campaign_arms(campaigns, now)
        # A campaign without a control group, or without any target yet, has nothing to compare.
        if (arms.control.targets or arms.campaign.control_percent)
        and (arms.treated.targets or arms.control.targets or arms.in_window)
    ]


# --- answer experiments ----------------------------------------------------------------------------


@dataclass
class ExperimentReport:
    experiment: AnswerExperiment
    # Conversations that saw each answer (a conversation that saw both counts in neither).
    conversations_a: int
    conversations_b: int
    # B against A: durable resolution (over settled conversations), hand-off, conversion (known customers).
    durable: Comparison
    handoff: Comparison
    conversion: Comparison


def _rate(outcomes_: list[Outcome], test) -> tuple[int, int]:
    return sum(1 for o in outcomes_ if test(o)), len(outcomes_)


def experiment_reports(shop_ids: list[int], now: datetime, *, running_only: bool = False) -> list[ExperimentReport]:
    experiments = AnswerExperiment.objects.filter(shop_id__in=shop_ids).select_related("card", "shop")
    if running_only:
        experiments = experiments.filter(ended_at__isnull=True)
    reports = []
    for experiment in experiments.order_by("ended_at", "-started_at")[:50]:
        seen: dict[int, set[str]] = {}
        for conversation_id, variant in (
            AnswerLog.objects.filter(experiment=experiment, conversation__isnull=False)
            .values_list("conversation_id", "variant")
            .distinct()
        ):
            seen.setdefault(conversation_id, set()).add(variant)
        arm_ids = {
            variant: [pk for pk, variants in seen.items() if variants == {variant}]
            for variant in AnswerExperiment.Variant.values
        }
        saw = Conversation.objects.filter(
            pk__in=AnswerLog.objects.filter(experiment=experiment).values("conversation_id")
        )
        every = outcomes(saw, now)
        converted = converted_ids(saw)
        arms = {v: [every[pk] for pk in ids if pk in every] for v, ids in arm_ids.items()}
        settled = {v: [o for o in arm if o.settled] for v, arm in arms.items()}
        known = {
            v: [pk for pk in ids if pk in every and every[pk].customer_id is not None] for v, ids in arm_ids.items()
        }
        reports.append(
            ExperimentReport(
                experiment,
                len(arm_ids["a"]),
                len(arm_ids["b"]),
                durable=compare(*_rate(settled["b"], lambda o: o.durable), *_rate(settled["a"], lambda o: o.durable)),
                handoff=compare(*_rate(arms["b"], lambda o: o.handed_over), *_rate(arms["a"], lambda o: o.handed_over)),
                conversion=compare(
                    sum(pk in converted for pk in known["b"]),
                    len(known["b"]),
                    sum(pk in converted for pk in known["a"]),
                    len(known["a"]),
                ),
            )
        )
    return reports


# --- the bot holdout ---------------------------------------------------------------------------------


@dataclass
class BotHoldoutReport:
    shop_name: str
    shop_id: int
    percent: int
    since: datetime
    # The bot's conversations against the holdout's (humans only).
    bot_conversations: int
    holdout_conversations: int
    conversion: Comparison
    satisfaction: Comparison


def bot_holdout_reports(shop_ids: list[int]) -> list[BotHoldoutReport]:
    """Each shop with a bot holdout (running, or run before): conversations since its share last changed."""
    reports = []
    policies = MeasurementPolicy.objects.filter(shop_id__in=shop_ids, bot_holdout_since__isnull=False).select_related(
        "shop"
    )
    for policy in policies.order_by("shop__name"):
        assert policy.bot_holdout_since is not None  # filtered above
        since = Conversation.objects.filter(shop_id=policy.shop_id, started_at__gte=policy.bot_holdout_since).exclude(
            handoff_reason=HandoffReason.QUOTA
        )
        holdout = since.filter(handoff_reason=HandoffReason.HOLDOUT)
        bot = since.exclude(handoff_reason=HandoffReason.HOLDOUT)
        converted = converted_ids(since)
        known_bot = list(bot.filter(customer__isnull=False).values_list("pk", flat=True))
        known_holdout = list(holdout.filter(customer__isnull=False).values_list("pk", flat=True))
        reports.append(
            BotHoldoutReport(
                policy.shop.name,
                policy.shop_id,
                policy.bot_holdout_percent,
                policy.bot_holdout_since,
                bot.count(),
                holdout.count(),
                conversion=compare(
                    sum(pk in converted for pk in known_bot),
                    len(known_bot),
                    sum(pk in converted for pk in known_holdout),
                    len(known_holdout),
                ),
                satisfaction=compare(
                    bot.filter(satisfaction__gte=4).count(),
                    bot.filter(satisfaction__isnull=False).count(),
                    holdout.filter(satisfaction__gte=4).count(),
                    holdout.filter(satisfaction__isnull=False).count(),
                ),
            )
        )
    return reports


# --- the page ----------------------------------------------------------------------------------------


@dataclass
class ValueReport:
    start: date
    end: date
    durable: DurableReport
    campaigns: list[CampaignLift]
    experiments: list[ExperimentReport]
    bot_holdouts: list[BotHoldoutReport]


def build_value_report(shop_ids: list[int], start: date, end: date, now: datetime) -> ValueReport:
    return ValueReport(
        start=start,
        end=end,
        durable=durable_report(conversations_in(shop_ids, start, end), now),
        campaigns=campaign_lifts(shop_ids, now),
        experiments=experiment_reports(shop_ids, now),
        bot_holdouts=bot_holdout_reports(shop_ids),
    )
