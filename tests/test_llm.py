"""Large-model help against a local OpenAI-compatible server: grounded streamed answers, every fallback to the
retrieval engine (uncited, wrongly cited, 不知道, errors, timeouts, slow streams, budget), tenant isolation of the
prompts, keys kept secret, and the check before send for the bot, the model and an agent."""

import logging
import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analytics.default_rules import install_default_rules
from chat import services
from chat.models import Conversation, Message
from core import crypto
from knowledge.models import AnswerLog, AnswerOutcome, FAQCard, GroundedAnswer
from knowledge.services import FALLBACK_TEXT, card_from_grounded_answer
from shops.models import Membership, ModelProvider, ModelUsage
from tests.chat_sockets import agent_socket, frames_until, send_message, shopper_socket
from tests.conftest import staff_of
from tests.factories import FAQCardFactory, ProductFactory
from tests.llm_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "sk-test-7f3a9c1d2e4b6a8c0e1f"


def connect_model(shop, server, **fields) -> ModelProvider:
    values = {"enabled": True, "base_url": server.url, "model": "qwen-test", "timeout_seconds": 1.0}
    values.update(fields)
    return ModelProvider.objects.create(shop=shop, api_key_sealed=crypto.encrypt_text(KEY), **values)


@pytest.fixture
def cards(shop_a):
    running = ProductFactory(shop=shop_a, title="轻跑一号跑步鞋", price=Decimal("399.00"))
    how = FAQCardFactory(shop=shop_a, question="怎么申请退货", answer="在订单详情里申请售后，7天无理由")
    how.products.set([running])
    return {
        "address": FAQCardFactory(shop=shop_a, question="退货地址在哪里", answer="退到浙江省杭州市余杭区仓库"),
        "how": how,
        "product": running,
    }


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


async def ask(shop, text: str) -> tuple[list[dict], dict]:
    """A shopper asks ``text``; every frame up to the end of the bot's turn, and the ack."""
    socket, _ = await shopper_socket(shop.slug)
    ack = await send_message(socket, text, "q-1")
    frames = await frames_until(socket, lambda f: f["type"] == "message" and f["sender"] == "bot")
    await socket.disconnect()
    return frames, ack


@database_sync_to_async
def usage() -> list[ModelUsage]:
    return list(ModelUsage.objects.order_by("pk"))


async def test_an_unsure_question_gets_the_models_cited_answer_streamed_then_sent(shop_a, cards, model_server):
    card = cards["how"]
    reply = f"亲，在订单详情里申请售后就可以退货[C{card.pk}]，支持7天无理由哦[C{card.pk}]。"
    model_server.answer(Reply(reply, stream=True, chunks=6))
    await database_sync_to_async(connect_model)(
        shop_a, model_server, input_price=Decimal("2"), output_price=Decimal("8")
    )

    frames, _ack = await ask(shop_a, "退货")

    streamed = "".join(f["delta"] for f in frames if f["type"] == "stream")
    assert streamed and "[C" not in streamed
    assert next(f for f in frames if f["type"] == "stream_end")["kept"] is True
    message = frames[-1]
    assert message["text"] == "亲，在订单详情里申请售后就可以退货，支持7天无理由哦。"
    assert message["text"].startswith(streamed)
    assert message["citations"] == {"cards": [card.pk], "products": []}
    prompt = model_server.received[0].prompt
    assert "在订单详情里申请售后，7天无理由" in prompt and "退到浙江省杭州市余杭区仓库" in prompt
    assert f"[P{cards['product'].pk}] 轻跑一号跑步鞋" in prompt
    stored = await database_sync_to_async(Message.objects.get)(pk=message["id"])
    assert stored.intent == "model_answer" and stored.payload["citations"] == {"cards": [card.pk], "products": []}
    grounded = await database_sync_to_async(GroundedAnswer.objects.get)()
    assert grounded.cited_cards == [card.pk] and grounded.question == "退货"
    [call] = await usage()
    assert (call.outcome, call.prompt_tokens, call.completion_tokens) == ("sent", 120, 30)
    assert call.cost == Decimal("0.000480")  # 120 × 2 + 30 × 8 yuan per million tokens


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ("亲，在订单详情里申请售后就可以退货。", "ungrounded"),  # no citation
        ("亲，退货请联系快递上门[C999999]。", "ungrounded"),  # a card it was not given
        ("不知道", "unknown"),
    ],
)
async def test_an_uncited_wrongly_cited_or_unknowing_answer_is_dropped_for_the_retrieval_reply(
    shop_a, cards, model_server, answer, outcome
):
    model_server.answer(Reply(answer, stream=True))
    await database_sync_to_async(connect_model)(shop_a, model_server)

    frames, _ = await ask(shop_a, "退货")

    assert next(f for f in frames if f["type"] == "stream_end")["kept"] is False
    clarify = frames[-1]
    assert {"退货地址在哪里", "怎么申请退货"} <= set(clarify["quick_replies"])
    assert [call.outcome for call in await usage()] == [outcome]
    assert not await database_sync_to_async(GroundedAnswer.objects.exists)()


