"""Open-platform actions that are not plain reads or upserts."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.messaging import post_message
from chat.models import InvoiceRequest, Message


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
            intent="invoice",
        )
    return invoice
