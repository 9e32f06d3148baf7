"""The bot's answers about live streams, from the shop's LiveSession rows, in the shop's timezone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from marketing.services import live_answer
from tests.factories import LiveSessionFactory, ProductFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def tonight(shop_a):
    session = LiveSessionFactory(shop=shop_a, title="双十二预热", starts_at=at(24, 20), ends_at=at(24, 22))
    session.featured_products.set(
        [ProductFactory(shop=shop_a, title="云朵跑鞋"), ProductFactory(shop=shop_a, title="速干T恤")]
    )
    return session


@time_machine.travel(at(24, 10), tick=False)
def test_when_is_the_live_stream_gives_tonights_time(shop_a, tonight):
    assert live_answer(shop_a, "什么时候直播？") == "下一场直播「双十二预热」在今天 20:00–22:00。"


@time_machine.travel(at(24, 10), tick=False)
def test_what_is_sold_today_names_the_featured_products(shop_a, tonight):
    assert (
        live_answer(shop_a, "今天直播卖什么")
        == "下一场直播「双十二预热」在今天 20:00–22:00。这场主推：云朵跑鞋、速干T恤。"
    )


@time_machine.travel(at(24, 10), tick=False)
def test_traditional_and_full_width_questions_are_understood(shop_a, tonight):
    assert live_answer(shop_a, "什麼時候直播？？") == "下一场直播「双十二预热」在今天 20:00–22:00。"


@time_machine.travel(at(24, 21), tick=False)
def test_during_the_stream_the_bot_says_it_is_on_now(shop_a, tonight):
    tonight.room_url = "https://live.example.com/room/1"
    tonight.save()
    assert live_answer(shop_a, "直播在哪看") == (
        "正在直播「双十二预热」，22:00 结束，快来直播间看看吧！直播间：https://live.example.com/room/1"
    )


@time_machine.travel(at(23, 10), tick=False)
def test_asking_about_today_when_the_stream_is_tomorrow_says_so(shop_a, tonight):
    assert live_answer(shop_a, "今天有直播吗") == "今天没有直播哦。下一场直播「双十二预热」在明天 20:00–22:00。"


@time_machine.travel(at(25, 10), tick=False)
def test_without_an_upcoming_stream_the_bot_says_none_is_planned(shop_a, shop_b, tonight):
    LiveSessionFactory(shop=shop_b, starts_at=at(25, 20), ends_at=at(25, 21))
    assert live_answer(shop_a, "下次直播什么时候") == "近期还没有直播安排哦，关注店铺就能第一时间收到开播提醒～"


def test_a_question_not_about_live_streams_is_left_to_others(shop_a, tonight):
    assert live_answer(shop_a, "什么时候发货") is None
