"""The per-shop knowledge stamp that keeps every worker process's cached index honest."""

from uuid import uuid4

from django.db import transaction
from django.db.models import F

from .models import KnowledgeVersion


def bump_version(shop_id: int | None) -> None:
    """Mark the shop's knowledge as changed; ``None`` (a global synonym) marks every shop."""
    values = {"stamp": uuid4().hex, "version": F("version") + 1}
    if shop_id is None:
        KnowledgeVersion.objects.update(**values)
        return
    with transaction.atomic():
        if not KnowledgeVersion.objects.filter(shop_id=shop_id).update(**values):
            _, created = KnowledgeVersion.objects.get_or_create(
                shop_id=shop_id, defaults={"stamp": uuid4().hex, "version": 1}
            )
            if not created:  # another process created it meanwhile: still move it on
                KnowledgeVersion.objects.filter(shop_id=shop_id).update(**values)


def current_stamp(shop_id: int) -> str | None:
    """One indexed lookup, done before every answer; ``None`` while the shop never changed its knowledge."""
    return KnowledgeVersion.objects.filter(shop_id=shop_id).values_list("stamp", flat=True).first()
