from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from devtools.evalsuite import SPLITS, ChatReport, SuiteError, load_suite, run_shop
from knowledge.evaluation import EvalFileError, EvalReport

DEFAULT_SUITE = Path(settings.BASE_DIR) / "knowledge" / "eval_shops"


class Command(BaseCommand):
    help = (
        "Answer quality on whole shops: import each suite shop's cards into a throw-away shop, ask its questions "
        "of the answer engine and of the chat, print figures per shop and per split. Writes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="folder of shops (default: %(default)s)")
        parser.add_argument("--split", choices=[*SPLITS, "all"], default="tune", help="which shops (default: tune)")
        parser.add_argument("--shop", action="append", default=[], help="only this shop's slug (repeatable)")
        parser.add_argument("--no-chat", action="store_true", help="ask the answer engine only")
        parser.add_argument("--misses", action="store_true", help="print every question answered wrongly")
        parser.add_argument(
            "--pairs",
            type=int,
            default=0,
            help="ask N generated two-question messages per shop (pairs of its own questions) instead of its "
            "questions; development only, refused on held-out shops",
        )

    def handle(
        self, *args, suite: Path, split: str, shop: list[str], no_chat: bool, misses: bool, pairs: int, **options
    ):
        try:
            shops = load_suite(suite)
        except SuiteError as error:
            raise CommandError(str(error)) from error
        chosen = [s for s in shops if (split == "all" or s.split == split) and (not shop or s.slug in shop)]
        if not chosen:
            raise CommandError(f"No shop of split {split!r} in {suite}.")
        if pairs and any(s.split == "heldout" for s in chosen):
            raise CommandError("--pairs is for development: held-out shops are only ever run on their own questions.")
        totals: dict[str, tuple[EvalReport, ChatReport]] = {}
        for suite_shop in tqdm(chosen, desc="shops", disable=not self.stdout.isatty()):
            try:
                result = run_shop(suite_shop, chat=not no_chat, pairs=pairs)
            except (EvalFileError, UnicodeDecodeError, ValueError) as error:
                raise CommandError(f"{suite_shop.directory}: {error}") from error
            if misses:
                for miss in result.engine.misses:
                    self.stdout.write(f"MISS {suite_shop.slug} engine {miss}")
                for miss in result.chat.misses if result.chat else []:
                    self.stdout.write(f"MISS {suite_shop.slug} chat {miss}")
            label = f"shop={suite_shop.slug} split={suite_shop.split}"
            self.stdout.write(self._line(label, result.engine, result.chat))
            engine, chat = totals.setdefault(suite_shop.split, (EvalReport(), ChatReport()))
            engine.add(result.engine)
            if result.chat:
                chat.add(result.chat)
        for name, (engine, chat) in totals.items():
            self.stdout.write(self._line(f"split={name} (pooled)", engine, None if no_chat else chat))

    @staticmethod
    def _line(label: str, engine: EvalReport, chat: ChatReport | None) -> str:
        line = f"{label} questions={engine.in_scope + engine.out_of_scope} engine: {engine.summary}"
        return f"{line} | chat: {chat.summary}" if chat else line
