"""Who serves a waiting shopper: agents' presence and capacity, the shop's rule, the FIFO queue, service hours.

A hand-off puts the conversation in its shop's queue (``QueueEntry``); ``assign_waiting`` then gives the
queue's entries, first come first served, to online agents with a free slot, by the shop's rule (round robin
or least busy) and the entry's skill group. It runs whenever something may let a waiting shopper through: a
hand-off, an agent freeing a slot (close, transfer), going online or getting more capacity, service hours
starting (the beat task ``chat.tasks.assign_queues``).

Exactly one agent per conversation, whatever runs at once: every assignment of a shop happens under the row
lock of its ``ServiceDesk``, so agents' loads are read and raised by one transaction at a time, and a
conversation leaves the queue only by a conditional UPDATE (waiting → with this agent). Lock order: a
transaction that locks a conversation row never waits for a desk afterwards; callers schedule
``assign_waiting`` for after their commit (``schedule_assignment``), and the desk holder may wait on
conversation rows.

A pass is set-based: one query for the queue, one for the online seats with their loads, then the whole
batch it can give in a handful of statements (``take_all``). One pass per shop runs at a time (``pass_turn``,
taken before the desk); a burst of hand-offs and closes does not queue up a pass each on the desk lock: a
call that finds a pass running returns, and the running one looks again once it ends (see
``assign_waiting`` for why nothing is lost).
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property, partial
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, Q, Value, When
from django.utils import timezone

from chat.intents import HandoffReason, Intent
from core import rows
from shops.hours import ServiceHours, service_hours
from shops.models import Membership
from shops.services import visible_shop_ids

from .frames import Colleague, GroupLoad, PresenceFrame, QueuePositionFrame, SeatLoad
from .messaging import (
    Outbox,
    agent_name,
    announce_assignment,
    announce_messages,
    announce_queue,
    announce_status,
    deliver,
    new_message,
    post_message,
)
from .models import AgentPresence, AgentSeat, Conversation, Message, QueueEntry, ServiceDesk, SkillGroup
from .signals import message_stored

Role = Membership.Role
Status = Conversation.Status
Presence = AgentSeat.Presence
Rule = ServiceDesk.Rule

# Staff who serve shoppers: the agent console, the conversation admin.
SERVICE_ROLES: tuple[str, ...] = (Role.MANAGER, Role.AGENT)
# A console that has not been heard from for this long counts as offline (its process may have died).
PRESENCE_TTL = timedelta(seconds=60)
DEFAULT_MAX_CHATS = AgentSeat._meta.get_field("max_chats").default

# The bot's intents that make a hand-off a pre-sales or an after-sales one; anything else goes to either group.
PRESALES_INTENTS = frozenset({Intent.RECOMMEND, Intent.PRODUCT_DETAIL, Intent.PRESALE, Intent.BUNDLE, Intent.LIVE})
AFTERSALES_INTENTS = frozenset({Intent.ORDER_STATUS, Intent.WARRANTY, Intent.INVOICE, Intent.ADDRESS_CHANGE})
DEFAULT_AWAY_MESSAGE = "您好，现在是非工作时间，人工客服暂时不在线。"

_ENCODER = DjangoJSONEncoder()


def iso(moment: datetime) -> str:
    return _ENCODER.default(moment)


def queue_group(shop_id: int) -> str:
    """The Channels group of the shopper sockets of one shop's waiting conversations (queue positions)."""
    return f"queue.shop.{shop_id}"


def online_agent_ids(shop_id: int) -> set[int]:
    """Agents and managers of the shop (and superusers) with a console heard from within the TTL."""
    fresh = AgentPresence.objects.filter(last_seen_at__gte=timezone.now() - PRESENCE_TTL)
    return set(
        fresh.filter(
            Q(user__is_superuser=True)
            | Q(user__memberships__shop_id=shop_id, user__memberships__role__in=SERVICE_ROLES)
        )
        .filter(user__is_active=True)
        .values_list("user_id", flat=True)
    )


