"""Large-model help in a real browser (docs/llm.md), against the local OpenAI-compatible server: the widget's
streamed draft replaced by the cited answer, the console's held reply sent anyway, the AI draft in the reply
box, and the back-office pages. Screenshots go to /tmp/llm-shots/."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analytics.default_rules import install_default_rules
from chat import services
from chat.models import Conversation
from core import crypto
from knowledge.models import AnswerLog, AnswerOutcome, FAQCard, GroundedAnswer
from shops.models import Membership, ModelProvider, ModelUsage
from tests.browser.conftest import TIMEOUT_MS, requires_chromium
from tests.browser.test_chat_in_browser import log_in
from tests.conftest import staff_of
from tests.factories import FAQCardFactory
from tests.llm_server import Reply

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/llm-shots")


def connect_model(shop, server) -> ModelProvider:
    return ModelProvider.objects.create(
        shop=shop,
        enabled=True,
        base_url=server.url,
        model="qwen-plus",
        api_key_sealed=crypto.encrypt_text("sk-browser-test-0000abcd"),
        monthly_token_budget=500_000,
    )


def test_the_widget_shows_the_models_answer_as_it_is_written_then_the_cited_answer(
    base_url, context, shop_a, model_server
):
    SHOTS.mkdir(exist_ok=True)
    FAQCardFactory(shop=shop_a, question="退货地址在哪里", answer="退到浙江省杭州市余杭区仓库")
    how = FAQCardFactory(shop=shop_a, question="怎么申请退货", answer="在订单详情里申请售后，7天无理由")
    connect_model(shop_a, model_server)
    text = (
        f"亲，在「我的订单」里找到这笔订单，点申请售后就可以退货啦[C{how.pk}]，签收7天内都支持无理由退货哦[C{how.pk}]。"
    )
    model_server.answer(Reply(text, stream=True, chunks=12, pause=0.25))

    page = context.new_page()
    page.set_viewport_size({"width": 420, "height": 720})
    page.goto(f"{base_url}/chat/{shop_a.slug}/")
    page.fill("#input", "退货")
    page.press("#input", "Enter")
    expect(page.locator(".message.draft")).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=SHOTS / "widget-1-streaming.png")
    answer = page.locator(".message.bot").last
    expect(answer).to_contain_text("签收7天内都支持无理由退货哦。", timeout=TIMEOUT_MS)
    expect(page.locator(".message.draft")).to_have_count(0)
    expect(answer).not_to_contain_text("[C")
    page.screenshot(path=SHOTS / "widget-2-answer.png")


def held_conversation(shop, agent) -> Conversation:
    install_default_rules(shop)
    FAQCardFactory(shop=shop, question="什么时候发货", answer="付款后48小时内发货")
    conversation = Conversation.objects.create(shop=shop, visitor_token=services.new_visitor_token())
    services.receive_shopper_message(conversation, "能不能明天就到？急用")
    services.request_handoff(conversation, "requested")
    services.accept_conversation(conversation, agent)
    return conversation


def test_an_agent_sees_a_held_reply_sends_it_anyway_and_takes_the_models_draft(base_url, context, shop_a, model_server):
    SHOTS.mkdir(exist_ok=True)
    agent = staff_of(shop_a, Membership.Role.AGENT, "agent-llm")
    connect_model(shop_a, model_server)
    with ThreadPoolExecutor(1) as pool:  # delivery uses async_to_sync, which cannot run beside Playwright's loop
        pool.submit(held_conversation, shop_a, agent).result()
    model_server.answer(Reply("亲，我们付款后48小时内发货，到货时间以快递为准，我帮您备注加急哦～", stream=True))

    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 760})
    log_in(page, base_url, agent.username)
    page.locator("#mine .queue-item").first.click()
    expect(page.locator("#assist")).to_be_visible(timeout=TIMEOUT_MS)
    page.fill("#input", "我保证明天一定到")
    page.click("#send")
    held = page.locator("#held")
    expect(held).to_contain_text("违规承诺", timeout=TIMEOUT_MS)
    expect(page.locator("#input")).to_have_value("我保证明天一定到")
    page.screenshot(path=SHOTS / "console-1-held.png")
    page.click(".send-anyway")
    expect(page.locator("#messages .message.agent").last).to_contain_text("我保证明天一定到", timeout=TIMEOUT_MS)
    expect(held).to_be_hidden()

    page.click("#assist [data-task=draft]")
    expect(page.locator("#input")).to_have_value(
        "亲，我们付款后48小时内发货，到货时间以快递为准，我帮您备注加急哦～", timeout=TIMEOUT_MS
    )
    page.screenshot(path=SHOTS / "console-2-ai-draft.png")


def test_the_back_office_pages_of_the_model(base_url, context, shop_a, model_server):
    SHOTS.mkdir(exist_ok=True)
    manager = staff_of(shop_a, Membership.Role.MANAGER, "manager-llm")
    connect_model(shop_a, model_server)
    ModelUsage.objects.create(
        shop=shop_a, purpose="answer", outcome="sent", model="qwen-plus", prompt_tokens=640, completion_tokens=90
    )
    conversation = Conversation.objects.create(shop=shop_a, visitor_token=services.new_visitor_token())
    AnswerLog.objects.create(
        shop=shop_a, conversation=conversation, question="退货", score=0.5, outcome=AnswerOutcome.CLARIFY
    )
    GroundedAnswer.objects.create(
        shop=shop_a,
        conversation=conversation,
        question="退货",
        answer="亲，在订单详情里申请售后就可以退货啦。",
        cited_cards=[12],
    )
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base_url}])
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base_url}/admin/login/?next=/admin/shops/modelprovider/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pass-word-123")
    page.click("[type=submit]")
    page.locator('#result_list a[href*="/change/"]').first.click()
    expect(page.locator("#id_api_key")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#id_api_key")).to_have_value("")
    expect(page.locator("body")).to_contain_text("…abcd")
    expect(page.locator("body")).not_to_contain_text("sk-browser-test")
    page.screenshot(path=SHOTS / "admin-1-provider.png", full_page=True)
    page.goto(f"{base_url}/admin/knowledge/groundedanswer/")
    expect(page.locator("#result_list")).to_contain_text("C12")
    page.screenshot(path=SHOTS / "admin-2-model-answers.png")
    page.click("#result_list .make-card-button")
    expect(page.locator("#result_list .make-card-button")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator("#result_list")).to_contain_text("退货")
    expect(page.locator("body")).to_contain_text("已生成知识卡片")
    page.screenshot(path=SHOTS / "admin-2b-model-answer-card-made.png")
    assert FAQCard.objects.filter(shop=shop_a, question="退货").count() == 1
    page.goto(f"{base_url}/admin/knowledge/answerlog/")
    expect(page.locator("#result_list .model-answer-citations")).to_contain_text("C12")
    page.screenshot(path=SHOTS / "admin-2c-answer-log.png")


def test_a_trainer_drafts_cards_from_pasted_text_and_reviews_them(base_url, context, shop_a, model_server):
    SHOTS.mkdir(exist_ok=True)
    trainer = staff_of(shop_a, Membership.Role.TRAINER, "trainer-llm")
    connect_model(shop_a, model_server)
    page_text = "迅驰轻跑一号跑步鞋\n中底：超临界发泡，回弹 70%。\n尺码：35-46 码，标准码，按平时尺码买。"
    proposals = [
        {
            "question": "鞋码准吗",
            "similar": ["偏码吗", "要买大一码吗"],
            "answer": "亲，标准码，按平时尺码买就好～",
            "source": "尺码：35-46 码，标准码，按平时尺码买。",
        },
        {
            "question": "回弹怎么样",
            "similar": ["软不软"],
            "answer": "中底是超临界发泡，回弹 70%，很软弹哦",
            "source": "中底：超临界发泡，回弹 70%。",
        },
    ]
    model_server.answer(Reply(json.dumps(proposals, ensure_ascii=False)))
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base_url}])
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base_url}/admin/login/?next=/admin/knowledge/cardproposal/from-source/")
    page.fill("#id_username", trainer.username)
    page.fill("#id_password", "pass-word-123")
    page.click("[type=submit]")
    page.select_option("#id_shop", str(shop_a.pk))
    page.fill("#id_text", page_text)
    page.screenshot(path=SHOTS / "admin-3-draft-cards-form.png")
    page.click("input[type=submit]")
    expect(page.locator("#result_list")).to_contain_text("鞋码准吗", timeout=TIMEOUT_MS)
    expect(page.locator("#result_list")).to_contain_text("中底：超临界发泡，回弹 70%。")
    page.screenshot(path=SHOTS / "admin-4-card-drafts.png")
