import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from knowledge.text import _T2S, _is_emoji_or_symbol, normalize


def test_full_width_letters_digits_and_punctuation_become_half_width():
    assert normalize("ＡＢＣ４２码？") == "abc42码?"


def test_traditional_chinese_becomes_simplified():
    assert normalize("請問這雙鞋有沒有42碼") == "请问这双鞋有没有42码"


def test_emoji_are_dropped_and_spaces_collapse():
    assert normalize("发货了吗😭😭  快点 👍🏻") == "发货了吗 快点"


def test_mixed_case_is_lowered():
    assert normalize("Nike 和 NIKE") == "nike 和 nike"


# Simplified and Traditional characters, a Traditional phrase, full-width, emoji, joiners, modifiers, spaces.
_ALPHABET = (
    "请问这双鞋有没有码發貨瞭解一目然上鍊沈船默ＡＢ４２？，。Nike^`😭👍🏻\u200d\ufe0f 　\t\x1c\x85\u2028\u200b①ﬁéΣ"
)


@given(st.text(alphabet=_ALPHABET, max_size=12))
def test_skipping_the_steps_that_change_nothing_gives_the_full_normalisation(text):
    assert normalize(text) == _every_step(text)


def _every_step(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_emoji_or_symbol(ch))
    return re.sub(r"\s+", " ", _T2S.convert(text).lower()).strip()
