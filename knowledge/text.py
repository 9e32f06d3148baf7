"""Text normalisation shared by the answer engine, the dialogue manager and quality inspection.

Shoppers type full-width digits, Traditional characters, emoji and mixed case; everything that
matches text against text first passes through ``normalize``.
"""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc
from opencc import OpenCC

_T2S = OpenCC("t2s")


def _is_emoji_or_symbol(char: str) -> bool:
    # So: pictographs and other symbols; Sk/Mn cover skin-tone modifiers and variation selectors.
    return unicodedata.category(char) in {"So", "Sk", "Cs", "Co"} or char in "\u200d\ufe0f\ufe0e"


@lru_cache(maxsize=1)
def _t2s_triggers() -> tuple[frozenset[str], re.Pattern[str]]:
    """What the OpenCC ``t2s`` dictionaries change, read once: the Traditional characters, and the phrases
    made of none of them. Text holding neither is its own Simplified form and skips the converter, whose
    pure-Python phrase matching was most of a normalisation."""
    keys: list[str] = []
    for name in ("TSPhrases.txt", "TSCharacters.txt"):
        path = Path(opencc.__file__).parent / "dictionary" / name
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.strip().partition("\t")
            if key and value != key:
                keys.append(key)
    characters = frozenset(key for key in keys if len(key) == 1)
    phrases = [key for key in keys if len(key) > 1 and characters.isdisjoint(key)]
    return characters, re.compile("|".join(map(re.escape, phrases)) or "(?!)")


@lru_cache(maxsize=1)
def _unusual() -> re.Pattern[str]:
    """A character outside the common ranges (ASCII, Latin, punctuation, kana, CJK, full-width forms) or an
    emoji or symbol inside them: text without one has nothing for the emoji filter to drop."""
    spans: list[list[int]] = []
    for low, high in ((0x00, 0x24F), (0x2000, 0x206F), (0x3000, 0x30FF), (0x3400, 0x9FFF), (0xFF00, 0xFFEF)):
        for code in range(low, high + 1):
            if _is_emoji_or_symbol(chr(code)):
                continue
            if spans and spans[-1][1] == code - 1:
                spans[-1][1] = code
            else:
                spans.append([code, code])
    members = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in spans)
    return re.compile(f"[^{members}]")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Half-width, Simplified, lower-case text without emoji, with single spaces. Punctuation is kept.

    Each step is skipped when a compiled check shows it would change nothing: the result is the same."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _unusual().search(text) is not None:
        text = "".join(ch for ch in text if not _is_emoji_or_symbol(ch))
    characters, phrases = _t2s_triggers()
    if not characters.isdisjoint(text) or phrases.search(text) is not None:
        text = _T2S.convert(text)
    return " ".join(text.lower().split())  # str.split's whitespace is the same as re's \s


# Punctuation (ASCII and CJK) becomes a space before segmentation: it never carries meaning for matching.
_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)

# Words that say nothing about what the shopper wants: particles, pronouns, greetings, politeness.
STOPWORDS = frozenset(
    """
    的 地 得 了 着 过 吗 嘛 么 呢 吧 啊 呀 哦 哈 啦 喔 嗯 哎 诶 噢 哟 呐 哇 咯 额 呗 嘞
    我 你 您 他 她 它 我们 你们 他们 咱 咱们 俺 人家 自己
    亲 亲亲 亲爱 宝 客服 老板 掌柜 店家 小姐姐 小哥哥 美女 帅哥 姐姐 妹妹
    在吗 在不在 在么 你好 您好 哈喽 hello hi 请问 问下 问一下 想问 想问下 想问一下 咨询 咨询一下 打扰
    麻烦 谢谢 谢啦 多谢 感谢 一下 下 就 都 也 还 又 和 与 跟 及 是 在 请 这个 那个 这 那 个 些 一些 这些 那些
    顺便 另外 这款 那款 这件 那件 这双 那双 这种 那种 的话 一个 能 可以 能不能 可不可以 是不是 会不会 呃 嗷 啥的 之类
    """.split()  # noqa: SIM905  (a word list reads best as text)
)

# One-character particles dropped before building character bigrams.
_BIGRAM_SKIP = frozenset("的了吗嘛么呢吧啊呀哦哈啦喔嗯哎诶噢哟呐哇咯额呗嘞亲我你您 ")


def strip_punctuation(text: str) -> str:
    """``normalize`` then punctuation to single spaces: the text the segmenter sees."""
    return " ".join(_PUNCTUATION.sub(" ", normalize(text)).split())


def char_bigrams(text: str) -> set[str]:
    """Character bigrams of the normalised text without particles; one-character text gives itself.

    The bigram signal survives typos and wrong segmentation, which matter most on very short questions.
    """
    chars = [c for c in strip_punctuation(text) if c not in _BIGRAM_SKIP]
    if len(chars) == 1:
        return {chars[0]}
    return {chars[i] + chars[i + 1] for i in range(len(chars) - 1)}
