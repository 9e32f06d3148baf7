from django.core.management.base import BaseCommand, CommandError

from analytics.default_rules import install_default_rules
from shops.models import Shop


class Command(BaseCommand):
    help = "Give shops the default QA rule set (rules a shop already has, by name, are left as they are)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("shops", nargs="*", metavar="SLUG", help="Shop slugs (default: every shop).")

    def handle(self, *args, shops: list[str], **options) -> None:
        targets = Shop.objects.filter(slug__in=shops) if shops else Shop.objects.all()
        missing = set(shops) - set(targets.values_list("slug", flat=True))
        if missing:
            raise CommandError(f"No shop with the slug: {', '.join(sorted(missing))}.")
        for shop in targets:
            self.stdout.write(f"{shop.slug}: {install_default_rules(shop)} rules added")
