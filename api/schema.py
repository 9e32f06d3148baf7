"""Names for the OpenAPI enums that several models call ``status`` (settings.SPECTACULAR_SETTINGS)."""

from chat.models import Conversation, InvoiceRequest, WorkOrder
from shops.models import Order

OrderStatus = Order.Status
ConversationStatus = Conversation.Status
WorkOrderStatus = WorkOrder.Status
InvoiceRequestStatus = InvoiceRequest.Status