def skill_group_for(conversation: Conversation, reason: str) -> str:
    """The group a hand-off goes to: after-sales for an angry shopper, else by the latest shopper message the
    bot recognised as pre- or after-sales; empty (either group) when none says."""
    if reason == HandoffReason.ANGRY:
        return SkillGroup.AFTERSALES
    recent = (
        conversation.messages.filter(sender=Message.Sender.SHOPPER)
        .exclude(intent="")
        .order_by("-pk")
        .values_list("intent", flat=True)[:10]
    )
    for intent in recent:
        if intent in PRESALES_INTENTS:
            return SkillGroup.PRESALES
        if intent in AFTERSALES_INTENTS:
            return SkillGroup.AFTERSALES
    return ""


# --- the queue ------------------------------------------------------------------------------------


def enqueue(
    conversation: Conversation, *, skill_group: str = "", at_head: bool = False, left_message: bool = False
) -> None:
    """Queue the waiting conversation (one INSERT; an entry it already has is kept as it is)."""
    entry = QueueEntry(
        conversation=conversation,
        shop_id=conversation.shop_id,
        skill_group=skill_group,
        at_head=at_head,
        left_message=left_message,
        queued_at=conversation.handed_over_at or timezone.now(),
    )
    QueueEntry.objects.bulk_create([entry], ignore_conflicts=True)


def requeue_at_head(conversation: Conversation, skill_group: str, queued_at: datetime) -> None:
    """Put the conversation first in its shop's queue again (its agent went offline, or handed it to a group)."""
    QueueEntry.objects.update_or_create(
        conversation=conversation,
        defaults={
            "shop_id": conversation.shop_id,
            "skill_group": skill_group,
            "at_head": True,
            "left_message": False,
            "queued_at": queued_at,
        },
    )


def queue_entries(shop_id: int) -> list[tuple[int, str]]:
    """The shop's waiting conversations with their skill group, first to be served first."""
    entries = QueueEntry.objects.filter(shop_id=shop_id).order_by("-at_head", "queued_at", "id")
    return list(entries.values_list("conversation_id", "skill_group"))


def queue_order(shop_id: int) -> list[int]:
    """The shop's waiting conversations, first to be served first."""
    return [conversation_id for conversation_id, _group in queue_entries(shop_id)]


def queued_shop_ids() -> list[int]:
    return list(QueueEntry.objects.order_by("shop_id").values_list("shop_id", flat=True).distinct())


def position_frame(conversation_id: int, order: list[int], opens_at: str | None) -> QueuePositionFrame:
    return {
        "type": "queue_position",
        "conversation": conversation_id,
        "position": order.index(conversation_id) + 1,
        "waiting": len(order),
        "opens_at": opens_at,
    }


def _opens_at(hours: ServiceHours, now: datetime) -> str | None:
    """When agents next serve, for a shop outside its hours (None while they serve, or with no hours ahead)."""
    if hours.is_open(now):
        return None
    opening = hours.next_opening(now)
    return iso(opening) if opening is not None else None


def current_position(conversation: Conversation) -> QueuePositionFrame | None:
    """Where the conversation stands in its shop's queue now (None: it is not queued)."""
    order = queue_order(conversation.shop_id)
    if conversation.pk not in order:
        return None
    now = timezone.now()
    return position_frame(conversation.pk, order, _opens_at(service_hours(conversation.shop_id), now))


def announce_queue_order(shop_id: int, order: list[int], opens_at: str | None, outbox: Outbox | None) -> None:
    """Every waiting shopper of the shop hears their position: one group event with the whole order."""
    event = {"type": "chat.queue_order", "shop": shop_id, "order": order, "opens_at": opens_at}
    deliver(queue_group(shop_id), event, outbox)


# --- seats: presence, capacity, load --------------------------------------------------------------


@dataclass
class Seat:
    """An online agent's seat at one shop, with the conversations they hold there now."""

    row: AgentSeat
    load: int

    @property
    def free(self) -> bool:
        return self.load < self.row.max_chats

    def takes(self, skill_group: str) -> bool:
        return self.free and (not skill_group or not self.row.skill_group or self.row.skill_group == skill_group)


def ensure_seats(user: User, shop_ids: set[int]) -> None:
    AgentSeat.objects.bulk_create([AgentSeat(user=user, shop_id=s) for s in sorted(shop_ids)], ignore_conflicts=True)


