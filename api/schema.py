"""Names for the OpenAPI enums that several models call ``status`` or ``kind`` (settings.SPECTACULAR_SETTINGS)."""

from analytics.models import QAFinding, QARule
from chat.models import Conversation, InvoiceRequest, WorkOrder
from shops.models import Order

OrderStatus = Order.Status
ConversationStatus = Conversation.Status
WorkOrderStatus = WorkOrder.Status
InvoiceRequestStatus = InvoiceRequest.Status
QAFindingStatus = QAFinding.Status
QARuleKind = QARule.Kind
WorkOrderKind = WorkOrder.Kind
