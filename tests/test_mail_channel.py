"""The email channel end to end, against real servers: dovecot serves the shop's mailbox over IMAP, aiosmtpd
takes the replies over SMTP (tests/mail_servers.py). Mail is put in the mailbox with IMAP APPEND, the poll
task reads it, the bot answers, and the answer arrives at the SMTP server."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
import time_machine
from django.utils import timezone

from chat import tasks
from chat.channels import connections, email_sync
from chat.channels.base import ChannelError
from chat.channels.jobs import executor
from chat.models import ChannelConnection, ChannelDelivery, Conversation, EmailAttachment, EmailRecord, Message
from tests.factories import FAQCardFactory, ShopFactory, channel_connection
from tests.mail_servers import PASSWORD, imap_server, needs_dovecot, smtp_server  # noqa: F401  (fixtures)

pytestmark = [needs_dovecot, pytest.mark.django_db(transaction=True)]

Outcome = EmailRecord.Outcome
SHOPPER = "xiaoming@example.net"


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def mailbox_values(imap_server, smtp_server, **values) -> dict:  # noqa: F811
    """What a merchant enters for a mailbox on the test servers (a fresh address each time)."""
    address = imap_server.add_user()
    return {
        "address": address,
        "imap_host": imap_server.host,
        "imap_port": str(imap_server.port),
        "imap_security": "none",
        "imap_password": PASSWORD,
        "smtp_host": smtp_server.host,
        "smtp_port": str(smtp_server.port),
        "smtp_security": "starttls",
        "smtp_username": smtp_server.username,
        "smtp_password": smtp_server.password,
        **values,
    }


class Mailbox:
    """A shop's email connection and its address."""

    def __init__(self, connection: ChannelConnection) -> None:
        self.connection = connection
        self.pk = connection.pk
        self.shop = connection.shop
        self.shop_id = connection.shop_id
        self.address = connection.config["address"]


def connect_mailbox(imap_server, smtp_server, shop=None, **values) -> Mailbox:  # noqa: F811
    """A shop's mailbox on the test servers, connected: its first poll sets the cursor."""
    connection = channel_connection(
        shop or ShopFactory(), "email", **mailbox_values(imap_server, smtp_server, **values)
    )
    assert email_sync.poll(connection.pk).received == 0
    return Mailbox(connection)


def settle() -> None:
    assert executor.wait_idle(timeout=60), "replies still being sent after 60 s"


def shopper_mail(mailbox, body, *, message_id, subject="咨询", sender=SHOPPER, **headers) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"王小明 <{sender}>"
    mail["To"] = mailbox.address
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail


def poll(mailbox) -> email_sync.PollResult:
    """Read the mailbox, then wait until the replies it led to were sent."""
    result = email_sync.poll(mailbox.pk)
    settle()
    return result


def shopper_texts(conversation) -> list[str]:
    return list(
        conversation.messages.filter(sender=Message.Sender.SHOPPER).order_by("pk").values_list("text", flat=True)
    )


