"""What quality inspection announces, without knowing who listens (the API turns it into a webhook)."""

from django.dispatch import Signal

# A high-severity finding's alert, sent after the finding commits, once its frame went to the managers'
# sockets. kwargs: finding (analytics.models.QAFinding), frame (dict: analytics.alerts.alert_frame)
alert_raised = Signal()
