"""The evaluation suite: whole shops imported into throw-away shops, asked of the engine and of the chat."""

import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from devtools.evalsuite import PAIR_JOINERS, evaluate_chat, load_suite, question_pairs, run_shop, scratch_shop
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


def test_generated_two_question_messages_join_two_questions_of_different_cards_the_same_way_each_time():
    rows = [EvalRow(2, "包邮吗", ("包邮吗",)), EvalRow(3, "几天到？", ("几天能到",)), EvalRow(4, "老板是谁", ())]
    pairs = question_pairs(rows, 20)
    assert pairs == question_pairs(rows, 20) and len(pairs) == 20
    for pair in pairs:
        assert set(pair.expected) == {"包邮吗", "几天能到"}
        first, second = ("包邮吗", "几天到？") if pair.expected[0] == "包邮吗" else ("几天到", "包邮吗")
        assert pair.question.startswith(first) and pair.question.endswith(second)
        assert pair.question[len(first) : -len(second)].lstrip("呢啊") in PAIR_JOINERS
    assert question_pairs(rows[:1], 5) == []


def test_generated_pairs_are_refused_on_held_out_shops(tmp_path):
    (tmp_path / "splits.json").write_text('{"tune": [], "heldout": ["mini-tea"]}', encoding="utf-8")
    (tmp_path / "mini-tea").symlink_to(SUITE / "mini-tea")
    with pytest.raises(CommandError, match="held-out"):
        call_command("eval_suite", "--suite", str(tmp_path), "--split", "heldout", "--pairs", "5")


def test_percentiles_are_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.99) == 10.0
    assert percentile(values, 0.0) == 1.0
    assert math.isnan(percentile([], 0.5))
