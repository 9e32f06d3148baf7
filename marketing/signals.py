"""What marketing announces, without knowing who listens."""

from django.dispatch import Signal

# The webhook channel hands a touch over with this, inside the transaction that sends the touch.
# kwargs: touch (marketing.models.Touch), text (str), content (dict: products, coupon, ...).
# A receiver that passed the touch on (to an SMS or outbound-call provider) returns something truthy;
# when none did, the touch is skipped as ``no_webhook``.
touch_sent = Signal()
