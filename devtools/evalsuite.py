"""Answer quality on whole shops the engine has never seen.

A suite is a folder of shops (``knowledge/eval_shops``): each sub-folder holds ``shop.json`` (name, slug,
industry), ``cards.csv`` in the ``import_cards`` format and ``questions.csv`` in the ``eval_answers``
format; ``splits.json`` names the shops that may be tuned on (``tune``) and those only ever reported
(``heldout``). Each shop is imported into a throw-away shop inside a transaction that is rolled back, so
a suite run writes nothing. Every question is asked twice: of the answer engine (``knowledge.evaluation``)
and of the chat's dialogue manager, where a question counts as answered only when the reply the shopper
reads carries the expected card's answer.
"""

import json
import random
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from chat.dialogue.router import decide
from chat.models import Conversation
from knowledge.engine import Index
from knowledge.evaluation import EvalReport, EvalRow, evaluate, read_rows
from knowledge.index import indexes, shop_index
from knowledge.models import AnswerOutcome, FAQCard
from knowledge.resources import import_cards_csv
from knowledge.services import answer_with_index
from shops.models import Shop

SPLITS = ("tune", "heldout")


class SuiteError(ValueError):
    """A suite folder that cannot be read; the message names the file."""


@dataclass(frozen=True)
class SuiteShop:
    slug: str
    name: str
    industry: str
    split: str
    directory: Path

    @property
    def cards_csv(self) -> Path:
        return self.directory / "cards.csv"

    def rows(self) -> list[EvalRow]:
        return read_rows(self.directory / "questions.csv")