@pytest.mark.parametrize(
    "failure",
    [
        Reply("[C1]", stream=True, pause=2.0),  # a stream whose first piece comes after the timeout
        Reply("亲，在订单详情里申请售后就可以退货[C1]。", stream=True, chunks=8, pause=1.5),  # a slow stream
        Reply(status=500),
        Reply(status=429),
        Reply("亲[C1]", pause=2.0),  # a plain answer after the timeout
    ],
)
async def test_a_slow_or_failing_model_leaves_the_answer_to_retrieval(shop_a, cards, model_server, failure):
    model_server.answer(failure)
    await database_sync_to_async(connect_model)(shop_a, model_server, timeout_seconds=0.5)

    frames, _ = await ask(shop_a, "退货")

    assert {"退货地址在哪里", "怎么申请退货"} <= set(frames[-1]["quick_replies"])
    [call] = await usage()
    assert call.outcome == "failed" and call.error


async def test_a_shop_over_its_monthly_budget_does_not_call_its_model(shop_a, cards, model_server):
    @database_sync_to_async
    def spent_budget():
        connect_model(shop_a, model_server, monthly_token_budget=1000)
        ModelUsage.objects.create(shop=shop_a, purpose="answer", outcome="sent", model="m", prompt_tokens=1000)

    await spent_budget()
    frames, _ = await ask(shop_a, "退货")
    assert not [f for f in frames if f["type"].startswith("stream")]
    assert {"退货地址在哪里", "怎么申请退货"} <= set(frames[-1]["quick_replies"])
    assert model_server.received == []


async def test_a_disabled_model_and_a_confident_answer_never_call_the_model(shop_a, cards, model_server):
    await database_sync_to_async(connect_model)(shop_a, model_server, enabled=False)
    frames, _ = await ask(shop_a, "退货")
    assert frames[-1]["text"] != FALLBACK_TEXT and not [f for f in frames if f["type"] == "stream"]
    await database_sync_to_async(ModelProvider.objects.update)(enabled=True)
    frames, _ = await ask(shop_a, "怎么申请退货")
    assert frames[-1]["text"] == "在订单详情里申请售后，7天无理由"
    assert model_server.received == []


async def test_nothing_of_one_shop_reaches_another_shops_prompt(shop_a, shop_b, cards, model_server):
    @database_sync_to_async
    def second_shop():
        FAQCardFactory(shop=shop_b, question="退货地址在哪里", answer="店铺B的退货仓在成都")
        FAQCardFactory(shop=shop_b, question="怎么申请退货", answer="店铺B请联系在线客服")
        ProductFactory(shop=shop_b, title="店铺B专属羽绒服")
        connect_model(shop_a, model_server)
        connect_model(shop_b, model_server)

    await second_shop()
    await ask(shop_a, "退货")
    await ask(shop_b, "退货")
    prompt_a, prompt_b = (received.prompt for received in model_server.received)
    assert "杭州市余杭区" in prompt_a and "店铺B" not in prompt_a and "成都" not in prompt_a
    assert "成都" in prompt_b and "杭州市余杭区" not in prompt_b and "轻跑一号" not in prompt_b


