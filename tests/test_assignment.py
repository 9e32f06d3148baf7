"""Automatic assignment (chat.assignment): each rule and skill group, capacity, FIFO order, a freed slot or an
agent coming online letting the head of the queue through, requeue at the head on going offline."""

import pytest

from chat import assignment, services, tasks
from chat.intents import Intent
from chat.models import AgentPresence, AgentSeat, Conversation, Message, QueueEntry, ServiceDesk, SkillGroup
from tests.assignment_support import holder, online_agent, set_rule, shopper_asking

# Assignment runs after the hand-off's transaction commits: the rows must really commit.
pytestmark = pytest.mark.django_db(transaction=True)
Rule = ServiceDesk.Rule
Presence = AgentSeat.Presence


def test_round_robin_takes_turns_among_online_agents(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    first, second = online_agent(shop_a, "amy"), online_agent(shop_a, "bob")
    holders = [holder(shopper_asking(shop_a)) for _ in range(4)]
    assert holders == [first.pk, second.pk, first.pk, second.pk]


def test_least_busy_gives_the_next_chat_to_whoever_holds_fewest(shop_a):
    set_rule(shop_a, Rule.MANUAL)
    busy = online_agent(shop_a, "busy")
    for _ in range(2):
        services.accept_conversation(shopper_asking(shop_a), busy)
    idle = online_agent(shop_a, "idle")
    set_rule(shop_a, Rule.LEAST_BUSY)
    holders = [holder(shopper_asking(shop_a)) for _ in range(3)]
    # idle holds 0 then 1 (< 2): both to idle; then 2 each, and busy was assigned longer ago.
    assert holders == [idle.pk, idle.pk, busy.pk]


def test_the_manual_rule_leaves_the_queue_to_the_agents(shop_a):
    online_agent(shop_a, "amy")
    conversation = shopper_asking(shop_a)
    assert conversation.status == Conversation.Status.WAITING and holder(conversation) is None


def test_the_bots_intent_picks_the_skill_group(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    presales = online_agent(shop_a, "pre", skill_group=SkillGroup.PRESALES)
    aftersales = online_agent(shop_a, "after", skill_group=SkillGroup.AFTERSALES)
    where = shopper_asking(shop_a, ("我的快递到哪了", Intent.ORDER_STATUS))
    which = shopper_asking(shop_a, ("推荐一双跑鞋", Intent.RECOMMEND))
    angry = shopper_asking(shop_a, ("你们是黑店", Intent.HANDOFF), reason="angry")
    assert holder(where) == aftersales.pk
    assert holder(which) == presales.pk
    assert holder(angry) == aftersales.pk


def test_a_hand_off_of_no_group_goes_to_either_and_a_group_without_free_agents_waits(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    presales = online_agent(shop_a, "pre", skill_group=SkillGroup.PRESALES, max_chats=1)
    after = shopper_asking(shop_a, ("发票怎么开", Intent.INVOICE))
    anything = shopper_asking(shop_a, ("你好", Intent.GREETING))
    assert holder(after) is None  # nobody of 售后 online: it waits ...
    assert holder(anything) == presales.pk  # ... and does not hold up the next shopper
    assert QueueEntry.objects.get(conversation=after).skill_group == SkillGroup.AFTERSALES


def test_capacity_is_respected_and_a_freed_slot_takes_the_head_of_the_queue_at_once(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    agent = online_agent(shop_a, "amy", max_chats=2)
    first, second, third, fourth = (shopper_asking(shop_a) for _ in range(4))
    assert [holder(c) for c in (first, second, third, fourth)] == [agent.pk, agent.pk, None, None]
    services.close_held_conversation(agent, first.pk)
    assert holder(third) == agent.pk and holder(fourth) is None
    assert assignment.queue_order(shop_a.pk) == [fourth.pk]


def test_the_queue_is_first_come_first_served_when_an_agent_comes_online(shop_a):
    set_rule(shop_a, Rule.LEAST_BUSY)
    waiting = [shopper_asking(shop_a) for _ in range(3)]
    assert assignment.queue_order(shop_a.pk) == [c.pk for c in waiting]
    agent = online_agent(shop_a, "late", max_chats=2)
    assert [holder(c) for c in waiting] == [agent.pk, agent.pk, None]


def test_an_agent_going_offline_has_their_chats_requeued_at_the_head(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    leaving = online_agent(shop_a, "leaving", max_chats=2)
    held = [shopper_asking(shop_a) for _ in range(2)]
    queued = shopper_asking(shop_a)
    assignment.set_presence(leaving, Presence.OFFLINE)
    assert assignment.queue_order(shop_a.pk) == [held[0].pk, held[1].pk, queued.pk]
    notice = Message.objects.filter(conversation=held[0], sender=Message.Sender.SYSTEM).last()
    assert "优先转接" in notice.text
    taker = online_agent(shop_a, "taker", max_chats=1)
    assert holder(held[0]) == taker.pk and holder(held[1]) is None and holder(queued) is None


def test_the_last_console_closing_takes_the_agent_offline_unless_another_is_open(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    agent = online_agent(shop_a, "amy")
    conversation = shopper_asking(shop_a)
    services.register_console(agent, "second-tab")
    first_tab = AgentPresence.objects.exclude(channel_name="second-tab").get(user=agent).channel_name
    assert services.unregister_console(first_tab) is None  # another console is still open
    assert services.unregister_console("second-tab") == agent.pk
    # What the console schedules CHAT_PRESENCE_GRACE_SECONDS later (Celery runs it eagerly in the tests).
    assert tasks.offline_if_gone.apply_async((agent.pk,), countdown=30).get()
    assert AgentSeat.objects.get(user=agent).presence == Presence.OFFLINE
    assert holder(conversation) is None and assignment.queue_order(shop_a.pk) == [conversation.pk]


def test_an_agent_back_within_the_grace_period_stays_online(shop_a):
    agent = online_agent(shop_a, "amy")
    services.register_console(agent, "reloaded")
    assert not services.offline_if_gone(agent.pk)
    assert AgentSeat.objects.get(user=agent).presence == Presence.ONLINE


def test_away_keeps_held_chats_but_takes_no_new_ones(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    agent = online_agent(shop_a, "amy")
    held = shopper_asking(shop_a)
    services.change_presence(agent, Presence.AWAY)
    new = shopper_asking(shop_a)
    assert holder(held) == agent.pk and holder(new) is None
    services.change_presence(agent, Presence.ONLINE)
    assert holder(new) == agent.pk


def test_a_silent_console_is_swept_offline_by_the_beat_task(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    gone = online_agent(shop_a, "gone")
    conversation = shopper_asking(shop_a)
    silent_since = AgentPresence.objects.get(user=gone).last_seen_at - 2 * assignment.PRESENCE_TTL
    AgentPresence.objects.filter(user=gone).update(last_seen_at=silent_since)
    other = online_agent(shop_a, "other")
    tasks.assign_queues()
    assert AgentSeat.objects.get(user=gone).presence == Presence.OFFLINE
    assert holder(conversation) == other.pk


def test_accepting_beyond_ones_maximum_is_refused(shop_a):
    agent = online_agent(shop_a, "amy", max_chats=1)
    services.accept_conversation(shopper_asking(shop_a), agent)
    with pytest.raises(services.ChatError) as refused:
        services.accept_conversation(shopper_asking(shop_a), agent)
    assert refused.value.code == "at_capacity"


def test_a_transfer_to_a_full_agent_is_refused(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    first = online_agent(shop_a, "first", max_chats=1)
    moved = shopper_asking(shop_a)
    second = online_agent(shop_a, "second", max_chats=1)
    shopper_asking(shop_a)
    with pytest.raises(services.ChatError) as full:
        services.transfer_conversation(first, moved.pk, second.pk)
    assert full.value.code == "agent_full" and holder(moved) == first.pk


def test_a_transfer_frees_the_slot_for_the_head_of_the_queue_at_once(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    first = online_agent(shop_a, "first", max_chats=1)
    moved = shopper_asking(shop_a)
    second = online_agent(shop_a, "second", max_chats=2, skill_group=SkillGroup.PRESALES)
    queued = shopper_asking(shop_a, ("退货的快递单号怎么填", Intent.ORDER_STATUS))
    assert holder(queued) is None  # 售后: first is full, second only takes 售前
    services.transfer_conversation(first, moved.pk, second.pk)
    assert holder(moved) == second.pk and holder(queued) == first.pk


def test_a_transfer_to_a_group_goes_to_that_groups_next_agent(shop_a):
    set_rule(shop_a, Rule.ROUND_ROBIN)
    general = online_agent(shop_a, "general")
    conversation = shopper_asking(shop_a)
    after = online_agent(shop_a, "after", skill_group=SkillGroup.AFTERSALES)
    assert holder(conversation) == general.pk
    services.transfer_to_group(general, conversation.pk, SkillGroup.AFTERSALES)
    assert holder(conversation) == after.pk
    with pytest.raises(services.ChatError) as invalid:
        services.transfer_to_group(after, conversation.pk, "vip")
    assert invalid.value.code == "invalid_group"
