"""长句多问: split one shopper message into the questions it holds.

Shoppers write "包邮吗？几天能到，另外能开发票吗" and expect three answers. The splitter cuts at sentence
ends, enumerations ("1、" "①") and connectors (还有 / 另外 / 顺便问下 ...), then inside a sentence at commas
and spaces where each clause carries its own question. Clauses without a question ("我平时穿41码") stay
with their neighbour; greetings ("在吗") are dropped. A message holding one question comes back whole.
"""

import re
from functools import lru_cache

import jieba

from .text import STOPWORDS, normalize, strip_punctuation

_SENTENCE_END = re.compile(r"[?？!！。;；\n]+")
_ENUMERATION = re.compile(r"(?:^|(?<=[\s,，:：]))(?:\d{1,2}|[一二三四五六七八九十])[、.．)）]|[①②③④⑤⑥⑦⑧⑨⑩]")
# Connectors that only ever announce another matter ("还有" may ask for stock: "还有42码吗").
_ANOTHER_MATTER = (
    r"另外|此外|顺便问一下|顺便问下|顺便问问|顺便|順便問一下|順便問下|順便|再问一下|再問一下|再问下|再問下"
)
_CONNECTOR = re.compile(rf"(?:还有就是|还有|還有|{_ANOTHER_MATTER}|以及)")
# Opening words that only announce another question; "还有" stays, since "还有42码吗" asks about stock.
_LEADING_CONNECTOR = re.compile(rf"^(?:{_ANOTHER_MATTER}|以及)[,，:：\s]*")
_CLAUSE_SEPARATOR = re.compile(r"[,，、\s]+")
# A-not-A: 甜不甜, 掉不掉色, 到没到
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
_QUESTION_MARKERS = re.compile(
    r"[吗么嘛呢?]|怎|什么|啥|哪|几|多少|多久|多长|多大|多重|如何|是否|能否|可否|有没有|有无|是不是|能不能|可不可以|"
    rf"会不会|要不要|可以|为什么|为啥|咋|谁|还是|没有|了没|{_A_NOT_A.pattern}|"
    # 不 closing a clause: "能开发票不", "包邮不啊"
    r"不(?=[啊呀吧]|[^\u4e00-\u9fff]|$)"
)


def _asks(clause: str) -> bool:
    return bool(_QUESTION_MARKERS.search(normalize(clause)))


@lru_cache(maxsize=20_000)
def _is_filler(piece: str) -> bool:
    words = [w for w in jieba.lcut(strip_punctuation(piece)) if w.strip()]
    return all(w in STOPWORDS for w in words)


def _cut_connectors(sentence: str) -> list[str]:
    """Cut before a connector only when the text before it already asks something ("还有42码吗" stays) and
    the text after it is more than a particle ("满减活动还有吗" is one question)."""
    pieces: list[str] = []
    start = 0
    for match in _CONNECTOR.finditer(sentence):
        before = sentence[start : match.start()]
        if before.strip() and _asks(before) and not _is_filler(sentence[match.end() :]):
            pieces.append(before)
            start = match.end()
    pieces.append(sentence[start:])
    return pieces


# Sentence-final particles (Traditional too: the pieces keep the shopper's characters); 么 only where it is not
# part of 什么 / 怎么 / 这么 ...
_PARTICLE = re.compile(r"[吗嗎嘛呢啊呀]|(?<![什怎多这那要甚這])[么麼]")


def _cut_particles(clause: str) -> list[str]:
    """Cut after a sentence-final particle followed by another question: "耳机防水吗能听多久"."""
    pieces: list[str] = []
    start = 0
    for match in _PARTICLE.finditer(clause):
        rest = clause[match.end() :]
        if rest and _asks(rest) and not _is_filler(rest) and not _is_filler(clause[start : match.end()]):
            pieces.append(clause[start : match.end()])
            start = match.end()
    pieces.append(clause[start:])
    return pieces


# Question words that lead into what is asked ("怎么|解冻", "能不能|退"): a question does not end on them.
_OPENS_PREDICATE = re.compile(
    r"(?:怎么|怎样|怎|咋|如何|为什么|为啥|是否|能否|可否|能不能|可不可以|会不会|要不要|是不是|有没有|可以|还是)$"
)


