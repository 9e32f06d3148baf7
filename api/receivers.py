"""The API's answer to the domain signals declared in ``api.events``: queue the webhook for the shop.

A receiver returns the deliveries it queued, so a sender can tell whether anyone subscribed (the
marketing webhook channel skips a touch that no provider takes).
"""

from collections.abc import Callable
from typing import Any

from .events import WEBHOOK_SOURCES, WebhookSource
from .models import WebhookDelivery
from .publishing import publish_event


def publisher(source: WebhookSource) -> Callable[..., list[WebhookDelivery]]:
    def publish(sender: Any, **kwargs: Any) -> list[WebhookDelivery]:
        if not source.when(**kwargs):
            return []
        return publish_event(kwargs[source.subject].shop_id, source.event, source.payload(**kwargs))

    return publish


def connect_webhook_sources() -> None:
    for source in WEBHOOK_SOURCES:
        source.signal.connect(publisher(source), weak=False, dispatch_uid=source.dispatch_uid)
