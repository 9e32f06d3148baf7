from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"
    verbose_name = _("Quality inspection and analytics")

    def ready(self) -> None:
        from chat.signals import conversation_closed, message_stored, outgoing_check, sla_breached

        from . import receivers
        from .models import QARule

        message_stored.connect(receivers.on_message_stored, dispatch_uid="analytics.inspect_message")
        outgoing_check.connect(receivers.on_outgoing_check, dispatch_uid="analytics.guard_outgoing")
        conversation_closed.connect(receivers.on_conversation_closed, dispatch_uid="analytics.inspect_conversation")
        sla_breached.connect(receivers.on_sla_breached, dispatch_uid="analytics.sla_breach_alert")
        pre_save.connect(receivers.on_rule_moving, sender=QARule, dispatch_uid="analytics.rule_moving")
        post_save.connect(receivers.on_rule_saved, sender=QARule, dispatch_uid="analytics.rule_saved")
        post_delete.connect(receivers.on_rule_saved, sender=QARule, dispatch_uid="analytics.rule_deleted")
