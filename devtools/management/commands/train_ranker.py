from django.core.management.base import BaseCommand

from devtools.ranker_training import all_shops, evaluate_shop, train
from knowledge.evaluation import EvalReport
from knowledge.ranker import MODEL_FILE


class Command(BaseCommand):
    help = (
        "Fit the answer engine's ranker on the demo shops and the suite's tune shops and write knowledge/ranker.json "
        "(deterministic: the same data writes the same file). --loso prints leave-one-shop-out figures instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loso", action="store_true", help="leave each shop out, train on the others, evaluate it")
        parser.add_argument(
            "--heldout", action="store_true", help="with --loso, also evaluate the held-out shops (final report only)"
        )

    def handle(self, *args, loso: bool, heldout: bool, **options) -> None:
        shops = all_shops()
        dev = [s for s in shops if s.split != "heldout"]
        if not loso:
            model = train(dev)
            MODEL_FILE.write_text(model.to_json(), encoding="utf-8")
            training = model.training or {}
            self.stdout.write(
                f"{MODEL_FILE.name}: {training['examples']} examples from {', '.join(training['shops'])}; "
                f"bands answer={model.bands.answer} clarify={model.bands.clarify}"
            )
            return
        pooled: dict[str, EvalReport] = {}
        for shop in shops:
            if shop.split == "heldout" and not heldout:
                continue
            model = train([s for s in dev if s.slug != shop.slug])
            report = evaluate_shop(shop, model)
            pooled.setdefault(shop.split, EvalReport()).add(report)
            self.stdout.write(f"loso shop={shop.slug} split={shop.split} {report.summary}")
        for split, report in pooled.items():
            self.stdout.write(f"loso split={split} (pooled) {report.summary}")
