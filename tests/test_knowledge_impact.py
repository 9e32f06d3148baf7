"""Impact preview: a trainer's change replayed over the shop's logged questions before it is saved."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.caching import read_stamp
from core.models import ChangeStamp
from knowledge.impact import CardDraft, Reach, SynonymDraft, logged_questions, preview, replay
from knowledge.index import build_index, read_knowledge
from knowledge.models import AnswerLog, FAQCard, SimilarQuestion, SynonymGroup
from knowledge.services import shop_index
from tests.factories import FAQCardFactory, SynonymGroupFactory

pytestmark = pytest.mark.django_db


def _log(shop, *questions, days_ago=0, times=1):
    rows = AnswerLog.objects.bulk_create(
        AnswerLog(shop=shop, question=q, score=0.5, outcome="answer") for q in questions for _ in range(times)
    )
    if days_ago:
        AnswerLog.objects.filter(pk__in=[r.pk for r in rows]).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )


@pytest.fixture
def cards(shop_a):
    return {
        "ship": FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货", similar=["多久发货"]),
        "refund": FAQCardFactory(shop=shop_a, question="退款多久到账", answer="1-3个工作日到账"),
        "invoice": FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以开电子发票"),
        "size": FAQCardFactory(shop=shop_a, question="尺码偏大还是偏小", answer="尺码标准"),
        "wash": FAQCardFactory(shop=shop_a, question="衣服怎么清洗", answer="冷水手洗"),
    }


def _draft(card, *, similar=None, **changes):
    fields = {"question": card.question, "answer": card.answer, "enabled": card.enabled}
    fields.update(changes)
    texts = similar if similar is not None else [s.text for s in card.similar_questions.all()]
    return CardDraft(card.pk, similar=tuple(texts), **fields)


def test_a_new_similar_question_answers_questions_that_fell_back(shop_a, cards):
    _log(shop_a, "支持花呗分期付款吗", times=3)
    _log(shop_a, "什么时候发货")
    new = CardDraft(None, "可以用花呗吗", "支持花呗付款", similar=("支持花呗分期付款吗",))
    impact = preview(shop_a, new)
    assert impact.replayed == 4 and impact.distinct == 2
    assert impact.newly_answered_count == 3
    assert [m.question for m in impact.newly_answered] == ["支持花呗分期付款吗"]
    assert impact.newly_answered[0].after_card == "可以用花呗吗"
    assert impact.newly_lost_count == impact.other_card_count == 0


def test_switching_a_card_off_shows_the_questions_it_loses(shop_a, cards):
    _log(shop_a, "什么时候发货", times=2)
    _log(shop_a, "退款多久到账")
    impact = preview(shop_a, _draft(cards["ship"], enabled=False))
    assert impact.newly_lost_count == 2
    assert [(m.question, m.before_card) for m in impact.newly_lost] == [("什么时候发货", "什么时候发货")]
    assert impact.newly_lost[0].after.outcome in ("fallback", "clarify")


def test_moving_a_question_to_another_card_shows_it_answered_by_another_card(shop_a, cards):
    _log(shop_a, "多久发货")
    # The shipping card gives up its similar question; the refund card takes it word for word.
    rows = read_knowledge(shop_a.pk)
    before = build_index(rows)
    after = build_index(
        _draft(cards["refund"], similar=["多久发货"]).apply(_draft(cards["ship"], similar=[]).apply(rows))
    )
    impact = replay(before, after, logged_questions(shop_a))
    assert impact.other_card_count == 1
    move = impact.other_card[0]
    assert (move.before_card, move.after_card) == ("什么时候发货", "退款多久到账")


def test_a_shop_synonym_group_is_previewed_before_it_is_saved(shop_a, cards):
    _log(shop_a, "多久装车", times=2)
    impact = preview(shop_a, SynonymDraft("发货", ("装车",)))
    assert not SynonymGroup.objects.exists()
    assert impact.reached == 2 and impact.newly_answered_count == 2
    assert impact.newly_answered[0].after_card == "什么时候发货"


def test_only_the_last_30_days_of_this_shop_are_replayed(shop_a, shop_b, cards):
    _log(shop_a, "什么时候发货")
    _log(shop_a, "退款多久到账", days_ago=31)
    _log(shop_b, "可以开发票吗")
    assert logged_questions(shop_a) == {"什么时候发货": 1}


def test_a_preview_writes_nothing_and_keeps_the_saved_index(shop_a, cards):
    _log(shop_a, "什么时候发货")
    saved = shop_index(shop_a)
    stamp = read_stamp(shop_a.pk, ChangeStamp.Kind.KNOWLEDGE)
    counts = (FAQCard.objects.count(), SimilarQuestion.objects.count(), AnswerLog.objects.count())
    preview(shop_a, _draft(cards["ship"], question="发货要多久", similar=["几天发货"]))
    assert shop_index(shop_a) is saved
    assert read_stamp(shop_a.pk, ChangeStamp.Kind.KNOWLEDGE) == stamp
    assert (FAQCard.objects.count(), SimilarQuestion.objects.count(), AnswerLog.objects.count()) == counts
    assert FAQCard.objects.get(pk=cards["ship"].pk).question == "什么时候发货"


QUESTIONS = [
    "什么时候发货",
    "多久发货",
    "几天能发出",
    "退款多久到账",
    "钱什么时候退回来",
    "可以开发票吗",
    "发票怎么开",
    "尺码偏大吗",
    "衣服能机洗吗",
    "怎么洗",
    "今天天气怎么样",
    "支持花呗吗",
    "发什么快递",
]


@pytest.mark.parametrize(
    "change",
    [
        lambda c: _draft(c["ship"], enabled=False),
        lambda c: _draft(c["ship"], similar=["几天能发出", "发什么快递"]),
        lambda c: _draft(c["refund"], question="钱什么时候退回来"),
        lambda c: _draft(c["wash"], similar=["能机洗吗", "怎么洗"]),
        lambda c: CardDraft(None, "发票怎么开", "下单时填写抬头"),
        lambda c: _draft(c["invoice"], answer="可以开电子发票，发票怎么开：下单时填写抬头"),
        lambda c: SynonymDraft("发货", ("发出",)),
    ],
)
def test_every_question_whose_candidates_hold_a_touched_text_is_reached(shop_a, cards, change):
    """The reach test only saves work: a question it leaves out has no text of the change among its candidates,
    before or after."""
    _log(shop_a, *QUESTIONS)
    SynonymGroupFactory(shop=shop_a, canonical="洗", words="清洗 机洗")
    draft = change(cards)
    rows = read_knowledge(shop_a.pk)
    before, after = build_index(rows), build_index(draft.apply(rows))
    reach = Reach(before, after, draft.touches(rows), draft.redefined_words(rows))
    touched = draft.touches(rows)
    for question in logged_questions(shop_a):
        holds = any(
            touched[side](index.cards[int(index.doc_card[doc])].card_id, index.doc_text[doc])
            for side, index in enumerate((before, after))
            for doc in index.candidates(question, index.query_tokens(question))[0]
        )
        assert reach(question) or not holds, question


def test_a_small_shop_replays_every_question(shop_a, cards):
    _log(shop_a, *QUESTIONS)
    assert preview(shop_a, _draft(cards["ship"], enabled=False)).reached == len(QUESTIONS)


# --- the admin -------------------------------------------------------------------------------------


def _card_post(shop, question, answer, similar=(), initial=()):
    data = {
        "shop": shop.pk,
        "industry": "",
        "question": question,
        "answer": answer,
        "category": "",
        "enabled": "on",
        "quick_replies": "",
        "image_url": "",
        "similar_questions-TOTAL_FORMS": str(len(initial) + len(similar)),
        "similar_questions-INITIAL_FORMS": str(len(initial)),
        "similar_questions-MIN_NUM_FORMS": "0",
        "similar_questions-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(initial):
        data[f"similar_questions-{n}-id"] = row.pk
        data[f"similar_questions-{n}-card"] = row.card_id
        data[f"similar_questions-{n}-text"] = row.text
    for n, text in enumerate(similar, start=len(initial)):
        data[f"similar_questions-{n}-text"] = text
    return data


def test_the_card_form_previews_a_new_similar_question_without_saving_it(client, trainer_a, shop_a, cards):
    _log(shop_a, "能加急吗", times=4)
    client.force_login(trainer_a)
    card = cards["ship"]
    url = reverse("admin:knowledge_faqcard_preview", args=[card.pk])
    data = _card_post(shop_a, card.question, card.answer, ["能加急吗"], initial=list(card.similar_questions.all()))
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200, page
    assert "新增可回答" in page and "能加急吗" in page
    assert list(card.similar_questions.values_list("text", flat=True)) == ["多久发货"]
    # The change form offers the button beside save, and saving is still one click.
    form = client.get(reverse("admin:knowledge_faqcard_change", args=[card.pk])).content.decode()
    assert 'id="impact-preview-button"' in form and url in form


def test_a_new_card_is_previewed_from_the_add_form(client, trainer_a, shop_a, cards):
    _log(shop_a, "支持花呗吗", times=2)
    client.force_login(trainer_a)
    response = client.post(
        reverse("admin:knowledge_faqcard_preview_add"), _card_post(shop_a, "可以用花呗吗", "支持", ["支持花呗吗"])
    )
    assert response.status_code == 200 and "支持花呗吗" in response.content.decode()
    assert not FAQCard.objects.filter(question="可以用花呗吗").exists()


def test_a_synonym_group_is_previewed_from_its_form(client, trainer_a, shop_a, cards):
    _log(shop_a, "多久装车")
    client.force_login(trainer_a)
    group = SynonymGroupFactory(shop=shop_a, canonical="寄出", words="寄走")
    url = reverse("admin:knowledge_synonymgroup_preview", args=[group.pk])
    response = client.post(url, {"shop": shop_a.pk, "canonical": "发货", "words": "寄出 寄走"})
    assert response.status_code == 200 and "影响预览" in response.content.decode()
    assert SynonymGroup.objects.get().canonical == "寄出"


def test_a_bad_form_is_a_400_with_the_fields_message(client, trainer_a, shop_a, cards):
    client.force_login(trainer_a)
    response = client.post(reverse("admin:knowledge_faqcard_preview_add"), _card_post(shop_a, "", "答案"))
    assert response.status_code == 400 and "标准问题" in response.content.decode()
    assert client.get(reverse("admin:knowledge_faqcard_preview_add")).status_code == 405


def test_another_shops_cards_and_logs_cannot_be_previewed(client, trainer_a, shop_a, shop_b):
    foreign = FAQCardFactory(shop=shop_b, question="B店什么时候发货", answer="B店答案")
    _log(shop_b, "B店的问题")
    client.force_login(trainer_a)
    data = _card_post(shop_b, "B店什么时候发货", "改掉")
    assert client.post(reverse("admin:knowledge_faqcard_preview", args=[foreign.pk]), data).status_code == 404
    response = client.post(reverse("admin:knowledge_faqcard_preview_add"), data)
    assert response.status_code == 400 and "B店的问题" not in response.content.decode()
    group = SynonymGroupFactory(shop=shop_b, canonical="B店词", words="B店同义词")
    url = reverse("admin:knowledge_synonymgroup_preview", args=[group.pk])
    assert client.post(url, {"shop": shop_b.pk, "canonical": "x", "words": "y"}).status_code == 404


def test_a_second_preview_of_the_same_knowledge_finds_the_same_moves(shop_a, cards):
    _log(shop_a, "什么时候发货", times=2)
    _log(shop_a, "几天能发出")
    draft = _draft(cards["ship"], similar=["几天能发出"])
    first, second = preview(shop_a, draft), preview(shop_a, draft)
    assert [m.question for m in first.newly_answered] == [m.question for m in second.newly_answered]
    assert (first.newly_answered_count, first.reached) == (second.newly_answered_count, second.reached)
