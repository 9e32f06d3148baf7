"""Segmentation, stopwords, synonyms and shop words: what the engine makes of a shopper's text."""

from knowledge.engine import Analyzer
from knowledge.splitting import split_questions
from knowledge.text import char_bigrams, strip_punctuation


def test_punctuation_full_width_and_traditional_are_folded_before_segmentation():
    assert strip_punctuation("親，這雙鞋有４２碼嗎？？😀") == "亲 这双鞋有42码吗"


def test_stopwords_and_particles_are_dropped_from_tokens():
    tokens = Analyzer().tokens("亲，请问一下这个什么时候发货呀")
    assert "亲" not in tokens and "呀" not in tokens and "请问" not in tokens
    assert "发货" in tokens


def test_synonyms_map_every_word_of_a_group_to_its_canonical_word():
    analyzer = Analyzer(synonyms={"物流": "快递", "快递公司": "快递"})
    assert analyzer.tokens("用的哪家物流") == analyzer.tokens("用的哪家快递")
    assert "快递" in analyzer.tokens("快递公司是哪个")


def test_shop_dictionary_words_are_kept_whole():
    plain = Analyzer().tokens("迅驰飞影有42码吗")
    assert "迅驰飞影" not in plain
    assert "迅驰飞影" in Analyzer(phrases=["迅驰飞影"]).tokens("迅驰飞影有42码吗")


def test_a_not_a_questions_reduce_to_the_word_asked_about():
    analyzer = Analyzer()
    assert "透" in analyzer.tokens("白色透不透")
    assert analyzer.tokens("包不包邮") == analyzer.tokens("包邮")


def test_numbers_inside_promotion_and_payment_terms_leave_the_term():
    analyzer = Analyzer(phrases=["满减", "分期", "七天无理由"])
    assert "满减" in analyzer.tokens("满９９减多少")
    assert "满减" in analyzer.tokens("满200元减30元的活动还有吗")
    assert "分期" in analyzer.tokens("分３期有手续费吗")
    assert "七天无理由" in analyzer.tokens("支持7天无理由吗")
    assert "满减" not in analyzer.tokens("满意吗")


def test_a_long_word_also_counts_as_the_shop_phrases_inside_it():
    analyzer = Analyzer(synonyms={"送运费险": "赠运费险", "退货险": "运费险"})
    assert "运费险" in analyzer.tokens("送运费险吗")


def test_an_unknown_glued_word_backs_off_to_the_known_words_inside_it():
    analyzer = Analyzer(synonyms={"券": "优惠券"})
    vocabulary = {"有": 1.0, "优惠券": 2.0}
    assert analyzer.tokens("有券吗") == ["有券"]
    assert analyzer.tokens("有券吗", vocabulary) == ["有", "优惠券"]


def test_an_unknown_word_is_not_broken_into_characters_the_index_only_partly_knows():
    assert Analyzer().tokens("天气", {"天": 1.0}) == ["天气"]


def test_character_bigrams_survive_a_typo():
    assert char_bigrams("鞋子开交了") & char_bigrams("鞋子开胶怎么办") == {"鞋子", "子开"}
    assert char_bigrams("码") == {"码"}


def test_a_message_with_one_question_is_not_split():
    for text in ["你好，请问发什么快递？", "我买的鞋子大了，可以换吗", "这个还有42码吗", "在吗？包邮吗？"]:
        assert split_questions(text) == [text]


def test_question_marks_commas_and_connectors_split_several_questions():
    assert split_questions("包邮吗？几天能到，另外能开发票吗") == ["包邮吗", "几天能到", "能开发票吗"]
    assert split_questions("发货了吗还有运费险吗") == ["发货了吗", "运费险吗"]
    assert split_questions("包邮吗 几天到") == ["包邮吗", "几天到"]


def test_enumerated_questions_are_split_and_a_clause_without_a_question_stays_attached():
    assert split_questions("1、包邮吗 2、什么时候发货 3、可以开发票吗") == ["包邮吗", "什么时候发货", "可以开发票吗"]
    assert split_questions("42码有货吗，我平时穿41，另外发什么快递") == ["42码有货吗，我平时穿41", "发什么快递"]
