from dataclasses import asdict

from celery import shared_task

from shops.models import Shop

from .services import scan_shop, send_touch
from .services.campaigns import SEND_TASK
from .services.schedule import SCAN_TASK


@shared_task(name=SCAN_TASK, acks_late=True)
def scan_shop_campaigns(shop_id: int) -> dict[str, int]:
    """Beat runs this per shop (see marketing.services.schedule): find due touches and enqueue them."""
    shop = Shop.objects.filter(pk=shop_id, is_active=True).first()
    return asdict(scan_shop(shop)) if shop is not None else {}


@shared_task(name=SEND_TASK, acks_late=True)
def send_touches(touch_ids: list[int]) -> list[str]:
    """Send a batch of touches; each is claimed with a conditional UPDATE, so a redelivery sends nothing twice."""
    return [send_touch(touch_id) for touch_id in touch_ids]