def test_a_thread_of_three_mails_stays_one_conversation_answered_in_the_thread(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    FAQCardFactory(shop=mailbox.shop, question="什么时候发货", answer="付款后 48 小时内发货哦～")
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "你好，什么时候发货？", message_id="m1@example.net"))
    assert poll(mailbox).stored == 1

    [first_reply] = smtp_server.messages_to(SHOPPER)
    assert first_reply["In-Reply-To"] == "<m1@example.net>"
    assert first_reply["Auto-Submitted"] == "auto-replied"
    assert first_reply["Subject"] == "Re: 咨询"
    assert "48 小时内发货" in first_reply.get_content()
    ours = first_reply["Message-ID"].strip("<>")
    assert ours.endswith("@example.com") and ours != "m1@example.net"

    second = shopper_mail(
        mailbox,
        f"那能开发票吗？\n\n在 2026年12月1日 10:00，店铺 <{mailbox.address}> 写道：\n> 付款后 48 小时内发货哦～\n",
        message_id="m2@example.net",
        subject="Re: 咨询",
        In_Reply_To=f"<{ours}>",
        References=f"<m1@example.net> <{ours}>",
    )
    imap_server.deliver(mailbox.address, second)
    assert poll(mailbox).stored == 1
    second_reply = smtp_server.messages_to(SHOPPER)[1]
    # A third mail that names the thread only in References (some clients drop In-Reply-To).
    third = shopper_mail(
        mailbox,
        "好的谢谢\n-- \n王小明",
        message_id="m3@example.net",
        subject="Re: 咨询",
        References=f"<m1@example.net> <{ours}> <m2@example.net> {second_reply['Message-ID']}",
    )
    imap_server.deliver(mailbox.address, third)
    assert poll(mailbox).stored == 1

    [conversation] = Conversation.objects.filter(shop=mailbox.shop)
    assert conversation.channel == Conversation.Channel.EMAIL
    assert shopper_texts(conversation) == ["咨询\n你好，什么时候发货？", "那能开发票吗？", "好的谢谢"]
    assert second_reply["References"].split() == ["<m1@example.net>", f"<{ours}>", "<m2@example.net>"]
    assert len(smtp_server.messages_to(SHOPPER)) == 3
    assert set(ChannelDelivery.objects.values_list("status", flat=True)) == {ChannelDelivery.Status.DELIVERED}


def test_an_auto_reply_and_a_bounce_to_our_reply_are_recorded_and_never_answered(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "在吗", message_id="a1@example.net"))
    poll(mailbox)
    [reply] = smtp_server.messages_to(SHOPPER)

    out_of_office = shopper_mail(
        mailbox,
        "我正在休假，12月5日回来。",
        message_id="ooo@example.net",
        subject="自动回复: Re: 咨询",
        Auto_Submitted="auto-replied",
        In_Reply_To=reply["Message-ID"],
    )
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mx.example.net"
    bounce["To"] = mailbox.address
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = "<bounce@mx.example.net>"
    bounce.set_content("The mail system: user unknown")
    bounce.add_attachment(f"Original-Message-ID: {reply['Message-ID']}\n", subtype="rfc822-headers")
    imap_server.deliver(mailbox.address, out_of_office)
    imap_server.deliver(mailbox.address, bounce)

    assert poll(mailbox).received == 2
    [conversation] = Conversation.objects.filter(shop=mailbox.shop)
    assert shopper_texts(conversation) == ["咨询\n在吗"]
    assert len(smtp_server.messages_to(SHOPPER)) == 1
    assert smtp_server.messages_to("MAILER-DAEMON@mx.example.net") == []
    records = dict(EmailRecord.objects.filter(direction="in").values_list("mail_id", "outcome"))
    assert records == {
        "a1@example.net": Outcome.STORED,
        "ooo@example.net": Outcome.AUTO_REPLY,
        "bounce@mx.example.net": Outcome.BOUNCE,
    }
    assert EmailRecord.objects.get(mail_id="ooo@example.net").conversation == conversation