def load_suite(root: Path) -> list[SuiteShop]:
    """The suite's shops in ``splits.json`` order."""
    try:
        splits = json.loads((root / "splits.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{root / 'splits.json'}: no such file") from None
    except json.JSONDecodeError as error:
        raise SuiteError(f"{root / 'splits.json'}: not JSON ({error})") from None
    shops = []
    for split in SPLITS:
        for slug in splits.get(split, []):
            directory = root / slug
            try:
                meta = json.loads((directory / "shop.json").read_text(encoding="utf-8"))
            except (FileNotFoundError, json.JSONDecodeError) as error:
                raise SuiteError(f"{directory / 'shop.json'}: {error}") from None
            for needed in ("cards.csv", "questions.csv"):
                if not (directory / needed).is_file():
                    raise SuiteError(f"{directory / needed}: no such file")
            shops.append(SuiteShop(slug, meta.get("name", slug), meta.get("industry", ""), split, directory))
    return shops


@contextmanager
def scratch_shop(suite_shop: SuiteShop) -> Iterator[Shop]:
    """A shop holding the suite shop's cards, gone again (rolled back) when the block ends."""
    industry = suite_shop.industry if suite_shop.industry in Shop.Industry.values else Shop.Industry.OTHER
    with transaction.atomic():
        shop = Shop.objects.create(
            name=suite_shop.name,
            slug=f"eval-{secrets.token_hex(4)}",
            industry=industry,
            plan=Shop.Plan.UNLIMITED,
        )
        try:
            import_cards_csv(shop, suite_shop.cards_csv.read_text(encoding="utf-8-sig"))
            yield shop
        finally:
            transaction.set_rollback(True)
            # The primary key goes back to the database: a later shop may get it, never this index.
            indexes.forget(shop.pk)


@dataclass
class ChatReport:
    """What the shopper reads: each expected card's answer in the bot's replies, nothing for out-of-scope."""

    in_scope: int = 0
    answered: int = 0
    multi: int = 0
    multi_answered: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def answer_rate(self) -> float:
        return self.answered / self.in_scope if self.in_scope else 0.0

    @property
    def multi_rate(self) -> float:
        return self.multi_answered / self.multi if self.multi else 0.0

    @property
    def reject(self) -> float:
        return self.rejected / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def summary(self) -> str:
        return f"answered={self.answer_rate:.3f} both={self.multi_rate:.3f} reject={self.reject:.3f}"

    def add(self, other: "ChatReport") -> None:
        for name in ("in_scope", "answered", "multi", "multi_answered", "out_of_scope", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def evaluate_chat(shop: Shop, rows: list[EvalRow]) -> ChatReport:
    """Each row as the first message of a new conversation with the shop's bot."""
    answers = dict(FAQCard.objects.filter(shop=shop).values_list("question", "answer"))
    every_answer = [a for a in answers.values() if a]
    report = ChatReport()
    for row in rows:
        conversation = Conversation.objects.create(shop=shop, visitor_token=secrets.token_hex(8))
        replies = [r.text for r in decide(conversation, row.question).replies]
        if not row.expected:
            report.out_of_scope += 1
            if any(a in text for a in every_answer for text in replies):
                report.misses.append(f"line {row.line}: {row.question!r} should be rejected, got {replies[:2]}")
            else:
                report.rejected += 1
            continue
        found = all(any(answers.get(e, "\0") in text for text in replies) for e in row.expected)
        report.in_scope += 1
        report.answered += found
        if len(row.expected) > 1:
            report.multi += 1
            report.multi_answered += found
        if not found:
            report.misses.append(f"line {row.line}: {row.question!r} expected {' | '.join(row.expected)}")
    return report


@dataclass
class ShopResult:
    shop: SuiteShop
    engine: EvalReport
    chat: ChatReport | None
    cards: int


# How generated two-question messages join their questions: nothing, a space, a comma or a mark, a connector.
PAIR_JOINERS = ("", "", " ", "，", "？", "。", "，还有", "，另外", " 顺便问下", "另外", "还有就是", "、")
# Particles a generated first question may end with when it ends with none ("怎么退货呢").
PAIR_PARTICLES = ("", "", "呢", "啊")
_FINAL_PARTICLE = re.compile(r"[吗呢吧啊么嘛呀哈]$")


def _answered_alone(index: Index, row: EvalRow) -> bool:
    """The row is one question, answered (not a clarify step) with its card."""
    answers = answer_with_index(index, row.question)
    if len(answers) != 1 or len(row.expected) != 1 or answers[0].outcome != AnswerOutcome.ANSWER:
        return False
    return answers[0].candidates[0].question == row.expected[0]


def question_pairs(rows: list[EvalRow], count: int, seed: int = 12) -> list[EvalRow]:
    """``count`` generated two-question messages for development (never a held-out shop's questions): two of the
    shop's one-question rows asking for different cards, the first without its final marks and sometimes with a
    particle, joined by one of ``PAIR_JOINERS``. The same rows and seed give the same messages."""
    singles = [row for row in rows if len(row.expected) == 1]
    if len({row.expected for row in singles}) < 2:
        return []
    chance = random.Random(seed)
    pairs: list[EvalRow] = []
    while len(pairs) < count:
        first, second = chance.sample(singles, 2)
        if first.expected == second.expected:
            continue
        opening = first.question.rstrip("?？。.!！ ")
        if not _FINAL_PARTICLE.search(opening):
            opening += chance.choice(PAIR_PARTICLES)
        text = f"{opening}{chance.choice(PAIR_JOINERS)}{second.question}"
        pairs.append(EvalRow(len(pairs) + 1, text, first.expected + second.expected))
    return pairs


def run_shop(suite_shop: SuiteShop, *, chat: bool = True, pairs: int = 0) -> ShopResult:
    """``pairs``: ask that many generated two-question messages instead of the shop's rows, made of questions the
    engine answers right on their own (``question_pairs``): what they lose together is lost to the splitting."""
    rows = suite_shop.rows()
    with scratch_shop(suite_shop) as shop:
        index = shop_index(shop)
        cards = len(index.cards)
        if pairs:
            rows = question_pairs([row for row in rows if _answered_alone(index, row)], pairs)
        engine = evaluate(shop, rows)
        chat_report = evaluate_chat(shop, rows) if chat else None
    return ShopResult(suite_shop, engine, chat_report, cards)
