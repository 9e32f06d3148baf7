"""Which of the language pack's knowledge points (``topics.tsv``) a text asks about.

Nearly every shop is asked the same few dozen things (when it ships, how long delivery takes, whether it
invoices, who pays return freight), each in many words; a merchant writes one card for each, with few similar
questions. The pack's points carry the shoppers' words, so a shopper's "发出去以后多久能收到" meets the
merchant's "发货后几天能到" through the point they share, though they share no word.

A text's score for a point is its best cosine with one of the point's questions, over the IDF-weighted
character bigrams of the normalised text (Simplified, half-width, no punctuation; question words included:
"多久" against "能不能"). No segmentation: a text's bigrams cost a few microseconds where cutting it with jieba
cost thirty, and leave-one-shop-out found them as good. Bigrams the bank never uses do not count: a product
name says nothing about which point is asked. The ranker's ``point_*`` features (``knowledge.features``)
compare the shopper's question with the point of the card's text, when that text is about one (``CARD_FLOOR``).

No shop's data enters here: the bank and its index are the same for every shop, built once per process.
"""

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .langpack import language_pack
from .text import char_bigrams

# A merchant's card question counts as one point's when its best score is at least this.
CARD_FLOOR = 0.5


@dataclass(frozen=True)
class PointBank:
    """The pack's points, their questions' features in postings, and each question's norm."""

    topics: tuple[str, ...]
    # Question positions where each point's questions start (questions are stored point by point).
    starts: np.ndarray
    # Per feature: the questions holding it and its weight repeated for each (one bincount adds them all).
    postings: dict[str, tuple[np.ndarray, np.ndarray]]
    weight: dict[str, float]
    inv_norm: np.ndarray

    def scores(self, text: str) -> np.ndarray:
        """Each point's score for ``text``, in 0..1 (in the order of ``topics``)."""
        features = [f for f in _features(text) if f in self.weight]
        if not features or not len(self.starts):
            return np.zeros(len(self.topics))
        docs = np.concatenate([self.postings[f][0] for f in features])
        weights = np.concatenate([self.postings[f][1] for f in features])
        dot = np.bincount(docs, weights, minlength=len(self.inv_norm))
        cosine = dot * self.inv_norm / math.sqrt(sum(self.weight[f] for f in features))
        return np.maximum.reduceat(cosine, self.starts)

    def point_of(self, text: str) -> tuple[int, float]:
        """The point ``text`` is about (its position in ``topics``) and its score, or (-1, score) below
        ``CARD_FLOOR``."""
        scores = self.scores(text)
        if not len(scores):
            return -1, 0.0
        best = int(scores.argmax())
        score = float(scores[best])
        return (best if score >= CARD_FLOOR else -1), score


@lru_cache(maxsize=20_000)
def _features(text: str) -> frozenset[str]:
    return frozenset(char_bigrams(text))


def build_bank() -> PointBank:
    points = language_pack().points
    questions = [(i, q) for i, point in enumerate(points) for q in point.questions]
    features = [_features(q) for _, q in questions]
    n = len(questions)
    df = Counter(f for fs in features for f in fs)
    # Squared IDF: a feature's weight in both vectors of a dot product.
    weight = {f: math.log(1.0 + n / count) ** 2 for f, count in df.items()}
    docs: dict[str, list[int]] = {f: [] for f in df}
    norm = np.ones(n)
    for doc, fs in enumerate(features):
        for f in fs:
            docs[f].append(doc)
        norm[doc] = math.sqrt(sum(weight[f] for f in fs)) or 1.0
    starts = np.searchsorted([i for i, _ in questions], np.arange(len(points)))
    return PointBank(
        tuple(p.topic for p in points),
        starts.astype(np.int64),
        {f: (np.asarray(d, dtype=np.int64), np.full(len(d), weight[f])) for f, d in docs.items()},
        weight,
        1.0 / norm,
    )


@cache
def point_bank() -> PointBank:
    """The shipped pack's bank, built once per process."""
    return build_bank()


def point_label(text: str) -> str:
    """The label of the knowledge point ``text`` is about (发货时间), or "" (for the trainer's "try the bot")."""
    position, _ = point_bank().point_of(text)
    return language_pack().points[position].label if position >= 0 else ""
