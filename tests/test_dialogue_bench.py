"""The dialogue benchmark command: prints its figures and leaves nothing behind."""

import io

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation, InvoiceRequest
from tests.factories import FAQCardFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_the_benchmark_prints_latency_figures_and_rolls_back_what_it_wrote(shop_a):
    ProductFactory(shop=shop_a)
    FAQCardFactory(shop=shop_a, question="包邮吗", answer="满99包邮")
    OrderFactory(shop=shop_a)
    out = io.StringIO()
    call_command("bench_dialogue", "--shop", "shop-a", "--conversations", "6", stdout=out, stderr=io.StringIO())
    figures = dict(part.split("=") for part in out.getvalue().split())
    assert int(figures["messages"]) > 6
    assert 0 < float(figures["p50_ms"]) <= float(figures["p99_ms"]) <= float(figures["max_ms"])
    assert not Conversation.objects.exists() and not InvoiceRequest.objects.exists()


def test_the_benchmark_refuses_an_unknown_shop(db):
    with pytest.raises(CommandError, match="No shop"):
        call_command("bench_dialogue", "--shop", "nowhere")
