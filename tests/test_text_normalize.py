from knowledge.text import normalize


def test_full_width_letters_digits_and_punctuation_become_half_width():
    assert normalize("ＡＢＣ４２码？") == "abc42码?"


def test_traditional_chinese_becomes_simplified():
    assert normalize("請問這雙鞋有沒有42碼") == "请问这双鞋有没有42码"


def test_emoji_are_dropped_and_spaces_collapse():
    assert normalize("发货了吗😭😭  快点 👍🏻") == "发货了吗 快点"


def test_mixed_case_is_lowered():
    assert normalize("Nike 和 NIKE") == "nike 和 nike"
