"""Shop-level reactions to writes: quota checks on new conversations, catalogue stamps on product writes."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.caching import bump
from core.models import ChangeStamp

from .models import Product
from .quota import warn_quota_thresholds


@receiver(post_save, sender="chat.Conversation")
def conversation_started(sender, instance, created: bool, **kwargs) -> None:
    if created:
        transaction.on_commit(lambda: warn_quota_thresholds(instance.shop))


@receiver([post_save, post_delete], sender=Product)
def product_changed(sender, instance: Product, **kwargs) -> None:
    """One product saved or deleted: every process's catalogue of its shop is rebuilt (bulk writes go
    through ``shops.services.update_products``, which bumps itself)."""
    bump(instance.shop_id, ChangeStamp.Kind.CATALOGUE)
