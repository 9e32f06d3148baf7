"""Features of one (question, indexed text) pair, for the learned ranker (``knowledge.ranker``).

The index's numpy scoring picks the best few texts of a shop; only those get these features, so their cost
does not grow with the shop. Each feature reads as a fact about the pair, in 0..1 (or a small count):

``lex`` / ``cover`` / ``chars``   the index's three signals (BM25 both ways, IDF-weighted character bigrams)
``gap``                           how far the text's raw score is behind the best text's
``general_q`` / ``general_d``     the same overlap weighted by general Chinese IDF (jieba's table), query side
                                  and text side: topic nouns (充电宝, 榴莲) outweigh actions (发, 能)
``topic_q`` / ``topic_d``         the query's rarest known word is in the text / the text's rarest word is in
                                  the query
``rest_q``                        general-IDF share of the query's other words in the text: what is asked about
                                  the topic (怎么洗 against 有味道, both about 跑步鞋)
``type_match`` / ``type_clash`` / ``type_missing``
                                  question types (when / price / how ...): shared, both present but different,
                                  the query has one and the text none ("多久" against "怎么申请")
``sound``                         Dice overlap of toneless syllable pairs (homophone typos)
``answer``                        general-IDF share of the query found only in the card's answer
``region_match`` / ``region_clash``
                                  a region class (偏远地区 / 港澳台 / 海外) in both / in one but not the same in
                                  the other ("新加坡" against a remote-mainland card)
``*_behind``                      how far the text is behind the best candidate on ``general_q``, ``rest_q``,
                                  ``chars`` and ``answer``: a ranker sees the candidates side by side
``unknown``                       general-IDF share of the query the shop has never used (out of scope)
``short``                         1 / number of query words
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .vocabulary import SPECIAL_REGION_CLASSES, YES_NO, general_idf, question_types

FEATURES = (
    "lex",
    "cover",
    "chars",
    "gap",
    "general_q",
    "general_d",
    "topic_q",
    "topic_d",
    "rest_q",
    "type_match",
    "type_clash",
    "type_missing",
    "sound",
    "answer",
    "region_match",
    "region_clash",
    "unknown",
    "short",
    "general_q_behind",
    "rest_q_behind",
    "chars_behind",
    "answer_behind",
)
# Pair features computed one pair at a time; the *_behind ones compare each with the best of the list.
_PAIR = FEATURES.index("general_q_behind")
_BEHIND = tuple(FEATURES.index(name.removesuffix("_behind")) for name in FEATURES[_PAIR:])
_REGION_CLASSES = frozenset(SPECIAL_REGION_CLASSES)


def _kinds(text: str) -> frozenset[str]:
    return question_types(text) - {YES_NO}


@dataclass(frozen=True)
class QueryFacts:
    """What the features need of the query, computed once per question."""

    terms: frozenset[str]
    weight: dict[str, float]
    total: float
    topic: str | None
    kinds: frozenset[str]
    regions: frozenset[str]
    sounds: frozenset[str]
    unknown: float
    short: float

    @classmethod
    def of(cls, text: str, tokens: Sequence[str], vocabulary: dict[str, float], sound_pairs) -> "QueryFacts":
        terms = frozenset(tokens)
        weight = {t: general_idf(t) for t in terms}
        total = sum(weight.values()) or 1.0
        known = [t for t in sorted(terms) if t in vocabulary]
        topic = max(known, key=lambda t: weight[t]) if known else None
        unknown = sum(w for t, w in weight.items() if t not in vocabulary) / total
        return cls(
            terms,
            weight,
            total,
            topic,
            _kinds(text),
            terms & _REGION_CLASSES,
            sound_pairs("".join(tokens)),
            unknown,
            1.0 / max(1, len(tokens)),
        )


@dataclass(frozen=True)
class TextFacts:
    """What the features need of one indexed text (and its card's answer), computed once per text."""

    terms: frozenset[str]
    total: float
    topic: str | None
    kinds: frozenset[str]
    regions: frozenset[str]
    sounds: frozenset[str]
    answer_terms: frozenset[str]

    @classmethod
    def of(cls, text: str, terms: frozenset[str], answer_terms: frozenset[str], sound_pairs) -> "TextFacts":
        weight = {t: general_idf(t) for t in terms}
        topic = max(sorted(terms), key=lambda t: weight[t]) if terms else None
        return cls(
            terms,
            sum(weight.values()) or 1.0,
            topic,
            _kinds(text),
            terms & _REGION_CLASSES,
            sound_pairs("".join(sorted(terms))),
            answer_terms,
        )


def pair_features(
    query: QueryFacts, text: TextFacts, lex: float, cover: float, chars: float, gap: float
) -> list[float]:
    shared = query.terms & text.terms
    shared_weight = sum(query.weight[t] for t in shared)
    rest = query.total - (query.weight[query.topic] if query.topic else 0.0)
    rest_shared = shared_weight - (query.weight[query.topic] if query.topic in shared else 0.0)
    in_answer = sum(query.weight[t] for t in (query.terms & text.answer_terms) - text.terms)
    sounds = len(query.sounds) + len(text.sounds)
    return [
        lex,
        cover,
        chars,
        gap,
        shared_weight / query.total,
        min(1.0, shared_weight / text.total),
        float(query.topic is not None and query.topic in text.terms),
        float(text.topic is not None and text.topic in query.terms),
        rest_shared / rest if rest > 0 else 1.0,
        float(bool(query.kinds & text.kinds)),
        float(bool(query.kinds) and bool(text.kinds) and not query.kinds & text.kinds),
        float(bool(query.kinds) and not text.kinds),
        2 * len(query.sounds & text.sounds) / sounds if sounds else 0.0,
        in_answer / query.total,
        float(bool(query.regions & text.regions)),
        float(bool(query.regions or text.regions) and not query.regions & text.regions),
        query.unknown,
        query.short,
    ]


def feature_matrix(rows: list[list[float]]) -> np.ndarray:
    """The candidates' features: their pair features, then how far each is behind the best candidate."""
    pairs = np.asarray(rows, dtype=np.float64).reshape(len(rows), _PAIR)
    columns = pairs[:, _BEHIND]
    behind = columns.max(axis=0, initial=0.0) - columns if len(rows) else columns
    return np.hstack([pairs, behind])
