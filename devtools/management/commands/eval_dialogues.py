"""Play scripted shoppers against catalogues the bot has never seen, over the real shopper WebSocket.

    python manage.py eval_dialogues --url http://127.0.0.1:8000        # a running server (same database)
    python manage.py eval_dialogues --in-process --split all           # this process's ASGI application

See devtools/dialogue_eval.py for the suite's files and what a turn expects. Each catalogue gets a shop of
its own (deleted at the end), loaded through the product and FAQ card APIs.
"""

import asyncio
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from devtools.dialogue_eval import (
    SPLITS,
    CatalogueResult,
    LocalTransport,
    NetworkTransport,
    SuiteError,
    Transport,
    load_suite,
    run_catalogue,
)

DEFAULT_SUITE = Path(settings.BASE_DIR) / "devtools" / "eval_catalogues"


class Command(BaseCommand):
    help = (
        "Load each evaluation catalogue into a new shop through the REST API, play its scripted shoppers over "
        "the shopper WebSocket, check every turn against the catalogue; print dialogues_passed=… turns_passed=…"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--suite", type=Path, default=DEFAULT_SUITE, help="folder of catalogues (default: %(default)s)"
        )
        parser.add_argument(
            "--split", choices=[*SPLITS, "all"], default="tune", help="which catalogues (default: tune)"
        )
        parser.add_argument("--catalogue", action="append", default=[], help="only this catalogue's slug (repeatable)")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--url", help="a running server sharing this database, e.g. http://127.0.0.1:8000")
        target.add_argument("--in-process", action="store_true", help="this process's ASGI application (default)")
        parser.add_argument("--misses", action="store_true", help="print every failed turn and why")

    def handle(self, *args, suite: Path, split: str, catalogue: list[str], url: str | None, misses: bool, **options):
        try:
            catalogues = load_suite(suite)
            transport: Transport = NetworkTransport(url) if url else LocalTransport()
        except SuiteError as error:
            raise CommandError(str(error)) from error
        chosen = [
            c for c in catalogues if (split == "all" or c.split == split) and (not catalogue or c.slug in catalogue)
        ]
        if not chosen:
            raise CommandError(f"No catalogue of split {split!r} in {suite}.")
        totals: dict[str, CatalogueResult] = {}
        for entry in tqdm(chosen, desc="catalogues", disable=not self.stdout.isatty()):
            try:
                result = run_catalogue(transport, entry, asyncio.run)
            except SuiteError as error:
                raise CommandError(str(error)) from error
            if misses:
                for miss in result.misses:
                    self.stdout.write(f"MISS {miss}")
            self.stdout.write(self._line(f"catalogue={entry.slug} split={entry.split}", result))
            totals.setdefault(entry.split, CatalogueResult(entry)).add(result)
        for name, total in totals.items():
            self.stdout.write(self._line(f"split={name} (pooled)", total))

    @staticmethod
    def _line(label: str, result: CatalogueResult) -> str:
        def share(passed: int, count: int) -> str:
            return f"{passed}/{count} ({passed / count:.0%})" if count else "0/0"

        return (
            f"{label} dialogues_passed={share(result.dialogues_passed, result.dialogues)} "
            f"turns_passed={share(result.turns_passed, result.turns)}"
        )