def test_our_own_reply_coming_back_to_the_mailbox_is_not_answered(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    imap_server.deliver(
        mailbox.address, shopper_mail(mailbox, "在吗", message_id="own@example.net", sender=mailbox.address)
    )
    poll(mailbox)
    assert EmailRecord.objects.get(mail_id="own@example.net").outcome == Outcome.OWN
    assert not Conversation.objects.exists() and smtp_server.received == []


def test_an_html_mail_reaches_the_bot_as_text_without_its_quoted_history(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    mail = shopper_mail(mailbox, "x", message_id="h1@example.net", subject="")
    mail.set_content(
        "<html><body><div>这款<b>跑步鞋</b>有 42 码吗？</div><div><br></div>"
        "<div>在 2026年11月30日 写道：</div><blockquote>您好</blockquote><style>p{}</style></body></html>",
        subtype="html",
    )
    imap_server.deliver(mailbox.address, mail)
    poll(mailbox)
    [conversation] = Conversation.objects.filter(shop=mailbox.shop)
    assert shopper_texts(conversation) == ["这款跑步鞋有 42 码吗？"]


def test_an_attachment_is_kept_with_the_message_and_one_past_the_limit_is_only_named(
    imap_server,  # noqa: F811
    smtp_server,  # noqa: F811
    settings,
):
    settings.EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES = 1024
    mailbox = connect_mailbox(imap_server, smtp_server)
    mail = shopper_mail(mailbox, "鞋子开胶了，照片见附件", message_id="att@example.net", subject="售后")
    mail.add_attachment(b"\x89PNG fake photo", maintype="image", subtype="png", filename="开胶.png")
    mail.add_attachment(b"0" * 4096, maintype="video", subtype="mp4", filename="video.mp4")
    imap_server.deliver(mailbox.address, mail)
    poll(mailbox)

    [attachment] = EmailAttachment.objects.all()
    message = attachment.message
    assert (attachment.filename, attachment.content_type, attachment.size) == ("开胶.png", "image/png", 15)
    assert attachment.shop_id == mailbox.shop_id
    assert attachment.file.read() == b"\x89PNG fake photo"
    assert "开胶" not in attachment.file.name  # stored under a random name
    assert message.text == "售后\n鞋子开胶了，照片见附件"
    assert message.payload["attachments"] == [
        {"id": attachment.pk, "name": "开胶.png", "size": 15, "content_type": "image/png"}
    ]
    assert message.payload["attachments_too_large"] == ["video.mp4"]


def test_one_shops_mailbox_never_reaches_another_shops_conversations(imap_server, smtp_server):  # noqa: F811
    mailbox_a = connect_mailbox(imap_server, smtp_server, ShopFactory(name="店铺A"))
    mailbox_b = connect_mailbox(imap_server, smtp_server, ShopFactory(name="店铺B"))
    imap_server.deliver(mailbox_a.address, shopper_mail(mailbox_a, "A 店的问题", message_id="t1@example.net"))
    poll(mailbox_a)
    [reply_a] = smtp_server.messages_to(SHOPPER)
    # A mail to shop B naming shop A's thread (forged, or sent to both) starts a conversation of B's own.
    forged = shopper_mail(
        mailbox_b,
        "B 店的问题",
        message_id="t2@example.net",
        In_Reply_To=reply_a["Message-ID"],
        References=f"<t1@example.net> {reply_a['Message-ID']}",
    )
    imap_server.deliver(mailbox_b.address, forged)
    # The same mail (same Message-ID) sent to both shops is a message in each, once.
    both = shopper_mail(mailbox_a, "两家都问", message_id="t3@example.net")
    imap_server.deliver(mailbox_a.address, both)
    imap_server.deliver(mailbox_b.address, both)
    poll(mailbox_a)
    poll(mailbox_b)

    [conversation_a1, conversation_a2] = Conversation.objects.filter(shop=mailbox_a.shop).order_by("pk")
    [conversation_b1, conversation_b2] = Conversation.objects.filter(shop=mailbox_b.shop).order_by("pk")
    assert shopper_texts(conversation_a1) == ["咨询\nA 店的问题"]
    assert shopper_texts(conversation_b1) == ["咨询\nB 店的问题"]
    assert shopper_texts(conversation_a2) == shopper_texts(conversation_b2) == ["咨询\n两家都问"]
    assert not Message.objects.filter(conversation__shop=mailbox_b.shop, shop=mailbox_a.shop).exists()
    replies_from_b = [m for m in smtp_server.received if mailbox_b.address in m["From"]]
    assert sorted(m["In-Reply-To"] for m in replies_from_b) == ["<t2@example.net>", "<t3@example.net>"]
    assert not EmailRecord.objects.filter(shop=mailbox_a.shop, mail_id="t2@example.net").exists()


def test_a_mail_read_again_after_the_server_renumbered_the_folder_is_stored_once(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "有货吗", message_id="r1@example.net"))
    poll(mailbox)
    # As if the server had renumbered the folder (a new UIDVALIDITY): the mails since the last one are read again.
    ChannelConnection.objects.filter(pk=mailbox.pk).update(cursor="1:0")
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "还有一个问题", message_id="r2@example.net"))
    result = poll(mailbox)
    assert (result.received, result.stored) == (2, 1)
    assert Message.objects.filter(sender=Message.Sender.SHOPPER).count() == 2
    assert len(smtp_server.messages_to(SHOPPER)) == 2