def two_question_cuts(question: str) -> list[tuple[str, str]]:
    """Ways to read one unpunctuated piece as two questions ("什么时候发货有赠品吗"): cuts at word boundaries
    after its first question word and before its last, where both sides ask something. Whether a cut is
    right depends on the shop's cards: ``knowledge.services`` keeps one only when each side finds its own card.
    """
    text = question.strip()
    markers = list(_QUESTION_MARKERS.finditer(text))
    if len(markers) < 2:
        return []
    first_end, last_start = markers[0].end(), markers[-1].start()
    cuts = []
    position = 0
    for word in _words(text):
        position += len(word)
        if first_end <= position <= last_start:
            left, right = text[:position], text[position:]
            if _OPENS_PREDICATE.search(left):
                continue
            if _asks(left) and _asks(right) and _has_topic(left) and _has_topic(right):
                cuts.append((left, right))
    return cuts


# Where a statement or request may end and a question begin: a comma, a space or a connector.
_SOFT_BOUNDARY = re.compile(rf"[,，、\s]+|{_CONNECTOR.pattern}|(?<=[吗嗎嘛呢啊呀])(?=[\u4e00-\u9fff])")


def clause_cuts(question: str) -> list[tuple[str, str]]:
    """Ways to read a piece holding a question and a statement or request as two questions: "坚果哈喇味了，有运费险吗",
    "帮我改下地址 另外能开发票吗", "默认哪家快递 发错了", "橙子甜不甜啊快递不动了". ``split_questions`` keeps such a
    clause with its question, as context ("我平时穿41，这款选多大"); it is a question of its own only when it finds
    its own card, which ``knowledge.services`` decides. Cuts at commas, spaces, connectors and after a
    sentence-final particle, where both sides have a topic and one of them asks."""
    text = question.strip()
    cuts = []
    for match in _SOFT_BOUNDARY.finditer(text):
        left = text[: match.start()].strip(" ，,、")
        right = _LEADING_CONNECTOR.sub("", text[match.end() :].strip(" ，,、"))
        if _has_topic(left) and _has_topic(right) and (_asks(left) or _asks(right)):
            cuts.append((left, right))
    return cuts


_MATTER_CUT = re.compile(rf"[,，、\s]*(?:{_ANOTHER_MATTER})")


def connector_cut(question: str) -> tuple[str, str] | None:
    """A statement or request, then a connector that announces another matter, then a question: "帮我改下地址，
    另外能开发票吗", "少发了一根线，另外保修怎么申请". The connector says there are two matters, so the cut is
    kept whatever the engine makes of the statement (``split_questions`` cuts there only after a question)."""
    text = question.strip()
    for match in _MATTER_CUT.finditer(text):
        left, right = text[: match.start()].strip(" ，,、"), text[match.end() :].strip(" ，,、:：")
        if _has_topic(left) and _asks(right) and _has_topic(right):
            return left, right
    return None


def soft_cuts(question: str) -> list[tuple[str, str]]:
    """Every way ``clause_cuts`` and ``two_question_cuts`` offer to read one piece as two questions."""
    return list(dict.fromkeys([*clause_cuts(question), *two_question_cuts(question)]))


def _has_topic(piece: str) -> bool:
    """Two characters or more besides question words and particles ("什么" alone is no question, "可以开" too
    little to stand alone); A-not-A asks about its A ("甜不甜")."""
    text = normalize(piece)
    if _A_NOT_A.search(text):
        return True
    rest = _QUESTION_MARKERS.sub("", text)
    return len(strip_punctuation(rest).replace(" ", "")) >= 2 and not _is_filler(rest)


@lru_cache(maxsize=20_000)
def _words(text: str) -> tuple[str, ...]:
    return tuple(jieba.cut(text))


def _cut_clauses(sentence: str) -> list[str]:
    """Group comma/space clauses so that each group ends with the clause that asks."""
    groups: list[str] = []
    current = ""
    for clause in (piece for part in _CLAUSE_SEPARATOR.split(sentence) for piece in _cut_particles(part)):
        if not clause:
            continue
        current = f"{current}，{clause}" if current else clause
        if _asks(clause):
            groups.append(current)
            current = ""
    if current:
        if groups:
            groups[-1] = f"{groups[-1]}，{current}"
        else:
            groups.append(current)
    return groups


def split_questions(text: str) -> list[str]:
    """The questions in ``text``, each as the shopper wrote it; a one-question message is returned whole."""
    whole = (text or "").strip()
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(whole):
        for item in _ENUMERATION.split(sentence):
            for part in _cut_connectors(item):
                pieces.extend(_cut_clauses(part))
    questions = [_LEADING_CONNECTOR.sub("", p.strip(" ，,、:：")) for p in pieces]
    questions = [q for q in questions if q and not _is_filler(q)]
    if len(questions) <= 1:
        return [whole] if whole else []
    return questions
