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

The weighted sum of the three picks the best ``RERANK_TEXTS`` texts; each gets the features of
``knowledge.features`` and the learned ranker (``knowledge.ranker``) turns them into the probability that the
text's card is right, and then into each card's confidence.
"""

import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import ahocorasick
import jieba
import numpy as np

from .features import FEATURES, NO_FEATURES, QueryFacts, TextFacts, feature_matrix, pair_features
from .ranker import Ranker, shipped_ranker
from .text import STOPWORDS, char_bigrams, strip_punctuation
from .wordvectors import shipped_vectors

# Only pypinyin's single-character table is used; without this its phrase dictionary would cost every
# process ~45 MB more. It must be set before pypinyin is first imported.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
import itertools

from pypinyin.pinyin_dict import pinyin_dict

K1 = 1.2
# How far a text's knowledge point may be behind the question's best point for the text to still hold the question.
POINT_CLASH = 0.5
_POINT_LEAD = FEATURES.index("point_lead")
B = 0.75
# Weights of the three signals in a text's raw score.
W_LEX, W_COVER, W_CHARS = 0.45, 0.15, 0.40
# Weight of the card's answer (character bigrams) in the raw score: it only brings candidates in, since a
# shopper's paraphrase often uses the answer's words (实体店 for a pick-up card that says 门店); the ranker
# decides with its ``answer`` feature.
W_ANSWER = 0.15


# "A不A" / "A没A" questions ask about A: 透不透 → 透, 包不包邮 → 包邮, 有没有 → 有.
_A_NOT_A = re.compile(r"(\w)[不没]\1")
# Numbers inside a promotion or payment term hide the term: 满99减10 is 满减, 分3期 is 分期, 7天无理由 is 七天无理由.
_NUMBERED_TERMS = (
    (re.compile(r"满\s?\d+(?:\.\d+)?\s?(?:元|块)?\s?减\s?(?:\d+(?:\.\d+)?\s?(?:元|块)?)?"), " 满减 "),
    (re.compile(r"分\s?(?:\d+|[两三六十]|十二)\s?期"), " 分期 "),
    (re.compile(r"(?:\d+|[七十]|十五)\s?天无理由"), " 七天无理由 "),
)


def _numbered_terms(text: str) -> str:
    for pattern, term in _NUMBERED_TERMS:
        text = pattern.sub(term, text)
    return text


def load_dictionary() -> None:
    """Load jieba's default dictionary and the language pack's word vectors now rather than on the first
    question."""
    jieba.initialize()
    shipped_vectors()


@lru_cache(maxsize=200_000)
def _jieba_cut(chunk: str) -> tuple[str, ...]:
    return tuple(w for w in jieba.cut(chunk) if w.strip())


@lru_cache(maxsize=50_000)
def _jieba_subwords(word: str) -> tuple[str, ...]:
    """The dictionary words inside ``word`` (jieba's search mode), for a query word the index does not know."""
    return tuple(p for p in jieba.cut_for_search(word) if p != word and len(p) > 1)


@lru_cache(maxsize=50_000)
def _char_sound(char: str) -> str:
    readings = pinyin_dict.get(ord(char))
    if not readings:
        return char
    first = unicodedata.normalize("NFKD", readings.split(",")[0])
    return "".join(c for c in first if not unicodedata.combining(c))


def sound(text: str) -> str:
    """Toneless pinyin, one syllable per character: shoppers' typos are mostly homophones (发或 for 发货)."""
    return " ".join(_char_sound(char) for char in text)


def sound_pairs(text: str) -> frozenset[str]:
    """Pairs of neighbouring toneless syllables: two texts typed with homophones share them."""
    syllables = [_char_sound(char) for char in text]
    return frozenset(f"{a} {b}" for a, b in itertools.pairwise(syllables))


def _by_sound(words: dict[str, float], df: Counter) -> dict[str, str]:
    """Known multi-character Chinese words by their sound; of two homophones the more frequent wins."""
    table: dict[str, str] = {}
    for word in sorted(words, key=lambda w: -df[w]):
        if len(word) > 1 and any("\u4e00" <= c <= "\u9fff" for c in word):
            table.setdefault(sound(word), word)
    return table


class Analyzer:
    """Tokens for one shop: its phrases kept whole, its synonyms mapped to one canonical word."""

    # Words whose inner words are remembered; shoppers' text cannot grow it past this.
    INSIDE_CACHE_SIZE = 50_000

    def __init__(
        self,
        phrases: Iterable[str] = (),
        synonyms: dict[str, str] | None = None,
        regions: Mapping[str, str] | None = None,
        broader: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        """``regions``: place name → region class (偏远地区 ...); a place in the text adds its class as a token.
        ``broader``: canonical word → broader words it adds as tokens (夏威夷果 → 坚果)."""
        self.synonyms = dict(synonyms or {})
        self.regions = dict(regions or {})
        self.broader = dict(broader or {})
        self._inside_cache: dict[str, tuple[str, ...]] = {}
        # One-character canonical words (鞋, 裙): a compound ending in one is a kind of it (跑步鞋 → 鞋).
        self.heads = frozenset(c for c in self.synonyms.values() if len(c) == 1 and c not in STOPWORDS)
        words = {strip_punctuation(p) for p in phrases} | {w for w in self.synonyms if len(w) > 1}
        words |= {c for c in self.synonyms.values() if len(c) > 1}
        words |= set(self.regions) | set(self.regions.values())
        words |= set(self.broader) | {w for heads in self.broader.values() for w in heads}
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

    def _inside(self, token: str) -> tuple[str, ...]:
        """A long word also counts as the words inside it: 退货地址 still speaks of 退货 (jieba's search mode),
        and 赠运费险 of the shop's phrase 运费险. Kept per analyser: the same words recur in every text."""
        found = self._inside_cache.get(token)
        if found is None:
            words = set(_jieba_subwords(token))
            if self._automaton is not None:
                words.update(phrase for _, phrase in self._automaton.iter(token) if len(phrase) < len(token))
            found = tuple(sorted({p for p in map(self._canonical, words) if p and p != token}))
            if len(self._inside_cache) < self.INSIDE_CACHE_SIZE:
                self._inside_cache[token] = found
        return found

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
        for chunk in _numbered_terms(_A_NOT_A.sub(r"\1", strip_punctuation(text))).split():
            for word in self._segment(chunk):
                token = self._canonical(word)
                if token is None:
                    continue
                region_class = self.regions.get(word)
                if region_class is not None and region_class != word:
                    result.extend((token, region_class))
                    continue
                if vocabulary is not None and token not in vocabulary and len(word) > 1:
                    known = self._known_parts(word, vocabulary)
                    if known:
                        result.extend(known)
                        continue
                result.append(token)
                result.extend(self.broader.get(token, ()))
                if len(token) > 2:
                    result.extend(self._inside(token))
                if len(token) > 1 and token[-1] in self.heads:
                    result.append(token[-1])
        return result


@dataclass(frozen=True)
class TrialAnswer:
    """A card's second answer under a running experiment (knowledge.AnswerExperiment), and B's share in %."""

    experiment_id: int
    answer: str
    share: int


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
    trial: TrialAnswer | None = None

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
    # The ranker's probability for the card's best text, before the confidence model compares the cards.
    probability: float = 0.0
    # Every word of the question is in that text: the question is (part of) this card's question, unless the
    # language pack's knowledge points say it asks another thing ("能便宜点吗" is all 优惠, but a bargain).
    covered: bool = False


def _idf(n_docs: int, df: int) -> float:
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _by_key(keys: np.ndarray, count: int, *columns: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """``columns`` cut into one part per key ``0..count-1``, rows in their order within each part."""
    if not count:
        return []
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(1, count))
    return list(zip(*(np.split(column[order], bounds) for column in columns), strict=True))


def _gram_index(
    grams: Sequence[set[str]], n: int
) -> tuple[Counter, dict[str, float], dict[str, np.ndarray], np.ndarray]:
    """Document frequency and IDF per character bigram, the rows holding each bigram (ascending), and each row's
    IDF-weighted norm (1 for a row without any), summed in each row's own bigram order as one row at a time would.
    """
    df = Counter(g for row in grams for g in row)
    idf = {g: _idf(n, count) for g, count in df.items()}
    gram_ids = {g: i for i, g in enumerate(df)}
    squares = np.asarray([value**2 for value in idf.values()], dtype=np.float64)
    counts = np.fromiter((len(row) for row in grams), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    ids = np.fromiter((gram_ids[g] for row in grams for g in row), dtype=np.int64, count=len(rows))
    norm = np.sqrt(np.bincount(rows, squares[ids], minlength=n))
    norm[norm == 0] = 1.0
    postings = {g: docs for g, (docs,) in zip(df, _by_key(ids, len(df), rows), strict=True)}
    return df, idf, postings, norm


class Index:
    """Inverted indexes of words (BM25 weights precomputed per posting) and character bigrams.

    Postings are numpy arrays, and a query adds them into one score vector over all indexed texts: a shop
    of 10,000 cards (30,000 texts) where common words such as 发货 sit in thousands of postings still
    answers in well under a millisecond, with exact scores and no pruning.
    """

    # The raw score's best texts considered; of those, the best valid RERANK_TEXTS get ranker features.
    TOP_TEXTS = 64
    RERANK_TEXTS = 20

    def __init__(
        self,
        analyzer: Analyzer,
        cards: Sequence[IndexedCard],
        texts: Sequence[tuple[int, str]],
        ranker: Ranker | None = None,
    ) -> None:
        """``texts``: (position in ``cards``, question text) for every standard and similar question.
        ``ranker``: the model turning features into confidence (the shipped one by default)."""
        self.analyzer = analyzer
        self._ranker = ranker
        # Ranker facts per text and answer words per card, filled when a text first reaches the reranking.
        self._facts: dict[int, TextFacts] = {}
        self._answer_terms: dict[int, frozenset[str]] = {}
        self.cards = list(cards)
        doc_card: list[int] = []
        self.doc_text: list[str] = []
        doc_terms: list[Counter] = []
        self.doc_terms: list[frozenset[str]] = []
        doc_grams: list[set[str]] = []
        # A shop's texts repeat (the same similar question on several cards): each distinct text is analysed once.
        analysed: dict[str, tuple[Counter, frozenset[str], set[str]]] = {}
        for card_pos, text in texts:
            found = analysed.get(text)
            if found is None:
                tokens = analyzer.tokens(text)
                found = analysed[text] = (Counter(tokens), frozenset(tokens), char_bigrams("".join(tokens)))
            terms, term_set, grams = found
            if not terms and not grams:
                continue
            doc_card.append(card_pos)
            self.doc_text.append(text)
            doc_terms.append(terms)
            self.doc_terms.append(term_set)
            doc_grams.append(grams)
        n = self.n_docs = len(doc_card)
        self.doc_card = np.asarray(doc_card, dtype=np.int64)
        lengths = np.asarray([terms.total() for terms in doc_terms], dtype=np.int64)
        self.avgdl = (int(lengths.sum()) / n) if n else 1.0
        df = Counter(term for terms in doc_terms for term in terms)
        self.term_idf = {term: _idf(n, count) for term, count in df.items()}
        self.oov_idf = _idf(n, 0)
        # Every (text, term) posting at once, in text order and each text's term order: each text's BM25 weights
        # and their sum come out exactly as one text at a time would give them.
        term_ids = {term: i for i, term in enumerate(df)}
        counts = np.fromiter((len(terms) for terms in doc_terms), dtype=np.int64, count=n)
        post_doc = np.repeat(np.arange(n, dtype=np.int64), counts)
        size = len(post_doc)
        post_term = np.fromiter((term_ids[t] for terms in doc_terms for t in terms), dtype=np.int64, count=size)
        tf = np.fromiter((f for terms in doc_terms for f in terms.values()), dtype=np.float64, count=size)
        norm = K1 * (1 - B + B * lengths / self.avgdl)
        idf = np.fromiter(self.term_idf.values(), dtype=np.float64, count=len(df))
        weight = idf[post_term] * tf * (K1 + 1) / (tf + norm[post_doc])
        doc_self = np.bincount(post_doc, weight, minlength=n)
        self.postings = dict(zip(df, _by_key(post_term, len(df), post_doc, weight), strict=True))
        self.term_by_sound = _by_sound(self.term_idf, df)
        self.inv_doc_self = np.divide(1.0, doc_self, out=np.zeros(n), where=doc_self > 0)
        gram_df, self.gram_idf, self.gram_postings, gram_norm = _gram_index(doc_grams, n)
        self.gram_by_sound = _by_sound(self.gram_idf, gram_df)
        self.inv_gram_norm = 1.0 / gram_norm
        # Character bigrams of each card's answer, IDF-weighted like ``chars`` (no segmentation: cheap to build).
        _, self.answer_gram_idf, self.answer_gram_postings, answer_norm = _gram_index(
            [char_bigrams(card.answer) for card in self.cards], len(self.cards)
        )
        self.inv_answer_norm = 1.0 / answer_norm

    @property
    def ranker(self) -> Ranker:
        return self._ranker or shipped_ranker()

    @ranker.setter
    def ranker(self, model: Ranker) -> None:
        self._ranker = model

    def query_tokens(self, text: str) -> list[str]:
        """The query's tokens; a word the index does not know but a known word sounds like is taken for it."""
        tokens = self.analyzer.tokens(text, self.term_idf)
        return [t if t in self.term_idf or len(t) < 2 else self.term_by_sound.get(sound(t), t) for t in tokens]

    def _known_gram(self, gram: str) -> str:
        return gram if gram in self.gram_idf else self.gram_by_sound.get(sound(gram), gram)

    def _query_self(self, terms: Counter) -> float:
        norm = K1 * (1 - B + B * sum(terms.values()) / self.avgdl)
        return sum(self.term_idf.get(t, self.oov_idf) * tf * (K1 + 1) / (tf + norm) for t, tf in terms.items())

    def _signals(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``lex``, ``cover`` and ``chars`` of the query against every indexed text (see the module doc)."""
        terms = Counter(tokens)
        grams = {self._known_gram(g) for g in char_bigrams("".join(tokens))}
        if not self.n_docs or not terms:
            return None
        lex = np.zeros(self.n_docs)
        for term in terms:
            posting = self.postings.get(term)
            if posting is not None:
                lex[posting[0]] += posting[1]
        chars = np.zeros(self.n_docs)
        query_gram_norm = 0.0
        for g in grams:
            idf = self.gram_idf.get(g, self.oov_idf)
            query_gram_norm += idf * idf
            docs = self.gram_postings.get(g)
            if docs is not None:
                chars[docs] += idf * idf
        query_self = self._query_self(terms) or 1.0
        query_gram_norm = math.sqrt(query_gram_norm) or 1.0
        # In place where the inputs are not needed again: the same operations in the same order, fewer arrays.
        cover = lex * self.inv_doc_self
        lex /= query_self
        np.minimum(lex, 1.0, out=lex)
        chars *= self.inv_gram_norm
        chars /= query_gram_norm
        return lex, cover, chars

    def raw_scores(self, text: str, tokens: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """``lex``, ``cover``, ``chars`` and the raw score that picks candidates, for every indexed text (the
        impact preview reads them to tell which questions a change can reach)."""
        signals = self._signals(tokens)
        if signals is None:
            return None
        lex, cover, chars = signals
        raw = lex * W_LEX
        term = cover * W_COVER
        raw += term
        raw += np.multiply(chars, W_CHARS, out=term)
        answer = self._answer_signal(text)
        if answer is not None:
            raw += np.multiply(answer.take(self.doc_card), W_ANSWER, out=term)
        return lex, cover, chars, raw

    def candidates(
        self, text: str, tokens: list[str], *, moment: datetime | None = None, exclude: int | None = None
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The best ``RERANK_TEXTS`` texts by the raw score (valid cards only; ``exclude``: a text left out, for
        training), their raw scores and their ranker features, best raw score first."""
        scores = self.raw_scores(text, tokens)
        if scores is None:
            return [], np.zeros(0), NO_FEATURES
        lex, cover, chars, raw = scores
        if exclude is not None:
            raw[exclude] = 0.0
        matched = np.flatnonzero(raw != 0.0)  # the same texts; numpy finds them in a boolean array much faster
        if matched.size > self.TOP_TEXTS:
            matched = matched[np.argpartition(raw[matched], -self.TOP_TEXTS)[-self.TOP_TEXTS :]]
        docs: list[int] = []
        for doc in matched[np.argsort(-raw[matched], kind="stable")].tolist():
            if moment is None or self.cards[int(self.doc_card[doc])].valid_at(moment):
                docs.append(doc)
                if len(docs) == self.RERANK_TEXTS:
                    break
        if not docs:
            return [], np.zeros(0), NO_FEATURES
        query = QueryFacts.of(text, tokens, self.term_idf, sound_pairs)
        best = float(raw[docs[0]])
        texts = [self._text_facts(doc) for doc in docs]
        rows = [
            pair_features(query, facts, float(lex[doc]), float(cover[doc]), float(chars[doc]), best - raw[doc])
            for doc, facts in zip(docs, texts, strict=True)
        ]
        return docs, raw[docs], feature_matrix(query, texts, rows)

    def _answer_signal(self, text: str) -> np.ndarray | None:
        """IDF-weighted cosine of the question's character bigrams with each card's answer."""
        scores = np.zeros(len(self.cards))
        norm = 0.0
        for g in char_bigrams(text):
            idf = self.answer_gram_idf.get(g)
            if idf is None:
                continue
            norm += idf * idf
            scores[self.answer_gram_postings[g]] += idf * idf
        if not norm:
            return None
        scores *= self.inv_answer_norm
        scores /= math.sqrt(norm)
        return scores

    def _text_facts(self, doc: int) -> TextFacts:
        facts = self._facts.get(doc)
        if facts is None:
            card_pos = int(self.doc_card[doc])
            answer = self._answer_terms.get(card_pos)
            if answer is None:
                answer = self._answer_terms[card_pos] = frozenset(self.analyzer.tokens(self.cards[card_pos].answer))
            facts = self._facts[doc] = TextFacts.of(self.doc_text[doc], self.doc_terms[doc], answer, sound_pairs)
        return facts

    def search(
        self, text: str, *, limit: int = 5, moment: datetime | None = None, tokens: list[str] | None = None
    ) -> list[Scored]:
        """The best ``limit`` cards for ``text``, best first; cards outside their validity window are skipped.

        ``tokens``: the query's tokens when the caller already has them (``query_tokens(text)``). A card's
        confidence is the ranker's probability for its best text.
        """
        if tokens is None:
            tokens = self.query_tokens(text)
        docs, raw, features = self.candidates(text, tokens, moment=moment)
        if not docs:
            return []
        probabilities = self.ranker.probabilities(features)
        asked = set(tokens)
        best: dict[int, tuple[float, float, int, bool]] = {}
        rows: list[int] = []
        for i in np.argsort(-probabilities, kind="stable").tolist():
            card_pos = int(self.doc_card[docs[i]])
            if card_pos not in best:
                covered = asked <= self.doc_terms[docs[i]] and features[i, _POINT_LEAD] > -POINT_CLASH
                best[card_pos] = (float(probabilities[i]), float(raw[i]), docs[i], covered)
                rows.append(i)
        ranked = list(best.items())
        confidences = self.ranker.confidences(np.array([p for _, (p, _, _, _) in ranked]), features[rows])
        return [
            Scored(self.cards[pos], value, float(confidence), self.doc_text[doc], probability, covered)
            for (pos, (probability, value, doc, covered)), confidence in zip(ranked[:limit], confidences, strict=False)
        ]
