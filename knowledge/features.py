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
``unknown``                       general-IDF share of the query the shop has never used (out of scope)
``short``                         1 / number of query words
``point_same`` / ``point_lead``   when the text is one of the pack's knowledge points (``knowledge.points``):
                                  the query's score for that point, and how far it is ahead of the query's
                                  best other point (negative: the query is another point's, 发票什么时候开
                                  against 能开发票吗); 0 for a text about no point
``soft_q`` / ``soft_d``           general-IDF share of the query's / the text's words found in the other, a
                                  different word counting by its word-vector cosine (快件 against 快递)
``missing``                       the weightiest query word found neither in the text (exactly or softly) nor
                                  in the card's answer, against the query's weightiest word
``*_behind``                      how far the text is behind the best candidate on ``general_q``, ``rest_q``,
                                  ``chars``, ``answer`` and ``soft_q``: a ranker sees the candidates side by side
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .points import point_bank
from .vocabulary import SPECIAL_REGION_CLASSES, YES_NO, general_idf, question_types
from .wordvectors import word_matrix

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
    "point_same",
    "point_lead",
    "soft_q",
    "soft_d",
    "missing",
    "general_q_behind",
    "rest_q_behind",
    "chars_behind",
    "answer_behind",
    "soft_q_behind",
)
# Pair features computed one pair at a time, then the word-vector ones computed for all candidates at once;
# the *_behind ones compare each with the best of the list.
_PAIR = FEATURES.index("soft_q")
_SOFT = FEATURES.index("general_q_behind") - _PAIR
_BEHIND_FROM = FEATURES.index("general_q_behind")
_BEHIND = tuple(FEATURES.index(name.removesuffix("_behind")) for name in FEATURES[_BEHIND_FROM:])
_REGION_CLASSES = frozenset(SPECIAL_REGION_CLASSES)
# Cosine at which two different words start to count as the same (0 there, 1 at cosine 1): below it, word
# vectors mostly say "same field" (发货 and 退货), not "same meaning".
SOFT_FLOOR = 0.5


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
    words: tuple[str, ...] = ()
    word_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    # The query's score for each knowledge point; its best point, and the best and second-best scores.
    points: np.ndarray = field(default_factory=lambda: np.zeros(0))
    top_point: int = -1
    top_scores: tuple[float, float] = (0.0, 0.0)

    def point_lead(self, point: int) -> float:
        """How far the query's score for ``point`` is ahead of its best other point."""
        other = self.top_scores[1] if point == self.top_point else self.top_scores[0]
        return float(self.points[point]) - other

    @classmethod
    def of(cls, text: str, tokens: Sequence[str], vocabulary: dict[str, float], sound_pairs) -> "QueryFacts":
        terms = frozenset(tokens)
        weight = {t: general_idf(t) for t in terms}
        total = sum(weight.values()) or 1.0
        known = [t for t in sorted(terms) if t in vocabulary]
        topic = max(known, key=lambda t: weight[t]) if known else None
        unknown = sum(w for t, w in weight.items() if t not in vocabulary) / total
        words = tuple(sorted(terms))
        points = point_bank().scores(text)
        top = np.argsort(-points, kind="stable")[:2].tolist() if len(points) else []
        scores = [float(points[i]) for i in top] + [0.0, 0.0]
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
            words,
            np.array([weight[t] for t in words]),
            word_matrix(list(words)),
            points,
            top[0] if top else -1,
            (scores[0], scores[1]),
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
    words: tuple[str, ...] = ()
    word_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    # The knowledge point the text is about (position in the bank), or -1.
    point: int = -1

    @classmethod
    def of(cls, text: str, terms: frozenset[str], answer_terms: frozenset[str], sound_pairs) -> "TextFacts":
        weight = {t: general_idf(t) for t in terms}
        words = tuple(sorted(terms))
        topic = max(words, key=lambda t: weight[t]) if terms else None
        return cls(
            terms,
            sum(weight.values()) or 1.0,
            topic,
            _kinds(text),
            terms & _REGION_CLASSES,
            sound_pairs("".join(words)),
            answer_terms,
            words,
            np.array([weight[t] for t in words]),
            word_matrix(list(words)),
            point_bank().point_of(text)[0],
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
        float(query.points[text.point]) if text.point >= 0 else 0.0,
        query.point_lead(text.point) if text.point >= 0 else 0.0,
    ]


def soft_features(query: QueryFacts, texts: Sequence[TextFacts]) -> np.ndarray:
    """``soft_q``, ``soft_d`` and ``missing`` of the query against each text, one row per text.

    A word counts as found in the other side when it is there (1), else by its best cosine with a word there,
    0 at ``SOFT_FLOOR`` and below. ``soft_q`` / ``soft_d``: the general-IDF share of the query's / the text's
    words found in the other. ``missing``: the weightiest query word found neither in the text nor in the
    card's answer, against the query's weightiest word (1: what the question is most about is not there;
    "充电宝防水吗" against 耳机防水吗)."""
    result = np.zeros((len(texts), _SOFT))
    if not query.words:
        return result
    found_q = np.zeros((len(query.words), len(texts)))
    having = np.flatnonzero([len(t.words) for t in texts])
    if having.size:
        starts = np.concatenate([[0], np.cumsum([len(texts[i].words) for i in having.tolist()])[:-1]])
        vectors = np.vstack([texts[i].vectors for i in having.tolist()])
        match = np.clip((query.vectors @ vectors.T - SOFT_FLOOR) / (1.0 - SOFT_FLOOR), 0.0, 1.0)
        # A word with a vector meets itself at cosine 1; one without (a brand, a model number) only by name.
        blind = {query.words[i]: i for i in np.flatnonzero(~query.vectors.any(axis=1)).tolist()}
        if blind:
            for j, word in enumerate(w for i in having.tolist() for w in texts[i].words):
                i = blind.get(word)
                if i is not None:
                    match[i, j] = 1.0
        found_q[:, having] = np.maximum.reduceat(match, starts, axis=1)
        text_weights = np.concatenate([texts[i].word_weights for i in having.tolist()])
        found_d = np.add.reduceat(match.max(axis=0) * text_weights, starts)
        result[having, 1] = found_d / np.array([texts[i].total for i in having.tolist()])
    in_answer = np.array([[w in t.answer_terms for t in texts] for w in query.words], dtype=np.float64)
    missing = (query.word_weights[:, None] * (1.0 - np.maximum(found_q, in_answer))).max(axis=0)
    result[:, 0] = query.word_weights @ found_q / query.total
    result[:, 2] = missing / query.word_weights.max()
    return result


def feature_matrix(query: QueryFacts, texts: Sequence[TextFacts], rows: list[list[float]]) -> np.ndarray:
    """The candidates' features: their pair features (``rows``, one per text), the word-vector ones, then how far
    each is behind the best candidate."""
    if not rows:
        return NO_FEATURES
    pairs = np.hstack([np.asarray(rows, dtype=np.float64), soft_features(query, texts)])
    columns = pairs[:, _BEHIND]
    return np.hstack([pairs, columns.max(axis=0) - columns])


NO_FEATURES = np.zeros((0, len(FEATURES)))
