"""The back office's home page: for each role the user holds, that role's numbers and to-dos, counted from
the shops where the user holds that role (a superuser: every shop, seen as a manager).

trainer: unanswered question groups and cards to review; agent: the waiting queue and their own
conversations; manager: today's KPIs and what needs attention; QA: findings to review.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.intents import handoff_reason_label
from chat.models import Conversation, WorkOrder
from core import shoptime
from knowledge.models import AnswerLog, AnswerOutcome, FAQCard, UnansweredQuestion
from knowledge.services import group_unanswered
from shops.models import Membership, Shop
from shops.quota import current_warnings, warning_text
from shops.services import visible_shops

from ..models import QAFinding, Severity
from .dashboard import build_dashboard, cost_per_agent_day_default

Role = Membership.Role

# How many rows each to-do list shows; its link opens the whole list.
TODO_ROWS = 6
# Unanswered questions grouped per shop for the home page (the groups page takes 300).
GROUPED_QUESTIONS = 200
# A card whose answers ended in "do you mean…" this often in this long needs clearer similar questions.
CLARIFY_WINDOW = timedelta(days=7)
CLARIFY_REVIEW_AT = 3


@dataclass
class Figure:
    label: str
    value: object
    note: str = ""


@dataclass
class Todo:
    text: str
    detail: str
    link: str
    shop: str = ""


@dataclass
class RoleHome:
    role: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    todo_title: str = ""
    todos: list[Todo] = field(default_factory=list)
    all_link: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


def _local(moment: datetime | None, shop: Shop) -> str:
    """A time as the lists show it, in the shop's own timezone."""
    if moment is None:
        return "—"
    return moment.astimezone(shop.tz).strftime("%m-%d %H:%M")


def _today_start(shops: list[Shop], now: datetime) -> datetime:
    """The start of today for the earliest of the shops' days (one cut for a home page spanning zones)."""
    return min(shoptime.start_of_day(now, shop.tz) for shop in shops)


def cards_to_review(shop_ids: list[int], now: datetime) -> list[tuple[FAQCard, str]]:
    """The shops' cards a trainer should look at: still enabled after their validity ended (an expired
    presale answer), or answered with "do you mean…" ``CLARIFY_REVIEW_AT`` times or more in the last week."""
    expired = FAQCard.objects.filter(shop_id__in=shop_ids, enabled=True, valid_to__lt=now).select_related("shop")
    rows: list[tuple[FAQCard, str]] = [(card, str(_("validity ended"))) for card in expired.order_by("valid_to")]
    unclear = (
        FAQCard.objects.filter(shop_id__in=shop_ids, enabled=True)
        .annotate(
            clarified=Count(
                "answer_logs",
                filter=Q(
                    answer_logs__outcome=AnswerOutcome.CLARIFY,
                    answer_logs__created_at__gte=now - CLARIFY_WINDOW,
                ),
            )
        )
        .filter(clarified__gte=CLARIFY_REVIEW_AT)
        .select_related("shop")
        .order_by("-clarified", "pk")
    )
    seen = {card.pk for card, _reason in rows}
    rows += [
        (card, str(_("%(count)d “do you mean…” answers this week") % {"count": card.clarified}))
        for card in unclear
        if card.pk not in seen
    ]
    return rows


def _finding_todo(finding: QAFinding, with_severity: bool = False) -> Todo:
    parts = [finding.get_kind_display(), _local(finding.created_at, finding.shop)]
    if with_severity:
        parts.insert(0, finding.get_severity_display())
    return Todo(
        finding.evidence or finding.get_kind_display(),
        " · ".join(str(part) for part in parts),
        reverse("admin:analytics_qafinding_change", args=[finding.pk]),
        finding.shop.name,
    )


