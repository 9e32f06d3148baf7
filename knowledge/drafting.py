"""Card drafts from the shop's large model (docs/llm.md): from a product page's text, a PDF or DOCX manual, or a
group of unanswered questions. Each draft quotes the passage it rests on, and a draft whose quote is not word for
word in the material is discarded: the model may rephrase, never invent a source. Trainers accept, edit or drop.
"""

import io
import json
import re
from dataclasses import dataclass

from django.db import transaction

from core import llm as client
from shops import llm
from shops.models import Product, Shop

from .models import CardProposal, FAQCard, UnansweredQuestion
from .services import add_similar_questions, save_faq_card, suggest_answers

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PDF_PAGES = 50
MAX_SOURCE_CHARS = 12_000
MAX_DRAFTS = 15
MIN_QUOTE = 4
_SPACE = re.compile(r"\s+")

INSTRUCTION = (
    "你是「{shop}」的 AI 训练师助手。根据下面的资料，为客服机器人写问答卡片：顾客会问的问题、2 到 4 个相似问法、"
    "简短亲切的答案（只用资料中的事实）。每张卡片必须在 source 里逐字引用资料中支撑答案的原文片段。"
    "只输出 JSON 数组，每项形如 "
    '{{"question": "…", "similar": ["…"], "answer": "…", "source": "…"}}，最多 {limit} 张；'
    "资料里没有可答的内容就输出 []。"
)


class SourceError(ValueError):
    """Material that cannot be read: the message says why, in Chinese, for the form."""


class DraftingError(Exception):
    """The model could not be asked or gave nothing usable; the message is for the trainer."""


def text_of(name: str, data: bytes) -> str:
    """The text of an uploaded .pdf, .docx or .txt file, or SourceError."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise SourceError(f"文件太大了，最多 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    try:
        if suffix == "pdf":
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data))
            if len(reader.pages) > MAX_PDF_PAGES:
                raise SourceError(f"PDF 页数太多了，最多 {MAX_PDF_PAGES} 页")
            return "\n".join(page.extract_text() or "" for page in reader.pages)
        if suffix == "docx":
            from docx import Document

            return "\n".join(paragraph.text for paragraph in Document(io.BytesIO(data)).paragraphs)
        if suffix == "txt":
            return data.decode("utf-8")
    except SourceError:
        raise
    except Exception:
        raise SourceError("文件无法读取，请确认是完好的 PDF、DOCX 或 UTF-8 文本") from None
    raise SourceError("只支持 PDF、DOCX 和 TXT 文件")


def _squeezed(text: str) -> str:
    return _SPACE.sub("", text)


@dataclass(frozen=True)
class Proposed:
    question: str
    similar: list[str]
    answer: str
    source: str


def _parse(reply: str) -> list[Proposed]:
    start, end = reply.find("["), reply.rfind("]")
    if start < 0 or end < start:
        return []
    try:
        items = json.loads(reply[start : end + 1])
    except ValueError:
        return []
    proposed = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        question, answer, source = (str(item.get(key) or "").strip() for key in ("question", "answer", "source"))
        similar = [str(s).strip() for s in item.get("similar") or [] if str(s).strip()]
        if question and answer and source:
            proposed.append(Proposed(question[:200], similar[:8], answer[:2000], source[:1000]))
    return proposed


def _ask(shop: Shop, material: str) -> str:
    endpoint = llm.endpoint_for(shop)
    if endpoint is None:
        raise DraftingError("本店没有启用大模型，或本月额度已用完")
    messages: list[client.ChatMessage] = [
        {"role": "system", "content": INSTRUCTION.format(shop=shop.name, limit=MAX_DRAFTS)},
        {"role": "user", "content": material},
    ]
    completion = client.complete(endpoint, messages, max_tokens=2000)
    outcome = llm.Outcome.SENT if completion.ok else llm.Outcome.FAILED
    llm.record_usage(shop, llm.Purpose.CARD_DRAFTS, outcome, endpoint, completion)
    if not completion.ok:
        raise DraftingError(f"大模型没有回应（{completion.error}），请稍后再试")
    return completion.text


def _quoted(proposed: list[Proposed], material: str) -> list[Proposed]:
    """The drafts whose source is word for word in the material (whitespace aside) and long enough to mean it."""
    squeezed = _squeezed(material)
    return [p for p in proposed if len(_squeezed(p.source)) >= MIN_QUOTE and _squeezed(p.source) in squeezed]


def propose_cards(shop: Shop, text: str, origin: str) -> list[CardProposal]:
    """Drafts from a product page's text or a manual (its first MAX_SOURCE_CHARS characters)."""
    material = text.strip()[:MAX_SOURCE_CHARS]
    if not material:
        raise SourceError("资料里没有文字")
    kept = _quoted(_parse(_ask(shop, material)), material)[:MAX_DRAFTS]
    return CardProposal.objects.bulk_create(
        CardProposal(
            shop=shop,
            question=p.question,
            similar="\n".join(p.similar),
            answer=p.answer,
            source=p.source,
            origin=origin[:200],
        )
        for p in kept
    )


def draft_for_questions(questions: list[UnansweredQuestion]) -> CardProposal | None:
    """One draft answering a group of unanswered questions (one shop) from the shop's own cards and products
    nearest to them; None when the model finds nothing there that answers them."""
    shop = questions[0].shop
    cards = {c.card_id: c for q in questions[:5] for c in suggest_answers(shop, q.text, limit=3)}
    products = Product.objects.filter(shop=shop, on_sale=True, faq_cards__in=list(cards)).distinct()[:5]
    facts = [f"问：{c.question} 答：{c.answer}" for c in cards.values()]
    facts += [f"商品：{p.title}；{p.price} 元；{p.selling_points[:200]}" for p in products]
    if not facts:
        return None
    material = "顾客问过：\n" + "\n".join(q.text for q in questions[:20]) + "\n资料：\n" + "\n".join(facts)
    proposed = _quoted(_parse(_ask(shop, material)), "\n".join(facts))
    if not proposed:
        return None
    first = proposed[0]
    similar = list(dict.fromkeys([*first.similar, *(q.text for q in questions)]))
    return CardProposal.objects.create(
        shop=shop,
        question=first.question,
        similar="\n".join(similar),
        answer=first.answer,
        source=first.source,
        origin=f"未答问题（{len(questions)} 条）",
    )


@transaction.atomic
def accept_draft(draft: CardProposal, *, user=None) -> FAQCard:
    """The draft becomes a card of its shop, with its similar questions; the draft is marked accepted."""
    draft = CardProposal.objects.select_for_update().get(pk=draft.pk)
    if draft.card_id is not None:
        return draft.card  # type: ignore[return-value]  # card_id set: the card is there
    card = save_faq_card(draft.shop, None, {"question": draft.question, "answer": draft.answer}, user=user)
    add_similar_questions(card, [line for line in draft.similar.splitlines() if line.strip()])
    draft.card, draft.status = card, CardProposal.Status.ACCEPTED
    draft.save(update_fields=["card", "status"])
    return card


def drop_drafts(drafts) -> int:
    return drafts.filter(status=CardProposal.Status.PENDING).update(status=CardProposal.Status.DROPPED)