async def test_the_key_is_sent_only_as_the_bearer_token_and_never_logged_or_shown(shop_a, cards, model_server, caplog):
    model_server.answer(Reply(status=401))
    await database_sync_to_async(connect_model)(shop_a, model_server)
    with caplog.at_level(logging.DEBUG):
        await ask(shop_a, "退货")
    assert model_server.received[0].authorization == f"Bearer {KEY}"
    assert KEY not in caplog.text and caplog.records  # the failure was logged, without the key
    provider = await database_sync_to_async(ModelProvider.objects.get)()
    assert KEY not in provider.api_key_sealed and crypto.decrypt_text(provider.api_key_sealed) == KEY
    assert KEY not in repr(await database_sync_to_async(lambda: __import__("shops.llm").llm.endpoint_for(shop_a))())


# --- the check before send -----------------------------------------------------------------------


async def test_the_model_breaking_a_qa_rule_is_never_shown_and_the_retrieval_reply_goes_out(
    shop_a, cards, model_server
):
    card = cards["how"]
    model_server.answer(Reply(f"亲，退货我们保证当天到账，放心申请[C{card.pk}]。", stream=True, chunks=10))
    await database_sync_to_async(install_default_rules)(shop_a)
    await database_sync_to_async(connect_model)(shop_a, model_server)

    frames, _ = await ask(shop_a, "退货")

    assert "保证" not in "".join(f["delta"] for f in frames if f["type"] == "stream")
    assert next(f for f in frames if f["type"] == "stream_end")["kept"] is False
    assert {"退货地址在哪里", "怎么申请退货"} <= set(frames[-1]["quick_replies"])
    assert [call.outcome for call in await usage()] == ["guarded"]


async def test_a_bot_answer_breaking_a_qa_rule_is_replaced_by_the_safe_fallback(shop_a):
    @database_sync_to_async
    def card_with_a_promise():
        install_default_rules(shop_a)
        FAQCardFactory(shop=shop_a, question="是正品吗", answer="百分百正品，假一赔十", similar=["正品吗"])

    await card_with_a_promise()
    frames, _ = await ask(shop_a, "是正品吗")
    assert frames[-1]["text"] == FALLBACK_TEXT and frames[-1]["quick_replies"] == ["转人工客服"]
    assert not await database_sync_to_async(Message.objects.filter(text__contains="假一赔十").exists)()


@database_sync_to_async
def held_conversation(shop, agent):
    install_default_rules(shop)
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    services.request_handoff(conversation, "requested")
    services.accept_conversation(conversation, agent)
    return conversation


async def test_an_agents_forbidden_promise_is_held_with_the_reason_and_may_be_sent_anyway(shop_a, agent_a):
    conversation = await held_conversation(shop_a, agent_a)
    console, _ = await agent_socket(agent_a)
    reply = {"type": "reply", "conversation": conversation.pk, "text": "我保证明天一定到", "client_msg_id": "a-1"}

    await console.send_json_to(reply)
    held = (await frames_until(console, is_type("held")))[-1]
    assert held["client_msg_id"] == "a-1" and held["can_send_anyway"] is True
    assert held["reasons"][0]["evidence"] == "保证" and "保证" in held["message"]
    assert not await database_sync_to_async(conversation.messages.filter(sender="agent").exists)()

    await console.send_json_to({**reply, "send_anyway": True})  # the socket stayed open
    ack = (await frames_until(console, is_type("ack")))[-1]
    sent = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert sent.text == "我保证明天一定到" and sent.payload["sent_anyway"] == ["违规承诺"]
    await console.disconnect()


async def test_an_agents_rude_reply_is_held_and_cannot_be_sent_anyway(shop_a, agent_a):
    conversation = await held_conversation(shop_a, agent_a)
    console, _ = await agent_socket(agent_a)
    reply = {"type": "reply", "conversation": conversation.pk, "text": "爱买不买", "send_anyway": True}
    await console.send_json_to(reply)
    held = (await frames_until(console, is_type("held")))[-1]
    assert held["can_send_anyway"] is False
    await console.send_json_to({**reply, "text": "亲，您可以再考虑一下哦"})
    assert (await frames_until(console, lambda f: f["type"] in ("ack", "held")))[-1]["type"] == "ack"
    assert await database_sync_to_async(conversation.messages.filter(sender="agent").count)() == 1
    await console.disconnect()


