from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from knowledge.evaluation import EvalFileError, evaluate, read_rows
from shops.models import Shop


class Command(BaseCommand):
    help = "Measure the answer engine on a CSV of question,expected rows (expected 'none': out of scope)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--shop", required=True, help="slug of the shop whose knowledge answers")

    def handle(self, *args, file: Path, shop: str, **options) -> None:
        target = Shop.objects.filter(slug=shop).first()
        if target is None:
            raise CommandError(f"No shop with slug {shop!r}.")
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")
        try:
            rows = read_rows(file)
        except (EvalFileError, UnicodeDecodeError) as error:
            raise CommandError(str(error)) from error
        report = evaluate(target, rows)
        for miss in report.misses:
            self.stdout.write(f"MISS {miss}")
        self.stdout.write(
            f"{report.in_scope} in-scope questions, {report.out_of_scope} out-of-scope; "
            f"answered right without asking back: {report.answered_right}/{report.in_scope}, "
            f"answered wrong: {report.answered_wrong}/{report.in_scope}"
        )
        self.stdout.write(report.summary)
