"""Measure the answer engine on a labelled file: top-1/top-3 accuracy and out-of-scope rejection.

A row is ``question,expected``: ``expected`` is the expected card's standard question, several of them
joined by ``|`` for a message holding several questions (the splitter must find each, in order), or
``none`` for a line the bot should not answer. Evaluation writes nothing.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shops.models import Shop

from .engine import Index
from .index import shop_index
from .models import AnswerOutcome
from .services import Answer, answer_with_index

OUT_OF_SCOPE = "none"


@dataclass(frozen=True)
class EvalRow:
    line: int
    question: str
    expected: tuple[str, ...]  # empty: out of scope


@dataclass
class EvalReport:
    in_scope: int = 0
    top1_hits: int = 0
    top3_hits: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    # Messages holding several questions, and those whose every question ranked its card first.
    multi: int = 0
    multi_hits: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return self.top1_hits / self.in_scope if self.in_scope else 0.0

    @property
    def top3(self) -> float:
        return self.top3_hits / self.in_scope if self.in_scope else 0.0

    @property
    def reject(self) -> float:
        return self.rejected / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def answer_rate(self) -> float:
        """In-scope questions whose every part was answered (not clarified) with its card."""
        return self.answered_right / self.in_scope if self.in_scope else 0.0

    @property
    def multi_rate(self) -> float:
        return self.multi_hits / self.multi if self.multi else 0.0

    @property
    def summary(self) -> str:
        both = f" both={self.multi_rate:.3f}" if self.multi else ""
        return (
            f"top1={self.top1:.3f} top3={self.top3:.3f} reject={self.reject:.3f}{both} answered={self.answer_rate:.3f}"
        )

    def add(self, other: "EvalReport") -> None:
        """Fold another shop's report into this one (pooled over questions, not averaged over shops)."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_COUNTS = (
    "in_scope",
    "top1_hits",
    "top3_hits",
    "answered_right",
    "answered_wrong",
    "out_of_scope",
    "rejected",
    "multi",
    "multi_hits",
)


class EvalFileError(ValueError):
    pass


def read_rows(path: Path) -> list[EvalRow]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or {"question", "expected"} - set(reader.fieldnames):
            raise EvalFileError(f"{path}: the header must be question,expected")
        rows = []
        for record in reader:
            question, expected = (record.get("question") or "").strip(), (record.get("expected") or "").strip()
            if not question or not expected:
                raise EvalFileError(f"{path}, line {reader.line_num}: question and expected are both required")
            wanted = () if expected.lower() == OUT_OF_SCOPE else tuple(e.strip() for e in expected.split("|"))
            rows.append(EvalRow(reader.line_num, question, wanted))
    return rows


def _ranked(answer: Answer) -> list[str]:
    return [c.question for c in answer.candidates]


def evaluate(shop: Shop | None, rows: Iterable[EvalRow], *, index: Index | None = None) -> EvalReport:
    """``index``: answer from this index (another ranker model, say) instead of the shop's cached one."""
    if index is None:
        if shop is None:
            raise ValueError("evaluate() needs a shop or an index")
        index = shop_index(shop)
    report = EvalReport()
    for row in rows:
        answers = answer_with_index(index, row.question)
        if not row.expected:
            report.out_of_scope += 1
            if all(a.outcome == AnswerOutcome.FALLBACK for a in answers):
                report.rejected += 1
            else:
                first = _ranked(answers[0])[:1]
                report.misses.append(f"line {row.line}: {row.question!r} should be rejected, got {first}")
            continue
        report.in_scope += 1
        aligned = len(answers) == len(row.expected)
        top1 = aligned and all(_ranked(a)[:1] == [e] for a, e in zip(answers, row.expected, strict=False))
        top3 = aligned and all(e in _ranked(a)[:3] for a, e in zip(answers, row.expected, strict=False))
        right = top1 and all(a.outcome == AnswerOutcome.ANSWER for a in answers)
        report.top1_hits += top1
        if len(row.expected) > 1:
            report.multi += 1
            report.multi_hits += top1
        report.top3_hits += top3
        report.answered_right += right
        report.answered_wrong += any(
            a.outcome == AnswerOutcome.ANSWER and _ranked(a)[:1] != [e]
            for a, e in zip(answers, row.expected, strict=False)
        ) or (not aligned and any(a.outcome == AnswerOutcome.ANSWER for a in answers))
        if not top1:
            got = " | ".join(f"{(_ranked(a) or ['-'])[0]} ({a.outcome} {a.score:.2f})" for a in answers)
            report.misses.append(f"line {row.line}: {row.question!r} expected {' | '.join(row.expected)}, got {got}")
    return report
