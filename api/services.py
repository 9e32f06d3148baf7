"""Open-platform actions that are not plain reads or upserts."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.intents import Intent
from chat.messaging import post_message
from chat.models import InvoiceRequest, Message
from knowledge.models import FAQCard, SimilarQuestion
from shops.models import Product, Shop


@transaction.atomic
def fulfil_invoice(invoice: InvoiceRequest, invoice_url: str, note: str = "") -> InvoiceRequest:
    """Mark the request issued with the invoice's URL and tell the shopper in their conversation.

    Repeating the same fulfilment changes nothing; a rejected or differently issued request is an error.
    """
    invoice = InvoiceRequest.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceRequest.Status.ISSUED and invoice.invoice_url == invoice_url:
        return invoice
    if invoice.status != InvoiceRequest.Status.REQUESTED:
        raise ValidationError(
            {"status": _("This invoice request is %(status)s and cannot be fulfilled.") % {"status": invoice.status}}
        )
    invoice.status = InvoiceRequest.Status.ISSUED
    invoice.invoice_url = invoice_url
    invoice.note = note or invoice.note
    invoice.issued_at = timezone.now()
    invoice.save(update_fields=["status", "invoice_url", "note", "issued_at", "updated_at"])
    if invoice.conversation_id:
        post_message(
            invoice.conversation,
            Message.Sender.SYSTEM,
            f"您申请的发票（抬头：{invoice.title}）已开具，可在此下载：{invoice_url}",
            intent=Intent.INVOICE,
        )
    return invoice


@transaction.atomic
def save_faq_card(
    shop: Shop,
    card: FAQCard | None,
    fields: dict[str, Any],
    similar_questions: list[str] | None = None,
    products: list[Product] | None = None,
) -> FAQCard:
    """Create (``card`` None) or change one of the shop's FAQ cards; lists given replace the stored ones.

    The knowledge signals bump the shop's knowledge version, so every worker's answer index follows.
    """
    question = fields.get("question", card.question if card else "")
    clash = FAQCard.objects.filter(shop=shop, question=question).exclude(pk=card.pk if card else None)
    if clash.exists():
        raise ValidationError({"question": _("The shop already has a card with this question.")})
    if card is None:
        card = FAQCard(shop=shop)
    for name, value in fields.items():
        setattr(card, name, value)
    card.full_clean(exclude=["products"])
    card.save()
    if similar_questions is not None:
        wanted = list(dict.fromkeys(q for q in similar_questions if q != card.question))
        card.similar_questions.exclude(text__in=wanted).delete()
        stored = set(card.similar_questions.values_list("text", flat=True))
        for text in wanted:
            if text not in stored:
                SimilarQuestion.objects.create(card=card, text=text)
    if products is not None:
        card.products.set(products)
    return card


def disable_faq_card(card: FAQCard) -> FAQCard:
    if card.enabled:
        card.enabled = False
        card.save(update_fields=["enabled", "updated_at"])
    return card
