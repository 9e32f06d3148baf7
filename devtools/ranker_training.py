"""Training data and fitting for the answer engine's ranker (``knowledge.ranker``), used by ``train_ranker``.

Training shops are built in memory, without the database, from files in the repository: the three demo
shops (``devtools.demo.knowledge`` and ``knowledge.template_packs``, with their evaluation files
``tests/data/eval_<slug>.csv``) and the suite's tune shops (``knowledge/eval_shops``). Held-out shops never
enter training; ``--loso`` may evaluate on them.

Examples, one per (query, candidate text) with label "the text's card is the right one":

* every text of a card with two or more texts, asked with that text left out of the index's candidates;
* every line of the shop's evaluation file, split like the engine splits a message; an out-of-scope line's
  candidates are all negative.

Inputs are read in a fixed order and the fit has no randomness, so the same data writes the same file.
"""

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from django.conf import settings

from devtools.demo.knowledge import SHOP_FACTS, SHOP_SYNONYMS, SHOP_WORDS
from devtools.demo.shop_catalog import SHOPS as DEMO_SHOPS
from devtools.evalsuite import load_suite
from knowledge.engine import Index, IndexedCard
from knowledge.evaluation import EvalReport, EvalRow, evaluate, read_rows
from knowledge.features import FEATURES
from knowledge.index import build_analyzer
from knowledge.langpack import language_pack
from knowledge.models import split_words
from knowledge.ranker import Bands, Ranker, confidence_inputs, fit, logistic
from knowledge.splitting import split_questions
from knowledge.template_packs import COMMON_CARDS, GLOBAL_SYNONYMS, INDUSTRY_CARDS

BASE = Path(settings.BASE_DIR)
SUITE = BASE / "knowledge" / "eval_shops"
DEMO_EVAL = BASE / "tests" / "data"


@dataclass(frozen=True)
class TrainingShop:
    """One shop's knowledge and labelled questions, as plain data."""

    slug: str
    split: str  # demo, tune or heldout
    cards: tuple[tuple[str, tuple[str, ...], str], ...]  # question, similar questions, answer
    global_groups: tuple[tuple[str, tuple[str, ...]], ...]
    shop_groups: tuple[tuple[str, tuple[str, ...]], ...]
    phrases: tuple[str, ...]
    questions_file: Path

    def rows(self) -> list[EvalRow]:
        return read_rows(self.questions_file)

    def index(self) -> Index:
        cards = [IndexedCard(pos, question, answer) for pos, (question, _, answer) in enumerate(self.cards)]
        texts = [(pos, text) for pos, (question, similar, _) in enumerate(self.cards) for text in (question, *similar)]
        return Index(build_analyzer(self.phrases, self.global_groups, self.shop_groups), cards, texts)

    def fingerprint(self) -> dict:
        return {
            "slug": self.slug,
            "cards": self.cards,
            "global_groups": self.global_groups,
            "shop_groups": self.shop_groups,
            "phrases": self.phrases,
            "questions": [(r.question, r.expected) for r in self.rows()] if self.split != "heldout" else [],
        }