async def test_send_anyway_must_be_a_boolean(shop_a, agent_a):
    conversation = await held_conversation(shop_a, agent_a)
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "reply", "conversation": conversation.pk, "text": "好的", "send_anyway": "yes"})
    error = (await frames_until(console, is_type("error")))[-1]
    assert error["code"] == "invalid_send_anyway"
    await console.disconnect()


# --- trainers ------------------------------------------------------------------------------------


def test_one_click_turns_a_model_answer_into_a_card_of_its_shop_once(shop_a, cards):
    grounded = GroundedAnswer.objects.create(
        shop=shop_a,
        question="退货",
        answer="在订单详情里申请售后",
        cited_cards=[cards["how"].pk],
        cited_products=[cards["product"].pk],
    )
    card = card_from_grounded_answer(grounded)
    assert (card.shop, card.question, card.answer) == (shop_a, "退货", "在订单详情里申请售后")
    assert list(card.products.all()) == [cards["product"]]
    assert card_from_grounded_answer(grounded) == card and FAQCard.objects.filter(question="退货").count() == 1


def test_a_sealed_secret_reads_back_and_a_foreign_one_reads_as_nothing(settings):
    sealed = crypto.encrypt_text(KEY)
    assert KEY not in sealed and crypto.decrypt_text(sealed) == KEY
    settings.FIELD_ENCRYPTION_KEY = "another key altogether"
    assert crypto.decrypt_text(sealed) == ""


# --- the back office -----------------------------------------------------------------------------


def manager_client(shop) -> Client:
    client = Client()
    client.force_login(staff_of(shop, Membership.Role.MANAGER))
    return client


def test_a_manager_sets_up_the_model_and_the_key_is_stored_sealed_and_never_shown(shop_a, model_server):
    client = manager_client(shop_a)
    form = {
        "shop": shop_a.pk,
        "enabled": "on",
        "base_url": model_server.url,
        "model": "qwen-plus",
        "api_key": KEY,
        "timeout_seconds": "3",
        "monthly_token_budget": "500000",
        "input_price": "0.8",
        "output_price": "2",
    }
    response = client.post("/admin/shops/modelprovider/add/", form)
    assert response.status_code == 302
    provider = ModelProvider.objects.get(shop=shop_a)
    assert crypto.decrypt_text(provider.api_key_sealed) == KEY and KEY not in provider.api_key_sealed
    page = client.get(f"/admin/shops/modelprovider/{provider.pk}/change/").content.decode()
    listing = client.get("/admin/shops/modelprovider/").content.decode()
    assert KEY not in page and KEY not in listing and KEY[-4:] in page
    client.post(f"/admin/shops/modelprovider/{provider.pk}/change/", {**form, "api_key": "", "model": "qwen-max"})
    provider.refresh_from_db()
    assert provider.model == "qwen-max" and crypto.decrypt_text(provider.api_key_sealed) == KEY  # blank keeps the key


