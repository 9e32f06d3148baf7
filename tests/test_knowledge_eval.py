"""Accuracy on the shipped evaluation set: shopper questions written apart from the cards' own wording."""

from pathlib import Path

import pytest
from django.core.management import call_command

from devtools.demo.knowledge import load_demo as load_knowledge
from devtools.demo.shop_catalog import SHOPS
from knowledge.evaluation import evaluate, read_rows
from shops.models import Shop
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
DEMO_SHOPS = ["swift-sports", "lanyi-women", "jingjia-clean"]


@pytest.fixture
def demo_knowledge(db):
    for spec in SHOPS:
        ShopFactory(slug=spec["slug"], name=spec["name"], industry=spec["industry"])
    load_knowledge()


def test_the_evaluation_set_is_large_and_varied_enough():
    rows = [row for slug in DEMO_SHOPS for row in read_rows(DATA / f"eval_{slug}.csv")]
    assert len(rows) >= 300
    assert sum(1 for r in rows if not r.expected) >= 30
    assert sum(1 for r in rows if len(r.expected) > 1) >= 15


@pytest.mark.parametrize("slug", DEMO_SHOPS)
def test_top1_accuracy_on_the_demo_shops_is_at_least_85_percent(demo_knowledge, slug):
    report = evaluate(Shop.objects.get(slug=slug), read_rows(DATA / f"eval_{slug}.csv"))
    assert report.top1 >= 0.85, "\n".join(report.misses)
    assert report.top3 >= report.top1
    assert report.reject >= 0.9, "\n".join(report.misses)


def test_eval_answers_ends_with_the_summary_line(demo_knowledge, capsys):
    call_command("eval_answers", str(DATA / "eval_jingjia-clean.csv"), shop="jingjia-clean")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("top1=0.") and " top3=" in last and " reject=" in last
