"""WeCom customer service (微信客服) against a real local server implementing WeCom's API (gettoken,
kf/sync_msg, kf/send_msg) that posts its callbacks, encrypted and signed with WeCom's scheme, to Shopbee's
live server."""

import base64
import hashlib
import struct
import threading
from datetime import timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.urls import reverse

from chat.channels.base import ChannelError
from chat.channels.connections import check_connection
from chat.channels.jobs import executor
from chat.channels.wecom_client import WeComClient
from chat.channels.wecom_crypto import CryptoError, WeComCrypto, signature
from chat.models import ChannelConnection, ChannelDelivery, Conversation, Message
from chat.tasks import deliver_channel
from tests.channel_support import WECOM_AES_KEY
from tests.factories import channel_connection

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def connection(shop_a, wecom):
    return channel_connection(
        shop_a, "wecom", corp_id="wwCORP1", secret="kf-secret", token="cbtoken", encoding_aes_key=WECOM_AES_KEY
    )


def settle() -> None:
    assert executor.wait_idle(timeout=60), "channel work still running after 60 s"


def callback_url(live_server, connection) -> str:
    return live_server.url + reverse("chat:wecom-callback", args=[connection.pk])


def test_the_crypto_round_trip_follows_wecoms_layout():
    codec = WeComCrypto("cbtoken", WECOM_AES_KEY, "wwCORP1")
    encrypted, msg_signature = codec.encrypt("<xml>你好</xml>".encode(), "1700000000", "nonce1")
    codec.verify(msg_signature, "1700000000", "nonce1", encrypted)
    assert codec.decrypt(encrypted) == "<xml>你好</xml>".encode()
    # The layout, read without the module: key = base64(key + "="), IV = its first 16 bytes, AES-256-CBC,
    # 16 random bytes, the length in network order, the message, the corp id, padding to 32-byte blocks.
    key = base64.b64decode(WECOM_AES_KEY + "=")
    data = base64.b64decode(encrypted)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    assert len(key) == 32 and len(plain) % 32 == 0
    message = "<xml>你好</xml>".encode()
    assert struct.unpack(">I", plain[16:20])[0] == len(message)
    assert plain[20 : 20 + len(message)] == message
    pad = plain[-1]
    assert plain[20 + len(message) : -pad] == b"wwCORP1"
    assert (
        msg_signature
        == hashlib.sha1("".join(sorted(["cbtoken", "1700000000", "nonce1", encrypted])).encode()).hexdigest()
    )


def test_a_forged_or_damaged_callback_is_refused_by_the_crypto():
    codec = WeComCrypto("cbtoken", WECOM_AES_KEY, "wwCORP1")
    encrypted, msg_signature = codec.encrypt(b"<xml/>", "1700000000", "n")
    with pytest.raises(CryptoError):
        codec.verify(signature("another token", "1700000000", "n", encrypted), "1700000000", "n", encrypted)
    with pytest.raises(CryptoError):
        codec.verify(msg_signature, "1700000001", "n", encrypted)  # a replayed signature on another timestamp
    with pytest.raises(CryptoError):
        WeComCrypto("cbtoken", WECOM_AES_KEY, "wwOTHER").decrypt(encrypted)  # meant for another corp
    with pytest.raises(CryptoError):
        WeComCrypto("cbtoken", OTHER_AES_KEY, "wwCORP1").decrypt(encrypted)
    with pytest.raises(CryptoError):
        codec.decrypt("not base64!")
    with pytest.raises(CryptoError):
        WeComCrypto("cbtoken", "short", "wwCORP1")


def test_the_callback_url_check_answers_the_decrypted_echostr_and_refuses_a_forged_one(client, connection, wecom):
    encrypted, msg_signature = wecom.crypto.encrypt(b"echo-4711", "1700000000", "n1")
    url = reverse("chat:wecom-callback", args=[connection.pk])
    query = {"msg_signature": msg_signature, "timestamp": "1700000000", "nonce": "n1", "echostr": encrypted}
    answer = client.get(url, query)
    assert answer.status_code == 200 and answer.content == b"echo-4711"
    forged = client.get(url, {**query, "msg_signature": "0" * 40})
    assert forged.status_code == 403 and b"echo" not in forged.content
    assert client.get(reverse("chat:wecom-callback", args=[connection.pk + 100]), query).status_code == 404


def test_a_callback_pulls_the_new_messages_and_the_bot_answers_through_send_msg(live_server, connection, wecom):
    wecom.shopper_writes("wmUSER1", "你好", msgid="msg-1")
    status, body = wecom.post_callback(callback_url(live_server, connection))
    assert (status, body) == (200, b"success")
    settle()
    conversation = Conversation.objects.get()
    assert conversation.channel == "wecom" and conversation.external_id == "wkSHOP/wmUSER1"
    assert conversation.shop == connection.shop
    replies = list(conversation.messages.exclude(sender="shopper").order_by("pk"))
    assert replies and [sent["text"]["content"] for sent in wecom.sent] == [reply.text for reply in replies]
    first = wecom.sent[0]
    assert first["touser"] == "wmUSER1" and first["open_kfid"] == "wkSHOP" and first["msgtype"] == "text"
    assert wecom.sync_bodies[0]["token"] == "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"
    connection.refresh_from_db()
    assert connection.cursor == "1" and connection.last_error == ""


