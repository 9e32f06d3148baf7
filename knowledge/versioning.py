"""The per-shop knowledge stamp that keeps every worker process's cached index honest."""

from uuid import uuid4

from django.db import transaction
from django.db.models import F

from shops import rows

from .models import KnowledgeVersion


def move_stamp(shop_id: int | None) -> None:
    """Give the shop's knowledge a new stamp, which every process compares with the one its index was
    built from; ``None`` (a global synonym) moves every shop's. ``knowledge.index.bump_version`` calls this."""
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


_STAMP_SQL = f"SELECT stamp FROM {KnowledgeVersion._meta.db_table} WHERE shop_id = %s"


def current_stamp(shop_id: int) -> str | None:
    """One indexed lookup; ``None`` while the shop never changed its knowledge.

    Plain SQL on purpose: it runs for shopper questions and the ORM's query building would cost more
    than the lookup itself.
    """
    row = rows.first_row(_STAMP_SQL, [shop_id])
    return row[0] if row else None
