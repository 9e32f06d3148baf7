"""Every admin write goes through the domain service the open API and the sockets use: the same webhooks,
the same notices to the shopper, the same timestamps, and a history entry in the admin; staff of another
shop can do none of it."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from api.models import WebhookDelivery, WebhookSubscription
from chat.messaging import conversation_group
from chat.models import Conversation, InvoiceRequest, Message, WorkOrder
from knowledge.models import FAQCard, UnansweredQuestion
from knowledge.services import answer_question
from shops.models import Membership
from tests.chat_sockets import group_event
from tests.conftest import staff_of
from tests.deliveries import settle
from tests.factories import (
    ApiKeyFactory,
    ConversationFactory,
    FAQCardFactory,
    InvoiceRequestFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

Role = Membership.Role


def subscribe(shop, receiver, *events):
    return WebhookSubscription.objects.create(shop=shop, url=receiver.url, events=list(events))


def events_sent(receiver) -> list[str]:
    settle()
    return [request["headers"]["X-Shopbee-Event"] for request in receiver.requests]


def history(obj) -> list[LogEntry]:
    """The object's admin history (what the admin's "History" page lists)."""
    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)).order_by(
            "pk"
        )
    )


def posted(client, url: str, data: dict):
    """POST the admin form and the first event the conversation's sockets would get meanwhile."""
    responses = []
    return responses, lambda conversation: async_to_sync(group_event)(
        conversation_group(conversation.pk), lambda: responses.append(client.post(url, data))
    )


@pytest.fixture
def agent_a(shop_a):
    return staff_of(shop_a, Role.AGENT)


@pytest.fixture
def agent_b(shop_b):
    return staff_of(shop_b, Role.AGENT)


@pytest.fixture
def conversation(shop_a):
    return ConversationFactory(shop=shop_a)


# --- work orders ---------------------------------------------------------------------------------


def work_order_form(shop, conversation, **fields) -> dict:
    return {
        "shop": shop.pk,
        "kind": WorkOrder.Kind.EXCHANGE,
        "details": "42 码换 43 码",
        "data": "{}",
        "status": WorkOrder.Status.OPEN,
        "resolution": "",
        "conversation": conversation.pk if conversation else "",
        **fields,
    }


def test_a_work_order_opened_in_the_admin_fires_the_created_webhook_and_is_in_its_history(
    client, shop_a, agent_a, conversation, webhook_receiver
):
    subscribe(shop_a, webhook_receiver, "work_order.created")
    client.force_login(agent_a)
    response = client.post(reverse("admin:chat_workorder_add"), work_order_form(shop_a, conversation))
    assert response.status_code == 302
    work_order = WorkOrder.objects.get()
    assert response["Location"] == reverse("admin:chat_workorder_changelist")
    assert events_sent(webhook_receiver) == ["work_order.created"]
    assert json.loads(webhook_receiver.requests[0]["body"])["data"]["id"] == work_order.pk
    [entry] = history(work_order)
    assert entry.action_flag == ADDITION and entry.user == agent_a


def test_a_work_order_resolved_in_the_admin_tells_the_shopper_and_the_subscribers(
    client, shop_a, agent_a, conversation, webhook_receiver
):
    subscribe(shop_a, webhook_receiver, "work_order.updated")
    work_order = WorkOrderFactory(shop=shop_a, conversation=conversation, kind=WorkOrder.Kind.EXCHANGE)
    client.force_login(agent_a)
    form = work_order_form(shop_a, conversation, status=WorkOrder.Status.RESOLVED, resolution="已换成 43 码")
    responses, send = posted(client, reverse("admin:chat_workorder_change", args=[work_order.pk]), form)
    event = send(conversation)
    assert responses[0].status_code == 302
    notice = Message.objects.get(conversation=conversation)
    assert notice.intent == "work_order_resolved" and "已换成 43 码" in notice.text
    assert [frame["id"] for frame in event["frames"]] == [notice.pk]
    work_order.refresh_from_db()
    assert work_order.resolved_at is not None
    assert events_sent(webhook_receiver) == ["work_order.updated"]
    [entry] = history(work_order)
    assert entry.action_flag == CHANGE and entry.user == agent_a and "Resolution" in entry.change_message


