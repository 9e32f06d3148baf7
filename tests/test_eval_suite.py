"""The evaluation suite: whole shops imported into throw-away shops, asked of the engine and of the chat."""

import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from devtools.evalsuite import evaluate_chat, load_suite, run_shop, scratch_shop
from devtools.stats import percentile
from knowledge.evaluation import EvalRow
from knowledge.models import FAQCard
from shops.models import Shop

pytestmark = pytest.mark.django_db
SUITE = Path(__file__).parent / "data" / "suite"


def test_a_suite_run_leaves_no_shop_and_no_card_behind():
    shops, cards = Shop.objects.count(), FAQCard.objects.count()
    (mini,) = load_suite(SUITE)
    result = run_shop(mini)
    assert result.cards == 3
    assert (result.engine.in_scope, result.engine.out_of_scope, result.engine.multi) == (4, 1, 1)
    assert (Shop.objects.count(), FAQCard.objects.count()) == (shops, cards)


def test_the_chat_counts_a_question_only_when_the_cards_answer_reaches_the_shopper():
    (mini,) = load_suite(SUITE)
    with scratch_shop(mini) as shop:
        report = evaluate_chat(
            shop,
            [
                EvalRow(2, "啥时候发货呀", ("什么时候发货",)),
                EvalRow(3, "啥时候发货呀", ("茶叶保质期多久",)),
                EvalRow(4, "你们老板是谁", ()),
            ],
        )
    assert (report.in_scope, report.answered, report.out_of_scope, report.rejected) == (2, 1, 1, 1)
    assert report.misses == ["line 3: '啥时候发货呀' expected 茶叶保质期多久"]


def test_a_suite_without_its_splits_file_is_refused_with_the_file_named(tmp_path):
    with pytest.raises(CommandError, match=r"splits\.json: no such file"):
        call_command("eval_suite", "--suite", str(tmp_path))


def test_the_command_prints_a_line_per_shop_and_per_split():
    out = StringIO()
    call_command("eval_suite", "--suite", str(SUITE), "--split", "all", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("shop=mini-tea split=tune questions=5 engine: top1=")
    assert " | chat: answered=" in lines[0]
    assert lines[-1].startswith("split=tune (pooled) questions=5")


def test_percentiles_are_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.99) == 10.0
    assert percentile(values, 0.0) == 1.0
    assert math.isnan(percentile([], 0.5))
