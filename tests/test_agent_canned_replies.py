"""Canned replies (快捷短语) and macros: variables filled from the real conversation, customer and order, the
search scoped to the agent's shop and their own replies, macros all or nothing, the admin's rules."""

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.test import Client

from chat import agent_tools, services
from chat.messaging import post_message
from chat.models import (
    CannedReply,
    Conversation,
    ConversationTag,
    Message,
    QueueEntry,
    ServiceDesk,
    SkillGroup,
    SlaPolicy,
)
from shops.models import Membership, Shop
from tests.assignment_support import holder, online_agent, set_rule, shopper_asking
from tests.chat_sockets import agent_socket, frames_until
from tests.conftest import staff_of
from tests.factories import CustomerFactory, OrderFactory

Role = Membership.Role


def held_by(agent, shop, customer=None, **fields) -> Conversation:
    conversation = Conversation.objects.create(
        shop=shop, customer=customer, visitor_token=services.new_visitor_token(), **fields
    )
    post_message(conversation, Message.Sender.SHOPPER, "我的快递到哪了")
    services.request_handoff(conversation, "requested")
    services.accept_conversation(conversation, agent)
    conversation.refresh_from_db()
    return conversation


def canned(shop, shortcut, text, **fields) -> CannedReply:
    return CannedReply.objects.create(shop=shop, shortcut=shortcut, text=text, **fields)


# --- variables --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_variables_are_filled_from_the_customer_the_shop_the_agent_and_the_customers_latest_order(shop_a):
    agent = staff_of(shop_a, Role.AGENT, "xiaomei")
    agent.first_name = "小美"
    agent.save()
    customer = CustomerFactory(shop=shop_a, nickname="跑步的阿杰")
    OrderFactory(shop=shop_a, customer=customer, external_id="NO-OLD", tracking_number="SF0001")
    latest = OrderFactory(shop=shop_a, customer=customer, external_id="NO-NEW", tracking_number="SF9999")
    latest.created_at = latest.created_at.replace(year=latest.created_at.year + 1)
    latest.save()
    conversation = held_by(agent, shop_a, customer)
    canned(shop_a, "发货", "{顾客昵称}您好，{店铺名}的订单 {订单号} 已发出，运单号 {物流单号}。我是{客服昵称}")

    found = agent_tools.search_canned(agent, conversation.pk, "发货")

    assert found["items"][0]["text"] == "跑步的阿杰您好，店铺A的订单 NO-NEW 已发出，运单号 SF9999。我是小美"


@pytest.mark.django_db
def test_the_order_the_bot_talked_about_wins_over_the_latest_and_another_shops_order_is_never_used(shop_a, shop_b):
    agent = staff_of(shop_a, Role.AGENT)
    customer = CustomerFactory(shop=shop_a)
    talked_about = OrderFactory(shop=shop_a, customer=customer, external_id="NO-TALKED", tracking_number="YT1")
    OrderFactory(shop=shop_a, customer=customer, external_id="NO-LATER", tracking_number="YT2")
    foreign = OrderFactory(shop=shop_b, external_id="NO-FOREIGN", tracking_number="YT3")
    conversation = held_by(agent, shop_a, customer, state={"order": talked_about.pk})
    canned(shop_a, "单号", "{订单号} / {物流单号}")
    assert agent_tools.search_canned(agent, conversation.pk, "单号")["items"][0]["text"] == "NO-TALKED / YT1"

    # A dialogue state pointing at another shop's order: that order is not this conversation's.
    anonymous = held_by(agent, shop_a, state={"order": foreign.pk})
    assert agent_tools.search_canned(agent, anonymous.pk, "单号")["items"][0]["text"] == "{订单号} / {物流单号}"


