"""``manage.py eval_dialogues``: a small catalogue loaded through the REST API into a new shop, scripted
shoppers played over the shopper socket (in this process's ASGI application), turns checked against the data."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiKey
from shops.models import Product, Shop

pytestmark = pytest.mark.django_db(transaction=True)  # the socket's database thread sees committed rows


def product(sku, title, category, price, colors, points, stock=20):
    return {
        "sku": sku, "title": title, "category": category, "price": price, "colors": colors, "sizes": [],
        "uses": ["送礼"], "selling_points": points, "stock": stock, "on_sale": True,
    }  # fmt: skip


PRODUCTS = [
    product("T-1", "明前龙井 250g", "绿茶", "168.00", ["罐装"], "2025新茶，明前采摘"),
    product("T-2", "碧螺春 100g", "绿茶", "98.00", ["袋装"], "明前采摘，花果香"),
    product("T-3", "正山小种 200g", "红茶", "128.00", ["罐装"], "松烟香，耐冲泡"),
    product("T-4", "金骏眉 50g", "红茶", "258.00", ["礼盒"], "蜜香，送礼首选", stock=0),
]
FAQ = [{"question": "多久发货", "answer": "下单后24小时内发货。", "category": "物流"}]
DIALOGUES = [
    {
        "name": "a need and a yes/no question",
        "turns": [
            {
                "say": "有没有250g的绿茶",
                "expect": {"products": "some", "category": "绿茶", "attr": {"unit": "g", "min": 250, "max": 250}},
            },
            {"say": "有货吗", "expect": {"about": "focus", "yes_if_about": "stock"}},
        ],
    },
    {
        "name": "not sold, and a check that fails",
        "turns": [
            {"say": "有卖咖啡机吗", "expect": {"products": "none", "yes_if_any": {"text": "咖啡机"}}},
            {"say": "推荐红茶，顺便问下多久发货", "expect": {"category": "绿茶", "faq": ["多久发货"]}},
        ],
    },
]


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "splits.json").write_text(json.dumps({"tune": ["tea"], "heldout": []}))
    shop = tmp_path / "tea"
    shop.mkdir()
    (shop / "shop.json").write_text(json.dumps({"name": "茶香小铺", "industry": "food"}, ensure_ascii=False))
    (shop / "products.json").write_text(json.dumps(PRODUCTS, ensure_ascii=False))
    (shop / "faq.json").write_text(json.dumps(FAQ, ensure_ascii=False))
    (shop / "dialogues.json").write_text(json.dumps(DIALOGUES, ensure_ascii=False))
    return tmp_path


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("eval_dialogues", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_catalogue_is_loaded_through_the_api_and_each_turn_checked_against_it(suite):
    lines = run("--in-process", "--suite", str(suite), "--misses")
    assert lines[-1] == "split=tune (pooled) dialogues_passed=1/2 (50%) turns_passed=3/4 (75%)"
    assert "catalogue=tea split=tune dialogues_passed=1/2 (50%) turns_passed=3/4 (75%)" in lines
    # The failing turn: red tea shown where the script (wrongly) expects green tea; the FAQ answer was there.
    [miss] = [line for line in lines if line.startswith("MISS")]
    assert "turn 2" in miss and "does not meet {'category': '绿茶'}" in miss and "FAQ" not in miss
    # The run's shop and its API key are gone again.
    assert not Shop.objects.filter(slug__startswith="eval-tea-").exists()
    assert not ApiKey.objects.exists() and not Product.objects.exists()


def test_a_suite_that_cannot_be_read_or_loaded_fails_with_one_line(suite, tmp_path):
    with pytest.raises(CommandError, match=r"splits\.json: no such file"):
        run("--in-process", "--suite", str(tmp_path / "nowhere"))
    (suite / "tea" / "products.json").write_text(json.dumps([{**PRODUCTS[0], "price": "-1"}]))
    with pytest.raises(CommandError, match=r"tea: the product API answered 400"):
        run("--in-process", "--suite", str(suite))
    with pytest.raises(CommandError, match="--url must be"):
        run("--url", "ftp://example.com", "--suite", str(suite))
