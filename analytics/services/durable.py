"""Durable resolution: a conversation the bot closed counts only if the resolution held.

Within the shop's window (``chat.MeasurementPolicy.durable_window_days``, 7 days by default) after the bot
closed the conversation, the shopper must not have

- asked for a human (a later conversation of theirs handed to an agent at their request or in anger),
- come back about the same topic (a later conversation answered by the same card, about the same task
  (order status, invoice, warranty ...) or the same order),
- opened a refund or a complaint on the order discussed (a refund request, or a complaint work order).

A shopper is the same customer, or for an anonymous shopper the same visitor token. Figures are counted
over settled conversations only: those whose window has closed (a bot resolution of yesterday is neither
durable nor lost yet). The plain figure beside it is counted over the same conversations.
"""

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from chat.intents import HandoffReason, Intent, intent_label
from chat.measurement import window_days
from chat.models import Conversation, Message, WorkOrder
from knowledge.models import AnswerLog, AnswerOutcome
from shops.models import Refund

# The tasks a shopper's message can be about; the other intents (greetings, FAQ answers, whose topic is
# their card, clarifications, fallbacks, hand-off requests, surveys, staff and marketing messages) are no topic.
TOPIC_INTENTS = frozenset(
    {
        Intent.RECOMMEND,
        Intent.PRODUCT_DETAIL,
        Intent.ORDER_STATUS,
        Intent.PRESALE,
        Intent.WARRANTY,
        Intent.INVOICE,
        Intent.ADDRESS_CHANGE,
        Intent.BUNDLE,
        Intent.LIVE,
    }
)
# Order ids per query: SQLite takes at most 32,766 parameters in one statement.
IN_BATCH = 5000
# A later hand-off for these reasons is the shopper asking for a human.
ASKED_FOR_HUMAN = (HandoffReason.REQUESTED, HandoffReason.ANGRY)


class LossReason(StrEnum):
    ASKED_FOR_HUMAN = "asked_for_human"
    CAME_BACK = "came_back"
    REFUND_OR_COMPLAINT = "refund_or_complaint"


# What the shopper's later conversations can show.
LATER_REASONS = frozenset({LossReason.ASKED_FOR_HUMAN, LossReason.CAME_BACK})


LOSS_LABELS = {
    LossReason.ASKED_FOR_HUMAN: _("Asked for a human"),
    LossReason.CAME_BACK: _("Came back about the same topic"),
    LossReason.REFUND_OR_COMPLAINT: _("Refund or complaint on the order"),
}


@dataclass
class Outcome:
    """One conversation, as the durable-resolution figures see it."""

    shop_id: int
    shop_name: str
    channel: str
    bot_resolved: bool
    handed_over: bool
    settled: bool
    customer_id: int | None = None
    cards: dict[int, str] = field(default_factory=dict)
    intents: set[str] = field(default_factory=set)
    reasons: set[LossReason] = field(default_factory=set)

    @property
    def durable(self) -> bool:
        return self.bot_resolved and self.settled and not self.reasons


@dataclass
class Resolution:
    """Settled conversations of a group: resolved by the bot alone (plain), and durably; the losses by reason."""

    label: str
    conversations: int = 0
    bot_resolved: int = 0
    durable: int = 0
    lost: Counter[LossReason] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.conversations += 1
        self.bot_resolved += outcome.bot_resolved
        self.durable += outcome.durable
        if outcome.bot_resolved:
            self.lost.update(outcome.reasons)

    @property
    def plain_share(self) -> float | None:
        return round(100 * self.bot_resolved / self.conversations, 1) if self.conversations else None

    @property
    def durable_share(self) -> float | None:
        return round(100 * self.durable / self.conversations, 1) if self.conversations else None

    @property
    def lost_total(self) -> int:
        return self.bot_resolved - self.durable

    def losses(self) -> list[tuple[str, str, int]]:
        """(reason, label, conversations) for every reason, in a fixed order."""
        return [(reason.value, str(LOSS_LABELS[reason]), self.lost[reason]) for reason in LossReason]


def channel_of(channel: str) -> str:
    """The channel a conversation came in by, as the reports group it."""
    return str(Conversation.Channel(channel).label) if channel in Conversation.Channel.values else channel


