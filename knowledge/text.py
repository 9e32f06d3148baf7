"""Text normalisation shared by the answer engine, the dialogue manager and quality inspection.

Shoppers type full-width digits, Traditional characters, emoji and mixed case; everything that
matches text against text first passes through ``normalize``.
"""

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

_T2S = OpenCC("t2s")
_SPACES = re.compile(r"\s+")


def _is_emoji_or_symbol(char: str) -> bool:
    # So: pictographs and other symbols; Sk/Mn cover skin-tone modifiers and variation selectors.
    return unicodedata.category(char) in {"So", "Sk", "Cs", "Co"} or char in "\u200d\ufe0f\ufe0e"


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Half-width, Simplified, lower-case text without emoji, with single spaces. Punctuation is kept."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_emoji_or_symbol(ch))
    text = _T2S.convert(text).lower()
    return _SPACES.sub(" ", text).strip()
