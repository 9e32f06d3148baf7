"""The dialogue state lives in the database: any copy of the conversation continues it."""

import pytest

from chat.dialogue import respond
from chat.models import Conversation
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_stale_copy_of_the_conversation_continues_from_the_stored_state(shop_a):
    for n in range(5):
        ProductFactory(shop=shop_a, title=f"跑步鞋{n}号", price=100 + 100 * n)
    ProductFactory(shop=shop_a, category="外套", title="皮肤衣")
    conversation = Conversation.objects.create(shop=shop_a, visitor_token="two-tabs")
    other_tab = Conversation.objects.get(pk=conversation.pk)  # loaded before the first message

    assert "预算" in respond(conversation, "推荐一双跑步鞋").replies[0].text
    result = respond(other_tab, "300以内")
    assert [p["title"] for p in result.replies[0].products] == ["跑步鞋0号", "跑步鞋1号", "跑步鞋2号"]
    assert Conversation.objects.get(pk=conversation.pk).state["slots"]["high"] == "300"