def _shopper(customer_id: int | None, visitor_token: str) -> tuple[str, int | str]:
    return ("c", customer_id) if customer_id is not None else ("v", visitor_token)


def outcomes(conversations: QuerySet[Conversation], now: datetime) -> dict[int, Outcome]:
    """Each conversation's outcome: bot-resolved or not, settled or not, and why a bot resolution was lost."""
    rows = list(
        conversations.values_list(
            "pk",
            "shop_id",
            "shop__name",
            "channel",
            "customer_id",
            "visitor_token",
            "status",
            "handed_over_at",
            "started_at",
            "ended_at",
            "state__order",
        )
    )
    if not rows:
        return {}
    windows = {shop_id: timedelta(days=days) for shop_id, days in window_days(list({r[1] for r in rows})).items()}
    result: dict[int, Outcome] = {}
    resolved: dict[int, tuple] = {}
    for (
        pk,
        shop_id,
        shop_name,
        channel,
        customer_id,
        token,
        status,
        handed_over_at,
        started_at,
        ended_at,
        order,
    ) in rows:
        # A closed conversation has its end; the idle close and every other close set it.
        bot_resolved = status == Conversation.Status.CLOSED and handed_over_at is None and ended_at is not None
        window = windows[shop_id]
        settled = (ended_at + window <= now) if ended_at is not None and bot_resolved else (started_at + window <= now)
        result[pk] = Outcome(
            shop_id, shop_name, channel, bot_resolved, handed_over_at is not None, settled, customer_id
        )
        if bot_resolved and settled and ended_at is not None:
            resolved[pk] = (shop_id, _shopper(customer_id, token), ended_at, ended_at + window, _order_id(order))
    _topics(result, conversations.values("pk"))
    _losses(result, resolved, conversations)
    return result


