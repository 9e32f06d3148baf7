"""Keep each shop's scan task in step with its campaigns."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Campaign
from .services.schedule import ensure_scan_schedule


@receiver([post_save, post_delete], sender=Campaign, dispatch_uid="marketing_campaign_schedule")
def campaign_changed(sender, instance: Campaign, **kwargs) -> None:
    ensure_scan_schedule(instance.shop)
