"""What another worker process's write looks like to this one: the stamp row moves, no signal arrives."""

from django.db.models import F

from core.models import ChangeStamp


def bumped_by_another_process(shop_id: int, kind: str) -> None:
    """Move the shop's stamp as ``core.caching.bump`` does, without telling this process's caches."""
    moved = ChangeStamp.objects.filter(shop_id=shop_id, kind=kind).update(version=F("version") + 1)
    if not moved:
        ChangeStamp.objects.create(shop_id=shop_id, kind=kind, version=1)