def test_an_enabled_model_needs_a_key_and_a_callable_endpoint(shop_a):
    client = manager_client(shop_a)
    form = {"shop": shop_a.pk, "enabled": "on", "base_url": "ftp://model.example", "model": "m", "api_key": ""}
    form |= {"timeout_seconds": "3", "monthly_token_budget": "1000", "input_price": "0", "output_price": "0"}
    response = client.post("/admin/shops/modelprovider/add/", form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "base_url" in errors and "api_key" in errors
    assert not ModelProvider.objects.exists()


def test_another_shops_model_and_usage_are_out_of_reach(shop_a, shop_b, model_server):
    foreign = connect_model(shop_b, model_server)
    ModelUsage.objects.create(shop=shop_b, purpose="answer", outcome="sent", model="m", prompt_tokens=77777)
    client = manager_client(shop_a)
    assert client.get(f"/admin/shops/modelprovider/{foreign.pk}/change/").status_code in (302, 404)
    assert "77777" not in client.get("/admin/shops/modelusage/").content.decode()


def test_the_dashboard_shows_each_shops_model_tokens_and_cost_this_month(shop_a, model_server):
    connect_model(shop_a, model_server)
    ModelUsage.objects.create(
        shop=shop_a,
        purpose="answer",
        outcome="sent",
        model="m",
        prompt_tokens=1200,
        completion_tokens=300,
        cost=Decimal("0.0123"),
    )
    page = manager_client(shop_a).get("/admin/analytics/qareport/dashboard/").content.decode()
    assert 'id="kpi-model-usage"' in page and "1500" in page and "0.01" in page


def test_a_trainer_turns_a_model_answer_into_a_card_from_the_list(shop_a, cards):
    grounded = GroundedAnswer.objects.create(shop=shop_a, question="退货流程", answer="在订单详情里申请售后")
    client = Client()
    client.force_login(staff_of(shop_a, Membership.Role.TRAINER))
    response = client.post(
        "/admin/knowledge/groundedanswer/", {"action": "make_cards", "_selected_action": [grounded.pk]}
    )
    assert response.status_code == 302
    grounded.refresh_from_db()
    assert grounded.card is not None and grounded.card.answer == "在订单详情里申请售后"


# --- agent assist --------------------------------------------------------------------------------


@database_sync_to_async
def conversation_with_a_question(shop, agent, question: str):
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    services.receive_shopper_message(conversation, question)
    services.request_handoff(conversation, "requested")
    services.accept_conversation(conversation, agent)
    return conversation


async def test_an_agent_gets_a_draft_a_summary_and_rewrites_from_the_shops_model(
    shop_a, shop_b, agent_a, cards, model_server
):
    await database_sync_to_async(connect_model)(shop_a, model_server)
    other = await conversation_with_a_question(shop_b, await database_sync_to_async(staff_of)(shop_b, "agent"), "别家")
    conversation = await conversation_with_a_question(shop_a, agent_a, "怎么申请退货呀")
    model_server.answer(
        Reply("亲，在订单详情里点申请售后就可以了～", stream=True),
        Reply("顾客想退货，还没给订单号。", stream=True),
        Reply("亲，麻烦您提供一下订单号，我马上为您查询～", stream=True),
    )
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "history", "conversation": conversation.pk})
    history = (await frames_until(console, is_type("history")))[-1]
    assert history["model_assist"] is True

    answers = []
    for task, text in [("draft", ""), ("summary", ""), ("polite", "订单号发来")]:
        await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": task, "text": text})
        answers.append((await frames_until(console, is_type("assist")))[-1])
    assert [(a["task"], a["error"]) for a in answers] == [("draft", ""), ("summary", ""), ("polite", "")]
    assert answers[0]["text"] == "亲，在订单详情里点申请售后就可以了～"
    assert answers[2]["text"] == "亲，麻烦您提供一下订单号，我马上为您查询～"
    draft, summary, polite = (received.prompt for received in model_server.received)
    assert "怎么申请退货呀" in draft and "在订单详情里申请售后，7天无理由" in draft  # the conversation and the card
    assert "怎么申请退货呀" in summary and "订单号发来" in polite
    assert all("别家" not in prompt for prompt in (draft, summary, polite))
    assert not await database_sync_to_async(conversation.messages.filter(sender="agent").exists)()  # nothing sent
    purposes = [call.purpose for call in await usage()]
    assert purposes == ["draft", "summary", "rewrite"]

    await console.send_json_to({"type": "assist", "conversation": other.pk, "task": "draft"})
    assert (await frames_until(console, is_type("error")))[-1]["code"] == "not_found"
    await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": "poem"})
    assert (await frames_until(console, is_type("error")))[-1]["code"] == "invalid_task"
    await console.disconnect()


async def test_a_draft_and_a_rewrite_stream_into_the_console_before_their_final_frame(shop_a, agent_a, model_server):
    await database_sync_to_async(connect_model)(shop_a, model_server)
    conversation = await conversation_with_a_question(shop_a, agent_a, "什么时候发货")
    model_server.answer(
        Reply("亲，付款后48小时内发货，我帮您备注加急哦～", stream=True, chunks=4),
        Reply("顾客问发货时间。", stream=True, chunks=3),
    )
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": "draft"})
    frames = await frames_until(console, is_type("assist"))
    pieces = [f for f in frames if f["type"] == "assist_stream"]
    assert len(pieces) >= 2 and {(f["conversation"], f["task"]) for f in pieces} == {(conversation.pk, "draft")}
    assert frames[-1]["text"] == "亲，付款后48小时内发货，我帮您备注加急哦～"
    shown = "".join(f["delta"] for f in pieces)  # the text as it grew, its last characters held back
    assert shown and frames[-1]["text"].startswith(shown) and len(shown) < len(frames[-1]["text"])

    await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": "summary"})
    frames = await frames_until(console, is_type("assist"))
    assert not [f for f in frames if f["type"] == "assist_stream"]  # a summary arrives whole, above the transcript
    await console.disconnect()


