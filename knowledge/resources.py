"""CSV/Excel import and export of FAQ cards: the admin's resource and the bulk import of ``import_cards``.

The columns are ``question,similar_questions,answer,category``; ``similar_questions`` joins its items with
``|``. Both are bound to one shop: rows are looked up and written in that shop only, whatever the file
says, so an import can never reach into another shop. Both refuse a file over ``KNOWLEDGE_IMPORT_MAX_ROWS``
rows.
"""

import csv
import io
from dataclasses import dataclass

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import fields, resources

from core.caching import bump
from core.models import ChangeStamp
from shops.models import Shop

from .models import FAQCard, SimilarQuestion
from .services import add_similar_questions, save_faq_card, similar_texts

COLUMNS = ("question", "similar_questions", "answer", "category")
SIMILAR_SEPARATOR = "|"


class FAQCardResource(resources.ModelResource):
    similar_questions = fields.Field(column_name="similar_questions", attribute=None)

    class Meta:
        model = FAQCard
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("question",)
        clean_model_instances = True
        skip_unchanged = False

    def __init__(self, shop: Shop | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shop = shop

    def get_queryset(self):
        # Existing cards are matched by question within the bound shop only.
        return FAQCard.objects.filter(shop=self.shop)

    def init_instance(self, row=None) -> FAQCard:
        if self.shop is None:
            raise ValueError("A card import needs a shop.")
        return FAQCard(shop=self.shop)

    def before_import(self, dataset: tablib.Dataset, **kwargs) -> None:
        check_row_count(len(dataset))

    def dehydrate_similar_questions(self, card: FAQCard) -> str:
        return SIMILAR_SEPARATOR.join(s.text for s in card.similar_questions.all())

    def save_instance(self, instance: FAQCard, is_create: bool, row, **kwargs) -> None:
        # Through the knowledge service, as the card form and the open API write cards.
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            return  # a preview that cannot be rolled back writes nothing
        user = kwargs.get("user")
        save_faq_card(self.shop, instance, {"shop": self.shop}, user=user if getattr(user, "pk", None) else None)
        add_similar_questions(instance, str(row.get("similar_questions") or "").split(SIMILAR_SEPARATOR))


class CardImportError(ValueError):
    pass


def check_row_count(rows: int) -> None:
    if rows > settings.KNOWLEDGE_IMPORT_MAX_ROWS:
        raise CardImportError(
            f"{rows} rows, more than the {settings.KNOWLEDGE_IMPORT_MAX_ROWS} an import takes; split the file"
        )


def check_file_size(size: int) -> None:
    if size > settings.KNOWLEDGE_IMPORT_MAX_BYTES:
        raise CardImportError(
            f"{size:,} bytes, more than the {settings.KNOWLEDGE_IMPORT_MAX_BYTES:,} an import takes; split the file"
        )


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int


@dataclass
class _Row:
    line: int
    card: FAQCard
    similar: list[str]


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The file's rows with their line numbers; the header, column counts and repeated questions checked."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CardImportError("line 1: the file is empty") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CardImportError(f"line 1: the header must be {','.join(COLUMNS)} (missing {', '.join(missing)})")
    rows: list[tuple[int, dict[str, str]]] = []
    # A repeated question would silently keep only its last row: refused, naming both lines.
    first_line: dict[str, int] = {}
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise CardImportError(f"line {reader.line_num}: {len(values)} columns, the header has {len(header)}")
        row = dict(zip(header, (v.strip() for v in values), strict=True))
        question = row["question"]
        if question in first_line:
            raise CardImportError(
                f"line {reader.line_num}: the question “{question}” repeats line {first_line[question]}"
            )
        first_line[question] = reader.line_num
        rows.append((reader.line_num, row))
        check_row_count(len(rows))
    return rows


def _validated(shop: Shop, text: str, user) -> list[_Row]:
    """Every row as the card it creates or changes, checked in memory: nothing is written yet."""
    existing = {card.question: card for card in FAQCard.objects.filter(shop=shop)}
    known: dict[int, set[str]] = {}
    for card_id, similar in SimilarQuestion.objects.filter(card__shop=shop).values_list("card_id", "text"):
        known.setdefault(card_id, set()).add(similar)
    now = timezone.now()
    validated = []
    for line, row in _rows(text):
        card = existing.get(row["question"]) or FAQCard(shop=shop, question=row["question"], created_by=user)
        card.answer, card.category, card.updated_by, card.updated_at = row["answer"], row["category"], user, now
        try:
            # Uniqueness needs no query: the file's questions are distinct and matched to the shop's cards.
            card.full_clean(exclude=["products"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CardImportError(f"line {line}: {problems}") from None
        texts = similar_texts(card, row["similar_questions"].split(SIMILAR_SEPARATOR))
        validated.append(_Row(line, card, [t for t in texts if t not in known.get(card.pk, ())]))
    return validated


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_cards_csv(shop: Shop, text: str, user=None) -> ImportSummary:
    """Import a whole CSV into ``shop``, or nothing: the first bad row raises ``CardImportError``.

    Every row is parsed and validated before the first write, and the writes are bulk statements in short
    transactions of ``KNOWLEDGE_IMPORT_BATCH_SIZE`` rows, so a large import never holds SQLite's write lock
    for long (chat goes on in between). If a write fails midway, what the import created is deleted and
    the cards it changed get their old values back; in between, readers may see part of the import.
    """
    check_file_size(len(text.encode()))
    user = user if getattr(user, "pk", None) else None
    rows = _validated(shop, text, user)
    new = [row for row in rows if row.card.pk is None]
    changed = [row for row in rows if row.card.pk is not None]
    before = {card.pk: card for card in FAQCard.objects.filter(pk__in=[row.card.pk for row in changed])}
    size = settings.KNOWLEDGE_IMPORT_BATCH_SIZE
    created_cards: list[int] = []
    created_similar: list[int] = []
    try:
        for batch in _batches(new, size):
            with transaction.atomic():
                FAQCard.objects.bulk_create([row.card for row in batch])
            created_cards.extend(row.card.pk for row in batch)
        for batch in _batches(changed, size):
            with transaction.atomic():
                FAQCard.objects.bulk_update(
                    [row.card for row in batch], ["answer", "category", "updated_by", "updated_at"]
                )
        similar = [SimilarQuestion(card=row.card, text=text) for row in rows for text in row.similar]
        for batch in _batches(similar, size):
            with transaction.atomic():
                SimilarQuestion.objects.bulk_create(batch)
            created_similar.extend(question.pk for question in batch)
    except Exception:
        with transaction.atomic():
            SimilarQuestion.objects.filter(pk__in=created_similar).delete()
            FAQCard.objects.filter(pk__in=created_cards).delete()
            FAQCard.objects.bulk_update(list(before.values()), ["answer", "category", "updated_by", "updated_at"])
            bump(shop.pk, ChangeStamp.Kind.KNOWLEDGE)
        raise
    # Bulk writes send no signals: the shop's answer index is told once, at the end.
    with transaction.atomic():
        bump(shop.pk, ChangeStamp.Kind.KNOWLEDGE)
    return ImportSummary(len(new), len(changed))
