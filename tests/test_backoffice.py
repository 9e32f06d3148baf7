"""The back office (django-unfold): the sidebar grouped by the work, a home page per role over the user's own
shops, conversation pages as a readable transcript, and what each role may do there."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from analytics.models import QAFinding
from chat.intents import HANDOFF_REASON_LABELS, INTENT_LABELS, HandoffReason, Intent
from chat.models import Conversation, Message
from knowledge.models import AnswerLog, AnswerOutcome, FAQCard, UnansweredQuestion
from shops.models import Membership, Shop
from tests.conftest import staff_of
from tests.factories import (
    ConversationFactory,
    FAQCardFactory,
    MessageFactory,
    QAFindingFactory,
    ShopFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def shops():
    return ShopFactory(name="甲店", slug="shop-jia"), ShopFactory(name="乙店", slug="shop-yi")


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def _waiting(shop, reason=HandoffReason.ANGRY) -> Conversation:
    return ConversationFactory(
        shop=shop, status=Conversation.Status.WAITING, handoff_reason=reason, handed_over_at=timezone.now()
    )


# --- home pages -----------------------------------------------------------------------------------------


def test_an_agents_home_lists_their_shops_queue_with_the_reason_translated_and_links_the_console(client, shops):
    mine, foreign = shops
    agent = staff_of(mine, Role.AGENT)
    waiting = _waiting(mine)
    other = _waiting(foreign)
    page = _home(client, agent)
    assert 'data-role="agent"' in page
    assert f"会话 #{waiting.pk}" in page and f"会话 #{other.pk}" not in page
    assert "买家情绪激动" in page  # HandoffReason.ANGRY, translated
    assert 'href="/agent/"' in page
    assert 'data-role="manager"' not in page and 'data-role="qa"' not in page


def test_a_trainers_home_shows_unanswered_groups_and_cards_to_review_of_their_shops_only(client, shops):
    mine, foreign = shops
    trainer = staff_of(mine, Role.TRAINER)
    now = timezone.now()
    for shop, text in [(mine, "能寄到新疆吗"), (foreign, "乙店能开发票吗")]:
        UnansweredQuestion.objects.create(shop=shop, text=text, normalized=text, times_asked=4, last_asked_at=now)
    FAQCardFactory(shop=mine, question="预售什么时候发货", valid_to=now - timedelta(days=1))
    FAQCardFactory(shop=foreign, question="乙店过期卡片", valid_to=now - timedelta(days=1))
    unclear = FAQCardFactory(shop=mine, question="尺码怎么选")
    for _ in range(3):
        AnswerLog.objects.create(shop=mine, card=unclear, question="码数", score=0.5, outcome=AnswerOutcome.CLARIFY)
    page = _home(client, trainer)
    assert 'data-role="trainer"' in page
    assert "能寄到新疆吗" in page and "预售什么时候发货" in page and "尺码怎么选" in page
    assert "乙店能开发票吗" not in page and "乙店过期卡片" not in page


def test_a_qa_reviewers_home_lists_open_findings_most_severe_first_in_their_shops_only(client, shops):
    mine, foreign = shops
    reviewer = staff_of(mine, Role.QA)
    QAFindingFactory(message__conversation__shop=mine, evidence="甲店投诉证据")
    QAFindingFactory(message__conversation__shop=foreign, evidence="乙店投诉证据")
    page = _home(client, reviewer)
    assert 'data-role="qa"' in page
    assert "甲店投诉证据" in page and "乙店投诉证据" not in page


def test_a_managers_home_counts_todays_conversations_and_raises_alerts_of_their_shops_only(client, shops):
    mine, foreign = shops
    manager = staff_of(mine, Role.MANAGER)
    ConversationFactory.create_batch(3, shop=mine)
    ConversationFactory.create_batch(7, shop=foreign)
    _waiting(mine)
    QAFindingFactory(message__conversation__shop=mine, evidence="甲店高危证据")
    QAFindingFactory(message__conversation__shop=foreign, evidence="乙店高危证据")
    page = _home(client, manager)
    section = page[page.index('data-role="manager"') :]
    assert "今日会话" in section
    figures = section.split('class="role-figure')
    assert ">5</strong>" in figures[1]  # 3, the waiting one and the finding's; none of the other shop's 8
    assert "甲店高危证据" in section and "乙店高危证据" not in section
    assert "1 位顾客在等待人工客服" in section


def test_someone_with_two_roles_gets_both_homes_each_over_its_own_shops(client, shops):
    mine, foreign = shops
    user = staff_of(mine, Role.AGENT)
    Membership.objects.create(user=user, shop=foreign, role=Role.QA)
    waiting_foreign = _waiting(foreign)
    page = _home(client, user)
    assert 'data-role="agent"' in page and 'data-role="qa"' in page
    assert f"会话 #{waiting_foreign.pk}" not in page  # an agent of 甲店 only: 乙店's queue is not theirs


# --- navigation -------------------------------------------------------------------------------------------


def test_the_sidebar_groups_the_work_and_shows_the_scheduler_tables_to_superusers_only(client, shops):
    manager = staff_of(shops[0], Role.MANAGER)
    page = _home(client, manager)
    for group in ["今日待办", "会话", "知识库", "营销", "质检", "数据", "开放平台", "设置"]:
        assert f"{group}" in page, group
    assert reverse("admin:django_celery_beat_periodictask_changelist") not in page
    assert reverse("admin:auth_user_changelist") not in page
    superuser = UserFactory(username="root", is_superuser=True)
    page = _home(client, superuser)
    assert reverse("admin:django_celery_beat_periodictask_changelist") in page


def test_a_role_is_offered_only_the_pages_it_may_open(client, shops):
    trainer = staff_of(shops[0], Role.TRAINER)
    page = _home(client, trainer)
    assert reverse("admin:knowledge_faqcard_changelist") in page
    assert reverse("admin:chat_conversation_changelist") not in page  # agents and managers only
    assert reverse("admin:analytics_dashboard") not in page
    assert 'href="/agent/"' not in page


def test_every_registered_admin_page_has_a_place_in_a_superusers_sidebar(rf):
    from config.backoffice import navigation

    request = rf.get("/admin/")
    request.user = UserFactory(username="root", is_superuser=True)
    request.session = {}
    links = {item["link"] for group in navigation(request) for item in group["items"]}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert any(link.split("?")[0] == url for link in links), model._meta.label


# --- conversation pages ----------------------------------------------------------------------------------


def test_every_intent_and_hand_off_reason_has_a_label():
    assert set(INTENT_LABELS) == set(Intent)
    assert set(HANDOFF_REASON_LABELS) == set(HandoffReason)


def test_a_conversation_reads_as_a_transcript_in_the_shops_time_with_text_escaped_and_labels_translated(client):
    shop = ShopFactory(timezone="America/New_York")
    manager = staff_of(shop, Role.MANAGER)
    conversation = ConversationFactory(
        shop=shop,
        status=Conversation.Status.WAITING,
        handoff_reason=HandoffReason.FALLBACKS,
        handed_over_at=timezone.now(),
        state={"slots": {"budget": "secret-state-value"}},
    )
    asked = MessageFactory(
        conversation=conversation, text="<script>alert(1)</script>鞋子几天到", intent=Intent.ORDER_STATUS
    )
    Message.objects.filter(pk=asked.pk).update(created_at=datetime(2026, 11, 24, 15, 4, 5, tzinfo=UTC))
    MessageFactory(
        conversation=conversation, sender=Message.Sender.BOT, text="正在为您查询", intent=Intent.FAQ, confidence=0.91
    )
    client.force_login(manager)
    page = client.get(reverse("admin:chat_conversation_change", args=[conversation.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;鞋子几天到" in page and "<script>alert(1)" not in page
    assert "2026-11-24 10:04:05" in page  # 15:04 UTC is 10:04 in New York
    assert "订单状态" in page and "FAQ 回答" in page  # Intent.ORDER_STATUS, Intent.FAQ
    assert "机器人多次未能理解" in page  # HandoffReason.FALLBACKS
    assert "secret-state-value" not in page and "order_status" not in page
    assert reverse("chat:shopper", args=[shop.slug]) in page


def test_the_conversation_list_shows_hand_off_reasons_translated(client):
    shop = ShopFactory()
    _waiting(shop, HandoffReason.REQUESTED)
    client.force_login(staff_of(shop, Role.AGENT))
    page = client.get(reverse("admin:chat_conversation_changelist")).content.decode()
    assert "顾客要求人工" in page


# --- what each role may do ------------------------------------------------------------------------------------


def test_a_qa_reviewer_cannot_delete_a_finding_and_a_manager_of_its_shop_can(client):
    finding = QAFindingFactory()
    shop = Shop.objects.get(pk=finding.shop_id)
    client.force_login(staff_of(shop, Role.QA))
    url = reverse("admin:analytics_qafinding_delete", args=[finding.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:analytics_qafinding_changelist")).content.decode()
    assert 'value="delete_selected"' not in changelist
    assert QAFinding.objects.filter(pk=finding.pk).exists()
    client.force_login(staff_of(shop, Role.MANAGER))
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not QAFinding.objects.filter(pk=finding.pk).exists()


def test_the_card_list_opens_on_the_shops_own_cards_not_the_industry_templates(client):
    shop = ShopFactory()
    FAQCardFactory(shop=shop, question="本店退换货政策")
    FAQCard.objects.create(shop=None, industry=shop.industry, question="行业模板问题", answer="模板答案")
    client.force_login(staff_of(shop, Role.TRAINER))
    url = reverse("admin:knowledge_faqcard_changelist")
    page = client.get(url).content.decode()
    assert "本店退换货政策" in page and "行业模板问题" not in page
    templates = client.get(url, {"source": "templates"}).content.decode()
    assert "行业模板问题" in templates and "本店退换货政策" not in templates


def test_the_admin_allows_its_themes_script_evaluation_and_the_shopper_page_does_not(client):
    shop = ShopFactory()
    client.force_login(staff_of(shop, Role.MANAGER))
    assert "'unsafe-eval'" in client.get(reverse("admin:index"))["Content-Security-Policy"]
    assert "'unsafe-eval'" not in client.get(reverse("chat:shopper", args=[shop.slug]))["Content-Security-Policy"]
