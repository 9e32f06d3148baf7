"""Events other apps react to without chat depending on them (quality inspection, marketing).

Both are sent after the storing transaction commits, so receivers see committed rows.
"""

from django.dispatch import Signal

# kwargs: message (chat.models.Message)
message_stored = Signal()
# kwargs: conversation (chat.models.Conversation)
conversation_closed = Signal()
