"""Exactly one agent per conversation, and no agent over their maximum, when assignments race: on PostgreSQL
(its row locks are what chat.assignment relies on), with threads on separate connections doing at the same
instant what two agents, two workers or many shoppers would. SQLite serialises every writer, so there is no
race to show on it: the tests skip there (.ci/run runs the suite on PostgreSQL too)."""

import threading
from collections import Counter

import pytest
from django.conf import settings
from django.db import connections

from chat import assignment, services
from chat.models import Conversation, Message, ServiceDesk
from tests.assignment_support import holder, online_agent, set_rule, shopper_asking

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]
Status = Conversation.Status
SERVING = "为您服务"


def at_once(*calls):
    """Run each call in its own thread (its own database connection), all released together; re-raise."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            barrier.wait()
            call()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


def greetings(conversation: Conversation) -> int:
    """How many times an agent was announced to the shopper: once per assignment."""
    return Message.objects.filter(
        conversation=conversation, sender=Message.Sender.SYSTEM, text__contains=SERVING
    ).count()


def accept_if_free(conversation: Conversation, agent) -> None:
    """The agent accepts by hand; refused (the slot or the conversation already taken) is a fine outcome."""
    try:
        services.accept_conversation(conversation, agent)
    except services.ChatError as error:
        assert error.code in ("at_capacity", "not_waiting")


def test_two_agents_freeing_a_slot_at_once_take_the_head_of_the_queue_exactly_once(shop_a):
    set_rule(shop_a, ServiceDesk.Rule.ROUND_ROBIN)
    first = online_agent(shop_a, "first", max_chats=1)
    second = online_agent(shop_a, "second", max_chats=1)
    for _round in range(5):
        for _agent in (first, second):
            shopper_asking(shop_a)
        held = {c.assigned_agent_id: c.pk for c in Conversation.objects.filter(status=Status.AGENT)}
        assert set(held) == {first.pk, second.pk}
        waiting = shopper_asking(shop_a)
        assert holder(waiting) is None
        first_held, second_held = held[first.pk], held[second.pk]
        at_once(
            lambda: services.close_held_conversation(first, first_held),  # noqa: B023  (joined before the loop goes on)
            lambda: services.close_held_conversation(second, second_held),  # noqa: B023
        )
        assert holder(waiting) in (first.pk, second.pk)
        assert greetings(waiting) == 1
        # Back to both free for the next round.
        services.close_held_conversation(Conversation.objects.get(pk=waiting.pk).assigned_agent, waiting.pk)


def test_two_workers_assigning_the_same_queue_at_once_assign_each_conversation_once(shop_a):
    set_rule(shop_a, ServiceDesk.Rule.MANUAL)
    agents = [online_agent(shop_a, f"agent-{n}", max_chats=2) for n in range(3)]
    waiting = [shopper_asking(shop_a) for _ in range(8)]
    ServiceDesk.objects.filter(shop=shop_a).update(rule=ServiceDesk.Rule.LEAST_BUSY)
    at_once(*[lambda: assignment.assign_waiting(shop_a.pk) for _ in range(4)])
    holders = [holder(c) for c in waiting]
    assert holders[:6].count(None) == 0 and holders[6:] == [None, None]  # first come, first served
    assert Counter(holders[:6]) == {agent.pk: 2 for agent in agents}  # nobody over their maximum
    assert [greetings(c) for c in waiting] == [1] * 6 + [0, 0]


def test_many_shoppers_asking_at_once_never_overfill_an_agent(shop_a):
    set_rule(shop_a, ServiceDesk.Rule.ROUND_ROBIN)
    agents = [online_agent(shop_a, f"agent-{n}", max_chats=3) for n in range(3)]
    conversations = [
        Conversation.objects.create(shop=shop_a, visitor_token=services.new_visitor_token()) for _ in range(24)
    ]
    batches = [conversations[n::8] for n in range(8)]
    at_once(*[lambda batch=batch: [services.request_handoff(c, "requested") for c in batch] for batch in batches])
    holders = [holder(c) for c in conversations]
    assert Counter(h for h in holders if h is not None) == {agent.pk: 3 for agent in agents}
    assert holders.count(None) == 15
    assert sum(greetings(c) for c in conversations) == 9
    assert len(assignment.queue_order(shop_a.pk)) == 15


def test_an_agent_accepting_by_hand_while_a_pass_assigns_never_goes_over_their_maximum(shop_a):
    set_rule(shop_a, ServiceDesk.Rule.MANUAL)
    agent = online_agent(shop_a, "only", max_chats=1)
    for _round in range(5):
        first, second = shopper_asking(shop_a), shopper_asking(shop_a)
        ServiceDesk.objects.filter(shop=shop_a).update(rule=ServiceDesk.Rule.ROUND_ROBIN)
        at_once(lambda: assignment.assign_waiting(shop_a.pk), lambda: accept_if_free(second, agent))  # noqa: B023
        held = [c for c in (first, second) if holder(c) == agent.pk]
        assert len(held) == 1
        assert sum(greetings(c) for c in (first, second)) == 1
        # Back to an empty desk under the manual rule for the next round.
        set_rule(shop_a, ServiceDesk.Rule.MANUAL)
        for conversation in (first, second):
            services.close_as_staff(agent, conversation.pk)
