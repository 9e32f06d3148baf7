"""Product recommendation over the real shopper socket: follow-ups on what was shown, and the
``product_details`` frame (a product card opened), with other shops' and off-sale products refused."""

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from chat.models import Conversation, Message
from tests.chat_sockets import frames_until, send_message, shopper_socket
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def bot_message(frame: dict) -> bool:
    return frame["type"] == "message" and frame["sender"] == "bot"


@pytest.fixture
def power_banks(shop_a, shop_b):
    def bank(title, price, mah, colors, stock=50, shop=shop_a, **extra):
        return ProductFactory(
            shop=shop,
            category="充电宝",
            title=title,
            price=Decimal(price),
            colors=colors,
            sizes=[],
            uses=["出差"],
            selling_points=f"容量{mah}mAh，支持快充",
            stock=stock,
            **extra,
        )

    return {
        "small": bank("小巧充电宝 5000毫安", "59.00", 5000, ["白色"]),
        "middle": bank("轻薄充电宝 10000毫安", "79.00", 10000, ["白色", "粉色"]),
        "big": bank("快充充电宝 20000毫安", "129.00", 20000, ["黑色"], stock=0),
        "huge": bank("大容量移动电源 30000毫安", "199.00", 30000, ["黑色", "灰色"]),
        "off_sale": bank("停产充电宝 20000毫安", "99.00", 20000, ["黑色"], on_sale=False),
        "foreign": bank("别家充电宝 20000毫安", "88.00", 20000, ["黑色"], shop=shop_b),
        "cable": ProductFactory(shop=shop_a, category="数据线", title="快充数据线 1米", price=Decimal("29.00")),
    }


async def say(socket, text: str, client_msg_id: str) -> dict:
    """The bot's reply to one message (the first bot message after the ack)."""
    ack = await send_message(socket, text, client_msg_id)
    assert ack["type"] == "ack"
    return (await frames_until(socket, bot_message))[-1]


async def test_follow_ups_over_the_socket_resolve_against_the_list_and_the_product_in_focus(shop_a, power_banks):
    socket, _ = await shopper_socket(shop_a.slug)
    listed = await say(socket, "有没有移动电源，20000毫安以上的", "f-1")
    assert listed["text"].startswith("有的")
    assert [p["title"] for p in listed["products"]] == ["大容量移动电源 30000毫安", "快充充电宝 20000毫安"]
    price = await say(socket, "第二个多少钱", "f-2")
    assert "¥129.00" in price["text"] and [p["title"] for p in price["products"]] == ["快充充电宝 20000毫安"]
    stock = await say(socket, "有货吗", "f-3")
    assert stock["text"].startswith("没有货")  # the 20000 mAh one in focus is out of stock
    colour = await say(socket, "有黑色吗", "f-4")
    assert colour["text"].startswith("有的")
    await socket.disconnect()


async def test_opening_a_product_card_gets_its_details_and_puts_it_in_focus(shop_a, power_banks):
    socket, _ = await shopper_socket(shop_a.slug)
    listed = await say(socket, "推荐个充电宝，100以内", "d-1")
    middle = next(p for p in listed["products"] if p["title"] == "轻薄充电宝 10000毫安")
    await socket.send_json_to({"type": "product_details", "product_id": middle["id"]})
    details = (await frames_until(socket, bot_message))[-1]
    assert "轻薄充电宝 10000毫安" in details["text"] and "¥79.00" in details["text"]
    assert "白色、粉色" in details["text"] and "库存 50 件" in details["text"] and "10000mAh" in details["text"]
    assert [p["id"] for p in details["products"]] == [middle["id"]]
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=details["conversation"])
    assert conversation.state["focus"] == middle["id"]
    # Stored as the bot's message of the conversation: a reconnecting page gets it again.
    assert await database_sync_to_async(Message.objects.filter(pk=details["id"], sender="bot").exists)()
    follow_up = await say(socket, "有粉色吗", "d-2")
    assert follow_up["text"].startswith("有的") and "轻薄充电宝" in follow_up["text"]
    await socket.disconnect()


@pytest.mark.parametrize("which", ["foreign", "off_sale"])
async def test_another_shops_or_an_off_sale_product_is_refused_and_the_socket_stays_open(shop_a, power_banks, which):
    socket, _ = await shopper_socket(shop_a.slug)
    await say(socket, "推荐个充电宝", "x-1")
    await socket.send_json_to({"type": "product_details", "product_id": power_banks[which].pk})
    error = await socket.receive_json_from()
    assert error == {"type": "error", "code": "product_not_found", "message": "商品不存在或已下架"}
    # Nothing was said about that product, and the socket still works.
    reply = await say(socket, "第一个多少钱", "x-2")
    assert reply["text"] and power_banks[which].title not in reply["text"]
    await socket.disconnect()


async def test_a_product_details_frame_without_an_integer_id_or_before_any_message_is_an_error(shop_a, power_banks):
    socket, _ = await shopper_socket(shop_a.slug)
    await socket.send_json_to({"type": "product_details", "product_id": power_banks["small"].pk})
    assert (await socket.receive_json_from())["code"] == "not_found"  # no conversation yet
    for bad in ("12", True):  # (three frames: within the per-socket limit of product_details frames)
        await socket.send_json_to({"type": "product_details", "product_id": bad})
        assert (await socket.receive_json_from())["code"] == "invalid_product_id"
    await say(socket, "你好", "y-1")
    await socket.disconnect()
