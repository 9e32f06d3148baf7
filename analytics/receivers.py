"""Inspection hooks: every stored message, every closed conversation, every rule change."""

import logging

from chat.models import Conversation, Message, SlaBreach
from core.caching import bump
from core.models import ChangeStamp

from .alerts import alert_sla_breach
from .models import QARule
from .services.inspection import guard_outgoing, inspect_closed_conversation, inspect_message

logger = logging.getLogger(__name__)


def on_message_stored(sender, message: Message, **kwargs) -> None:
    # The message is committed and delivered already; a failing inspection must not fail the chat.
    try:
        inspect_message(message)
    except Exception:
        logger.exception("QA inspection failed for message %s", message.pk)


def on_outgoing_check(sender, shop_id: int, speaker: str, text: str, **kwargs) -> list:
    return guard_outgoing(shop_id, speaker, text)


def on_conversation_closed(sender, conversation: Conversation, **kwargs) -> None:
    try:
        inspect_closed_conversation(conversation)
    except Exception:
        logger.exception("QA inspection failed for closed conversation %s", conversation.pk)


def on_sla_breached(sender, breach: SlaBreach, **kwargs) -> None:
    # The breach is committed; an unreachable channel layer must not stop the check's other alerts.
    try:
        alert_sla_breach(breach)
    except Exception:
        logger.exception("SLA breach alert failed for breach %s", breach.pk)


def on_rule_saved(sender, instance: QARule, **kwargs) -> None:
    bump(instance.shop_id, ChangeStamp.Kind.QA_RULES)  # a global rule (no shop): every shop's


def on_rule_moving(sender, instance: QARule, **kwargs) -> None:
    # A rule moved to another shop (or made global) leaves its old shop's rules changed too.
    if instance.pk is None:
        return
    old_shop_id = QARule.objects.filter(pk=instance.pk).values_list("shop_id", flat=True).first()
    if old_shop_id != instance.shop_id:
        bump(old_shop_id, ChangeStamp.Kind.QA_RULES)
