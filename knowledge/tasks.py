from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .services import count_card_hits as count_hits


@shared_task
def count_card_hits() -> int:
    """Beat task: the hit counts of cards that answered lately, from the answer log.

    The window is a few runs long, so a run that was skipped or late leaves no hit uncounted.
    """
    return count_hits(since=timezone.now() - timedelta(seconds=5 * settings.CARD_HITS_EVERY_SECONDS))