def test_repeated_late_and_replayed_deliveries_store_and_answer_each_message_once(live_server, connection, wecom):
    url = callback_url(live_server, connection)
    first = wecom.shopper_writes("wmUSER1", "你好", msgid="msg-1")
    wecom.post_callback(url)
    wecom.post_callback(url)  # WeCom repeats a callback it thinks was not received
    settle()
    wecom.log.append(dict(first))  # the same message handed out again
    wecom.shopper_writes("wmUSER2", "发什么快递", msgid="msg-2")
    wecom.log.append({"msgid": "ev-1", "origin": 4, "msgtype": "event", "event": {"event_type": "enter_session"}})
    wecom.shopper_writes("wmUSER1", "谢谢", msgid="msg-3")
    ChannelConnection.objects.filter(pk=connection.pk).update(cursor="")  # even a lost cursor reads from the start
    wecom.post_callback(url)
    wecom.post_callback(url)
    settle()
    assert list(Message.objects.filter(sender="shopper").order_by("pk").values_list("text", flat=True)) == [
        "你好",
        "发什么快递",
        "谢谢",
    ]
    assert Conversation.objects.count() == 2
    shop_side = Message.objects.exclude(sender="shopper").count()
    assert len(wecom.sent) == shop_side == ChannelDelivery.objects.filter(status="delivered").count()
    assert len({sent["msgid"] for sent in wecom.sent}) == len(wecom.sent)


def test_what_is_not_text_reaches_the_agents_as_a_placeholder(live_server, connection, wecom):
    wecom.log.append(
        {"msgid": "img-1", "open_kfid": "wkSHOP", "external_userid": "wmUSER1", "origin": 3, "msgtype": "image",
         "image": {"media_id": "MEDIA"}}
    )  # fmt: skip
    wecom.post_callback(callback_url(live_server, connection))
    settle()
    assert Message.objects.filter(sender="shopper").get().text == "[图片]"


def test_an_expired_token_is_replaced_once_and_the_pull_and_reply_go_on(live_server, connection, wecom):
    url = callback_url(live_server, connection)
    wecom.shopper_writes("wmUSER1", "你好")
    wecom.post_callback(url)
    settle()
    assert len(wecom.tokens) == 1
    wecom.expire_tokens()
    wecom.shopper_writes("wmUSER1", "发什么快递")
    wecom.post_callback(url)
    settle()
    assert len(wecom.tokens) == 2
    assert Message.objects.filter(sender="shopper").count() == 2
    assert len(wecom.sent) == Message.objects.exclude(sender="shopper").count()


def test_many_callers_finding_the_token_expired_fetch_one_new_token(connection, wecom):
    stale = WeComClient(connection).access_token()
    wecom.expire_tokens()
    tokens: list[str] = []
    start = threading.Barrier(6)

    def refresh() -> None:
        start.wait()
        tokens.append(WeComClient(connection).access_token(stale=stale))

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wecom.tokens) == 2 and set(tokens) == {wecom.tokens[1]}


def test_a_rate_limit_is_retried_after_its_back_off_and_the_reply_sent_once(live_server, connection, wecom):
    wecom.send_errors = [45009, 45009]
    wecom.shopper_writes("wmUSER1", "你好")
    wecom.post_callback(callback_url(live_server, connection))
    settle()
    executor.discard_waiting()  # the retries are driven below, through the task itself
    head = ChannelDelivery.objects.order_by("pk").first()
    assert head.status == "pending" and head.attempts == 1 and "频率限制" in head.last_error
    connection.refresh_from_db()
    assert "频率限制" in connection.last_error and "45009" in connection.last_error
    for _ in range(2):
        head.refresh_from_db()
        with time_machine.travel(head.next_attempt_at + timedelta(seconds=1), tick=False):
            deliver_channel(head.conversation_id)
        executor.discard_waiting()
    assert ChannelDelivery.objects.filter(status="pending").count() == 0
    assert len(wecom.sent) == ChannelDelivery.objects.filter(status="delivered").count()
    head.refresh_from_db()
    assert head.attempts == 3


def test_the_admins_test_button_explains_wecoms_error_codes_in_chinese(connection, wecom):
    assert check_connection(connection) == "已连接企业微信：企业 ID 和 Secret 正确"
    wecom.secret = "rotated"  # the Secret was reset in WeCom's console, not in Shopbee
    with pytest.raises(ChannelError) as refused:
        check_connection(connection)
    assert refused.value.message.startswith("Secret 不正确") and refused.value.message.endswith("（40001）")
    connection.refresh_from_db()
    assert connection.last_error == refused.value.message


def test_a_callback_signed_for_one_shop_never_reaches_another_shops_connection(live_server, connection, shop_b, wecom):
    other = channel_connection(
        shop_b, "wecom", corp_id="wwCORP1", secret="kf-secret", token="token-b", encoding_aes_key=OTHER_AES_KEY
    )
    wecom.shopper_writes("wmUSER1", "你好")
    status, _body = wecom.post_callback(callback_url(live_server, other))
    assert status == 403
    settle()
    assert not Message.objects.exists() and wecom.sync_bodies == []


def test_the_access_token_is_cached_until_it_expires(connection, wecom):
    client = WeComClient(connection)
    first = client.access_token()
    assert client.access_token() == first and len(wecom.tokens) == 1
    # WeCom says 7,200 s; Shopbee stops using it 300 s before.
    with time_machine.travel(timedelta(seconds=7200 - 301)):
        assert WeComClient(connection).access_token() == first
    with time_machine.travel(timedelta(seconds=7200 - 299)):
        assert WeComClient(connection).access_token() != first
    assert len(wecom.tokens) == 2
