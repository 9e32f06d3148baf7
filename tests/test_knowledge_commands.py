"""import_cards, eval_answers and the knowledge demo: all or nothing, readable errors, idempotent demo."""

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation
from devtools.demo.knowledge import load_demo as load_knowledge
from devtools.demo.shop_catalog import SHOPS
from knowledge.models import AnswerLog, FAQCard, SimilarQuestion, SynonymGroup
from knowledge.services import answer_question, import_template
from knowledge.template_packs import install_templates
from shops.models import Shop
from tests.factories import FAQCardFactory, ShopFactory

pytestmark = pytest.mark.django_db
HEADER = "question,similar_questions,answer,category\n"


def _csv(tmp_path, body: str, name: str = "cards.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_cards_creates_cards_with_similar_questions_and_updates_on_a_second_run(tmp_path, shop_a, capsys):
    path = _csv(tmp_path, "发什么快递,用的哪家物流|快递公司是哪个,默认发中通,物流\n可以开发票吗,能开票吗,可以,发票\n")
    call_command("import_cards", str(path), shop=shop_a.slug)
    assert "2 cards created" in capsys.readouterr().out
    card = FAQCard.objects.get(shop=shop_a, question="发什么快递")
    assert set(card.similar_questions.values_list("text", flat=True)) == {"用的哪家物流", "快递公司是哪个"}
    _csv(tmp_path, "发什么快递,默认哪家快递,改发圆通,物流\n")
    call_command("import_cards", str(path), shop=shop_a.slug)
    card.refresh_from_db()
    assert card.answer == "改发圆通" and FAQCard.objects.filter(shop=shop_a).count() == 2
    assert card.similar_questions.count() == 3


def test_a_bad_row_names_its_line_and_nothing_of_the_file_is_imported(tmp_path, shop_a):
    rows = "发什么快递,用的哪家物流,默认发中通,物流\n可以开发票吗,能开票吗,,发票\n包邮吗,,全店包邮,物流\n"
    path = _csv(tmp_path, rows)
    with pytest.raises(CommandError, match=r"line 3: answer") as error:
        call_command("import_cards", str(path), shop=shop_a.slug)
    assert "\n" not in str(error.value)
    assert not FAQCard.objects.exists() and not SimilarQuestion.objects.exists()


def test_a_wrong_header_or_unknown_shop_or_missing_file_is_one_readable_error(tmp_path, shop_a):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("q,a\n发什么快递,中通\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: the header must be question,similar_questions,answer,category"):
        call_command("import_cards", str(wrong), shop=shop_a.slug)
    with pytest.raises(CommandError, match="No shop with slug 'nope'"):
        call_command("import_cards", str(wrong), shop="nope")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_cards", str(tmp_path / "missing.csv"), shop=shop_a.slug)


def test_an_import_never_touches_another_shops_card_with_the_same_question(tmp_path, shop_a, shop_b):
    theirs = FAQCardFactory(shop=shop_b, question="发什么快递", answer="B店发顺丰")
    call_command("import_cards", str(_csv(tmp_path, "发什么快递,,A店发中通,物流\n")), shop=shop_a.slug)
    theirs.refresh_from_db()
    assert theirs.answer == "B店发顺丰"
    assert FAQCard.objects.get(shop=shop_a).answer == "A店发中通"


def test_eval_answers_rejects_a_file_without_the_expected_header(tmp_path, shop_a):
    path = tmp_path / "eval.csv"
    path.write_text("q,e\n发什么快递,none\n", encoding="utf-8")
    with pytest.raises(CommandError, match="the header must be question,expected"):
        call_command("eval_answers", str(path), shop=shop_a.slug)


def _demo_shops():
    for spec in SHOPS:
        ShopFactory(slug=spec["slug"], name=spec["name"], industry=spec["industry"])


def test_the_knowledge_demo_gives_every_demo_shop_40_cards_and_loads_idempotently():
    _demo_shops()
    load_knowledge()
    counts = (FAQCard.objects.count(), SimilarQuestion.objects.count(), SynonymGroup.objects.count())
    load_knowledge()
    assert (FAQCard.objects.count(), SimilarQuestion.objects.count(), SynonymGroup.objects.count()) == counts
    for spec in SHOPS:
        assert FAQCard.objects.filter(shop__slug=spec["slug"]).count() >= 40
    for industry in ["sportswear", "apparel", "household"]:
        assert FAQCard.objects.filter(shop__isnull=True, industry=industry).count() >= 40


def test_an_industry_template_imports_as_the_shops_own_copies_once():
    install_templates()
    shop = ShopFactory(slug="new-sports", industry=Shop.Industry.SPORTSWEAR)
    created = import_template(shop)
    assert created == FAQCard.objects.filter(shop__isnull=True, industry="sportswear").count()
    assert import_template(shop) == 0
    copy = FAQCard.objects.filter(shop=shop).first()
    copy.answer = "本店自己的答案"
    copy.save()
    assert FAQCard.objects.get(pk=copy.template_id).answer != "本店自己的答案"
    assert answer_question(shop, "发什么快递", record=False).outcome == "answer"


def test_an_answer_log_row_links_its_conversation(shop_a):
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="中通")
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="visitor-1")
    answer_question(shop_a, "发什么快递", conversation_id=conversation.pk)
    assert AnswerLog.objects.get().conversation == conversation
    conversation.delete()
    assert AnswerLog.objects.get().conversation is None


def test_a_question_repeated_in_the_file_is_refused_with_both_line_numbers(tmp_path, shop_a):
    rows = "发什么快递,,默认发中通,物流\n可以开发票吗,,可以,发票\n发什么快递,,改发圆通,物流\n"
    path = _csv(tmp_path, rows)
    with pytest.raises(CommandError, match="line 4: the question “发什么快递” repeats line 2"):
        call_command("import_cards", str(path), shop=shop_a.slug)
    assert not FAQCard.objects.exists()
