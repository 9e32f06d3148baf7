"""The channel API for marketplace bridges, against a real local bridge: a shopper's message handed in is
answered by the same bot as the web chat; every reply, agent message and close reaches the bridge signed,
once each and in order per conversation, also after the bridge was down for a while."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from chat import services
from chat.channels.jobs import executor
from chat.models import ChannelDelivery, ChannelReceipt, Conversation, Message
from chat.tasks import deliver_channel, sweep_channel_deliveries
from core import crypto
from tests.channel_support import Bridge
from tests.conftest import api_client_for, staff_of
from tests.factories import ApiKeyFactory, FAQCardFactory, ProductFactory, channel_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bridge():
    server = Bridge()
    yield server
    server.close()


@pytest.fixture
def connection(shop_a, bridge):
    connection = channel_connection(shop_a, "api", url=bridge.url, product_url="https://item.example.com/{sku}")
    bridge.secret = crypto.decrypt(connection.secrets)["signing_secret"]
    return connection


def settle() -> None:
    assert executor.wait_idle(timeout=60), "channel deliveries still running after 60 s"


def hand_in(client, connection, message_id: str, text: str, conversation_id: str = "tb-1001"):
    return client.post(
        f"/api/v1/channels/{connection.pk}/messages",
        {"conversation_id": conversation_id, "message_id": message_id, "sender": "淘宝买家小王", "text": text},
        format="json",
    )


def test_a_bridge_message_is_answered_by_the_bot_and_the_reply_reaches_the_bridge_signed(api_a, connection, bridge):
    answer = hand_in(api_a, connection, "m-1", "你好")
    assert answer.status_code == 201, answer.content
    assert answer.json()["created"] is True and answer.json()["replies"] >= 1
    settle()
    conversation = Conversation.objects.get()
    assert conversation.channel == "api" and conversation.connection == connection
    assert conversation.external_id == "tb-1001" and conversation.external_name == "淘宝买家小王"
    bot_texts = list(conversation.messages.filter(sender="bot").values_list("text", flat=True))
    assert bot_texts and bridge.texts() == bot_texts
    event = bridge.accepted[0]
    assert event["event"] == "message" and event["shop"] == connection.shop_id and event["channel"] == connection.pk
    assert event["data"]["conversation"] == {"id": conversation.pk, "external_id": "tb-1001"}
    assert bridge.forged == 0 and bridge.repeats == 0
    connection.refresh_from_db()
    assert connection.last_inbound_at is not None and connection.last_outbound_at is not None


def test_a_message_handed_in_twice_is_stored_and_answered_once(api_a, connection, bridge):
    first = hand_in(api_a, connection, "m-1", "你好")
    again = hand_in(api_a, connection, "m-1", "你好")
    settle()
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {**first.json(), "created": False, "replies": 0}
    assert Message.objects.filter(sender="shopper").count() == 1
    assert ChannelReceipt.objects.count() == 1
    assert len(bridge.accepted) == Message.objects.exclude(sender="shopper").count()


def test_a_bridge_down_for_a_while_gets_every_message_once_and_in_order(api_a, connection, bridge):
    bridge.down = True
    for n, text in enumerate(["你好", "有什么推荐的吗", "发什么快递", "谢谢"], 1):
        assert hand_in(api_a, connection, f"m-{n}", text).status_code == 201
    hand_in(api_a, connection, "other-1", "你好", conversation_id="tb-2002")
    settle()
    executor.discard_waiting()  # the retries are driven below, through the task itself
    assert bridge.accepted == [] and bridge.refused >= 2
    pending = ChannelDelivery.objects.filter(status="pending")
    expected = list(Message.objects.exclude(sender="shopper").order_by("pk").values_list("pk", flat=True))
    assert pending.count() == len(expected)
    # Only the head of each conversation was tried: nothing later overtook it.
    assert set(pending.filter(attempts__gt=0).values_list("conversation", flat=True)) == set(
        Conversation.objects.values_list("pk", flat=True)
    )
    assert pending.filter(attempts__gt=0).count() == 2

    # Down for over a minute: the back-off schedule comes due again and again, still refused.
    moment = timezone.now()
    for minutes in (1, 2):
        with time_machine.travel(moment + timedelta(minutes=minutes), tick=False):
            for conversation in Conversation.objects.all():
                assert deliver_channel(conversation.pk) == 0
        executor.discard_waiting()
    assert bridge.accepted == []

    bridge.down = False
    with time_machine.travel(moment + timedelta(minutes=10), tick=False):
        assert sweep_channel_deliveries() == 2  # both conversations are overdue: queued again
        settle()
    assert ChannelDelivery.objects.filter(status="delivered").count() == len(expected)
    assert bridge.repeats == 0
    delivered = [event["data"]["message"]["id"] for event in bridge.accepted]
    assert sorted(delivered) == expected
    for conversation in Conversation.objects.all():
        mine = [pk for pk in delivered if Message.objects.get(pk=pk).conversation_id == conversation.pk]
        assert mine == sorted(mine)


def test_an_answer_lost_on_the_way_is_sent_again_under_the_same_delivery_id_and_shown_once(api_a, connection, bridge):
    bridge.lose_answers = 1  # the bridge takes the first event, but its answer never arrives
    hand_in(api_a, connection, "m-1", "你好")
    settle()
    executor.discard_waiting()
    head = ChannelDelivery.objects.order_by("pk").first()
    assert head.status == "pending" and head.attempts == 1 and len(bridge.accepted) == 1
    with time_machine.travel(head.next_attempt_at + timedelta(seconds=1), tick=False):
        deliver_channel(head.conversation_id)
    assert bridge.repeats == 1  # the same X-Shopbee-Delivery again: the bridge shows it once
    assert len(bridge.accepted) == ChannelDelivery.objects.filter(status="delivered").count()
    assert not ChannelDelivery.objects.filter(status="pending").exists()


def test_a_bridge_refusing_a_message_fails_it_tells_the_admin_and_goes_on_with_the_next(api_a, connection, bridge):
    bridge.secret, real_secret = "another", bridge.secret  # every signature fails: 401, which is final
    hand_in(api_a, connection, "m-1", "你好")
    settle()
    refused = ChannelDelivery.objects.filter(status="failed").count()
    assert refused >= 1 and bridge.forged == refused and not ChannelDelivery.objects.filter(status="pending").exists()
    connection.refresh_from_db()
    assert connection.last_error == "网桥未接收消息：HTTP 401" and connection.last_error_at is not None
    bridge.secret = real_secret
    hand_in(api_a, connection, "m-2", "谢谢")
    settle()
    assert len(bridge.accepted) == ChannelDelivery.objects.filter(status="delivered").count() >= 1


def test_an_agent_reply_and_the_close_reach_the_bridge_after_the_bot_in_order(api_a, connection, bridge, shop_a):
    hand_in(api_a, connection, "m-1", "转人工")
    settle()
    conversation = Conversation.objects.get()
    agent = staff_of(shop_a, "agent")
    agent.first_name = "小李"
    agent.save(update_fields=["first_name"])
    services.accept_conversation(conversation, agent)
    services.agent_reply(agent, conversation.pk, "您好，我是客服小李")
    services.close_held_conversation(agent, conversation.pk)
    settle()
    events = [(event["event"], event["data"].get("message", {}).get("sender")) for event in bridge.accepted]
    assert events[-3:] == [("message", "agent"), ("message", "bot"), ("conversation.closed", None)]
    assert bridge.accepted[-3]["data"]["message"]["text"] == "您好，我是客服小李"
    assert bridge.accepted[-3]["data"]["message"]["agent"] == "小李"  # named as the shopper's chat names agents
    assert "5 分非常满意" in bridge.accepted[-2]["data"]["message"]["text"]
    # The closing survey's options are numbers already: the text asks for them, they are not numbered again.
    assert "回复数字即可选择" not in bridge.accepted[-2]["data"]["message"]["text"]


def test_rich_replies_arrive_as_text_and_a_number_answers_with_the_option_it_numbers(api_a, connection, bridge, shop_a):
    card = FAQCardFactory(
        shop=shop_a, question="怎么退货", answer="七天内可以无理由退货。", quick_replies=["退货运费谁出", "多久退款"]
    )
    card.products.add(ProductFactory(shop=shop_a, sku="RUN-42", title="缓震跑鞋", price=Decimal("299.00")))
    hand_in(api_a, connection, "m-1", "怎么退货")
    settle()
    offered = Message.objects.filter(sender="bot").order_by("-pk").first()
    options = offered.payload["quick_replies"]
    assert options == ["退货运费谁出", "多久退款"]
    sent = next(event for event in bridge.accepted if event["data"]["message"]["id"] == offered.pk)["data"]["message"]
    assert sent["text"] == (
        "七天内可以无理由退货。\n\n"
        "· 缓震跑鞋 ¥299.00 https://item.example.com/RUN-42\n\n"
        "回复数字即可选择：\n1. 退货运费谁出\n2. 多久退款"
    )
    assert sent["quick_replies"] == options and sent["products"][0]["sku"] == "RUN-42"  # for a bridge with buttons
    hand_in(api_a, connection, "m-2", "2")
    assert Message.objects.filter(sender="shopper").order_by("-pk").first().text == options[1]
    hand_in(api_a, connection, "m-3", "99")
    assert Message.objects.filter(sender="shopper").order_by("-pk").first().text == "99"


def test_the_channel_api_refuses_bad_input_with_field_messages(api_a, connection):
    missing = api_a.post(f"/api/v1/channels/{connection.pk}/messages", {"text": "你好"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) == {"conversation_id", "message_id"}
    long = hand_in(api_a, connection, "m-1", "好" * 2001)
    assert long.status_code == 400 and "text" in long.json()
    blank = hand_in(api_a, connection, "m-2", "   ")
    assert blank.status_code == 400 and "text" in blank.json()
    assert not Message.objects.exists() and not ChannelReceipt.objects.exists()


def test_a_switched_off_channel_takes_no_messages(api_a, connection):
    connection.is_active = False
    connection.save()
    assert hand_in(api_a, connection, "m-1", "你好").status_code == 409
    assert not Message.objects.exists()


def test_another_shops_key_cannot_reach_a_channel_and_a_key_needs_the_channels_scope(connection, shop_b, bridge):
    foreign = api_client_for(ApiKeyFactory(shop=shop_b))
    assert hand_in(foreign, connection, "m-1", "你好").status_code == 404
    unscoped = api_client_for(ApiKeyFactory(shop=connection.shop, scopes=["conversations:read"]))
    assert hand_in(unscoped, connection, "m-1", "你好").status_code == 403
    assert not Message.objects.exists()


def test_a_wecom_connection_is_not_reachable_through_the_channel_api(api_a, shop_a):
    wecom = channel_connection(shop_a, "wecom", corp_id="ww1", secret="s", token="t", encoding_aes_key="a" * 43)
    assert hand_in(api_a, wecom, "m-1", "你好").status_code == 404


def test_the_agent_console_shows_a_bridge_conversation_with_its_channel_and_shopper(api_a, connection, shop_a):
    hand_in(api_a, connection, "m-1", "转人工")
    agent = staff_of(shop_a, "agent")
    [item] = services.console_state(agent)["waiting"]
    assert (item["channel"], item["channel_label"], item["shopper"]) == (
        "api",
        "渠道 API（电商平台网桥）",
        "淘宝买家小王",
    )


def test_the_example_bridge_in_the_docs_hands_in_and_receives_the_replies(live_server, api_key_a, shop_a, capsys):
    import importlib.util
    import threading
    from http.server import ThreadingHTTPServer

    spec = importlib.util.spec_from_file_location("example_bridge", "docs/example_bridge.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    server = ThreadingHTTPServer(("127.0.0.1", 0), example.Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/shopbee"
        connection = channel_connection(shop_a, "api", url=url)
        example.SHOPBEE_URL, example.API_KEY, example.CHANNEL_ID = live_server.url, api_key_a.plaintext, connection.pk
        example.SIGNING_SECRET = crypto.decrypt(connection.secrets)["signing_secret"]
        assert example.hand_in("tb-7", "m-1", "买家", "你好")["created"] is True
        assert example.hand_in("tb-7", "m-1", "买家", "你好")["created"] is False
        settle()
    finally:
        server.shutdown()
        server.server_close()
    printed = capsys.readouterr().out
    reply = Message.objects.filter(sender="bot").order_by("pk").first()
    assert f"[tb-7] 机器人: {reply.text}" in printed
    assert ChannelDelivery.objects.filter(status="delivered").count() == ChannelDelivery.objects.count() >= 1
