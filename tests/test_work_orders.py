"""Work orders and invoice requests: stored, published to webhooks, resolved back to the shopper."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from api.models import WebhookSubscription
from chat.models import Conversation, InvoiceRequest, Message, WorkOrder
from chat.records import open_work_order, request_invoice, update_work_order
from tests.deliveries import settle
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(shop_a):
    return Conversation.objects.create(shop=shop_a, visitor_token="v-9")


def test_resolving_a_work_order_tells_the_shopper_and_the_subscribers(shop_a, conversation, webhook_receiver):
    WebhookSubscription.objects.create(
        shop=shop_a, url=webhook_receiver.url, events=["work_order.created", "work_order.updated"]
    )
    order = OrderFactory(shop=shop_a)
    work_order = open_work_order(
        shop_a.pk,
        WorkOrder.Kind.ADDRESS_CHANGE,
        "改地址",
        conversation=conversation,
        order=order,
        data={"new_address": "上海市徐汇区漕溪北路 1 号"},
    )
    update_work_order(work_order, status=WorkOrder.Status.RESOLVED, resolution="已改为新地址")
    settle()
    notice = conversation.messages.get()
    assert notice.sender == Message.Sender.SYSTEM
    assert f"#{work_order.pk}" in notice.text and "已改为新地址" in notice.text
    # Deliveries run side by side: a receiver orders them by their payload, not by arrival.
    assert sorted(r["headers"]["X-Shopbee-Event"] for r in webhook_receiver.requests) == [
        "work_order.created",
        "work_order.updated",
    ]
    update_work_order(work_order, resolution="已改为新地址（补充）")
    assert conversation.messages.count() == 1  # resolved once, told once


def test_an_invoice_request_needs_a_valid_credit_code(shop_a, conversation):
    with pytest.raises(ValidationError):
        request_invoice(conversation, shop_a.pk, "杭州某某科技有限公司", "91350100M000100Y44")
    assert not InvoiceRequest.objects.exists()
    invoice = request_invoice(conversation, shop_a.pk, "杭州某某科技有限公司", "91350100m000100y43")
    assert invoice.tax_id == "91350100M000100Y43"


def test_an_agent_of_another_shop_cannot_open_the_work_order(client, shop_a, shop_b, conversation):
    from shops.models import Membership
    from tests.conftest import staff_of

    work_order = open_work_order(shop_a.pk, WorkOrder.Kind.COMPLAINT, "投诉", conversation=conversation)
    client.force_login(staff_of(shop_b, Membership.Role.AGENT))
    assert client.get(reverse("admin:chat_workorder_change", args=[work_order.pk])).status_code == 404
    client.force_login(staff_of(shop_a, Membership.Role.AGENT))
    response = client.post(
        reverse("admin:chat_workorder_change", args=[work_order.pk]),
        {
            "shop": shop_a.pk,
            "kind": "complaint",
            "details": "投诉",
            "status": "resolved",
            "resolution": "已致歉退款",
            "data": "{}",
            "conversation": conversation.pk,
        },
    )
    assert response.status_code == 302
    assert conversation.messages.filter(text__contains="已致歉退款").exists()
