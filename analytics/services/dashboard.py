"""KPI dashboard figures for a set of shops over a date range, every figure aggregated in SQL."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from chat.models import Conversation
from knowledge.models import UnansweredQuestion
from marketing.models import Campaign
from marketing.services import with_results
from shops.llm import MonthUsage, month_usage
from shops.models import Order, Shop

from .durable import channel_of
from .periods import days, in_local_days, shops_by_zone
from .service_levels import ServiceLevel, ServiceLevels, service_levels

# An agent handles about this many conversations a day: the bot's workload in agent-days.
CONVERSATIONS_PER_AGENT_DAY = 250
TOP_UNANSWERED = 10
# An order by the same customer within this long after the conversation started counts as converted.
CONVERSION_WINDOW = timedelta(days=3)

CLOSED_BY_BOT = Q(status=Conversation.Status.CLOSED, handed_over_at__isnull=True)
HANDED_OVER = Q(handed_over_at__isnull=False)

# Counted per day, per shop and in total: one set of conditional counts serves all three.
COUNTS = {
    "conversations": Count("pk"),
    "bot_resolved": Count("pk", filter=CLOSED_BY_BOT),
    "handed_over": Count("pk", filter=HANDED_OVER),
    "rated": Count("pk", filter=Q(satisfaction__isnull=False)),
    "satisfied": Count("pk", filter=Q(satisfaction__gte=4)),
}


def cost_per_agent_day_default() -> Decimal:
    return Decimal(settings.ANALYTICS_COST_PER_AGENT_DAY)


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal, None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Figures:
    conversations: int = 0
    bot_resolved: int = 0
    handed_over: int = 0
    rated: int = 0
    satisfied: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Figures":
        """The figures of a row annotated or aggregated with ``COUNTS`` (other keys are left out)."""
        return cls(*(row[name] for name in COUNTS))

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(*(getattr(self, name) + getattr(other, name) for name in COUNTS))

    @property
    def bot_resolved_share(self) -> float | None:
        return share(self.bot_resolved, self.conversations)

    @property
    def handoff_rate(self) -> float | None:
        return share(self.handed_over, self.conversations)

    @property
    def satisfaction_rate(self) -> float | None:
        """好评率: ratings of 4 or 5 among the rated conversations."""
        return share(self.satisfied, self.rated)


@dataclass
class Conversion:
    inquiries: int
    orders: int

    @property
    def rate(self) -> float | None:
        return share(self.orders, self.inquiries)


@dataclass
class Dashboard:
    start: date
    end: date
    totals: Figures
    daily: list[tuple[date, Figures]]
    per_shop: list[tuple[str, int, Figures]]
    # (channel label, Figures) for each channel with conversations in the range (web, WeCom, bridges...).
    per_channel: list[tuple[str, Figures]]
    conversion_bot: Conversion
    conversion_agent: Conversion
    cost_per_agent_day: Decimal
    # The open questions the bot could not answer, most asked first (asked during the range).
    unanswered: list[Mapping[str, Any]]
    # Every campaign of the shops with its results since it started (marketing.services.with_results).
    campaigns: list[dict[str, Any]]
    # % SLA met and median first response, by shop and by agent (service_levels).
    service_levels: ServiceLevels
    # This month's large-model use of each shop with a model (shops.llm; docs/llm.md): name and figures.
    model_usage: list[tuple[str, MonthUsage]]

    @cached_property
    def service_level(self) -> ServiceLevel:
        """Every shop's service level together."""
        total = ServiceLevel("")
        for level in self.service_levels.by_shop:
            total.handed_over += level.handed_over
            total.answered += level.answered
            total.decided += level.decided
            total.met += level.met
            total.response_seconds += level.response_seconds
        return total

    @property
    def bot_agent_days(self) -> Decimal:
        """Conversations the bot closed alone, in the days of work of one agent."""
        return (Decimal(self.totals.bot_resolved) / CONVERSATIONS_PER_AGENT_DAY).quantize(Decimal("0.001"))

    @property
    def cost_saved(self) -> Decimal:
        saved = Decimal(self.totals.bot_resolved) * self.cost_per_agent_day / CONVERSATIONS_PER_AGENT_DAY
        return saved.quantize(Decimal("0.01"))


def conversations_in(shop_ids: list[int], start: date, end: date) -> QuerySet[Conversation]:
    """The shops' conversations started on those days, each shop's days in its own timezone."""
    return Conversation.objects.filter(in_local_days("started_at", shops_by_zone(shop_ids), start, end))