async def test_a_streamed_draft_stops_showing_once_it_breaks_a_qa_rule(shop_a, agent_a, model_server):
    await database_sync_to_async(install_default_rules)(shop_a)
    await database_sync_to_async(connect_model)(shop_a, model_server)
    conversation = await conversation_with_a_question(shop_a, agent_a, "什么时候到")
    model_server.answer(Reply("亲，已经发出了，我们保证明天一定到哦", stream=True, chunks=10))
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": "polite", "text": "明天到"})
    frames = await frames_until(console, is_type("assist"))
    shown = "".join(f["delta"] for f in frames if f["type"] == "assist_stream")
    assert shown and "保证" not in shown
    assert frames[-1]["text"] == "亲，已经发出了，我们保证明天一定到哦"  # the whole text, checked again on 发送
    await console.disconnect()


async def test_assist_without_a_model_or_with_a_failing_one_says_so(shop_a, agent_a, model_server):
    conversation = await conversation_with_a_question(shop_a, agent_a, "在吗")
    console, _ = await agent_socket(agent_a)
    await console.send_json_to({"type": "history", "conversation": conversation.pk})
    history = (await frames_until(console, is_type("history")))[-1]
    assert history["model_assist"] is False
    await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": "draft"})
    assert (await frames_until(console, is_type("error")))[-1]["code"] == "no_model"
    await database_sync_to_async(connect_model)(shop_a, model_server, timeout_seconds=0.5)
    model_server.answer(Reply(status=503))
    await console.send_json_to({"type": "assist", "conversation": conversation.pk, "task": "summary"})
    failed = (await frames_until(console, is_type("assist")))[-1]
    assert failed["text"] == "" and failed["error"]
    await console.disconnect()


# --- the evaluation command ----------------------------------------------------------------------


def test_eval_llm_reports_answered_grounded_refused_dropped_and_latency(shop_a, cards, model_server, tmp_path):
    connect_model(shop_a, model_server, enabled=False)
    how = cards["how"].pk
    model_server.answer(
        Reply(f"在订单详情里申请售后[C{how}]。7天无理由[C{how}]。"),  # answered, every sentence cited
        Reply(f"在订单详情里申请售后[C{how}]。别担心。"),  # answered, one sentence uncited
        Reply("不知道"),
        Reply("请联系客服。"),  # no citation: dropped
        Reply(status=500),
    )
    questions = tmp_path / "questions.txt"
    questions.write_text("# 退货\n退货\n怎么退货\n退货地址\n怎么申请退货\n退货流程\n", encoding="utf-8")
    out = StringIO()
    call_command("eval_llm", str(questions), "--shop", shop_a.slug, "--even-disabled", stdout=out)
    text = out.getvalue()
    assert "questions=5 answered=2 (40.0%) grounded=1 (20.0%) refused=1 (20.0%) ungrounded=1 (20.0%)" in text
    assert "failed=1 (20.0%)" in text and "latency_ms p50=" in text and "p99=" in text
    assert set(ModelUsage.objects.values_list("purpose", flat=True)) == {"evaluation"}
    assert not ModelProvider.objects.get().enabled


def test_eval_llm_refuses_bad_input_with_one_line(shop_a, tmp_path, model_server):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(CommandError, match="No shop"):
        call_command("eval_llm", str(empty), "--shop", "nope")
    with pytest.raises(CommandError, match="no usable model"):
        call_command("eval_llm", str(empty), "--shop", shop_a.slug)
    connect_model(shop_a, model_server)
    with pytest.raises(CommandError, match="holds no question"):
        call_command("eval_llm", str(empty), "--shop", shop_a.slug)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("eval_llm", str(tmp_path / "missing.txt"), "--shop", shop_a.slug)


