"""The retrieval core: a shop's analyser and in-memory index, with no database access.

``Analyzer`` turns text into tokens: ``normalize``, punctuation out, the shop's phrases (dictionary words and
synonym words) kept whole by an Aho-Corasick pass, the rest cut by jieba's shared default dictionary,
stopwords dropped, synonyms mapped to their canonical word.

``Index`` holds every standard and similar question of the shop's enabled cards. A question is scored
against each indexed text with three signals, each in 0..1:

* ``lex``: BM25 of the query against the text, divided by the BM25 the query would score against itself,
  so it reads as "how much of what the shopper asked is covered". Query words the shop never uses
  count at the highest IDF: an out-of-scope question stays low.
* ``cover``: the share of the text's own BM25 weight the query matched (penalises a query that only
  touches a long, different question).
* ``chars``: IDF-weighted cosine of character bigrams, which survives typos and odd segmentation.

A card's raw score is the best over its texts of a weighted sum of the three; ``confidence`` maps it
through a logistic curve whose two parameters were fitted on the evaluation set
(``eval_answers --calibrate`` prints them for any file).
"""

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import ahocorasick
import jieba

from .text import STOPWORDS, char_bigrams, strip_punctuation

K1 = 1.2
B = 0.75
# Weights of the three signals in a text's raw score.
W_LEX, W_COVER, W_CHARS = 0.45, 0.15, 0.40
# Logistic calibration: confidence = 1 / (1 + exp(-SLOPE * (raw - MIDPOINT))).
CALIBRATION_SLOPE = 8.0
CALIBRATION_MIDPOINT = 0.28


# "A不A" / "A没A" questions ask about A: 透不透 → 透, 包不包邮 → 包邮, 有没有 → 有.
_A_NOT_A = re.compile(r"(\w)[不没]\1")


@lru_cache(maxsize=200_000)
def _jieba_cut(chunk: str) -> tuple[str, ...]:
    return tuple(w for w in jieba.cut(chunk) if w.strip())


@lru_cache(maxsize=50_000)
def _jieba_subwords(word: str) -> tuple[str, ...]:
    """The dictionary words inside ``word`` (jieba's search mode), for a query word the index does not know."""
    return tuple(p for p in jieba.cut_for_search(word) if p != word and len(p) > 1)


class Analyzer:
    """Tokens for one shop: its phrases kept whole, its synonyms mapped to one canonical word."""

    def __init__(self, phrases: Iterable[str] = (), synonyms: dict[str, str] | None = None) -> None:
        self.synonyms = dict(synonyms or {})
        words = {strip_punctuation(p) for p in phrases} | {w for w in self.synonyms if len(w) > 1}
        words |= {c for c in self.synonyms.values() if len(c) > 1}
        words = {w for w in words if len(w) > 1 and " " not in w}
        self.phrases = frozenset(words)
        self._automaton = None
        if words:
            automaton = ahocorasick.Automaton()
            for word in words:
                automaton.add_word(word, word)
            automaton.make_automaton()
            self._automaton = automaton

    def _segment(self, chunk: str) -> list[str]:
        if self._automaton is None:
            return list(_jieba_cut(chunk))
        words: list[str] = []
        start = 0
        for end, phrase in self._automaton.iter_long(chunk):
            begin = end - len(phrase) + 1
            if begin > start:
                words.extend(_jieba_cut(chunk[start:begin]))
            words.append(phrase)
            start = end + 1
        if start < len(chunk):
            words.extend(_jieba_cut(chunk[start:]))
        return words

    def _canonical(self, word: str) -> str | None:
        if word in STOPWORDS:
            return None
        word = self.synonyms.get(word, word)
        return None if word in STOPWORDS else word

    def _known_parts(self, word: str, vocabulary: dict[str, float]) -> list[str]:
        """Known dictionary words inside ``word``; failing those, its characters if every one is known."""
        subwords = [p for p in map(self._canonical, _jieba_subwords(word)) if p in vocabulary]
        if subwords:
            return subwords
        chars = [c for c in map(self._canonical, word) if c]
        return chars if chars and all(c in vocabulary for c in chars) else []

    def tokens(self, text: str, vocabulary: dict[str, float] | None = None) -> list[str]:
        """Canonical tokens of ``text``. With ``vocabulary`` (a query against an index), a word the index
        does not know is replaced by the known words inside it: jieba glues "有券" or "鞋有" together."""
        result: list[str] = []
        for chunk in _A_NOT_A.sub(r"\1", strip_punctuation(text)).split():
            for word in self._segment(chunk):
                token = self._canonical(word)
                if token is None:
                    continue
                if vocabulary is not None and token not in vocabulary and len(word) > 1:
                    known = self._known_parts(word, vocabulary)
                    if known:
                        result.extend(known)
                        continue
                result.append(token)
        return result


@dataclass(frozen=True)
class IndexedCard:
    card_id: int
    question: str
    answer: str
    quick_replies: tuple[str, ...] = ()
    product_ids: tuple[int, ...] = ()
    image_url: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_to is None or moment < self.valid_to
        )


@dataclass(frozen=True)
class Scored:
    card: IndexedCard
    raw: float
    confidence: float
    matched_text: str


def confidence(raw: float) -> float:
    return 1.0 / (1.0 + math.exp(-CALIBRATION_SLOPE * (raw - CALIBRATION_MIDPOINT)))


