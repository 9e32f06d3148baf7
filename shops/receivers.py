"""A new conversation may push its shop over a quota threshold: check after it commits."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .quota import warn_quota_thresholds


@receiver(post_save, sender="chat.Conversation")
def conversation_started(sender, instance, created: bool, **kwargs) -> None:
    if created:
        transaction.on_commit(lambda: warn_quota_thresholds(instance.shop))
