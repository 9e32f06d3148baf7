"""Rate-limit counters (core.limits) count alike in local memory and in Redis, where a message's counters go
in one round trip: the narrowest used-up limit refuses a hit, and the wider ones do not count it.

The Redis case runs against ``SHOPBEE_TEST_REDIS_URL`` (a database of its own: the test empties it)."""

import os

import pytest
import redis

from core.limits import exceeded, hit, hit_all

REDIS_URL = os.environ.get("SHOPBEE_TEST_REDIS_URL", "")


@pytest.fixture(params=["local memory", "redis"])
def counting_cache(request, settings):
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("SHOPBEE_TEST_REDIS_URL is not set")
        redis.Redis.from_url(REDIS_URL).flushdb()
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    yield request.param
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_a_hit_refused_by_the_narrowest_limit_is_not_counted_by_the_wider_ones(counting_cache, settings):
    # Windows of a day: none ends while the test runs.
    settings.SHOPBEE_LIMITS = {**settings.SHOPBEE_LIMITS, "chat.message.socket": "2/day", "chat.message.shop": "3/day"}
    first_socket = [("chat.message.socket", "socket-1"), ("chat.message.shop", 7)]
    assert [hit_all(first_socket) for _ in range(3)] == [True, True, False]
    assert not exceeded("chat.message.shop", 7)  # two of its three: the refused third did not count
    second_socket = [("chat.message.socket", "socket-2"), ("chat.message.shop", 7)]
    assert [hit_all(second_socket) for _ in range(2)] == [True, False]
    assert exceeded("chat.message.shop", 7) and exceeded("chat.message.socket", "socket-1")
    # Refused by the shop's limit, the hit still counts for the narrower socket's: 2 of 2.
    assert exceeded("chat.message.socket", "socket-2")


def test_a_single_limit_counts_up_to_its_rate_then_refuses(counting_cache, settings):
    settings.SHOPBEE_LIMITS = {**settings.SHOPBEE_LIMITS, "chat.connect.ip": "2/day"}
    assert [hit("chat.connect.ip", "10.0.0.9") for _ in range(3)] == [True, True, False]
    assert exceeded("chat.connect.ip", "10.0.0.9") and not exceeded("chat.connect.ip", "10.0.0.10")
