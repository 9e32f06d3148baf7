"""Work orders and invoice requests: raised from chat, the admin or the API, and told back to the shopper.

Every door (the dialogue, the admin, the open API) writes through these functions, so the webhooks, the
shopper's notices and the timestamps are the same whoever made the change.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat.intents import Intent

from .messaging import post_message
from .models import Conversation, InvoiceRequest, Message, WorkOrder
from .signals import invoice_requested, work_order_changed


def _apply(row: WorkOrder | InvoiceRequest, changes: dict[str, Any], done: str) -> bool:
    """Set ``changes`` on ``row``; True when they move it into the ``done`` status, where it was not before
    (as stored: another door may have moved it already)."""
    was_done = type(row).objects.filter(pk=row.pk, status=done).exists()
    for name, value in changes.items():
        setattr(row, name, value)
    return row.status == done and not was_done


@transaction.atomic
def open_work_order(shop_id: int, kind: str, details: str, **fields: Any) -> WorkOrder:
    work_order = WorkOrder.objects.create(shop_id=shop_id, kind=kind, details=details, **fields)
    work_order_changed.send(sender=WorkOrder, work_order=work_order, created=True)
    return work_order


@transaction.atomic
def update_work_order(work_order: WorkOrder, **changes: Any) -> WorkOrder:
    """Apply changes; when it becomes resolved, the shopper hears about it in their conversation."""
    becomes_resolved = _apply(work_order, changes, WorkOrder.Status.RESOLVED)
    if becomes_resolved:
        work_order.resolved_at = timezone.now()
    work_order.save()
    work_order_changed.send(sender=WorkOrder, work_order=work_order, created=False)
    if becomes_resolved and work_order.conversation is not None:
        with translation.override("zh-hans"):  # shoppers are answered in Chinese whatever the admin's language
            text = f"您的{work_order.get_kind_display()}申请（工单 #{work_order.pk}）已处理完成。"
        if work_order.resolution:
            text += f"处理结果：{work_order.resolution}"
        post_message(work_order.conversation, Message.Sender.SYSTEM, text, intent=Intent.WORK_ORDER_RESOLVED)
    return work_order


@transaction.atomic
def request_invoice(conversation: Conversation | None, shop_id: int, title: str, tax_id: str, **fields: Any):
    invoice = InvoiceRequest(
        shop_id=shop_id, conversation=conversation, title=title, tax_id=tax_id.strip().upper(), **fields
    )
    invoice.full_clean()
    invoice.save()
    invoice_requested.send(sender=InvoiceRequest, invoice=invoice)
    return invoice


@transaction.atomic
def update_invoice_request(invoice: InvoiceRequest, **changes: Any) -> InvoiceRequest:
    """Apply changes; when the request becomes issued it gets its time and the shopper hears about it."""
    becomes_issued = _apply(invoice, changes, InvoiceRequest.Status.ISSUED)
    if becomes_issued:
        invoice.issued_at = timezone.now()
    invoice.save()
    if becomes_issued and invoice.conversation is not None:
        # The dialogue answers "where is my invoice" the same way: the link when there is one.
        where = f"，可在此下载：{invoice.invoice_url}" if invoice.invoice_url else "。"
        text = f"您申请的发票（抬头：{invoice.title}）已开具{where}"
        post_message(invoice.conversation, Message.Sender.SYSTEM, text, intent=Intent.INVOICE)
    return invoice


@transaction.atomic
def fulfil_invoice(invoice: InvoiceRequest, invoice_url: str, note: str = "") -> InvoiceRequest:
    """Mark the request issued with the invoice's URL (the open API's fulfilment).

    Repeating the same fulfilment changes nothing; a rejected or differently issued request is an error.
    """
    invoice = InvoiceRequest.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceRequest.Status.ISSUED and invoice.invoice_url == invoice_url:
        return invoice
    if invoice.status != InvoiceRequest.Status.REQUESTED:
        raise ValidationError(
            {"status": _("This invoice request is %(status)s and cannot be fulfilled.") % {"status": invoice.status}}
        )
    return update_invoice_request(
        invoice, status=InvoiceRequest.Status.ISSUED, invoice_url=invoice_url, note=note or invoice.note
    )