def test_an_agent_of_another_shop_can_neither_open_nor_change_the_shops_work_orders(
    client, shop_a, agent_b, conversation, webhook_receiver
):
    subscribe(shop_a, webhook_receiver, "work_order.created", "work_order.updated")
    work_order = WorkOrderFactory(shop=shop_a, conversation=conversation)
    client.force_login(agent_b)
    refused = client.post(reverse("admin:chat_workorder_add"), work_order_form(shop_a, None))
    assert refused.status_code == 200 and "shop" in refused.context["adminform"].form.errors
    form = work_order_form(shop_a, conversation, status=WorkOrder.Status.RESOLVED, resolution="越权")
    assert client.post(reverse("admin:chat_workorder_change", args=[work_order.pk]), form).status_code == 404
    assert WorkOrder.objects.get().status == WorkOrder.Status.OPEN
    assert not Message.objects.exists() and not WebhookDelivery.objects.exists() and not LogEntry.objects.exists()


# --- invoice requests ----------------------------------------------------------------------------


def invoice_form(invoice: InvoiceRequest, **fields) -> dict:
    return {
        "shop": invoice.shop_id,
        "conversation": invoice.conversation_id or "",
        "title": invoice.title,
        "tax_id": invoice.tax_id,
        "email": invoice.email,
        "status": invoice.status,
        "invoice_url": invoice.invoice_url,
        "note": invoice.note,
        **fields,
    }


def test_an_invoice_marked_issued_in_the_admin_gets_its_time_and_the_shopper_the_link(
    client, shop_a, agent_a, conversation
):
    invoice = InvoiceRequestFactory(shop=shop_a, conversation=conversation)
    client.force_login(agent_a)
    url = "https://invoices.example.com/2026/1.pdf"
    form = invoice_form(invoice, status=InvoiceRequest.Status.ISSUED, invoice_url=url)
    responses, send = posted(client, reverse("admin:chat_invoicerequest_change", args=[invoice.pk]), form)
    event = send(conversation)
    assert responses[0].status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceRequest.Status.ISSUED and invoice.issued_at is not None
    notice = Message.objects.get(conversation=conversation)
    assert notice.intent == "invoice" and url in notice.text and invoice.title in notice.text
    assert [frame["id"] for frame in event["frames"]] == [notice.pk]
    [entry] = history(invoice)
    assert entry.action_flag == CHANGE and entry.user == agent_a and "Status" in entry.change_message
    client.post(reverse("admin:chat_invoicerequest_change", args=[invoice.pk]), {**form, "note": "已寄出纸质版"})
    assert Message.objects.filter(conversation=conversation).count() == 1  # issued once, told once


def test_an_invoice_request_added_in_the_admin_fires_the_requested_webhook(
    client, shop_a, agent_a, conversation, webhook_receiver
):
    subscribe(shop_a, webhook_receiver, "invoice.requested")
    client.force_login(agent_a)
    draft = InvoiceRequest(shop=shop_a, conversation=conversation, title="杭州小蜂科技有限公司")
    form = invoice_form(draft, tax_id="91330106ma27xk1a0b", status=InvoiceRequest.Status.REQUESTED)
    assert client.post(reverse("admin:chat_invoicerequest_add"), form).status_code == 302
    invoice = InvoiceRequest.objects.get()
    assert invoice.tax_id == "91330106MA27XK1A0B"  # the chat's own normalisation
    assert events_sent(webhook_receiver) == ["invoice.requested"]
    assert [entry.action_flag for entry in history(invoice)] == [ADDITION]


def test_an_agent_of_another_shop_cannot_issue_the_shops_invoice(client, shop_a, agent_b, conversation):
    invoice = InvoiceRequestFactory(shop=shop_a, conversation=conversation)
    client.force_login(agent_b)
    form = invoice_form(invoice, status=InvoiceRequest.Status.ISSUED, invoice_url="https://evil.example.com/x.pdf")
    assert client.post(reverse("admin:chat_invoicerequest_change", args=[invoice.pk]), form).status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == InvoiceRequest.Status.REQUESTED and invoice.issued_at is None
    assert not Message.objects.exists() and not LogEntry.objects.exists()