def trainer_home(shops: list[Shop], now: datetime) -> RoleHome:
    shop_ids = [shop.pk for shop in shops]
    open_questions = UnansweredQuestion.objects.filter(shop_id__in=shop_ids, status=UnansweredQuestion.Status.OPEN)
    groups = []
    for shop in shops:
        questions = list(open_questions.filter(shop=shop).order_by("-times_asked", "pk")[:GROUPED_QUESTIONS])
        groups += [(shop, group) for group in group_unanswered(shop, questions)] if questions else []
    groups.sort(key=lambda item: -sum(q.times_asked for q in item[1]))
    review = cards_to_review(shop_ids, now)
    today = AnswerLog.objects.filter(shop_id__in=shop_ids, created_at__gte=_today_start(shops, now))
    answered = today.filter(outcome=AnswerOutcome.ANSWER).count()
    asked = today.count()
    groups_link = reverse("admin:knowledge_unanswered_groups")
    return RoleHome(
        role=Role.TRAINER,
        title=str(_("AI trainer")),
        figures=[
            Figure(
                str(_("Unanswered groups")),
                len(groups),
                str(_("%(count)d questions") % {"count": open_questions.count()}),
            ),
            Figure(str(_("Cards to review")), len(review)),
            Figure(str(_("Answered by a card today")), f"{answered} / {asked}"),
        ],
        todo_title=str(_("Unanswered questions, most asked first")),
        todos=[
            Todo(
                group[0].text,
                str(
                    _("asked %(times)d times, %(count)d wordings")
                    % {"times": sum(q.times_asked for q in group), "count": len(group)}
                ),
                groups_link,
                shop.name,
            )
            for shop, group in groups[:TODO_ROWS]
        ]
        + [
            Todo(card.question, reason, reverse("admin:knowledge_faqcard_change", args=[card.pk]), str(card.shop))
            for card, reason in review[:TODO_ROWS]
        ],
        all_link=groups_link,
        links=[
            (str(_("FAQ cards")), reverse("admin:knowledge_faqcard_changelist")),
            (str(_("Try the bot")), reverse("admin:knowledge_faqcard_try")),
        ],
    )


def agent_home(user: User, shops: list[Shop], now: datetime) -> RoleHome:
    shop_ids = [shop.pk for shop in shops]
    by_id = {shop.pk: shop for shop in shops}
    conversations = Conversation.objects.filter(shop_id__in=shop_ids)
    waiting = conversations.filter(status=Conversation.Status.WAITING).order_by("handed_over_at", "pk")
    mine = conversations.filter(status=Conversation.Status.AGENT, assigned_agent=user).count()
    closed_today = conversations.filter(
        assigned_agent=user, status=Conversation.Status.CLOSED, ended_at__gte=_today_start(shops, now)
    ).count()
    work_orders = WorkOrder.objects.filter(shop_id__in=shop_ids, status=WorkOrder.Status.OPEN)
    return RoleHome(
        role=Role.AGENT,
        title=str(_("Agent")),
        figures=[
            Figure(str(_("Waiting for an agent")), waiting.count()),
            Figure(str(_("My open conversations")), mine),
            Figure(str(_("Closed by me today")), closed_today),
            Figure(str(_("Open work orders")), work_orders.count()),
        ],
        todo_title=str(_("Queue, longest waiting first")),
        todos=[
            Todo(
                str(_("Conversation #%(id)d") % {"id": conversation.pk}),
                str(
                    _("%(reason)s · waiting since %(time)s")
                    % {
                        "reason": handoff_reason_label(conversation.handoff_reason),
                        "time": _local(conversation.handed_over_at, by_id[conversation.shop_id]),
                    }
                ),
                "/agent/",
                by_id[conversation.shop_id].name,
            )
            for conversation in waiting[:TODO_ROWS]
        ],
        all_link="/agent/",
        links=[
            (str(_("Open the agent console")), "/agent/"),
            (str(_("Work orders")), reverse("admin:chat_workorder_changelist") + "?status__exact=open"),
        ],
    )