def _order_id(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _topics(result: dict[int, Outcome], ids: QuerySet) -> None:
    """The cards that answered and the tasks asked in each conversation (``ids``: a subquery of their ids)."""
    for conversation_id, card_id, question in AnswerLog.objects.filter(
        conversation_id__in=ids, outcome=AnswerOutcome.ANSWER, card__isnull=False
    ).values_list("conversation_id", "card_id", "card__question"):
        if conversation_id in result:
            result[conversation_id].cards[card_id] = question
    for conversation_id, intents in _intents(ids).items():
        if conversation_id in result:
            result[conversation_id].intents |= intents


def _intents(ids: QuerySet) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for conversation_id, intent in (
        Message.objects.filter(conversation_id__in=ids, sender=Message.Sender.SHOPPER, intent__in=TOPIC_INTENTS)
        .values_list("conversation_id", "intent")
        .distinct()
    ):
        found.setdefault(conversation_id, set()).add(intent)
    return found


def _losses(result: dict[int, Outcome], resolved: dict[int, tuple], conversations: QuerySet[Conversation]) -> None:
    """Why each settled bot resolution was lost, from the shoppers' later conversations and the orders discussed."""
    if not resolved:
        return
    first = min(r[2] for r in resolved.values())
    last = max(r[3] for r in resolved.values())
    shop_ids = {r[0] for r in resolved.values()}
    # The same shoppers' conversations in the windows (subqueries: any number of shoppers; Python keeps the
    # ones of the right shopper and window).
    later = Conversation.objects.filter(shop_id__in=shop_ids, started_at__gte=first, started_at__lte=last).filter(
        Q(customer_id__in=conversations.filter(customer__isnull=False).values("customer_id"))
        | Q(
            customer__isnull=True, visitor_token__in=conversations.filter(customer__isnull=True).values("visitor_token")
        )
    )
    later_rows = list(
        later.values_list(
            "pk", "shop_id", "customer_id", "visitor_token", "started_at", "handoff_reason", "state__order"
        )
    )
    cards: dict[int, set[int]] = {}
    for conversation_id, card_id in AnswerLog.objects.filter(
        conversation_id__in=later.values("pk"), outcome=AnswerOutcome.ANSWER, card__isnull=False
    ).values_list("conversation_id", "card_id"):
        cards.setdefault(conversation_id, set()).add(card_id)
    intents = _intents(later.values("pk"))
    # Each shopper's conversations by start, so each resolution reads only those within its window.
    by_shopper: dict[tuple[int, tuple[str, int | str]], list[tuple]] = {}
    for pk, shop_id, customer_id, token, started_at, reason, order in sorted(later_rows, key=lambda r: r[4]):
        by_shopper.setdefault((shop_id, _shopper(customer_id, token)), []).append(
            (started_at, pk, reason, _order_id(order))
        )
    starts = {key: [row[0] for row in rows] for key, rows in by_shopper.items()}
    orders = {r[4] for r in resolved.values() if r[4] is not None}
    refunds = _order_events(orders, first, last)
    for pk, (shop_id, shopper, ended_at, until, order) in resolved.items():
        outcome = result[pk]
        own_cards = set(outcome.cards)
        rows = by_shopper.get((shop_id, shopper), [])
        times = starts.get((shop_id, shopper), [])
        for _started_at, other, reason, other_order in rows[bisect_left(times, ended_at) : bisect_right(times, until)]:
            if other == pk:
                continue
            if reason in ASKED_FOR_HUMAN:
                outcome.reasons.add(LossReason.ASKED_FOR_HUMAN)
            same_card = not own_cards.isdisjoint(cards.get(other, ()))
            same_task = not outcome.intents.isdisjoint(intents.get(other, ()))
            same_order = order is not None and other_order == order
            if same_card or same_task or same_order:
                outcome.reasons.add(LossReason.CAME_BACK)
            if outcome.reasons >= LATER_REASONS:
                break  # nothing more a later conversation can add
        if order is not None and any(ended_at <= at <= until for at in refunds.get(order, ())):
            outcome.reasons.add(LossReason.REFUND_OR_COMPLAINT)


def _order_events(orders: set[int], first: datetime, last: datetime) -> dict[int, list[datetime]]:
    """When each order got a refund request or a complaint work order, between ``first`` and ``last``."""
    events: dict[int, list[datetime]] = {}
    ordered = sorted(orders)
    for start in range(0, len(ordered), IN_BATCH):
        batch = ordered[start : start + IN_BATCH]
        for order_id, at in Refund.objects.filter(
            order_id__in=batch, created_at__gte=first, created_at__lte=last
        ).values_list("order_id", "created_at"):
            events.setdefault(order_id, []).append(at)
        for order_id, at in WorkOrder.objects.filter(
            order_id__in=batch, kind=WorkOrder.Kind.COMPLAINT, created_at__gte=first, created_at__lte=last
        ).values_list("order_id", "created_at"):
            events.setdefault(order_id, []).append(at)
    return events


@dataclass
class DurableReport:
    total: Resolution
    by_shop: list[Resolution]
    by_channel: list[Resolution]
    by_card: list[Resolution]
    by_intent: list[Resolution]
    # Conversations of the range whose window is still open: counted once it closes.
    pending: int


TOP_CARDS = 15


def _grouped(items: Iterable[tuple[str, Outcome]], label: Callable[[str], str] = str) -> list[Resolution]:
    """The outcomes grouped by key, each group named by ``label(key)`` (translated once per group)."""
    groups: dict[str, Resolution] = {}
    for key, outcome in items:
        if key not in groups:
            groups[key] = Resolution(label(key))
        groups[key].add(outcome)
    return sorted(groups.values(), key=lambda r: (-r.conversations, r.label))


def durable_report(conversations: QuerySet[Conversation], now: datetime) -> DurableReport:
    """The durable-resolution figures of these conversations: in total, by shop, channel, card and intent."""
    every = outcomes(conversations, now)
    settled = [o for o in every.values() if o.settled]
    total = Resolution(str(_("All conversations")))
    for outcome in settled:
        total.add(outcome)
    return DurableReport(
        total=total,
        by_shop=_grouped((o.shop_name, o) for o in settled),
        by_channel=_grouped(((o.channel, o) for o in settled), channel_of),
        by_card=_grouped((question, o) for o in settled for question in o.cards.values())[:TOP_CARDS],
        by_intent=_grouped(((intent, o) for o in settled for intent in sorted(o.intents)), intent_label),
        pending=len(every) - len(settled),
    )
