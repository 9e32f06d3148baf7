"""What the answer engine takes from the language pack and from general Chinese text.

* ``shop_synonyms``: the synonym table one shop's analyser uses. Three layers, each overriding the one below
  for every word it defines (``langpack.effective_synonyms``): the pack's groups (and its abbreviations and
  units), the global ``SynonymGroup`` rows an operator entered, the shop's own rows. A person's group
  always beats a shipped default, and the shop beats the operator.
* ``broader_words``: a narrower word also counts as its broader one (the pack's ``broader.tsv``): a shopper
  asking whether 夏威夷果 ship by 顺丰 meets the card about 坚果, "没声音" (故障) meets 质量问题.
* ``REGION_CLASSES``: place names whose parcels are special (偏远地区 / 港澳台 / 海外), so "乌鲁木齐包邮吗"
  carries the token 偏远地区 and meets the remote-area card.
* ``question_types``: what kind of answer a question asks for (when / price / size / how ...).
* ``general_idf``: a word's rarity in general Chinese text (jieba's dictionary counts): in a 60-card shop, 发货 may be
  rarer than a product name, but a shopper's topic is the word that is rare in Chinese at large.
"""

import math
import re
from collections.abc import Iterable, Mapping
from functools import cache

import jieba

from .langpack import GREATER_CHINA, OVERSEAS, REMOTE, SynonymEntry, effective_synonyms, language_pack
from .text import STOPWORDS, normalize, strip_punctuation

# Region classes that change an answer; a mainland city is an ordinary destination.
SPECIAL_REGION_CLASSES = (REMOTE, GREATER_CHINA, OVERSEAS)
# "是否" questions (a trailing 吗) say little about the kind of answer; they never decide a match.
YES_NO = "yesno"


def _groups(rows: Iterable[tuple[str, Iterable[str]]]) -> list[tuple[str, list[str]]]:
    return [(strip_punctuation(c), [strip_punctuation(w) for w in words]) for c, words in rows]


@cache
def abbreviation_groups() -> tuple[SynonymEntry, ...]:
    """Abbreviations and units as synonym groups: a term with one meaning maps to its first equivalent
    (kg → 公斤, sf → 顺丰); a term meaning different things in different domains (m: 米 or 中码) is left alone."""
    pack = language_pack()
    domains: dict[str, set[str]] = {}
    for entry in pack.abbreviations:
        domains.setdefault(entry.term, set()).add(entry.domain)
    pack_canonical = {w: group.canonical for group in pack.synonyms for w in group.all_words}
    taken: set[str] = set()
    result = []
    for entry in pack.abbreviations:
        words = [w for w in (entry.term, *entry.equivalents) if w == strip_punctuation(w)]
        if len(domains[entry.term]) > 1 or entry.term not in words or len(words) < 2:
            continue
        # A Chinese term is the everyday word (斤, 寸): it stays, its spelled-out forms map to it.
        chinese = any("\u4e00" <= c <= "\u9fff" for c in entry.term)
        head = next((pack_canonical[w] for w in words if w in pack_canonical), words[0] if chinese else words[1])
        members = [w for w in words if w != head and w not in pack_canonical and w not in taken]
        if members:
            taken.update(members)
            result.append(SynonymEntry(f"{entry.id}", entry.domain, head, tuple(members)))
    return tuple(result)


def shop_synonyms(
    global_groups: Iterable[tuple[str, Iterable[str]]],
    shop_groups: Iterable[tuple[str, Iterable[str]]],
    switched_off: Iterable[str] = (),
) -> dict[str, str]:
    """word → canonical word for one shop: pack (with abbreviations), then global rows, then the shop's rows."""
    pack = (*language_pack().synonyms, *abbreviation_groups())
    layers = effective_synonyms(effective_synonyms(pack, _groups(global_groups), switched_off), _groups(shop_groups))
    table: dict[str, str] = {}
    for group in layers:
        for word in group.words:
            if word and word != group.canonical:
                table[word] = group.canonical
    return table


def broader_words(
    synonyms: Mapping[str, str], switched_off: frozenset[str] = frozenset()
) -> dict[str, tuple[str, ...]]:
    """Canonical word → the broader words it also counts as (夏威夷果 → 坚果, 划痕 → 质量问题), from the pack
    (less the entries in ``switched_off``), each word taken through the shop's ``synonyms`` first so that both
    sides are the words its analyser emits."""
    table: dict[str, list[str]] = {}
    for entry in language_pack().broader:
        if entry.id in switched_off:
            continue
        head = synonyms.get(entry.broader, entry.broader)
        for word in entry.narrower:
            key = synonyms.get(word, word)
            if key != head and head not in table.setdefault(key, []):
                table[key].append(head)
    return {key: tuple(heads) for key, heads in table.items() if heads}


@cache
def _region_table() -> tuple[tuple[str, str, frozenset[str]], ...]:
    """(name or alias of two characters or more, class, entry ids that switch it off) for special places."""
    rows = []
    for region in language_pack().regions:
        if region.region_class in SPECIAL_REGION_CLASSES:
            # Switching off a province or country also switches off the places under it.
            ids = frozenset({region.id} if region.parent is None else {region.id, f"region:{region.parent}"})
            for name in (region.name, *region.aliases):
                if len(name) > 1 and name not in STOPWORDS:
                    rows.append((name, region.region_class, ids))
    return tuple(rows)


def region_classes(switched_off: frozenset[str] = frozenset()) -> dict[str, str]:
    """Name or alias (two characters or more) → class, for places whose class changes an answer; the
    regions in ``switched_off`` (pack entry ids) and the places under them are left out."""
    return {name: region_class for name, region_class, ids in _region_table() if switched_off.isdisjoint(ids)}


@cache
def _question_type_cues() -> tuple[tuple[str, re.Pattern[str]], ...]:
    cues = []
    for qt in language_pack().question_types:
        parts = [re.escape(w) for w in sorted(qt.words, key=len, reverse=True)]
        parts += [p.pattern for p in qt.patterns]
        if parts:
            cues.append((qt.type, re.compile("|".join(parts))))
        if qt.suffixes:
            suffix = "|".join(re.escape(s) for s in qt.suffixes)
            cues.append((qt.type, re.compile(f"(?:{suffix})$")))
    return tuple(cues)


def question_types(text: str) -> frozenset[str]:
    """The kinds of answer ``text`` asks for (``when``, ``price``, ``how`` ...), from the pack's cues."""
    plain = strip_punctuation(normalize(text)).replace(" ", "")
    return frozenset(kind for kind, cue in _question_type_cues() if cue.search(plain))


@cache
def _general_idf_table() -> tuple[dict[str, int], float, float]:
    """jieba's own dictionary (loaded for segmenting anyway): word → count, the log of the total, the median IDF."""
    jieba.initialize()
    freq = jieba.dt.FREQ
    total = math.log(jieba.dt.total)
    values = sorted(total - math.log(count) for count in freq.values() if count > 0)
    return freq, total, values[len(values) // 2]


def general_idf(word: str) -> float:
    """The word's rarity in general Chinese text (log of jieba's dictionary total over its count); unknown words
    get the median."""
    freq, total, median = _general_idf_table()
    count = freq.get(word, 0)
    return total - math.log(count) if count > 0 else median