@pytest.mark.django_db
def test_an_anonymous_shopper_is_called_qin_and_unknown_variables_stay_for_the_agent_to_fill(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    conversation = held_by(agent, shop_a)
    canned(shop_a, "催单", "{顾客昵称}，订单 {订单号} 我们马上催")
    found = agent_tools.search_canned(agent, conversation.pk, "催单")
    assert found["items"][0]["text"] == "亲，订单 {订单号} 我们马上催"


# --- search -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_search_offers_the_shops_replies_and_the_agents_own_but_no_colleagues_or_other_shops(shop_a, shop_b):
    agent = staff_of(shop_a, Role.AGENT, "agent-one")
    colleague = staff_of(shop_a, Role.AGENT, "agent-two")
    conversation = held_by(agent, shop_a)
    canned(shop_a, "发货时间", "48小时内发货", category="物流")
    canned(shop_a, "发货地", "杭州发货", owner=agent)
    canned(shop_a, "发货慢", "同事的私人短语", owner=colleague)
    canned(shop_b, "发货B", "B店的短语")

    found = agent_tools.search_canned(agent, conversation.pk, "發貨")  # Traditional, as typed on some keyboards

    assert [(i["shortcut"], i["personal"]) for i in found["items"]] == [("发货地", True), ("发货时间", False)]


@pytest.mark.django_db
def test_shortcut_matches_come_before_category_and_text_matches(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    conversation = held_by(agent, shop_a)
    canned(shop_a, "tk", "退款三到五天到账")
    canned(shop_a, "规则", "七天无理由退款", category="退款")
    canned(shop_a, "退款进度", "正在加急处理")
    shortcuts = [i["shortcut"] for i in agent_tools.search_canned(agent, conversation.pk, "退款")["items"]]
    assert shortcuts == ["退款进度", "规则", "tk"]


@pytest.mark.django_db
def test_a_macro_says_what_it_will_do_in_the_search(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    conversation = held_by(agent, shop_a)
    canned(shop_a, "转售后", "帮您转给售后同事", add_tag="售后", transfer_group=SkillGroup.AFTERSALES)
    item = agent_tools.search_canned(agent, conversation.pk, "转")["items"][0]
    assert item["macro"] == ["打标签「售后」", "转售后组排队"]


# --- macros -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_macro_replies_tags_and_puts_the_conversation_at_the_head_of_the_queue_for_its_skill_group(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    customer = CustomerFactory(shop=shop_a, nickname="阿杰")
    conversation = held_by(agent, shop_a, customer)
    macro = canned(
        shop_a, "转售后", "{顾客昵称}，帮您转给售后同事", add_tag="售后", transfer_group=SkillGroup.AFTERSALES
    )

    reply = agent_tools.apply_macro(agent, conversation.pk, macro.pk, "m-1")

    conversation.refresh_from_db()
    assert reply.text == "阿杰，帮您转给售后同事" and reply.sender == Message.Sender.AGENT
    assert list(conversation.tags.values_list("name", flat=True)) == ["售后"]
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.assigned_agent is None
    entry = QueueEntry.objects.get(conversation=conversation)
    assert entry.skill_group == SkillGroup.AFTERSALES and entry.at_head
    last = conversation.messages.order_by("-pk").first()
    assert last.sender == Message.Sender.SYSTEM and last.text == "正在为您转接售后客服，请稍候～"


@pytest.mark.django_db
def test_a_closing_macro_replies_and_closes_with_the_survey(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    conversation = held_by(agent, shop_a)
    macro = canned(shop_a, "再见", "感谢光临{店铺名}，再见～", close_after=True)
    agent_tools.apply_macro(agent, conversation.pk, macro.pk)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    texts = list(conversation.messages.order_by("pk").values_list("text", flat=True))
    assert "感谢光临店铺A，再见～" in texts
    assert conversation.messages.order_by("-pk").first().intent == "satisfaction"


@pytest.mark.django_db
def test_a_macro_with_an_unknown_variable_does_nothing_at_all(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    conversation = held_by(agent, shop_a)  # anonymous: no order
    macro = canned(shop_a, "发货了", "订单 {订单号} 已发货", add_tag="已催", close_after=True)
    before = conversation.messages.count()
    outbox = services.Outbox()
    with pytest.raises(services.ChatError) as refused:
        agent_tools.apply_macro(agent, conversation.pk, macro.pk, outbox=outbox)
    assert refused.value.code == "missing_variable"
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.AGENT
    assert conversation.messages.count() == before
    assert not ConversationTag.objects.exists()
    assert outbox.events == []


@pytest.mark.django_db
def test_a_macro_of_another_shop_or_a_colleagues_personal_one_is_refused(shop_a, shop_b):
    agent = staff_of(shop_a, Role.AGENT, "agent-one")
    colleague = staff_of(shop_a, Role.AGENT, "agent-two")
    conversation = held_by(agent, shop_a)
    for macro in (canned(shop_b, "b", "B店"), canned(shop_a, "私人", "同事的", owner=colleague)):
        with pytest.raises(services.ChatError) as refused:
            agent_tools.apply_macro(agent, conversation.pk, macro.pk)
        assert refused.value.code == "invalid_canned"
    assert not conversation.messages.filter(sender=Message.Sender.AGENT).exists()


@pytest.mark.django_db(transaction=True)  # assignment runs once the macro's transaction commits
def test_a_transferring_macro_goes_to_the_next_free_agent_of_its_skill_group(shop_a):
    set_rule(shop_a, ServiceDesk.Rule.ROUND_ROBIN)
    general = online_agent(shop_a, "general")
    conversation = shopper_asking(shop_a)
    after = online_agent(shop_a, "after", skill_group=SkillGroup.AFTERSALES)
    assert holder(conversation) == general.pk
    macro = canned(shop_a, "转售后", "帮您转给售后同事", transfer_group=SkillGroup.AFTERSALES)

    agent_tools.apply_macro(general, conversation.pk, macro.pk)

    assert holder(conversation) == after.pk
    assert not QueueEntry.objects.filter(conversation=conversation).exists()


# --- the socket ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_console_searches_with_slash_and_runs_a_macro_over_the_socket(shop_a):
    agent = await database_sync_to_async(staff_of)(shop_a, Role.AGENT)
    customer = await database_sync_to_async(CustomerFactory)(shop=shop_a, nickname="阿杰")
    await database_sync_to_async(OrderFactory)(shop=shop_a, customer=customer, external_id="NO123")
    conversation = await database_sync_to_async(held_by)(agent, shop_a, customer)
    macro = await database_sync_to_async(canned)(shop_a, "查单", "{顾客昵称}的订单 {订单号} 在路上了", add_tag="物流")
    socket, _queue = await agent_socket(agent)

    await socket.send_json_to({"type": "canned", "conversation": conversation.pk, "query": "查"})
    found = (await frames_until(socket, lambda f: f["type"] == "canned"))[-1]
    assert found["items"][0]["text"] == "阿杰的订单 NO123 在路上了"

    await socket.send_json_to(
        {"type": "macro", "conversation": conversation.pk, "canned": macro.pk, "client_msg_id": "mac-1"}
    )
    frames = await frames_until(socket, lambda f: f["type"] == "ack")
    assert frames[-1]["client_msg_id"] == "mac-1"
    sent = await frames_until(socket, lambda f: f["type"] == "message" and f["sender"] == "agent")
    assert sent[-1]["text"] == "阿杰的订单 NO123 在路上了"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_another_shops_conversation_gets_not_found_for_canned_macro_and_panel(shop_a, shop_b):
    agent = await database_sync_to_async(staff_of)(shop_a, Role.AGENT)
    agent_b = await database_sync_to_async(staff_of)(shop_b, Role.AGENT)
    foreign = await database_sync_to_async(held_by)(agent_b, shop_b)
    macro = await database_sync_to_async(canned)(shop_b, "b", "B店的短语")
    socket, _queue = await agent_socket(agent)
    for frame in (
        {"type": "canned", "conversation": foreign.pk, "query": "b"},
        {"type": "macro", "conversation": foreign.pk, "canned": macro.pk, "client_msg_id": "x"},
        {"type": "panel", "conversation": foreign.pk},
    ):
        await socket.send_json_to(frame)
        error = (await frames_until(socket, lambda f: f["type"] == "error"))[-1]
        assert error["code"] == "not_found", frame
    # Bad input: an error frame, and the socket stays open.
    await socket.send_json_to({"type": "canned", "conversation": foreign.pk, "query": ["发货"]})
    assert (await frames_until(socket, lambda f: f["type"] == "error"))[-1]["code"] == "invalid_query"
    await socket.send_json_to({"type": "ping"})
    assert (await frames_until(socket, lambda f: f["type"] == "pong"))[-1] == {"type": "pong"}
    await socket.disconnect()


# --- the admin -----------------------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {"category": "物流", "text": "48小时内发货", "add_tag": "", "transfer_group": ""}


@pytest.mark.django_db
def test_an_agent_writes_personal_replies_and_only_managers_write_the_shops(shop_a):
    agent = staff_of(shop_a, Role.AGENT)
    manager = staff_of(shop_a, Role.MANAGER)
    url = "/admin/chat/cannedreply/add/"

    refused = admin_client(agent).post(url, {**FORM, "shop": shop_a.pk, "shortcut": "发货", "owner": ""})
    assert refused.status_code == 200 and not CannedReply.objects.exists()
    assert "owner" in refused.context["adminform"].form.errors

    admin_client(agent).post(url, {**FORM, "shop": shop_a.pk, "shortcut": "我的", "owner": agent.pk})
    admin_client(manager).post(url, {**FORM, "shop": shop_a.pk, "shortcut": "全店", "owner": ""})
    assert set(CannedReply.objects.values_list("shortcut", "owner_id")) == {("我的", agent.pk), ("全店", None)}

    shop_wide = CannedReply.objects.get(shortcut="全店")
    assert admin_client(agent).get(f"/admin/chat/cannedreply/{shop_wide.pk}/change/").status_code == 200
    changed = admin_client(agent).post(
        f"/admin/chat/cannedreply/{shop_wide.pk}/change/", {**FORM, "shop": shop_a.pk, "shortcut": "改了", "owner": ""}
    )
    assert changed.status_code == 403
    shop_wide.refresh_from_db()
    assert shop_wide.shortcut == "全店"


@pytest.mark.django_db
def test_personal_replies_and_other_shops_replies_are_404_in_the_admin(shop_a, shop_b):
    agent = staff_of(shop_a, Role.AGENT, "agent-one")
    colleague = staff_of(shop_a, Role.MANAGER, "manager-a")
    mine = canned(shop_a, "我的", "x", owner=agent)
    foreign = canned(shop_b, "B店", "y")
    assert admin_client(colleague).get(f"/admin/chat/cannedreply/{mine.pk}/change/").status_code == 404
    assert admin_client(agent).get(f"/admin/chat/cannedreply/{foreign.pk}/change/").status_code == 404
    listing = admin_client(colleague).get("/admin/chat/cannedreply/").content.decode()
    assert "/我的" not in listing and "B店" not in listing


@pytest.mark.django_db
def test_a_macro_cannot_both_requeue_and_close(shop_a):
    manager = staff_of(shop_a, Role.MANAGER)
    response = admin_client(manager).post(
        "/admin/chat/cannedreply/add/",
        {**FORM, "shop": shop_a.pk, "shortcut": "两者", "owner": "", "transfer_group": "presale", "close_after": "on"},
    )
    assert response.status_code == 200 and not CannedReply.objects.exists()


@pytest.mark.django_db
def test_the_demo_gives_every_shop_sla_targets_and_canned_replies_once():
    call_command("load_demo")
    call_command("load_demo")
    shops = Shop.objects.count()
    assert SlaPolicy.objects.count() == shops
    assert CannedReply.objects.filter(shortcut="发货", owner=None).count() == shops
    assert CannedReply.objects.get(shop__slug="swift-sports", shortcut="转售后").transfer_group == "aftersales"