def loads(shop_id: int, user_ids: set[int] | None = None) -> Counter[int]:
    """Conversations each agent holds in the shop now."""
    held = Conversation.objects.filter(shop_id=shop_id, status=Status.AGENT, assigned_agent__isnull=False)
    if user_ids is not None:
        held = held.filter(assigned_agent_id__in=user_ids)
    counts = held.values("assigned_agent_id").annotate(n=Count("id")).values_list("assigned_agent_id", "n")
    return Counter(dict(counts))


@cache
def _serving_seats_sql() -> str:
    """The seats of a shop's online agents with the chats each holds there: written out once, since every
    hand-off and every close runs it and a QuerySet of this shape took longer to build than to run."""
    seat, user, presence, member, held = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (AgentSeat, get_user_model(), AgentPresence, Membership, Conversation)
    )
    return (
        f"SELECT s.*, u.username AS agent_username, u.first_name AS agent_first_name, "
        f"u.last_name AS agent_last_name, "
        f"(SELECT COUNT(*) FROM {held} c WHERE c.shop_id = s.shop_id AND c.status = %s "
        f"AND c.assigned_agent_id = s.user_id) AS held "
        f"FROM {seat} s INNER JOIN {user} u ON u.id = s.user_id "
        f"WHERE s.shop_id = %s AND s.presence = %s AND u.is_active "
        f"AND EXISTS (SELECT 1 FROM {presence} p WHERE p.user_id = s.user_id AND p.last_seen_at >= %s) "
        f"AND (u.is_superuser OR EXISTS (SELECT 1 FROM {member} m WHERE m.user_id = s.user_id "
        f"AND m.shop_id = s.shop_id AND m.role IN ({', '.join(['%s'] * len(SERVICE_ROLES))}))) "
        f"ORDER BY s.user_id"
    )


def serving_seats(shop_id: int) -> list[Seat]:
    """Seats of the shop's online agents (switched online, with a live console, still serving the shop), with
    the chats each holds there now, in one statement. Each seat's user carries what assignment needs of it
    (id and names, for the shopper's notice)."""
    since = timezone.now() - PRESENCE_TTL
    params = [Status.AGENT, shop_id, Presence.ONLINE, since, *SERVICE_ROLES]
    seats = []
    for row in AgentSeat.objects.raw(_serving_seats_sql(), params):
        extra = row.__dict__  # the statement's columns beyond the seat's own
        row.user = get_user_model()(
            pk=row.user_id,
            username=extra["agent_username"],
            first_name=extra["agent_first_name"],
            last_name=extra["agent_last_name"],
        )
        seats.append(Seat(row, extra["held"]))
    return seats


def _never(seat: Seat) -> datetime:
    return seat.row.last_assigned_at or datetime.min.replace(tzinfo=UTC)


def pick(seats: list[Seat], skill_group: str, rule: str) -> Seat | None:
    """The seat the rule gives the next conversation of ``skill_group`` to: round robin takes the agent
    assigned longest ago, least busy the one holding fewest (then the one assigned longest ago)."""
    able = [seat for seat in seats if seat.takes(skill_group)]
    if not able:
        return None
    if rule == Rule.LEAST_BUSY:
        return min(able, key=lambda seat: (seat.load, _never(seat), seat.row.user_id))
    return min(able, key=lambda seat: (_never(seat), seat.row.user_id))


def seat_capacity(user_id: int, shop_id: int) -> int:
    seat = AgentSeat.objects.filter(user_id=user_id, shop_id=shop_id).only("max_chats").first()
    return seat.max_chats if seat is not None else DEFAULT_MAX_CHATS


# --- assignment -----------------------------------------------------------------------------------


def locked_desk(shop_id: int) -> ServiceDesk:
    """The shop's desk row, locked until the transaction ends: the shop's assignments go one at a time."""
    desk = ServiceDesk.objects.select_for_update().filter(shop_id=shop_id).first()
    if desk is None:
        ServiceDesk.objects.bulk_create([ServiceDesk(shop_id=shop_id)], ignore_conflicts=True)
        desk = ServiceDesk.objects.select_for_update().get(shop_id=shop_id)
    return desk


# The namespace of the advisory locks that let one assignment pass per shop run at a time (any int4).
PASS_LOCK_NAMESPACE = 0x5B0E


