"""The language pack in the engine, question types, regions, two questions without punctuation, and the ranker."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from devtools.ranker_training import TrainingShop, all_shops, data_hash, train
from knowledge.engine import Index, IndexedCard
from knowledge.features import FEATURES
from knowledge.index import build_analyzer, shop_index
from knowledge.models import AnswerOutcome
from knowledge.ranker import MODEL_FILE, RankerFileError, load_ranker, shipped_ranker
from knowledge.services import answer_message, answer_question
from knowledge.splitting import split_questions, two_question_cuts
from knowledge.vocabulary import question_types, shop_synonyms
from tests.dialogue_support import Shopper
from tests.factories import FAQCardFactory, SynonymGroupFactory


def _index(*questions: str) -> Index:
    cards = [IndexedCard(pos, question, f"答案{pos}") for pos, question in enumerate(questions)]
    return Index(build_analyzer([], [], []), cards, list(enumerate(questions)))


@pytest.mark.django_db
def test_a_pack_synonym_lets_a_colloquial_question_reach_its_card(shop_a):
    card = FAQCardFactory(shop=shop_a, question="付款后多久发货", answer="48小时内发货")
    FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以")
    # 揽收 is a logistics word of the pack's 发货 group; no trainer entered it.
    assert shop_index(shop_a).analyzer.tokens("揽收") == ["发货"]
    assert answer_question(shop_a, "付款后多久揽收", record=False).card_id == card.pk


@pytest.mark.django_db
def test_a_shops_own_group_replaces_every_pack_group_sharing_a_word(shop_a):
    SynonymGroupFactory(shop=shop_a, canonical="揽收", words="上门取件")
    analyzer = shop_index(shop_a).analyzer
    assert analyzer.tokens("上门取件") == ["揽收"]
    assert analyzer.tokens("揽收") == ["揽收"]
    # The rest of the pack's 发货 group went with it: the shop said what 揽收 means.
    assert analyzer.tokens("发走") != ["发货"]


def test_a_pack_group_switched_off_no_longer_applies():
    assert shop_synonyms([], [])["揽收"] == "发货"
    assert "揽收" not in shop_synonyms([], [], switched_off=["syn:发货"])


def test_abbreviations_and_units_become_synonyms():
    table = shop_synonyms([], [])
    assert table["kg"] == "公斤" and table["ml"] == "毫升"
    assert "m" not in table  # 米 or 中码: a term with two meanings is left alone


def test_a_place_name_carries_its_region_class():
    analyzer = build_analyzer([], [], [])
    assert analyzer.tokens("乌鲁木齐包邮吗") == ["乌鲁木齐", "偏远地区", "包邮"]
    assert "港澳台" in analyzer.tokens("台北能收到吗")
    assert "海外" in analyzer.tokens("能不能发日本")
    assert analyzer.tokens("杭州包邮吗") == ["杭州", "包邮"]  # an ordinary destination adds nothing


def test_a_remote_city_reaches_the_remote_area_card_not_the_free_shipping_one():
    index = _index("全店包邮吗", "偏远地区包邮吗", "发什么快递")
    assert index.search("乌鲁木齐包邮吗")[0].card.question == "偏远地区包邮吗"
    assert index.search("杭州包邮吗")[0].card.question == "全店包邮吗"


def test_question_types_come_from_the_packs_cues():
    assert question_types("发货要多久") == {"when"}
    assert question_types("保修怎么申请") == {"how"}
    assert question_types("充电宝多重") == {"weight"}
    assert question_types("包邮吗") == {"yesno"}


def test_a_how_long_question_marks_a_how_to_card_as_a_type_clash():
    index = _index("保修怎么申请", "保修多久")
    docs, _, features = index.candidates("保修要多久", index.query_tokens("保修要多久"))
    by_text = {index.doc_text[doc]: row for doc, row in zip(docs, features, strict=True)}
    clash, match = FEATURES.index("type_clash"), FEATURES.index("type_match")
    assert by_text["保修怎么申请"][clash] == 1.0 and by_text["保修怎么申请"][match] == 0.0
    assert by_text["保修多久"][match] == 1.0 and by_text["保修多久"][clash] == 0.0


@pytest.mark.parametrize(
    ("message", "questions"),
    [
        ("耳机防水吗能听多久", ["耳机防水吗", "能听多久"]),
        ("这个能开专票吗多久能开好", ["这个能开专票吗", "多久能开好"]),
        ("能货到付款吗花呗可以吗", ["能货到付款吗", "花呗可以吗"]),
        ("还有42码吗", ["还有42码吗"]),
        ("怎么退货呢亲", ["怎么退货呢亲"]),
    ],
)
def test_the_splitter_cuts_after_a_particle_followed_by_another_question(message, questions):
    assert split_questions(message) == questions


def test_a_piece_with_two_question_words_offers_cuts_with_a_topic_on_each_side():
    cuts = two_question_cuts("什么时候发货有赠品吗")
    assert ("什么时候发货", "有赠品吗") in cuts
    assert all(left != "什么" for left, _ in cuts)
    assert two_question_cuts("充电宝多重") == []


@pytest.mark.django_db
def test_two_unpunctuated_questions_are_cut_where_each_side_finds_its_own_card(shop_a):
    ship = FAQCardFactory(shop=shop_a, question="什么时候发货", answer="48小时内发货", similar=["多久发货"])
    gift = FAQCardFactory(shop=shop_a, question="有赠品吗", answer="送收纳袋", similar=["送什么赠品"])
    FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以")
    answers = answer_message(shop_a, "什么时候发货有赠品吗", record=False)
    assert [a.candidates[0].card_id for a in answers] == [ship.pk, gift.pk]
    # One question with two question words stays whole: both sides would find the same card.
    assert len(answer_message(shop_a, "为什么还没发货什么时候发", record=False)) == 1


@pytest.mark.django_db
def test_an_faq_question_about_invoices_gets_the_card_and_a_request_starts_the_invoice_form(shop_a):
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="48小时内发货", similar=["多久发货"])
    FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以开电子普通发票", similar=["能开票吗"])
    shopper = Shopper(shop_a)
    shopper.says("什么时候发货？可以开发票吗")
    texts = [r.text for r in shopper.result.replies]
    assert any("48小时内发货" in t for t in texts) and any("可以开电子普通发票" in t for t in texts)
    shopper = Shopper(shop_a)
    shopper.says("我要开发票")
    assert shopper.result.intent == "invoice"


def test_the_committed_model_loads_with_the_engines_features_and_sane_bands():
    model = shipped_ranker()
    assert len(model.weights) == len(FEATURES)
    assert 0 < model.bands.clarify <= model.bands.answer < 1
    probabilities = model.probabilities(np.zeros((2, len(FEATURES))))
    assert ((probabilities > 0) & (probabilities < 1)).all()


def test_a_model_file_for_other_features_is_refused(tmp_path):
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RankerFileError, match="run train_ranker"):
        load_ranker(path)


def _fixture_shop(tmp_path: Path, slug: str, cards, questions) -> TrainingShop:
    path = tmp_path / f"{slug}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "expected"])
        writer.writerows(questions)
    return TrainingShop(slug, "tune", tuple(cards), (), (), (), path)


def test_training_twice_on_the_same_data_writes_the_same_file_bit_for_bit(tmp_path):
    shop = _fixture_shop(
        tmp_path,
        "fixture",
        [
            ("付款后多久发货", ("什么时候发货", "多久能发出"), "48小时内发货"),
            ("发什么快递", ("用的哪家快递", "快递公司是哪个"), "中通"),
            ("可以开发票吗", ("能开票吗",), "可以开电子普通发票"),
            ("退款多久到账", ("钱什么时候退回来",), "1-3个工作日"),
        ],
        [
            ("几天能发货", "付款后多久发货"),
            ("走什么物流", "发什么快递"),
            ("能开发票不", "可以开发票吗"),
            ("退的钱多久到", "退款多久到账"),
            ("你们卖手机吗", "none"),
        ],
    )
    first, second = train([shop]).to_json(), train([shop]).to_json()
    assert first == second
    assert json.loads(first)["training"]["shops"] == ["fixture"]


def test_the_committed_model_was_trained_on_the_current_development_data():
    dev = [shop for shop in all_shops() if shop.split != "heldout"]
    assert shipped_ranker().training["data_sha256"] == data_hash(dev)
    assert {shop.slug for shop in dev}.isdisjoint({"xiaodouya-baby", "suyan-skincare"})


def test_held_out_shops_never_enter_training():
    heldout = [shop for shop in all_shops() if shop.split == "heldout"]
    assert heldout
    with pytest.raises(ValueError, match="held out"):
        train(heldout[:1])


@pytest.mark.django_db
def test_an_answer_carries_the_rankers_confidence(shop_a):
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="中通", similar=["用的哪家快递"])
    answer = answer_question(shop_a, "你们用的什么快递", record=False)
    assert answer.outcome == AnswerOutcome.ANSWER
    assert 0 < answer.score <= 1


def test_a_question_in_the_words_of_a_cards_answer_only_reaches_that_card_as_a_candidate():
    questions = ["可以自提吗", "付款后多久发货", "可以开发票吗"]
    answers = ["可以到成都门店或者实体店自取，营业时间9点到18点", "48小时内发出", "可以开电子发票"]
    cards = [IndexedCard(pos, q, a) for pos, (q, a) in enumerate(zip(questions, answers, strict=True))]
    index = Index(build_analyzer([], [], []), cards, list(enumerate(questions)))
    docs, _, _ = index.candidates("有实体店吗", index.query_tokens("有实体店吗"))
    assert [int(index.doc_card[d]) for d in docs][:1] == [0]
    # A question sharing nothing with any card or answer still finds no candidate.
    assert index.candidates("天气怎么样", index.query_tokens("天气怎么样"))[0] == []