def manager_home(shops: list[Shop], now: datetime) -> RoleHome:
    shop_ids = [shop.pk for shop in shops]
    today = shoptime.local_date(now, shops[0].tz)
    dashboard = build_dashboard(shop_ids, today, today, cost_per_agent_day_default())
    totals = dashboard.totals
    high = QAFinding.objects.filter(
        shop_id__in=shop_ids, status=QAFinding.Status.OPEN, severity=Severity.HIGH
    ).select_related("shop", "rule")
    waiting = Conversation.objects.filter(shop_id__in=shop_ids, status=Conversation.Status.WAITING).count()
    alerts = [
        Todo(warning_text(warning), str(_("bot quota")), reverse("admin:shops_shop_overview"), warning.shop.name)
        for warning in current_warnings(shops, now)
    ]
    if waiting:
        alerts.append(
            Todo(str(_("%(count)d shoppers waiting for an agent") % {"count": waiting}), str(_("queue")), "/agent/")
        )
    alerts += [_finding_todo(finding) for finding in high.order_by("-created_at")[:TODO_ROWS]]

    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value}%"

    return RoleHome(
        role=Role.MANAGER,
        title=str(_("Manager")),
        figures=[
            Figure(str(_("Conversations today")), totals.conversations),
            Figure(str(_("Resolved by the bot alone")), percent(totals.bot_resolved_share), str(totals.bot_resolved)),
            Figure(str(_("Hand-off rate")), percent(totals.handoff_rate), str(totals.handed_over)),
            Figure(
                str(_("Satisfaction (好评率)")),
                percent(totals.satisfaction_rate),
                f"{totals.satisfied} / {totals.rated}",
            ),
            Figure(str(_("Open high-severity findings")), high.count()),
        ],
        todo_title=str(_("Alerts")),
        todos=alerts,
        all_link=reverse("admin:analytics_dashboard"),
        links=[
            (str(_("KPI dashboard")), reverse("admin:analytics_dashboard")),
            (str(_("All my shops")), reverse("admin:shops_shop_overview")),
        ],
    )


def qa_home(shops: list[Shop], now: datetime) -> RoleHome:
    shop_ids = [shop.pk for shop in shops]
    open_findings = QAFinding.objects.filter(shop_id__in=shop_ids, status=QAFinding.Status.OPEN)
    severity_order: dict[str, int] = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    first = sorted(
        open_findings.select_related("shop").order_by("-created_at")[:200],
        key=lambda finding: severity_order.get(finding.severity, 3),
    )
    reviewed_today = QAFinding.objects.filter(shop_id__in=shop_ids, reviewed_at__gte=_today_start(shops, now)).exclude(
        status=QAFinding.Status.OPEN
    )
    changelist = reverse("admin:analytics_qafinding_changelist")
    return RoleHome(
        role=Role.QA,
        title=str(_("QA reviewer")),
        figures=[
            Figure(str(_("Findings to review")), open_findings.count()),
            Figure(str(_("High severity")), open_findings.filter(severity=Severity.HIGH).count()),
            Figure(str(_("Reviewed today")), reviewed_today.count()),
        ],
        todo_title=str(_("Findings to review, most severe first")),
        todos=[_finding_todo(finding, with_severity=True) for finding in first[:TODO_ROWS]],
        all_link=f"{changelist}?status__exact=open",
        links=[(str(_("Agent scorecards")), reverse("admin:analytics_scorecards"))],
    )


def build_home(user: User | AnonymousUser, shop_id: int | None = None, now: datetime | None = None) -> list[RoleHome]:
    """The home sections of ``user``, one per role held (in the order manager, trainer, agent, QA), each over
    the shops where the user holds that role; ``shop_id`` (the shop switcher) narrows them to one shop."""
    if not isinstance(user, User):
        return []  # anonymous: no shop, no role
    now = now or timezone.now()
    sections: list[RoleHome] = []
    for role in (Role.MANAGER, Role.TRAINER, Role.AGENT, Role.QA):
        if user.is_superuser and role != Role.MANAGER:
            continue  # a superuser's home is the manager's, over every shop
        shops = visible_shops(user, (role,)).order_by("name")
        if shop_id is not None:
            shops = shops.filter(pk=shop_id)
        shop_list = list(shops)
        if not shop_list:
            continue
        if role == Role.MANAGER:
            sections.append(manager_home(shop_list, now))
        elif role == Role.TRAINER:
            sections.append(trainer_home(shop_list, now))
        elif role == Role.AGENT:
            sections.append(agent_home(user, shop_list, now))
        else:
            sections.append(qa_home(shop_list, now))
    return sections
