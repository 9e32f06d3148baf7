"""What chat announces. Chat never knows who listens (quality inspection, marketing, the API's webhooks).

``message_stored`` and ``conversation_closed`` are sent after the storing transaction commits, so
receivers see committed rows. ``work_order_changed`` and ``invoice_requested`` are sent inside the
transaction that wrote the row, so whatever a receiver records with it (a webhook delivery) stands or
falls with that row; a receiver with work to do outside it defers with ``transaction.on_commit``.
"""

from django.dispatch import Signal

# kwargs: message (chat.models.Message)
message_stored = Signal()
# kwargs: conversation (chat.models.Conversation)
conversation_closed = Signal()
# kwargs: work_order (chat.models.WorkOrder), created (bool: opened now, or changed)
work_order_changed = Signal()
# kwargs: invoice (chat.models.InvoiceRequest)
invoice_requested = Signal()
# A response target missed, sent after the breach row commits (chat.sla.check_breaches).
# kwargs: breach (chat.models.SlaBreach)
sla_breached = Signal()
# Asked before a bot, model or agent message is sent (chat.guard): each receiver returns the rules the
# text breaks, as a list of chat.guard.Breach. kwargs: shop_id (int), speaker ("bot" or "agent"), text (str)
outgoing_check = Signal()