def _idf(n_docs: int, df: int) -> float:
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class Index:
    """Inverted indexes of words (BM25 weights precomputed per posting) and character bigrams."""

    def __init__(self, analyzer: Analyzer, cards: Sequence[IndexedCard], texts: Sequence[tuple[int, str]]) -> None:
        """``texts``: (position in ``cards``, question text) for every standard and similar question."""
        self.analyzer = analyzer
        self.cards = list(cards)
        self.doc_card: list[int] = []
        self.doc_text: list[str] = []
        doc_terms: list[Counter] = []
        doc_grams: list[set[str]] = []
        for card_pos, text in texts:
            tokens = analyzer.tokens(text)
            terms = Counter(tokens)
            grams = char_bigrams("".join(tokens))
            if not terms and not grams:
                continue
            self.doc_card.append(card_pos)
            self.doc_text.append(text)
            doc_terms.append(terms)
            doc_grams.append(grams)
        n = self.n_docs = len(self.doc_card)
        lengths = [sum(t.values()) for t in doc_terms]
        self.avgdl = (sum(lengths) / n) if n else 1.0
        df = Counter(term for terms in doc_terms for term in terms)
        self.term_idf = {term: _idf(n, count) for term, count in df.items()}
        self.oov_idf = _idf(n, 0)
        self.postings: dict[str, dict[int, float]] = {term: {} for term in df}
        self.doc_self = [0.0] * n
        for doc, terms in enumerate(doc_terms):
            norm = K1 * (1 - B + B * lengths[doc] / self.avgdl)
            for term, tf in terms.items():
                weight = self.term_idf[term] * tf * (K1 + 1) / (tf + norm)
                self.postings[term][doc] = weight
                self.doc_self[doc] += weight
        gram_df = Counter(g for grams in doc_grams for g in grams)
        self.gram_idf = {g: _idf(n, count) for g, count in gram_df.items()}
        self.gram_postings: dict[str, list[int]] = {g: [] for g in gram_df}
        self.doc_gram_norm = [0.0] * n
        for doc, grams in enumerate(doc_grams):
            for g in grams:
                self.gram_postings[g].append(doc)
            self.doc_gram_norm[doc] = math.sqrt(sum(self.gram_idf[g] ** 2 for g in grams)) or 1.0

    def query_tokens(self, text: str) -> list[str]:
        return self.analyzer.tokens(text, self.term_idf)

    def _query_self(self, terms: Counter) -> float:
        norm = K1 * (1 - B + B * sum(terms.values()) / self.avgdl)
        return sum(self.term_idf.get(t, self.oov_idf) * tf * (K1 + 1) / (tf + norm) for t, tf in terms.items())

    def search(self, text: str, *, limit: int = 5, moment: datetime | None = None) -> list[Scored]:
        """The best ``limit`` cards for ``text``, best first; cards outside their validity window are skipped."""
        tokens = self.query_tokens(text)
        terms = Counter(tokens)
        grams = char_bigrams("".join(tokens))
        if not self.n_docs or (not terms and not grams):
            return []
        lex: dict[int, float] = {}
        for term in terms:
            posting = self.postings.get(term)
            if posting:
                for doc, weight in posting.items():
                    lex[doc] = lex.get(doc, 0.0) + weight
        chars: dict[int, float] = {}
        gram_idf = self.gram_idf
        query_gram_norm = 0.0
        for g in grams:
            idf = gram_idf.get(g)
            if idf is None:
                query_gram_norm += self.oov_idf**2
                continue
            query_gram_norm += idf * idf
            weight = idf * idf
            for doc in self.gram_postings[g]:
                chars[doc] = chars.get(doc, 0.0) + weight
        query_self = self._query_self(terms) or 1.0
        query_gram_norm = math.sqrt(query_gram_norm) or 1.0
        doc_self, doc_gram_norm, doc_card = self.doc_self, self.doc_gram_norm, self.doc_card
        best: dict[int, tuple[float, int]] = {}
        for doc in lex.keys() | chars.keys():
            matched = lex.get(doc, 0.0)
            raw = (
                W_LEX * min(1.0, matched / query_self)
                + W_COVER * (matched / doc_self[doc] if doc_self[doc] else 0.0)
                + W_CHARS * chars.get(doc, 0.0) / (query_gram_norm * doc_gram_norm[doc])
            )
            card_pos = doc_card[doc]
            if card_pos not in best or raw > best[card_pos][0]:
                best[card_pos] = (raw, doc)
        items = best.items()
        if moment is not None:
            items = [(pos, value) for pos, value in items if self.cards[pos].valid_at(moment)]
        ranked = heapq.nlargest(limit, items, key=lambda item: item[1][0])
        return [Scored(self.cards[pos], raw, confidence(raw), self.doc_text[doc]) for pos, (raw, doc) in ranked]

    def similarity(self, a: str, b: str) -> float:
        """Symmetric 0..1 similarity of two texts with this shop's analyser and IDF weights."""
        tokens_a, tokens_b = self.query_tokens(a), self.query_tokens(b)
        terms_a, terms_b = set(tokens_a), set(tokens_b)
        grams_a, grams_b = char_bigrams("".join(tokens_a)), char_bigrams("".join(tokens_b))

        def weighted(items: set[str], idf: dict[str, float]) -> float:
            return sum(idf.get(x, self.oov_idf) for x in items)

        union_terms = weighted(terms_a | terms_b, self.term_idf)
        word_score = weighted(terms_a & terms_b, self.term_idf) / union_terms if union_terms else 0.0
        union_grams = weighted(grams_a | grams_b, self.gram_idf)
        gram_score = weighted(grams_a & grams_b, self.gram_idf) / union_grams if union_grams else 0.0
        if not union_terms and not union_grams:
            return 1.0 if strip_punctuation(a) == strip_punctuation(b) else 0.0
        return 0.5 * word_score + 0.5 * gram_score
