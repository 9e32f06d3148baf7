"""What the bot reads of a mail: quoted history, forwarded blocks and signatures cut off, HTML turned into
text; and which mails are never answered (bounces, auto-replies, bulk mail)."""

from email.message import EmailMessage
from email.policy import SMTP

from chat.channels.mail.html_text import html_to_text
from chat.channels.mail.loops import Unanswerable
from chat.channels.mail.parsing import parse_mail
from chat.channels.mail.quoting import visible_text

LIMITS = {"max_attachment_bytes": 1000, "max_attachments": 3}


def mail(body: str = "你好", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "王小明 <xiaoming@example.net>")
    message["To"] = "cs@example.com"
    message["Subject"] = headers.pop("Subject", "咨询")
    message["Message-ID"] = headers.pop("Message_ID", "<q1@example.net>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def parsed(message: EmailMessage):
    return parse_mail(message.as_bytes(policy=SMTP), **LIMITS)


def test_a_chinese_clients_quote_header_and_everything_below_it_are_cut():
    text = (
        "这件还有货吗？\n\n在 2026年11月30日 10:02，店小蜂客服 <cs@example.com> 写道：\n> 您好，请问有什么可以帮您？\n"
    )
    assert visible_text(text) == "这件还有货吗？"


def test_gmails_wrapped_on_wrote_line_is_cut():
    text = "Is it waterproof?\n\nOn Mon, Nov 30, 2026 at 10:02 AM Shopbee Support\n<cs@example.com> wrote:\n> Hello\n"
    assert visible_text(text) == "Is it waterproof?"


def test_outlook_and_foxmail_header_blocks_and_qq_original_mail_rules_are_cut():
    outlook = (
        "发票开好了吗\n\n发件人: 店小蜂 <cs@example.com>\n"
        "发送时间: 2026年11月30日 10:00\n收件人: me\n主题: 回复\n\n旧内容"
    )
    qq = '收到，谢谢\n\n------------------ 原始邮件 ------------------\n发件人: "店小蜂"\n旧内容'
    assert visible_text(outlook) == "发票开好了吗"
    assert visible_text(qq) == "收到，谢谢"


def test_forwarded_blocks_are_cut():
    text = "帮我看看这个订单\n\n---------- Forwarded message ---------\nFrom: shop <a@b.c>\n订单号 123"
    assert visible_text(text) == "帮我看看这个订单"


def test_quoted_lines_between_answers_are_dropped():
    assert visible_text("> 有 42 码吗\n有的话要两双\n> 颜色呢\n黑色") == "有的话要两双\n黑色"


def test_signatures_after_the_dash_line_and_chinese_closings_are_cut():
    assert visible_text("什么时候发货？\n-- \n王小明\n某某公司 采购部") == "什么时候发货？"
    assert visible_text("什么时候发货？\n\n此致\n敬礼\n王小明") == "什么时候发货？"
    assert visible_text("退款到账了吗\n祝好！\n小明\n\n发自我的iPhone") == "退款到账了吗"


def test_a_closing_word_early_in_a_long_mail_is_kept():
    body = "祝好\n" + "\n".join(f"第{n}行内容" for n in range(10))
    assert visible_text(body).startswith("祝好\n第0行内容")


def test_html_mail_reads_as_text_with_blocks_on_their_own_lines_and_without_scripts_or_styles():
    html = (
        "<html><head><style>p{color:red}</style><title>x</title></head><body>"
        "<p>你好，<b>这款</b>有黑色吗？</p><div>链接：<a href='https://shop.example/p/1'>商品</a></div>"
        "<script>alert(1)</script><ul><li>一</li><li>二</li></ul>"
        "<blockquote>旧的回复</blockquote></body></html>"
    )
    assert html_to_text(html) == ("你好，这款有黑色吗？\n链接：商品 (https://shop.example/p/1)\n- 一\n- 二\n> 旧的回复")


def test_an_html_only_mail_gives_the_bot_its_new_words_without_the_quoted_blockquote():
    message = mail("placeholder")
    message.set_content("<div>这双鞋<br>有42码吗？</div><blockquote><p>您好，欢迎光临</p></blockquote>", subtype="html")
    assert parsed(message).visible == "这双鞋\n有42码吗？"


def test_a_mail_with_plain_and_html_parts_reads_the_plain_one_and_keeps_no_part_as_attachment():
    message = mail("纯文本版本")
    message.add_alternative("<p>HTML 版本</p>", subtype="html")
    result = parsed(message)
    assert result.visible == "纯文本版本"
    assert result.attachments == ()


def test_attachments_are_kept_with_a_safe_name_and_the_ones_past_the_limits_are_named():
    message = mail("发票见附件")
    message.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="../../发票.pdf")
    message.add_attachment(b"x" * 2000, maintype="application", subtype="zip", filename="big.zip")
    result = parsed(message)
    assert [(a.filename, a.content_type, a.content) for a in result.attachments] == [
        ("发票.pdf", "application/pdf", b"%PDF-1.4 small")
    ]
    assert result.too_large == ("big.zip",)


def test_ids_of_the_thread_are_read_nearest_first():
    message = mail(In_Reply_To="<b@x>", References="<root@x> <a@x> <b@x>")
    result = parsed(message)
    assert result.message_id == "q1@example.net"
    assert result.thread_ids == ("b@x", "a@x", "root@x")


def test_a_mail_without_a_message_id_gets_the_same_one_each_time_it_is_read():
    message = mail()
    del message["Message-ID"]
    assert parsed(message).message_id == parsed(message).message_id
    assert parsed(message).message_id.endswith("@missing-id.shopbee")


def test_a_persons_mail_is_answered():
    assert parsed(mail()).guard is None
    assert parsed(mail(Auto_Submitted="no")).guard is None


def test_auto_replies_are_never_answered():
    cases = [
        mail(Auto_Submitted="auto-replied"),
        mail(X_Autoreply="yes"),
        mail(X_Autorespond="on"),
        mail(Subject="自动回复：我正在休假"),
        mail(Subject="Automatic reply: out of office"),
    ]
    assert [parsed(case).guard.kind for case in cases] == [Unanswerable.AUTO_REPLY] * len(cases)


def test_bulk_and_list_mail_is_never_answered():
    cases = [mail(Precedence="bulk"), mail(Precedence="junk"), mail(List_Id="<news.example.net>")]
    assert [parsed(case).guard.kind for case in cases] == [Unanswerable.BULK] * len(cases)


def test_bounces_are_never_answered():
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.net>"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<bounce1@mx.example.net>"
    report.set_content("This is the mail system.")
    report.add_attachment("Reporting-MTA: dns; mx.example.net\n", subtype="delivery-status")
    report.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"; boundary="b"')
    daemon = mail(From="MAILER-DAEMON@qq.com", Subject="系统退信")
    cases = [parse_mail(report.as_bytes(policy=SMTP), **LIMITS), parsed(daemon), parsed(mail(Subject="退信通知"))]
    assert [case.guard.kind for case in cases] == [Unanswerable.BOUNCE] * 3