# --- FAQ cards -----------------------------------------------------------------------------------


def card_form(card: FAQCard, *, answer: str, keep: list = (), drop: list = (), add: list = ()) -> dict:
    """The card's change form: stored similar questions kept or deleted, new ones typed in extra rows."""
    stored = [*keep, *drop]
    data = {
        "shop": card.shop_id,
        "industry": "",
        "question": card.question,
        "answer": answer,
        "category": card.category,
        "enabled": "on",
        "quick_replies": "",
        "image_url": "",
        "similar_questions-TOTAL_FORMS": str(len(stored) + len(add)),
        "similar_questions-INITIAL_FORMS": str(len(stored)),
        "similar_questions-MIN_NUM_FORMS": "0",
        "similar_questions-MAX_NUM_FORMS": "1000",
    }
    for n, similar in enumerate(stored):
        data |= {f"similar_questions-{n}-id": similar.pk, f"similar_questions-{n}-card": card.pk}
        data[f"similar_questions-{n}-text"] = similar.text
        if similar in drop:
            data[f"similar_questions-{n}-DELETE"] = "on"
    for n, text in enumerate(add, start=len(stored)):
        data[f"similar_questions-{n}-text"] = text
    return data


def test_a_card_saved_in_the_admin_is_written_by_the_knowledge_service_and_answers_at_once(client, shop_a, trainer_a):
    card = FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以", similar=["能开票吗", "要发票怎么弄"])
    kept, dropped = card.similar_questions.order_by("text")
    client.force_login(trainer_a)
    form = card_form(card, answer="可以开增值税普通发票", keep=[kept], drop=[dropped], add=["  开专票可以吗 "])
    response = client.post(reverse("admin:knowledge_faqcard_change", args=[card.pk]), form)
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.answer == "可以开增值税普通发票" and card.updated_by == trainer_a
    assert sorted(card.similar_questions.values_list("text", flat=True)) == sorted([kept.text, "开专票可以吗"])
    assert answer_question(shop_a, "开专票可以吗", record=False).card_id == card.pk
    [entry] = history(card)
    assert entry.action_flag == CHANGE and entry.user == trainer_a
    assert {"Answer", "Similar questions"} <= {
        field for part in json.loads(entry.change_message) for field in part["changed"]["fields"]
    }


def test_a_card_added_in_the_admin_records_its_author_and_its_addition(client, shop_a, trainer_a):
    client.force_login(trainer_a)
    blank = FAQCard(shop=shop_a, question="支持七天无理由吗", category="售后")
    response = client.post(reverse("admin:knowledge_faqcard_add"), card_form(blank, answer="支持", add=["能退货吗"]))
    assert response.status_code == 302
    card = FAQCard.objects.get(shop=shop_a)
    assert card.created_by == trainer_a == card.updated_by
    assert list(card.similar_questions.values_list("text", flat=True)) == ["能退货吗"]
    assert [entry.action_flag for entry in history(card)] == [ADDITION]


def test_a_trainer_of_another_shop_cannot_save_the_shops_card(client, shop_a, shop_b):
    card = FAQCardFactory(shop=shop_a, question="发什么快递", answer="中通", similar=["用什么快递"])
    client.force_login(staff_of(shop_b, Role.TRAINER))
    form = card_form(card, answer="改成顺丰", drop=list(card.similar_questions.all()))
    assert client.post(reverse("admin:knowledge_faqcard_change", args=[card.pk]), form).status_code == 404
    card.refresh_from_db()
    assert card.answer == "中通" and card.similar_questions.count() == 1 and card.updated_by is None
    assert not LogEntry.objects.exists()


# --- conversations -------------------------------------------------------------------------------


def close_action(conversation_ids) -> dict:
    return {"action": "close_selected", ACTION_CHECKBOX_NAME: list(conversation_ids)}


