"""Judge a shop's large model before turning it on: every question of a file through the model path."""

import time
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chat import grounding
from core import llm as client
from devtools.stats import percentile
from knowledge.services import answer_message
from shops import llm
from shops.models import Shop

MAX_QUESTIONS = 2000
# How each outcome of the model path is counted here.
COUNTED_AS = {
    llm.Outcome.SENT: "answered",
    llm.Outcome.UNKNOWN: "refused",
    llm.Outcome.UNGROUNDED: "ungrounded",
    llm.Outcome.GUARDED: "guarded",
    llm.Outcome.FAILED: "failed",
}


class Command(BaseCommand):
    help = (
        "Ask a shop's large model every question of a file (UTF-8, one per line, # comments) as the chat would "
        "in the clarify band: the shop's top cards and their products as facts. Prints how many were answered "
        "(would be sent), grounded (every sentence cited), refused (不知道), dropped and failed, and the latency "
        "p50/p99. The calls are recorded as the shop's model usage (purpose: evaluation); nothing else is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("questions", type=Path)
        parser.add_argument("--shop", required=True, help="the shop's slug")
        parser.add_argument("--even-disabled", action="store_true", help="also when the shop's model is off")

    def handle(self, *args, questions: Path, shop: str, even_disabled: bool, **options) -> None:
        found = Shop.objects.filter(slug=shop).first()
        if found is None:
            raise CommandError(f"No shop with the slug {shop!r}.")
        endpoint = self._endpoint(found, even_disabled)
        asked = self._questions(questions)
        counts = {"answered": 0, "grounded": 0, "refused": 0, "ungrounded": 0, "guarded": 0, "failed": 0, "no_cards": 0}
        latencies: list[float] = []
        tokens, cost = 0, Decimal(0)
        for question in tqdm(asked, desc="questions", disable=not self.stdout.isatty()):
            facts = grounding.facts_for(found, question, answer_message(found, question, record=False))
            if facts is None:
                counts["no_cards"] += 1
                continue
            started = time.monotonic()
            completion = client.complete(endpoint, facts.prompt())
            latencies.append((time.monotonic() - started) * 1000)
            outcome, _judged = grounding.outcome_of(found.pk, facts, completion)
            counts[COUNTED_AS[outcome]] += 1
            if outcome == llm.Outcome.SENT:
                counts["grounded"] += grounding.every_sentence_cited(completion.text)
            usage = llm.record_usage(found, llm.Purpose.EVALUATION, outcome, endpoint, completion)
            tokens += usage.prompt_tokens + usage.completion_tokens
            cost += usage.cost
        total = len(asked)
        shares = " ".join(f"{name}={n} ({n * 100 / total:.1f}%)" for name, n in counts.items())
        self.stdout.write(f"shop={found.slug} model={endpoint.model} questions={total} {shares}")
        self.stdout.write(
            f"latency_ms p50={percentile(latencies, 0.5):.0f} p99={percentile(latencies, 0.99):.0f} "
            f"tokens={tokens} cost={cost:.4f} yuan"
        )

    @staticmethod
    def _endpoint(shop: Shop, even_disabled: bool) -> client.Endpoint:
        endpoint = llm.endpoint_for(shop, even_disabled=even_disabled)
        if endpoint is None:
            raise CommandError(f"Shop {shop.slug!r} has no usable model (none, disabled, no key or over budget).")
        return endpoint

    @staticmethod
    def _questions(path: Path) -> list[str]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error.__class__.__name__}") from None
        asked = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not asked:
            raise CommandError(f"{path} holds no question.")
        if len(asked) > MAX_QUESTIONS:
            raise CommandError(f"{path} holds {len(asked)} questions; at most {MAX_QUESTIONS}.")
        return asked