def pass_turn(shop_id: int) -> bool:
    """Whether this transaction may run the shop's assignment pass: no other pass of the shop runs now. On
    PostgreSQL a transaction-level advisory lock, tried without waiting; elsewhere (SQLite runs one writer at
    a time) always yes."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [PASS_LOCK_NAMESPACE, shop_id])
        return bool(cursor.fetchone()[0])


class Pick(NamedTuple):
    """One waiting conversation for one agent, and when it was given (round robin's turn)."""

    conversation_id: int
    agent: User
    at: datetime


def match(seats: list[Seat], entries: list[tuple[int, str]], rule: str) -> list[Pick]:
    """The queue's entries, head first, each to the seat the rule picks among the free ones of its group
    (counted into the seats' loads and turns as it goes)."""
    picks: list[Pick] = []
    for conversation_id, skill_group in entries:
        if not any(seat.free for seat in seats):
            break
        seat = pick(seats, skill_group, rule)
        if seat is None:
            continue  # nobody of its group is free: later entries of the other group may go ahead
        seat.load += 1
        seat.row.last_assigned_at = timezone.now()
        picks.append(Pick(conversation_id, seat.row.user, seat.row.last_assigned_at))
    return picks


class ShopHours:
    """A shop's service hours at one moment, read the first time they matter (never, when nobody waits)."""

    def __init__(self, shop_id: int, now: datetime) -> None:
        self.shop_id, self.now = shop_id, now

    @cached_property
    def hours(self) -> ServiceHours:
        return service_hours(self.shop_id)

    def serving(self) -> bool:
        return self.hours.is_open(self.now)

    def opens_at(self) -> str | None:
        return _opens_at(self.hours, self.now)


def planned(shop_id: int, rule: str, hours: ShopHours) -> tuple[list[Pick], list[tuple[int, str]]]:
    """What a pass would assign now, and the queue it was read from (two queries; one when nobody waits)."""
    entries = queue_entries(shop_id)
    seats = serving_seats(shop_id) if entries and rule != Rule.MANUAL and hours.serving() else []
    return match(seats, entries, rule), entries


def greeting(agent: User) -> str:
    """The shopper's notice that an agent now serves them."""
    return f"客服 {agent_name(agent)} 为您服务，请问有什么可以帮您？"


_TAKE_SQL = (
    "UPDATE {table} SET status = %s, assigned_agent_id = CASE id {cases} END "
    "WHERE shop_id = %s AND status = %s AND id IN ({ids}) RETURNING id"
)
_TOUCH_SQL = "UPDATE {table} SET last_message_at = %s WHERE id IN ({ids})"


def take_all(shop_id: int, picks: list[Pick], *, outbox: Outbox | None = None) -> list[Conversation]:
    """Give waiting conversations of the shop to the picked agents (the caller holds the desk lock and has
    checked capacity), in a handful of statements whatever their number: one conditional UPDATE (waiting →
    with this agent) RETURNING those still waiting, their queue entries deleted, one INSERT of the shoppers'
    notices, the agents' turns. Returns the conversations given; one closed meanwhile is left out."""
    if not picks:
        return []
    table = connection.ops.quote_name(Conversation._meta.db_table)
    ids = [p.conversation_id for p in picks]
    placeholders = ", ".join(["%s"] * len(ids))
    cases = " ".join(["WHEN %s THEN %s"] * len(picks))
    params: list[int | str] = [Status.AGENT]
    params += [value for p in picks for value in (p.conversation_id, p.agent.pk)]
    params += [shop_id, Status.WAITING, *ids]
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL.format(table=table, cases=cases, ids=placeholders), params)
        taken = {row[0] for row in cursor.fetchall()}
    QueueEntry.objects.filter(conversation_id__in=ids).delete()
    given = [p for p in picks if p.conversation_id in taken]
    if not given:
        return []
    turns = {p.agent.pk: p.at for p in given}  # each agent's latest
    AgentSeat.objects.filter(shop_id=shop_id, user_id__in=turns).update(
        last_assigned_at=Case(
            *[When(user_id=u, then=Value(at)) for u, at in turns.items()], output_field=DateTimeField()
        )
    )
    # What the announcements and the notices need, without reading the rows back.
    conversations = [
        Conversation(pk=p.conversation_id, shop_id=shop_id, status=Status.AGENT, assigned_agent=p.agent) for p in given
    ]
    notices = [
        new_message(
            c, Message.Sender.SYSTEM, f"客服 {agent_name(p.agent)} 为您服务，请问有什么可以帮您？", agent=p.agent
        )
        for c, p in zip(conversations, given, strict=True)
    ]
    rows.insert(notices)
    with connection.cursor() as cursor:
        cursor.execute(
            _TOUCH_SQL.format(table=table, ids=", ".join(["%s"] * len(given))),
            [notices[0].created_at, *(c.pk for c in conversations)],
        )
    for conversation, notice in zip(conversations, notices, strict=True):
        conversation.last_message_at = notice.created_at
        transaction.on_commit(partial(message_stored.send, sender=Message, message=notice))
        announce_status(conversation, outbox)
        announce_assignment(conversation, outbox)
        announce_messages(conversation, [notice], outbox)
    announce_queue(shop_id, outbox)
    return conversations