def test_a_conversation_closed_in_the_admin_asks_the_shopper_for_a_rating_and_tells_the_subscribers(
    client, shop_a, agent_a, conversation, webhook_receiver
):
    subscribe(shop_a, webhook_receiver, "conversation.closed")
    client.force_login(agent_a)
    responses, send = posted(client, reverse("admin:chat_conversation_changelist"), close_action([conversation.pk]))
    event = send(conversation)
    assert responses[0].status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED and conversation.ended_at is not None
    survey = Message.objects.get(conversation=conversation)
    assert survey.intent == "satisfaction" and survey.agent == agent_a and survey.payload["quick_replies"]
    assert [frame["id"] for frame in event["frames"]] == [survey.pk]
    assert events_sent(webhook_receiver) == ["conversation.closed"]
    assert json.loads(webhook_receiver.requests[0]["body"])["data"]["id"] == conversation.pk
    [entry] = history(conversation)
    assert entry.action_flag == CHANGE and entry.user == agent_a and "Ended at" in entry.change_message


def test_an_agent_of_another_shop_cannot_close_the_shops_conversation(client, agent_b, conversation, webhook_receiver):
    subscribe(conversation.shop, webhook_receiver, "conversation.closed")
    client.force_login(agent_b)
    client.post(reverse("admin:chat_conversation_changelist"), close_action([conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT and conversation.ended_at is None
    assert not Message.objects.exists() and not WebhookDelivery.objects.exists() and not LogEntry.objects.exists()


def test_the_conversation_form_cannot_hand_over_assign_or_close_behind_the_services_back(
    client, shop_a, agent_a, conversation
):
    client.force_login(agent_a)
    change = reverse("admin:chat_conversation_change", args=[conversation.pk])
    client.post(change, {"status": "closed", "assigned_agent": agent_a.pk, "handoff_reason": "admin"})
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT and conversation.assigned_agent is None
    assert conversation.handoff_reason == "" and not Message.objects.exists()


# --- other actions: only in shops the user edits, and in the history --------------------------------


def test_a_reader_of_a_shops_unanswered_queue_cannot_ignore_its_questions(client, shop_a, shop_b):
    user = staff_of(shop_a, Role.TRAINER, username="trainer-a-agent-b")
    Membership.objects.create(user=user, shop=shop_b, role=Role.AGENT)  # reads shop B's queue, edits shop A's
    now = timezone.now()
    own = UnansweredQuestion.objects.create(shop=shop_a, text="有优惠券吗", normalized="有优惠券吗", last_asked_at=now)
    read_only = UnansweredQuestion.objects.create(
        shop=shop_b, text="几点发货", normalized="几点发货", last_asked_at=now
    )
    client.force_login(user)
    data = {"action": "ignore", ACTION_CHECKBOX_NAME: [own.pk, read_only.pk]}
    client.post(reverse("admin:knowledge_unansweredquestion_changelist"), data)
    own.refresh_from_db()
    read_only.refresh_from_db()
    # The whole action is refused: it touches a shop the user only reads.
    assert own.status == read_only.status == UnansweredQuestion.Status.OPEN
    assert history(own) == [] and history(read_only) == []


def test_ignoring_questions_of_a_shop_the_user_edits_is_in_their_history(client, shop_a, trainer_a):
    question = UnansweredQuestion.objects.create(
        shop=shop_a, text="有优惠券吗", normalized="有优惠券吗", last_asked_at=timezone.now()
    )
    client.force_login(trainer_a)
    data = {"action": "ignore", ACTION_CHECKBOX_NAME: [question.pk]}
    client.post(reverse("admin:knowledge_unansweredquestion_changelist"), data)
    question.refresh_from_db()
    assert question.status == UnansweredQuestion.Status.IGNORED
    assert [entry.user for entry in history(question)] == [trainer_a]


def test_revoking_an_api_key_in_the_admin_is_in_the_keys_history(client, shop_a, manager_a, shop_b):
    key = ApiKeyFactory(shop=shop_a)
    foreign = ApiKeyFactory(shop=shop_b)
    client.force_login(manager_a)
    data = {"action": "revoke", ACTION_CHECKBOX_NAME: [key.pk, foreign.pk]}
    client.post(reverse("admin:api_apikey_changelist"), data)
    key.refresh_from_db()
    foreign.refresh_from_db()
    assert key.revoked_at is not None and foreign.revoked_at is None
    [entry] = history(key)
    assert entry.user == manager_a and "Revoked at" in entry.change_message
