"""Knowledge admin: a trainer of shop A curates A's knowledge and sees nothing of shop B's anywhere."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from knowledge.admin import FAQCardAdmin
from knowledge.models import (
    AnswerLog,
    DictionaryWord,
    FAQCard,
    SynonymGroup,
    UnansweredQuestion,
)
from shops.models import Membership, Shop
from tests.conftest import staff_of
from tests.factories import FAQCardFactory, ShopFactory, SynonymGroupFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def _queued(shop, text, times=1):
    now = timezone.now()
    return UnansweredQuestion.objects.create(
        shop=shop, text=text, normalized=text, times_asked=times, last_asked_at=now
    )


@pytest.fixture
def rows(shop_a, shop_b):
    return {
        "card_a": FAQCardFactory(shop=shop_a, question="A店发什么快递", answer="A店发中通", similar=["A店用哪家物流"]),
        "card_b": FAQCardFactory(shop=shop_b, question="B店发什么快递", answer="B店发顺丰", similar=["B店用哪家物流"]),
        "template": FAQCardFactory(
            shop=None, industry=Shop.Industry.SPORTSWEAR, question="模板包邮吗", answer="满99包邮"
        ),
        "synonym_b": SynonymGroupFactory(shop=shop_b, canonical="B店词", words="B店同义词"),
        "word_b": DictionaryWord.objects.create(shop=shop_b, word="B店品牌词"),
        "queued_a1": _queued(shop_a, "A店能寄到国外吗", 3),
        "queued_a2": _queued(shop_a, "A店可以寄国外吗"),
        "queued_b": _queued(shop_b, "B店支持花呗吗"),
        "log_b": AnswerLog.objects.create(shop=shop_b, question="B店日志问题", score=0.5, outcome="answer"),
    }


def _page(client, name, *args, **params) -> str:
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, name
    return response.content.decode()


def test_a_trainer_sees_only_their_shops_rows_and_shared_templates_on_every_list(client, trainer_a, rows):
    client.force_login(trainer_a)
    cards = _page(client, "admin:knowledge_faqcard_changelist", source="all")
    assert "A店发什么快递" in cards and "模板包邮吗" in cards and "B店" not in cards
    for name in [
        "admin:knowledge_synonymgroup_changelist",
        "admin:knowledge_dictionaryword_changelist",
        "admin:knowledge_unansweredquestion_changelist",
        "admin:knowledge_answerlog_changelist",
        "admin:knowledge_unanswered_groups",
        "admin:knowledge_faqcard_try",
    ]:
        assert "B店" not in _page(client, name), name
    assert "A店能寄到国外吗" in _page(client, "admin:knowledge_unansweredquestion_changelist")


def test_another_shops_knowledge_objects_are_a_404(client, trainer_a, rows):
    client.force_login(trainer_a)
    for name, obj in [
        ("admin:knowledge_faqcard_change", rows["card_b"]),
        ("admin:knowledge_faqcard_delete", rows["card_b"]),
        ("admin:knowledge_synonymgroup_change", rows["synonym_b"]),
        ("admin:knowledge_dictionaryword_change", rows["word_b"]),
        ("admin:knowledge_unansweredquestion_change", rows["queued_b"]),
        ("admin:knowledge_answerlog_change", rows["log_b"]),
    ]:
        assert client.get(reverse(name, args=[obj.pk])).status_code == 404, name
    assert client.get(reverse("admin:knowledge_faqcard_change", args=[rows["card_a"].pk])).status_code == 200


def _card_post(shop, question, answer, similar=()):
    data = {
        "shop": shop.pk,
        "industry": "",
        "question": question,
        "answer": answer,
        "category": "物流",
        "enabled": "on",
        "quick_replies": "查物流 | 转人工客服",
        "image_url": "",
        "similar_questions-TOTAL_FORMS": str(len(similar)),
        "similar_questions-INITIAL_FORMS": "0",
        "similar_questions-MIN_NUM_FORMS": "0",
        "similar_questions-MAX_NUM_FORMS": "1000",
    }
    for n, text in enumerate(similar):
        data[f"similar_questions-{n}-text"] = text
    return data


def test_a_trainer_creates_a_card_with_similar_questions_and_quick_replies(client, trainer_a, shop_a, rows):
    client.force_login(trainer_a)
    response = client.post(
        reverse("admin:knowledge_faqcard_add"), _card_post(shop_a, "可以开发票吗", "可以", ["能开票吗", "要发票"])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    card = FAQCard.objects.get(shop=shop_a, question="可以开发票吗")
    assert sorted(card.similar_questions.values_list("text", flat=True)) == ["能开票吗", "要发票"]
    assert card.quick_replies == ["查物流", "转人工客服"]
    assert card.created_by == trainer_a


def test_a_trainer_cannot_write_a_card_into_another_shop_or_a_shared_template(client, trainer_a, shop_b, rows):
    client.force_login(trainer_a)
    response = client.post(reverse("admin:knowledge_faqcard_add"), _card_post(shop_b, "偷偷写进B店", "x"))
    assert response.status_code == 200 and not FAQCard.objects.filter(question="偷偷写进B店").exists()
    template = rows["template"]
    assert client.get(reverse("admin:knowledge_faqcard_change", args=[template.pk])).status_code == 200
    post = _card_post(shop_b, "模板包邮吗", "改掉模板")
    post["shop"] = ""
    assert client.post(reverse("admin:knowledge_faqcard_change", args=[template.pk]), post).status_code == 403
    assert FAQCard.objects.get(pk=template.pk).answer == "满99包邮"


def test_an_agent_may_read_knowledge_but_not_change_it(client, shop_a, rows):
    agent = staff_of(shop_a, Role.AGENT)
    client.force_login(agent)
    assert "A店发什么快递" in _page(client, "admin:knowledge_faqcard_changelist")
    assert client.get(reverse("admin:knowledge_faqcard_add")).status_code == 403
    post = _card_post(shop_a, "A店发什么快递", "被客服改了")
    assert client.post(reverse("admin:knowledge_faqcard_change", args=[rows["card_a"].pk]), post).status_code == 403


def test_try_the_bot_shows_tokens_and_candidates_of_the_users_shop_only(client, trainer_a, shop_a, shop_b, rows):
    client.force_login(trainer_a)
    page = client.get(reverse("admin:knowledge_faqcard_try"))
    assert list(page.context["form"].fields["shop"].queryset) == [shop_a]
    shown = client.post(reverse("admin:knowledge_faqcard_try"), {"shop": shop_a.pk, "text": "A店发什么快递？"})
    html = shown.content.decode()
    assert "A店发什么快递" in html and "answer" in html
    assert shown.context["explanation"].tokens
    # The question is the pack's 默认快递 point: a trainer sees which common point the engine took it for.
    assert [point for _, point in shown.context["explanation"].readings] == ["默认快递"]
    assert "默认快递" in html
    foreign = client.post(reverse("admin:knowledge_faqcard_try"), {"shop": shop_b.pk, "text": "B店发什么快递"})
    assert foreign.context["explanation"] is None
    assert "B店发顺丰" not in foreign.content.decode()
    assert not AnswerLog.objects.filter(shop=shop_a).exists()


def test_try_the_bot_renders_shopper_text_as_text(client, trainer_a, shop_a, rows):
    client.force_login(trainer_a)
    html = client.post(
        reverse("admin:knowledge_faqcard_try"), {"shop": shop_a.pk, "text": "<script>alert(1)</script>发什么快递"}
    ).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_the_unanswered_queue_groups_similar_questions(client, trainer_a, shop_a, rows):
    client.force_login(trainer_a)
    response = client.get(reverse("admin:knowledge_unanswered_groups"))
    sections = response.context["sections"]
    assert [shop for shop, _ in sections] == [shop_a]
    groups = sections[0][1]
    assert {q.text for q in groups[0]} == {"A店能寄到国外吗", "A店可以寄国外吗"}


def _action(client, action, ids, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(i) for i in ids], **extra}
    return client.post(reverse("admin:knowledge_unansweredquestion_changelist"), data)


def test_create_a_card_from_a_group_of_unanswered_questions(client, trainer_a, shop_a, rows):
    client.force_login(trainer_a)
    ids = [rows["queued_a1"].pk, rows["queued_a2"].pk]
    form_page = _action(client, "create_card", ids)
    assert form_page.status_code == 200 and form_page.context["form"].initial["question"] == "A店能寄到国外吗"
    done = _action(
        client, "create_card", ids, apply="1", question="能寄到国外吗", answer="暂不支持海外配送", category="物流"
    )
    card = FAQCard.objects.get(shop=shop_a, question="能寄到国外吗")
    assert done.status_code == 302 and done["Location"].endswith(f"/{card.pk}/change/")
    assert set(card.similar_questions.values_list("text", flat=True)) == {"A店能寄到国外吗", "A店可以寄国外吗"}
    assert set(UnansweredQuestion.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"resolved"}


def test_add_unanswered_questions_to_a_card_offers_only_the_shops_cards(client, trainer_a, rows):
    client.force_login(trainer_a)
    ids = [rows["queued_a2"].pk]
    page = _action(client, "attach_to_card", ids)
    assert list(page.context["form"].fields["card"].queryset) == [rows["card_a"]]
    _action(client, "attach_to_card", ids, apply="1", card=rows["card_b"].pk)
    assert not rows["card_b"].similar_questions.filter(text="A店可以寄国外吗").exists()
    _action(client, "attach_to_card", ids, apply="1", card=rows["card_a"].pk)
    assert rows["card_a"].similar_questions.filter(text="A店可以寄国外吗").exists()
    assert UnansweredQuestion.objects.get(pk=ids[0]).resolved_card == rows["card_a"]


def test_another_shops_unanswered_questions_cannot_be_acted_on(client, trainer_a, rows):
    client.force_login(trainer_a)
    _action(client, "create_card", [rows["queued_b"].pk], apply="1", question="花呗", answer="支持")
    assert not FAQCard.objects.filter(question="花呗").exists()
    assert UnansweredQuestion.objects.get(pk=rows["queued_b"].pk).status == "open"


def _import_formats():
    titles = [f().get_title() for f in FAQCardAdmin(FAQCard, None).get_import_formats()]
    return str(titles.index("csv"))


def test_admin_import_writes_into_the_chosen_shop_only_and_never_another(client, trainer_a, shop_a, shop_b, rows):
    client.force_login(trainer_a)
    page = client.get(reverse("admin:knowledge_faqcard_import"))
    assert list(page.context["form"].fields["shop"].queryset) == [shop_a]
    csv_text = "question,similar_questions,answer,category\n支持花呗吗,能用花呗吗|可以分期吗,支持花呗分期,支付\n"
    upload = SimpleUploadedFile("cards.csv", csv_text.encode("utf-8"), content_type="text/csv")
    foreign = client.post(
        reverse("admin:knowledge_faqcard_import"),
        {"shop": shop_b.pk, "import_file": upload, "format": _import_formats(), "resource": "0"},
    )
    assert foreign.status_code == 200 and not FAQCard.objects.filter(question="支持花呗吗").exists()

    upload = SimpleUploadedFile("cards.csv", csv_text.encode("utf-8"), content_type="text/csv")
    preview = client.post(
        reverse("admin:knowledge_faqcard_import"),
        {"shop": shop_a.pk, "import_file": upload, "format": _import_formats(), "resource": "0"},
    )
    confirm = preview.context["confirm_form"]
    assert not FAQCard.objects.filter(question="支持花呗吗").exists()  # the preview is a dry run
    data = {name: confirm.initial[name] for name in ["import_file_name", "original_file_name", "format", "resource"]}
    tampered = client.post(reverse("admin:knowledge_faqcard_process_import"), {**data, "shop": shop_b.pk})
    assert tampered.status_code == 200 and not FAQCard.objects.filter(question="支持花呗吗").exists()
    done = client.post(reverse("admin:knowledge_faqcard_process_import"), {**data, "shop": shop_a.pk})
    assert done.status_code == 302
    card = FAQCard.objects.get(question="支持花呗吗")
    assert card.shop == shop_a
    assert set(card.similar_questions.values_list("text", flat=True)) == {"能用花呗吗", "可以分期吗"}


def test_admin_export_holds_only_visible_cards(client, trainer_a, rows):
    client.force_login(trainer_a)
    columns = {f"faqcardresource_{c}": "on" for c in ["question", "similar_questions", "answer", "category"]}
    response = client.post(reverse("admin:knowledge_faqcard_export"), {"format": "0", "resource": "0", **columns})
    body = response.content.decode("utf-8-sig")
    assert response.status_code == 200
    assert "A店发什么快递" in body and "A店用哪家物流" in body and "B店" not in body
    assert body.splitlines()[0].strip() == "question,similar_questions,answer,category"


def test_import_template_action_offers_only_shops_the_user_edits(client, trainer_a, shop_a, rows):
    client.force_login(trainer_a)
    url = reverse("admin:knowledge_faqcard_changelist") + "?source=templates"  # the list of templates
    page = client.post(url, {"action": "import_into_shop", ACTION_CHECKBOX_NAME: [rows["template"].pk]})
    assert list(page.context["form"].fields["shops"].queryset) == [shop_a]
    client.post(
        url,
        {"action": "import_into_shop", ACTION_CHECKBOX_NAME: [rows["template"].pk], "apply": "1", "shops": [shop_a.pk]},
    )
    copy = FAQCard.objects.get(shop=shop_a, question="模板包邮吗")
    assert copy.template == rows["template"] and copy.answer == "满99包邮"


def test_copy_cards_to_other_shops_lists_only_managed_shops(client, shop_a, shop_b, rows):
    shop_c = ShopFactory(name="店铺C", slug="shop-c")
    manager = staff_of(shop_a, Role.MANAGER, username="multi-manager")
    Membership.objects.create(user=manager, shop=shop_c, role=Role.MANAGER)
    client.force_login(manager)
    url = reverse("admin:knowledge_faqcard_changelist")
    page = client.post(url, {"action": "copy_to_shops", ACTION_CHECKBOX_NAME: [rows["card_a"].pk]})
    assert set(page.context["form"].fields["shops"].queryset) == {shop_a, shop_c}
    client.post(
        url, {"action": "copy_to_shops", ACTION_CHECKBOX_NAME: [rows["card_a"].pk], "apply": "1", "shops": [shop_b.pk]}
    )
    assert not FAQCard.objects.filter(shop=shop_b, question="A店发什么快递").exists()
    client.post(
        url, {"action": "copy_to_shops", ACTION_CHECKBOX_NAME: [rows["card_a"].pk], "apply": "1", "shops": [shop_c.pk]}
    )
    copy = FAQCard.objects.get(shop=shop_c, question="A店发什么快递")
    assert list(copy.similar_questions.values_list("text", flat=True)) == ["A店用哪家物流"]


def test_global_synonyms_are_readable_by_staff_and_editable_by_superusers_only(client, trainer_a, admin_user):
    group = SynonymGroup.objects.create(shop=None, canonical="发票", words="开票")
    client.force_login(trainer_a)
    assert "开票" in _page(client, "admin:knowledge_synonymgroup_changelist")
    change = reverse("admin:knowledge_synonymgroup_change", args=[group.pk])
    assert client.post(change, {"shop": "", "canonical": "发票", "words": "开票 改了"}).status_code == 403
    client.force_login(admin_user)
    assert client.post(change, {"shop": "", "canonical": "发票", "words": "开票 普票"}).status_code == 302
    assert SynonymGroup.objects.get(pk=group.pk).words == "开票 普票"


def test_the_card_changelist_links_the_try_the_bot_page(client, trainer_a, rows):
    client.force_login(trainer_a)
    html = _page(client, "admin:knowledge_faqcard_changelist")
    assert re.search(r'href="[^"]*/knowledge/faqcard/try/"', html)