def take(shop_id: int, conversation_id: int, agent: User, *, outbox: Outbox | None = None) -> Conversation | None:
    """Give one waiting conversation of the shop to ``agent`` (the caller holds the desk lock and has checked
    capacity). None when it no longer waits: closed meanwhile, or someone else has it."""
    given = take_all(shop_id, [Pick(conversation_id, agent, timezone.now())], outbox=outbox)
    return given[0] if given else None


def assign_waiting(shop_id: int, *, outbox: Outbox | None = None) -> list[Conversation]:
    """Give the shop's queue, head first, to its online agents with free slots (not under the manual rule, and
    only in service hours); every waiting shopper then hears their position. Returns what this call assigned.

    A burst of hand-offs and closes asks for many passes at once; one runs at a time per shop (``pass_turn``)
    and the others return at once, leaving their work to it: after each pass the runner looks again, without
    any lock, and passes again while the look finds something to assign. Nothing is lost: a call that found
    the turn taken had committed its change (its queue entry, the slot it freed) before it tried, hence before
    the running pass ended, hence before the runner's look, which reads committed rows afresh (READ
    COMMITTED). Should another call take the turn between a pass and the next, it read the queue after
    taking it, so it sees the change in its turn. A pass and the look read the same way (``planned``), so the
    loop ends: it goes on only while assignments happen or others change the queue. The position event goes
    out once, from the last look, which also postdates every change a skipped call made.
    """
    assigned: list[Conversation] = []
    hours = ShopHours(shop_id, timezone.now())  # read once per call, by a call that gets the turn
    while True:
        with transaction.atomic():
            if not pass_turn(shop_id):
                return assigned  # the pass running now looks again once it ends
            rule = locked_desk(shop_id).rule
            picks, _entries = planned(shop_id, rule, hours)
            assigned += take_all(shop_id, picks, outbox=outbox)
        # The look reads as the pass did, under the rule the pass read: a rule changed since schedules a
        # pass of its own (``save_desk``), and a pass reads the rule afresh under the lock.
        picks, entries = planned(shop_id, rule, hours)
        if not picks:
            break
    order = [conversation_id for conversation_id, _group in entries]
    announce_queue_order(shop_id, order, hours.opens_at() if order else None, outbox)
    return assigned


