from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from knowledge.resources import CardImportError, check_file_size, import_cards_csv
from shops.models import Shop


class Command(BaseCommand):
    help = "Import FAQ cards from a CSV (question,similar_questions,answer,category) into one shop, all or nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--shop", required=True, help="slug of the shop that receives the cards")

    def handle(self, *args, file: Path, shop: str, **options) -> None:
        target = Shop.objects.filter(slug=shop).first()
        if target is None:
            raise CommandError(f"No shop with slug {shop!r}.")
        try:
            check_file_size(file.stat().st_size)  # before reading it into memory
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text; save the CSV as UTF-8.") from None
        except CardImportError as error:
            raise CommandError(f"{file}, {error}; nothing was imported.") from error
        try:
            summary = import_cards_csv(target, text)
        except CardImportError as error:
            raise CommandError(f"{file}, {error}; nothing was imported.") from error
        self.stdout.write(
            self.style.SUCCESS(f"{summary.created} cards created, {summary.updated} updated in {target.slug}.")
        )