# --- trainers: one click and the answer log -------------------------------------------------------------


def trainer_client(shop, role: str = Membership.Role.TRAINER) -> Client:
    client = Client()
    client.force_login(staff_of(shop, role))
    return client


def make_card_url(grounded: GroundedAnswer) -> str:
    return f"/admin/knowledge/groundedanswer/{grounded.pk}/make-card/"


def test_the_row_button_makes_the_card_once_and_then_links_to_it(shop_a, cards):
    grounded = GroundedAnswer.objects.create(
        shop=shop_a, question="退货流程", answer="在订单详情里申请售后", cited_cards=[cards["how"].pk]
    )
    client = trainer_client(shop_a)
    page = client.get("/admin/knowledge/groundedanswer/").content.decode()
    assert f'formaction="{make_card_url(grounded)}"' in page and 'formmethod="post"' in page
    assert client.post(make_card_url(grounded)).status_code == 302
    assert client.post(make_card_url(grounded)).status_code == 302
    grounded.refresh_from_db()
    assert FAQCard.objects.filter(shop=shop_a, question="退货流程").count() == 1
    page = client.get("/admin/knowledge/groundedanswer/").content.decode()
    assert f"/admin/knowledge/faqcard/{grounded.card_id}/change/" in page
    assert make_card_url(grounded) not in page


def test_the_row_button_needs_post_and_a_csrf_token(shop_a, cards):
    grounded = GroundedAnswer.objects.create(shop=shop_a, question="退货流程", answer="在订单详情里申请售后")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_of(shop_a, Membership.Role.TRAINER))
    assert client.get(make_card_url(grounded)).status_code == 405
    assert client.post(make_card_url(grounded)).status_code == 403
    assert not FAQCard.objects.filter(question="退货流程").exists()


def test_another_shops_answer_cannot_be_turned_into_a_card(shop_a, shop_b):
    foreign = GroundedAnswer.objects.create(shop=shop_b, question="退货流程", answer="在订单详情里申请售后")
    assert trainer_client(shop_a).post(make_card_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.card_id is None


def test_an_agent_without_knowledge_rights_cannot_turn_an_answer_into_a_card(shop_a):
    grounded = GroundedAnswer.objects.create(shop=shop_a, question="退货流程", answer="在订单详情里申请售后")
    assert trainer_client(shop_a, Membership.Role.AGENT).post(make_card_url(grounded)).status_code == 403
    grounded.refresh_from_db()
    assert grounded.card_id is None


def answered_by_the_model(shop, question: str, answer: str, card) -> GroundedAnswer:
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    AnswerLog.objects.create(
        shop=shop, conversation=conversation, question=question, score=0.5, outcome=AnswerOutcome.CLARIFY
    )
    return GroundedAnswer.objects.create(
        shop=shop, conversation=conversation, question=question, answer=answer, cited_cards=[card.pk]
    )


def test_the_answer_log_shows_the_models_answer_with_its_citations_without_a_query_per_row(
    shop_a, cards, django_assert_max_num_queries
):
    client = trainer_client(shop_a)
    answered_by_the_model(shop_a, "退货0", "模型回答0", cards["how"])
    AnswerLog.objects.create(shop=shop_a, question="别的问题", score=0.9, outcome=AnswerOutcome.ANSWER)
    client.get("/admin/knowledge/answerlog/")  # warm the session and the site's caches
    with CaptureQueriesContext(connection) as one_row:
        client.get("/admin/knowledge/answerlog/")
    grounded = [answered_by_the_model(shop_a, f"退货{n}", f"模型回答{n}", cards["address"]) for n in (1, 2, 3)]
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        page = client.get("/admin/knowledge/answerlog/").content.decode()
    assert "模型回答0" in page and "模型回答3" in page and f"C{cards['address'].pk}" in page
    assert f"/admin/knowledge/groundedanswer/?id__exact={grounded[1].pk}" in page
    assert page.count("model-answer-citations") == 4  # the engine's own answer has none


def test_a_process_that_never_calls_a_model_does_not_load_the_model_client():
    # The openai package costs every process about 40 MB: only a call to a model imports it.
    code = (
        "import sys, django; django.setup(); import config.asgi, core.llm, chat.consumers; "
        "print('openai' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