def test_mail_already_in_the_mailbox_when_it_is_connected_is_never_answered(imap_server, smtp_server):  # noqa: F811
    values = mailbox_values(imap_server, smtp_server)
    old = EmailMessage()
    old["From"], old["To"], old["Subject"], old["Message-ID"] = (
        SHOPPER,
        values["address"],
        "去年的",
        "<old@example.net>",
    )
    old.set_content("旧邮件")
    imap_server.deliver(values["address"], old)
    connection = channel_connection(ShopFactory(), "email", **values)
    assert email_sync.poll(connection.pk).received == 0
    assert email_sync.poll(connection.pk).received == 0
    assert not Conversation.objects.exists()


def test_a_reply_the_smtp_server_refuses_is_sent_later_once_with_the_same_message_id(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    smtp_server.refusing = True
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "在吗", message_id="f1@example.net"))
    poll(mailbox)
    [delivery] = ChannelDelivery.objects.all()
    assert delivery.status == ChannelDelivery.Status.PENDING and "451" in delivery.last_error
    assert "451" in ChannelConnection.objects.get(pk=mailbox.pk).last_error
    assert smtp_server.received == []

    smtp_server.refusing = False
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert tasks.deliver_channel(delivery.conversation_id) == 1
        assert tasks.deliver_channel(delivery.conversation_id) == 0
    [reply] = smtp_server.messages_to(SHOPPER)
    [record] = EmailRecord.objects.filter(direction="out")
    assert reply["Message-ID"] == f"<{record.mail_id}>" and str(delivery.pk) in record.mail_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (ChannelDelivery.Status.DELIVERED, 2)


def test_a_permanent_smtp_refusal_is_not_retried(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server, smtp_password="a-wrong-password")
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "在吗", message_id="p1@example.net"))
    poll(mailbox)
    [delivery] = ChannelDelivery.objects.all()
    assert delivery.status == ChannelDelivery.Status.FAILED
    assert "SMTP 登录失败" in delivery.last_error


def test_an_agents_reply_is_mailed_without_the_auto_reply_mark(imap_server, smtp_server):  # noqa: F811
    from chat import services
    from tests.factories import MembershipFactory, UserFactory

    mailbox = connect_mailbox(imap_server, smtp_server)
    imap_server.deliver(mailbox.address, shopper_mail(mailbox, "我要转人工", message_id="g1@example.net"))
    poll(mailbox)
    conversation = Conversation.objects.get(shop=mailbox.shop)
    agent = UserFactory()
    MembershipFactory(user=agent, shop=mailbox.shop, role="agent")
    services.accept_conversation(conversation, agent)
    services.agent_reply(agent, conversation.pk, "您好，我是客服小李，请问有什么可以帮您？")
    settle()
    agent_mail = smtp_server.messages_to(SHOPPER)[-1]
    assert "客服小李" in agent_mail.get_content()
    assert agent_mail["Auto-Submitted"] is None
    assert agent_mail["In-Reply-To"] == "<g1@example.net>"
    assert all(m["Auto-Submitted"] == "auto-replied" for m in smtp_server.messages_to(SHOPPER)[:-1])


def test_a_wrong_imap_password_is_shown_on_the_connection_and_by_its_test_button(imap_server, smtp_server):  # noqa: F811
    values = mailbox_values(imap_server, smtp_server, imap_password="not-the-password")
    connection = channel_connection(ShopFactory(), "email", **values)
    assert tasks.poll_mailbox(connection.pk) == 0
    connection.refresh_from_db()
    assert "IMAP 登录失败" in connection.last_error and connection.last_error_at is not None
    with pytest.raises(ChannelError, match="IMAP 登录失败"):
        connections.check_connection(connection)


def test_the_test_button_logs_in_to_both_servers(imap_server, smtp_server):  # noqa: F811
    mailbox = connect_mailbox(imap_server, smtp_server)
    assert "IMAP" in connections.check_connection(mailbox.connection) and "SMTP" in connections.check_connection(
        mailbox.connection
    )