def ordered_within_window() -> Exists:
    """The conversation's customer ordered in the shop within the conversion window after it started."""
    window_end = ExpressionWrapper(OuterRef("started_at") + CONVERSION_WINDOW, output_field=DateTimeField())
    return Exists(
        Order.objects.filter(
            shop_id=OuterRef("shop_id"),
            customer_id=OuterRef("customer_id"),
            created_at__gte=OuterRef("started_at"),
            created_at__lt=window_end,
        )
    )


def conversion(conversations: QuerySet[Conversation]) -> tuple[Conversion, Conversion]:
    """Inquiry-to-order: conversations of known customers followed by their order within the window,
    for conversations the bot handled alone and for those handed to an agent."""
    counts = (
        conversations.filter(customer__isnull=False)
        .annotate(ordered=ordered_within_window())
        .aggregate(
            bot=Count("pk", filter=~HANDED_OVER),
            bot_orders=Count("pk", filter=~HANDED_OVER & Q(ordered=True)),
            agent=Count("pk", filter=HANDED_OVER),
            agent_orders=Count("pk", filter=HANDED_OVER & Q(ordered=True)),
        )
    )
    return Conversion(counts["bot"], counts["bot_orders"]), Conversion(counts["agent"], counts["agent_orders"])


def top_unanswered(shop_ids: list[int], start: date, end: date) -> list[Mapping[str, Any]]:
    return list(
        UnansweredQuestion.objects.filter(
            in_local_days("last_asked_at", shops_by_zone(shop_ids), start, end),
            status=UnansweredQuestion.Status.OPEN,
        )
        .order_by("-times_asked", "-last_asked_at")
        .values("text", "times_asked", "last_asked_at", "shop__name")[:TOP_UNANSWERED]
    )


def campaign_results(shop_ids: list[int]) -> list[dict[str, Any]]:
    rows = (
        with_results(Campaign.objects.filter(shop_id__in=shop_ids))
        .order_by("shop__name", "name")
        .values("name", "kind", "enabled", "shop__name", "touches_sent", "woken", "converted", "refunds_retained")
    )
    kinds = dict(Campaign.Kind.choices)
    return [
        {**row, "kind_display": kinds[row["kind"]], "rate": share(row["converted"], row["touches_sent"])}
        for row in rows
    ]


def daily_figures(conversations: QuerySet[Conversation], shop_ids: list[int]) -> dict[date, Figures]:
    """The conversations' figures per local day of their shop: one query per timezone among the shops."""
    by_day: dict[date, Figures] = {}
    for zone, ids in shops_by_zone(shop_ids).items():
        rows = (
            conversations.filter(shop_id__in=ids)
            .annotate(day=TruncDate("started_at", tzinfo=zone))
            .values("day")
            .annotate(**COUNTS)
            .order_by("day")
        )
        for row in rows:
            by_day[row["day"]] = by_day.get(row["day"], Figures()) + Figures.of(row)
    return by_day


def build_dashboard(shop_ids: list[int], start: date, end: date, cost_per_agent_day: Decimal) -> Dashboard:
    conversations = conversations_in(shop_ids, start, end)
    by_day = daily_figures(conversations, shop_ids)
    per_shop = [
        (row["shop__name"], row["shop_id"], Figures.of(row))
        for row in conversations.values("shop_id", "shop__name").annotate(**COUNTS).order_by("shop__name")
    ]
    per_channel = [
        (channel_of(row["channel"]), Figures.of(row))
        for row in conversations.values("channel").annotate(**COUNTS).order_by("channel")
    ]
    bot, agent = conversion(conversations)
    return Dashboard(
        start=start,
        end=end,
        totals=Figures.of(conversations.aggregate(**COUNTS)),
        daily=[(day, by_day.get(day, Figures())) for day in days(start, end)],
        per_shop=per_shop,
        per_channel=per_channel,
        conversion_bot=bot,
        conversion_agent=agent,
        cost_per_agent_day=cost_per_agent_day,
        unanswered=top_unanswered(shop_ids, start, end),
        campaigns=campaign_results(shop_ids),
        service_levels=service_levels(conversations),
        model_usage=model_usage(shop_ids),
    )


def model_usage(shop_ids: list[int]) -> list[tuple[str, MonthUsage]]:
    """Each shop's large-model tokens and cost this month, for the shops that have a model."""
    shops = list(Shop.objects.filter(pk__in=shop_ids, model_provider__isnull=False).order_by("name"))
    usage = month_usage(shops)
    return [(shop.name, usage[shop.pk]) for shop in shops]
