"""The back office's channel pages: a manager connects a channel (secrets encrypted, never shown again),
sees its state and tests it; nobody reaches another shop's connections."""

import pytest
from django.urls import reverse

from chat.models import ChannelConnection
from core import crypto
from tests.channel_support import WECOM_AES_KEY
from tests.conftest import staff_of
from tests.factories import channel_connection

pytestmark = pytest.mark.django_db


def add_form(shop, **values) -> dict:
    return {"shop": shop.pk, "kind": "wecom", "name": "微信客服", "is_active": "on", **values}


def wecom_values(**changes) -> dict:
    values = {
        "wecom__corp_id": "wwCORP1",
        "wecom__secret": "kf-secret",
        "wecom__token": "cbtoken",
        "wecom__encoding_aes_key": WECOM_AES_KEY,
        "wecom__product_url": "",
    }
    return {**values, **changes}


def test_a_manager_connects_wecom_and_the_secrets_are_stored_encrypted(client, shop_a, manager_a):
    client.force_login(manager_a)
    answer = client.post(reverse("admin:chat_channelconnection_add"), add_form(shop_a, **wecom_values()))
    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    connection = ChannelConnection.objects.get()
    assert connection.config["corp_id"] == "wwCORP1" and "secret" not in connection.config
    assert "kf-secret" not in connection.secrets and WECOM_AES_KEY not in connection.secrets
    assert crypto.decrypt(connection.secrets) == {
        "secret": "kf-secret",
        "token": "cbtoken",
        "encoding_aes_key": WECOM_AES_KEY,
    }
    page = client.get(reverse("admin:chat_channelconnection_change", args=[connection.pk])).content.decode()
    assert "kf-secret" not in page and WECOM_AES_KEY not in page
    assert f"/channels/wecom/{connection.pk}/callback" in page and "测试连接" in page


def test_a_secret_left_empty_keeps_the_stored_one_and_a_bad_aes_key_is_a_field_error(client, shop_a, manager_a):
    client.force_login(manager_a)
    connection = channel_connection(
        shop_a, "wecom", corp_id="ww1", secret="s1", token="t1", encoding_aes_key=WECOM_AES_KEY
    )
    url = reverse("admin:chat_channelconnection_change", args=[connection.pk])
    form = {
        "name": "微信客服",
        "is_active": "on",
        **wecom_values(wecom__secret="", wecom__token="", wecom__encoding_aes_key=""),
    }
    assert client.post(url, form).status_code == 302
    connection.refresh_from_db()
    assert crypto.decrypt(connection.secrets)["secret"] == "s1" and connection.config["corp_id"] == "wwCORP1"
    bad = client.post(url, {**form, "wecom__encoding_aes_key": "too-short"})
    assert bad.status_code == 200
    assert "43 位" in str(bad.context["adminform"].form.errors["wecom__encoding_aes_key"])


def test_a_new_connection_needs_its_channels_values(client, shop_a, manager_a):
    client.force_login(manager_a)
    answer = client.post(
        reverse("admin:chat_channelconnection_add"), add_form(shop_a, **wecom_values(wecom__secret=""))
    )
    assert answer.status_code == 200 and "wecom__secret" in answer.context["adminform"].form.errors
    assert not ChannelConnection.objects.exists()


def test_the_test_button_shows_the_outcome_and_the_list_shows_the_last_error(client, shop_a, manager_a, wecom):
    client.force_login(manager_a)
    connection = channel_connection(
        shop_a, "wecom", corp_id="wwCORP1", secret="kf-secret", token="cbtoken", encoding_aes_key=WECOM_AES_KEY
    )
    check = reverse("admin:chat_channelconnection_check", args=[connection.pk])
    assert client.get(check).status_code == 405
    ok = client.post(check, follow=True)
    assert "已连接企业微信" in ok.content.decode()
    wecom.secret = "rotated"
    failed = client.post(check, follow=True).content.decode()
    assert "Secret 不正确" in failed
    listing = client.get(reverse("admin:chat_channelconnection_changelist")).content.decode()
    assert "Secret 不正确" in listing


def test_the_bridge_connection_shows_its_inbound_url_and_signing_secret_to_its_manager(client, shop_a, manager_a):
    client.force_login(manager_a)
    connection = channel_connection(shop_a, "api", url="https://bridge.example.com/hook")
    page = client.get(reverse("admin:chat_channelconnection_change", args=[connection.pk])).content.decode()
    assert f"/api/v1/channels/{connection.pk}/messages" in page
    assert crypto.decrypt(connection.secrets)["signing_secret"] in page


def test_nobody_reaches_another_shops_connections_and_agents_see_none(client, shop_a, shop_b, manager_a):
    theirs = channel_connection(shop_b, "api", url="https://bridge.example.com/hook", name="B 的网桥")
    client.force_login(manager_a)
    assert client.get(reverse("admin:chat_channelconnection_change", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("admin:chat_channelconnection_check", args=[theirs.pk])).status_code == 404
    assert "B 的网桥" not in client.get(reverse("admin:chat_channelconnection_changelist")).content.decode()
    client.force_login(staff_of(shop_a, "agent"))
    assert client.get(reverse("admin:chat_channelconnection_changelist")).status_code == 403
