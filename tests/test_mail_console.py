"""What agents see of an email conversation: its channel in the queue and the transcript, the shopper's
attachments as downloads for the shop's own staff only. (The mail is read with the email channel's own
parser and stored through the channel layer's inbound service, without a mail server.)"""

import warnings
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse

from chat import services
from chat.channels.email import imap_login, smtp_login
from chat.channels.email_sync import Cursor, receive_mail
from chat.models import Conversation, EmailAttachment
from config.asgi import application
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import channel_connection

Role = Membership.Role


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mail_conversation(shop_a):
    connection = channel_connection(
        shop_a,
        "email",
        address="cs@shop-a.example",
        imap_host="127.0.0.1",
        imap_port="993",
        imap_security="ssl",
        imap_password="app-password",
        smtp_host="127.0.0.1",
        smtp_port="465",
        smtp_security="ssl",
    )
    mail = EmailMessage()
    mail["From"] = "李女士 <li@example.net>"
    mail["To"] = "cs@shop-a.example"
    mail["Subject"] = "退货"
    mail["Message-ID"] = "<console-1@example.net>"
    mail.set_content("收到的鞋子是坏的，见照片")
    mail.add_attachment(
        b"<html><script>alert(1)</script></html>", maintype="text", subtype="html", filename="照片.html"
    )
    record = receive_mail(connection, mail.as_bytes(policy=SMTP), Cursor(1, 1))
    return record.conversation


def test_the_console_shows_an_email_conversations_channel_sender_and_attachments(mail_conversation, agent_a):
    detail = services.conversation_detail(agent_a, mail_conversation.pk)
    assert (detail["channel"], detail["shopper"]) == ("email", "李女士")
    assert detail["channel_label"] == str(Conversation.Channel.EMAIL.label)
    [message] = detail["messages"][:1]
    [attachment] = EmailAttachment.objects.all()
    assert message["attachments"] == [
        {
            "id": attachment.pk,
            "name": "照片.html",
            "size": attachment.size,
            "content_type": "text/html",
            "url": reverse("chat:attachment", args=[attachment.pk]),
        }
    ]
    assert message["attachments_too_large"] == []


def test_an_agent_of_the_shop_downloads_the_attachment_never_shown_inline(client, mail_conversation, agent_a):
    [attachment] = EmailAttachment.objects.all()
    client.force_login(agent_a)
    response = client.get(reverse("chat:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response.content == b"<html><script>alert(1)</script></html>"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db(transaction=True)
async def test_served_by_the_asgi_server_the_download_is_whole_and_raises_no_streaming_warning(
    client, mail_conversation, agent_a, settings, monkeypatch
):
    # Django serves each ASGI request in a thread of its own: that thread's connection must close with the
    # request, not persist (CONN_MAX_AGE) until the test database is dropped.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    [attachment] = await database_sync_to_async(list)(EmailAttachment.objects.all())
    await database_sync_to_async(client.force_login)(agent_a)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    scope = {
        "type": "http",
        "method": "GET",
        "path": reverse("chat:attachment", args=[attachment.pk]),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
    }
    download = ApplicationCommunicator(application, scope)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await download.send_input({"type": "http.request", "body": b""})
        start, body = await download.receive_output(10), b""
        while (part := await download.receive_output(10)).get("more_body"):
            body += part.get("body", b"")
        body += part.get("body", b"")
        await download.wait(10)  # the request ends (its connection closed with it)
    assert start["status"] == 200 and body == b"<html><script>alert(1)</script></html>"
    assert [str(warning.message) for warning in caught] == []
    sent = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    assert sent["content-type"] == "application/octet-stream" and sent["content-disposition"].startswith("attachment;")
    assert sent["content-length"] == str(len(body)) and sent["x-content-type-options"] == "nosniff"


def test_another_shops_agent_gets_a_404_and_a_visitor_the_login(client, mail_conversation, shop_b):
    [attachment] = EmailAttachment.objects.all()
    url = reverse("chat:attachment", args=[attachment.pk])
    response = client.get(url)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    client.force_login(staff_of(shop_b, Role.AGENT))
    assert client.get(url).status_code == 404
    assert client.get(reverse("chat:attachment", args=[attachment.pk + 1000])).status_code == 404


def test_the_mail_log_lists_the_shops_own_mail_to_its_staff_only(client, mail_conversation, agent_a, shop_b):
    client.force_login(agent_a)
    page = client.get(reverse("admin:chat_emailrecord_changelist"))
    assert page.status_code == 200 and "li@example.net" in page.content.decode()
    client.force_login(staff_of(shop_b, Role.MANAGER))
    page = client.get(reverse("admin:chat_emailrecord_changelist"))
    assert page.status_code == 200 and "li@example.net" not in page.content.decode()


def mailbox_form(shop, **changes) -> dict:
    values = {
        "email__address": "kefu@shop-a.example",
        "email__imap_host": "imap.qq.com",
        "email__imap_port": "993",
        "email__imap_security": "ssl",
        "email__imap_password": "qq-app-password",
        "email__smtp_host": "smtp.qq.com",
        "email__smtp_port": "465",
        "email__smtp_security": "ssl",
    }
    return {"shop": shop.pk, "kind": "email", "name": "客服邮箱", "is_active": "on", **values, **changes}


def test_a_manager_connects_a_mailbox_and_its_password_is_stored_encrypted(client, shop_a, manager_a):
    from chat.models import ChannelConnection
    from core import crypto

    client.force_login(manager_a)
    answer = client.post(reverse("admin:chat_channelconnection_add"), mailbox_form(shop_a))
    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    connection = ChannelConnection.objects.get(kind="email")
    assert connection.config["address"] == "kefu@shop-a.example" and connection.config["imap_port"] == "993"
    assert "qq-app-password" not in str(connection.config) and "qq-app-password" not in connection.secrets
    assert crypto.decrypt(connection.secrets) == {"imap_password": "qq-app-password"}
    imap, smtp = imap_login(connection), smtp_login(connection)
    assert (imap.host, imap.port, imap.password) == ("imap.qq.com", 993, "qq-app-password")
    assert (smtp.host, smtp.port, smtp.password) == ("smtp.qq.com", 465, "qq-app-password")  # the IMAP one


def test_the_mailbox_form_refuses_a_bad_address_port_or_security_with_field_messages(client, shop_a, manager_a):
    client.force_login(manager_a)
    form = mailbox_form(
        shop_a, email__address="not-an-address", email__imap_port="99999", email__smtp_security="tls1.3"
    )
    answer = client.post(reverse("admin:chat_channelconnection_add"), form)
    errors = answer.context["adminform"].form.errors
    assert answer.status_code == 200
    assert "有效的邮箱地址" in str(errors["email__address"])
    assert "1-65535" in str(errors["email__imap_port"])
    assert "ssl、starttls 或 none" in str(errors["email__smtp_security"])
