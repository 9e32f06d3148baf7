from django.core.management.base import BaseCommand, CommandError

from marketing.services import ensure_scan_schedule
from shops.models import Shop


class Command(BaseCommand):
    help = "Create or refresh the django-celery-beat scan task of every shop that has campaigns (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--shop", help="Only this shop (slug).")

    def handle(self, *args, shop: str | None = None, **options) -> None:
        shops = Shop.objects.filter(campaigns__isnull=False).distinct().order_by("slug")
        if shop is not None:
            shops = Shop.objects.filter(slug=shop)
            if not shops.exists():
                raise CommandError(f"No shop with slug {shop!r}.")
        for s in shops:
            task = ensure_scan_schedule(s)
            state = "enabled" if task.enabled else "disabled (no enabled campaign)"
            self.stdout.write(f"{s.slug}: {task.name} every {task.schedule} · {state}")
