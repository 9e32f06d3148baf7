"""Invoice requests collected over several turns: title, credit code (validated), optional e-mail."""

import pytest

from chat.models import InvoiceRequest
from shops.models import Order
from tests.dialogue_support import Shopper
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

VALID_CODE = "91350100M000100Y43"
WRONG_CHECK_DIGIT = "91350100M000100Y44"


def test_the_bot_collects_title_and_code_explains_a_wrong_code_and_records_the_request(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("我要开发票")
    assert shopper.result.intent == "invoice" and "抬头" in shopper.reply
    shopper.says("杭州某某科技有限公司")
    assert "统一社会信用代码" in shopper.reply
    shopper.says(WRONG_CHECK_DIGIT)
    assert "校验码" in shopper.reply and not InvoiceRequest.objects.exists()
    shopper.says("9135010")
    assert "7 位" in shopper.reply and "18 位" in shopper.reply
    shopper.says(VALID_CODE.lower())
    assert "邮箱" in shopper.reply and shopper.quick_replies == ["跳过"]
    shopper.says("finance@example.com")
    invoice = InvoiceRequest.objects.get()
    assert (invoice.shop, invoice.conversation, invoice.title, invoice.tax_id, invoice.email) == (
        shop_a,
        shopper.conversation,
        "杭州某某科技有限公司",
        VALID_CODE,
        "finance@example.com",
    )
    assert "发票申请已提交" in shopper.reply and "finance@example.com" in shopper.reply
    assert "pending" not in shopper.state


def test_a_code_with_letters_a_credit_code_never_uses_is_explained(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("开票，抬头：杭州某某科技有限公司")
    shopper.says("91350100M000100I43")
    assert "I" in shopper.reply and "不含 I、O、Z、S、V" in shopper.reply


def test_everything_in_one_message_links_the_customers_order(shop_a):
    alice = CustomerFactory(shop=shop_a)
    order = OrderFactory(shop=shop_a, customer=alice, external_id="SA300001", status=Order.Status.COMPLETED)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says(f"订单SA300001开发票，抬头杭州某某科技有限公司，税号{VALID_CODE}，不需要邮箱")
    shopper.says("跳过")
    invoice = InvoiceRequest.objects.get()
    assert invoice.order == order and invoice.customer == alice and invoice.email == ""
    assert "SA300001" in shopper.reply


def test_a_question_in_the_middle_is_answered_and_the_invoice_continues(shop_a):
    OrderFactory(shop=shop_a, external_id="SA300002", status=Order.Status.PAID, receiver_phone="13700001234")
    shopper = Shopper(shop_a)
    shopper.says("能开发票吗")
    shopper.says("杭州某某科技有限公司")
    shopper.says("你是机器人吗")
    assert shopper.result.intent == "smalltalk"
    assert shopper.result.replies[-1].text.startswith("（开发票还差一步")
    shopper.says(VALID_CODE)
    assert "邮箱" in shopper.reply
    shopper.says("跳过")
    assert InvoiceRequest.objects.get().title == "杭州某某科技有限公司"


def test_the_shopper_can_cancel_an_invoice_request(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("我要开发票")
    shopper.says("算了")
    assert "已为您取消" in shopper.reply and "pending" not in shopper.state
    assert not InvoiceRequest.objects.exists()


def test_asking_about_an_invoice_tells_where_the_shoppers_own_request_stands(shop_a):
    alice, bob = CustomerFactory(shop=shop_a), CustomerFactory(shop=shop_a)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("发票开了吗")
    assert "没有查到您的发票申请" in shopper.reply
    shopper.says(f"开发票，抬头杭州某某科技有限公司，税号{VALID_CODE}")
    shopper.says("跳过")
    other = Shopper(shop_a, customer=bob, token="visitor-2")
    other.says(f"开发票，抬头宁波另一家贸易有限公司，税号{VALID_CODE}")
    other.says("跳过")
    assert InvoiceRequest.objects.count() == 2
    shopper.says("我的发票开好了没")
    assert "杭州某某科技有限公司" in shopper.reply and "正在开具" in shopper.reply
    InvoiceRequest.objects.filter(customer=alice).update(
        status=InvoiceRequest.Status.ISSUED, invoice_url="https://example.com/inv/1.pdf"
    )
    shopper.says("发票开了吗")
    assert "已开具" in shopper.reply and "https://example.com/inv/1.pdf" in shopper.reply
    assert "宁波" not in shopper.reply


def test_a_question_while_the_title_is_asked_is_not_taken_for_the_title(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("我要开发票")
    shopper.says("1米75穿多大")
    assert shopper.state["pending"]["step"] == "title" and "title" not in shopper.state["pending"]
    shopper.says("张三")
    assert shopper.state["pending"]["title"] == "张三"