def schedule_assignment(shop_id: int, outbox: Outbox | None = None) -> None:
    """Run ``assign_waiting`` for the shop once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: assign_waiting(shop_id, outbox=outbox))


def requeue_held(user_id: int, *, keep_shop_ids: Collection[int] = (), outbox: Outbox | None = None) -> set[int]:
    """The conversations the agent holds (outside ``keep_shop_ids``) go back to the head of their shop's
    queue, each shopper told so. Returns the shops whose queues changed (their assignment is scheduled)."""
    held = Conversation.objects.filter(assigned_agent_id=user_id, status=Status.AGENT).exclude(
        shop_id__in=keep_shop_ids
    )
    shops: set[int] = set()
    for conversation_id in held.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(of=("self",)).select_related("shop").get(pk=conversation_id)
            )
            if conversation.assigned_agent_id != user_id or conversation.status != Status.AGENT:
                continue
            conversation.status = Status.WAITING
            conversation.assigned_agent = None
            conversation.save(update_fields=["status", "assigned_agent"])
            group = skill_group_for(conversation, conversation.handoff_reason)
            requeue_at_head(conversation, group, conversation.handed_over_at or timezone.now())
            announce_status(conversation, outbox)
            announce_queue(conversation.shop_id, outbox)
            text = "刚才的客服暂时离开了，正在为您优先转接其他客服，请稍候～"
            post_message(conversation, Message.Sender.SYSTEM, text, outbox=outbox)
            shops.add(conversation.shop_id)
    for shop_id in shops:
        schedule_assignment(shop_id, outbox)
    return shops


def serving_shop_ids(user: User | AnonymousUser) -> set[int]:
    """Shops whose shoppers ``user`` may serve (agent or manager role; every shop for a superuser)."""
    return visible_shop_ids(user, SERVICE_ROLES)


def set_presence(user: User, presence: str, *, outbox: Outbox | None = None) -> None:
    """Switch the agent online, away or offline in every shop they serve. Online lets the queues through to
    them at once; offline sends the chats they hold back to the head of the queue; away keeps them."""
    shop_ids = serving_shop_ids(user)
    ensure_seats(user, shop_ids)
    AgentSeat.objects.filter(user=user, shop_id__in=shop_ids).exclude(presence=presence).update(
        presence=presence, presence_changed_at=timezone.now()
    )
    if presence == Presence.OFFLINE:
        requeue_held(user.pk, outbox=outbox)
    elif presence == Presence.ONLINE:
        for shop_id in sorted(shop_ids):
            schedule_assignment(shop_id, outbox)


def save_seat(seat: AgentSeat) -> AgentSeat:
    """A manager changed an agent's maximum or group (the admin): the queue may now go through to them."""
    seat.save(update_fields=["max_chats", "skill_group"])
    schedule_assignment(seat.shop_id)
    return seat


def save_desk(desk: ServiceDesk) -> ServiceDesk:
    """A manager changed the shop's rule or away message (the admin): from manual on, the queue is assigned."""
    desk.save()
    schedule_assignment(desk.shop_id)
    return desk


def presence_frame(user: User) -> PresenceFrame:
    """The agent's presence and, per shop, the chats they hold against their maximum."""
    seats = list(
        AgentSeat.objects.filter(user=user, shop_id__in=serving_shop_ids(user))
        .select_related("shop")
        .order_by("shop__name")
    )
    rows: list[SeatLoad] = []
    for seat in seats:
        rows.append(
            {
                "shop": seat.shop_id,
                "shop_name": seat.shop.name,
                "load": loads(seat.shop_id, {user.pk})[user.pk],
                "max_chats": seat.max_chats,
                "skill_group": seat.skill_group,
            }
        )
    present = {seat.presence for seat in seats}
    presence = next((p for p in (Presence.ONLINE, Presence.AWAY) if p in present), Presence.OFFLINE)
    return {"type": "presence", "status": presence, "seats": rows}


def transfer_options(shop_id: int, exclude_user_id: int) -> tuple[list[Colleague], list[GroupLoad]]:
    """Who a conversation of the shop can go to: online colleagues with their load, and each skill group with
    its online agents' load and capacity."""
    online = online_agent_ids(shop_id)
    online_seats = AgentSeat.objects.filter(shop_id=shop_id, user_id__in=online).select_related("user")
    seats = {seat.user_id: seat for seat in online_seats}
    counts = loads(shop_id, online)
    colleagues: list[Colleague] = []
    for user_id, seat in sorted(seats.items(), key=lambda item: agent_name(item[1].user)):
        if user_id == exclude_user_id:
            continue
        colleagues.append(
            {
                "id": user_id,
                "name": agent_name(seat.user),
                "presence": seat.presence,
                "skill_group": seat.skill_group,
                "load": counts[user_id],
                "max_chats": seat.max_chats,
            }
        )
    groups: list[GroupLoad] = []
    for value, label in SkillGroup.choices:
        members = [s for s in seats.values() if s.presence == Presence.ONLINE and s.skill_group in ("", value)]
        groups.append(
            {
                "group": value,
                "name": str(label),
                "online": len(members),
                "load": sum(counts[s.user_id] for s in members),
                "capacity": sum(s.max_chats for s in members),
            }
        )
    return colleagues, groups
