"""CSV/Excel import and export of FAQ cards: one resource for the admin and ``import_cards``.

The columns are ``question,similar_questions,answer,category``; ``similar_questions`` joins its items with
``|``. A resource is bound to one shop: rows are looked up and written in that shop only, whatever the file
says, so an import can never reach into another shop.
"""

import csv
import io
from dataclasses import dataclass

import tablib
from django.db import transaction
from import_export import fields, resources

from shops.models import Shop

from .models import FAQCard
from .services import add_similar_questions, save_faq_card

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


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int


def _dataset_with_lines(text: str) -> tuple[tablib.Dataset, list[int]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CardImportError("line 1: the file is empty") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CardImportError(f"line 1: the header must be {','.join(COLUMNS)} (missing {', '.join(missing)})")
    dataset = tablib.Dataset(headers=header)
    lines: list[int] = []
    # A repeated question would silently keep only its last row: refused, naming both lines.
    first_line: dict[str, int] = {}
    question_at = header.index("question")
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise CardImportError(f"line {reader.line_num}: {len(values)} columns, the header has {len(header)}")
        row = [v.strip() for v in values]
        question = row[question_at]
        if question in first_line:
            raise CardImportError(
                f"line {reader.line_num}: the question “{question}” repeats line {first_line[question]}"
            )
        first_line[question] = reader.line_num
        dataset.append(row)
        lines.append(reader.line_num)
    return dataset, lines


def _first_error(result, lines: list[int]) -> str | None:
    for invalid in result.invalid_rows:
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in invalid.error_dict.items())
        return f"line {lines[invalid.number - 1]}: {problems}"
    for number, errors in result.row_errors():
        return f"line {lines[number - 1]}: {errors[0].error}"
    return None


def import_cards_csv(shop: Shop, text: str, user=None) -> ImportSummary:
    """Import a whole CSV into ``shop`` or nothing: the first bad row raises ``CardImportError``."""
    dataset, lines = _dataset_with_lines(text)
    resource = FAQCardResource(shop=shop)
    with transaction.atomic():
        result = resource.import_data(
            dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True, user=user
        )
        error = _first_error(result, lines)
        if error:
            transaction.set_rollback(True)
            raise CardImportError(error)
    return ImportSummary(result.totals["new"], result.totals["update"])
