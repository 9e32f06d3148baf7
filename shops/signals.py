"""What shops announce, without knowing who listens (the API turns it into a webhook)."""

from django.dispatch import Signal

# kwargs: warning (shops.models.QuotaWarning), sent once it is recorded: once per shop, month and threshold
quota_warning = Signal()