def _groups(rows: Iterable[tuple[str, str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((canonical, tuple(split_words(words))) for canonical, words in rows)


def demo_shops() -> list[TrainingShop]:
    shops = []
    for spec in sorted(DEMO_SHOPS, key=lambda s: str(s["slug"])):
        slug, industry = str(spec["slug"]), str(spec["industry"])
        cards = tuple(
            (question, tuple(t for t in similar.split("|") if t), answer.format(**SHOP_FACTS[slug]))
            for _, question, similar, answer in COMMON_CARDS + INDUSTRY_CARDS[industry]
        )
        shops.append(
            TrainingShop(
                slug,
                "demo",
                cards,
                _groups(GLOBAL_SYNONYMS),
                _groups(SHOP_SYNONYMS[slug]),
                tuple(SHOP_WORDS[slug]),
                DEMO_EVAL / f"eval_{slug}.csv",
            )
        )
    return shops


def suite_shops(root: Path = SUITE) -> list[TrainingShop]:
    shops = []
    for suite_shop in load_suite(root):
        with suite_shop.cards_csv.open(encoding="utf-8-sig", newline="") as handle:
            cards = tuple(
                (
                    row["question"].strip(),
                    tuple(t.strip() for t in (row.get("similar_questions") or "").split("|") if t.strip()),
                    row["answer"].strip(),
                )
                for row in csv.DictReader(handle)
            )
        shops.append(
            TrainingShop(suite_shop.slug, suite_shop.split, cards, (), (), (), suite_shop.directory / "questions.csv")
        )
    return shops


def all_shops() -> list[TrainingShop]:
    return demo_shops() + suite_shops()


def data_hash(shops: Iterable[TrainingShop]) -> str:
    """A fingerprint of everything training reads: the shops' data, the pack's version and the features."""
    payload = {
        "pack": language_pack().version,
        "features": FEATURES,
        "shops": [s.fingerprint() for s in shops if s.split != "heldout"],
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@dataclass
class Examples:
    features: np.ndarray
    labels: np.ndarray
    # Per evaluation question (not the left-out texts): probability-ready rows for fitting the bands.
    queries: list[tuple[np.ndarray, list[int], frozenset[int]]]


def _query_examples(index: Index, text: str, right: frozenset[int], exclude: int | None = None):
    tokens = index.query_tokens(text)
    docs, _, features = index.candidates(text, tokens, exclude=exclude) if tokens else ([], None, None)
    if not docs:
        return None
    cards = [int(index.doc_card[d]) for d in docs]
    return features, cards, right


def shop_examples(shop: TrainingShop) -> tuple[list, list]:
    """(left-out text queries, evaluation-file queries) of one shop, each (features, candidate cards, right)."""
    index = shop.index()
    by_question = {question: pos for pos, (question, _, _) in enumerate(shop.cards)}
    left_out = []
    for doc, text in enumerate(index.doc_text):
        card = int(index.doc_card[doc])
        if int(np.count_nonzero(index.doc_card == card)) > 1:
            example = _query_examples(index, text, frozenset({card}), exclude=doc)
            if example:
                left_out.append(example)
    questions = []
    for row in shop.rows():
        parts = split_questions(row.question) or [row.question]
        if row.expected and len(parts) != len(row.expected):
            continue
        for i, part in enumerate(parts):
            right = frozenset({by_question[row.expected[i]]}) if row.expected else frozenset()
            example = _query_examples(index, part, right)
            if example:
                questions.append(example)
    return left_out, questions


def _stack(examples: list) -> tuple[np.ndarray, np.ndarray]:
    features = np.vstack([f for f, _, _ in examples])
    labels = np.concatenate([[float(c in right) for c in cards] for _, cards, right in examples])
    return features, labels


def _card_probabilities(model: Ranker, example) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The candidate cards best first, their probabilities, and the features of each one's best text."""
    features, cards, _ = example
    probabilities = model.probabilities(features)
    best: dict[int, tuple[float, int]] = {}
    for row, (p, card) in enumerate(zip(probabilities.tolist(), cards, strict=True)):
        if card not in best or p > best[card][0]:
            best[card] = (p, row)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
    return [c for c, _ in ranked], np.array([p for _, (p, _) in ranked]), features[[r for _, (_, r) in ranked]]


# The confidence model reads every feature of the card's best text: a firmer penalty than the ranker's few
# thousand examples would need keeps it from learning the training shops' questions.
CONFIDENCE_L2 = 10.0


def fit_confidence(model: Ranker, questions: list) -> tuple[np.ndarray, float]:
    """The confidence model on the evaluation questions' two best cards: is this card the right one?"""
    rows, labels = [], []
    for example in questions:
        cards, probabilities, features = _card_probabilities(model, example)
        rows.append(confidence_inputs(probabilities, (features - model.mean) / model.scale)[:2])
        labels += [float(card in example[2]) for card in cards[:2]]
    return logistic(np.vstack(rows), np.array(labels), l2=CONFIDENCE_L2)


# The clarify line alone rejects this share of out-of-scope questions; the ambiguous line takes the rest.
CLARIFY_REJECTS = 0.94


def fit_bands(model: Ranker, questions: list, reject_target: float = 0.94) -> Bands:
    """Bands on the evaluation questions: fallback lines that still reject ``reject_target`` of the
    out-of-scope questions, then the answer line that best trades answers right against answers wrong."""
    tops = []
    for example in questions:
        cards, probabilities, features = _card_probabilities(model, example)
        confidences = model.confidences(probabilities, features)
        second = float(confidences[1]) if len(confidences) > 1 else 0.0
        tops.append((float(confidences[0]), second, cards[0] in example[2], bool(example[2]), float(probabilities[0])))
    out = [(top, p) for top, _, _, in_scope, p in tops if not in_scope]
    confident = sorted(top for top, _ in out)
    clarify = confident[min(len(confident) - 1, int(CLARIFY_REJECTS * len(confident)))] if out else 0.5
    clarify = round(min(0.9, max(0.05, clarify + 1e-6)), 3)
    # A plausible best card below the clarify line still asks back; out of scope, the two lines together
    # must reject ``reject_target``.
    ambiguous = 0.95
    for candidate in sorted({round(p + 1e-6, 3) for _, p in out if p >= 0.5}):
        rejected = sum(top < clarify and p < candidate for top, p in out)
        if rejected >= reject_target * len(out):
            ambiguous = candidate
            break
    best, best_score = clarify, -1e9
    margin = Bands.margin
    for step in range(60):
        answer = round(clarify + step * 0.01, 3)
        if answer >= 1.0:
            break
        right = wrong = 0
        for top, second, correct, in_scope, _ in tops:
            if top >= answer and (top >= Bands.certain or top - second >= margin):
                right += correct and in_scope
                wrong += not (correct and in_scope)
        score = right - 3 * wrong
        if score > best_score:
            best, best_score = answer, score
    return Bands(answer=best, clarify=clarify, margin=margin, ambiguous=ambiguous)


def train(shops: list[TrainingShop]) -> Ranker:
    """Fit the ranker, its confidence and its bands on the shops (never a held-out one)."""
    left_out: list = []
    questions: list = []
    for shop in shops:
        if shop.split == "heldout":
            raise ValueError(f"{shop.slug} is held out: it never enters training")
        texts, asked = shop_examples(shop)
        left_out += texts
        questions += asked
    features, labels = _stack(left_out + questions)
    model = fit(features, labels).rounded()
    weights, bias = fit_confidence(model, questions)
    model = replace(model, confidence_weights=weights, confidence_bias=bias).rounded()
    training = {
        "data_sha256": data_hash(shops),
        "shops": [s.slug for s in shops],
        "examples": len(labels),
        "positives": int(labels.sum()),
    }
    return replace(model, bands=fit_bands(model, questions), training=training).rounded()


def evaluate_shop(shop: TrainingShop, model: Ranker) -> EvalReport:
    index = shop.index()
    index.ranker = model
    return evaluate(None, shop.rows(), index=index)
