"""Service levels for the KPI dashboard: % SLA met and the median first response time, by shop and by agent.

Over the conversations handed to the agents that started in the range. The first response is the first
agent message after the hand-off; the agent who sent it is the one the conversation counts for. A
conversation meets its shop's SLA when that first response came by its due time (chat.sla, business
hours included) and no next-response breach was recorded; one still within its first-response target
with no answer yet is not decided and counts in neither share.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from chat.models import Conversation, Message, SlaBreach, SlaPolicy
from chat.services import agent_name
from chat.sla import due_at
from shops.hours import ServiceHours, service_hours


@dataclass
class ServiceLevel:
    name: str
    handed_over: int = 0
    answered: int = 0
    decided: int = 0  # conversations of a shop with a policy whose SLA outcome is known
    met: int = 0
    response_seconds: list[float] = field(default_factory=list)

    @property
    def sla_met_share(self) -> float | None:
        return round(100 * self.met / self.decided, 1) if self.decided else None

    @property
    def median_first_response(self) -> float | None:
        """Seconds, or None when nobody has answered yet."""
        return round(median(self.response_seconds), 1) if self.response_seconds else None


@dataclass
class ServiceLevels:
    by_shop: list[ServiceLevel]
    by_agent: list[ServiceLevel]


def _first_answer(column: str) -> Subquery:
    answers = Message.objects.filter(
        conversation_id=OuterRef("pk"), sender=Message.Sender.AGENT, created_at__gte=OuterRef("handed_over_at")
    ).order_by("pk")
    return Subquery(answers.values(column)[:1])


def service_levels(conversations: QuerySet[Conversation], now: datetime | None = None) -> ServiceLevels:
    now = now or timezone.now()
    rows = (
        conversations.filter(handed_over_at__isnull=False)
        .annotate(
            answered_at=_first_answer("created_at"),
            answered_by=_first_answer("agent_id"),
            next_missed=Exists(
                SlaBreach.objects.filter(conversation_id=OuterRef("pk"), kind=SlaBreach.Kind.NEXT_RESPONSE)
            ),
        )
        .values("shop_id", "shop__name", "handed_over_at", "answered_at", "answered_by", "next_missed")
        .order_by("handed_over_at")  # earliest first: a shop's hours are read from its first hand-off on
    )
    policies = SlaPolicy.objects.filter(shop_id__in=conversations.values("shop_id")).select_related("shop")
    policy_of = {p.shop_id: p for p in policies}
    hours: dict[int, ServiceHours] = {}
    shops: dict[int, ServiceLevel] = {}
    agents: dict[int, ServiceLevel] = defaultdict(lambda: ServiceLevel(""))
    for row in rows:
        level = shops.setdefault(row["shop_id"], ServiceLevel(row["shop__name"]))
        counted = [level]
        if row["answered_by"] is not None:
            counted.append(agents[row["answered_by"]])
        policy = policy_of.get(row["shop_id"])
        met: bool | None = None
        started = row["handed_over_at"]
        assert started is not None  # handed-over conversations only
        if policy is not None:
            if policy.business_hours_only and policy.shop_id not in hours:
                hours[policy.shop_id] = service_hours(policy.shop_id)
            due = due_at(policy, started, policy.first_response_minutes, hours.get(policy.shop_id))
            answered = row["answered_at"]
            if answered is not None:
                met = answered <= due and not row["next_missed"]
            elif now > due:
                met = False
        for each in counted:
            each.handed_over += 1
            if row["answered_at"] is not None:
                each.answered += 1
                each.response_seconds.append((row["answered_at"] - started).total_seconds())
            if met is not None:
                each.decided += 1
                each.met += met
    users = get_user_model().objects.in_bulk(list(agents))
    for user_id, level in agents.items():
        level.name = agent_name(users[user_id]) if user_id in users else str(user_id)
    return ServiceLevels(
        by_shop=sorted(shops.values(), key=lambda level: level.name),
        by_agent=sorted(agents.values(), key=lambda level: level.name),
    )
