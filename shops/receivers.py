"""Shop-level reactions to writes: quota checks on new conversations, stamps of the per-process caches
(the catalogue on product writes, the service hours on window, holiday and shop writes)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.caching import bump
from core.models import ChangeStamp

from .models import Holiday, OpeningHours, Product, Shop
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


@receiver([post_save, post_delete], sender=OpeningHours)
@receiver([post_save, post_delete], sender=Holiday)
def service_hours_changed(sender, instance: OpeningHours | Holiday, **kwargs) -> None:
    bump(instance.shop_id, ChangeStamp.Kind.SERVICE_HOURS)


@receiver(post_save, sender=Shop)
def shop_saved(sender, instance: Shop, created: bool, **kwargs) -> None:
    """Its timezone may have changed, which moves its service hours (a new shop has none cached yet)."""
    if not created:
        bump(instance.pk, ChangeStamp.Kind.SERVICE_HOURS)
