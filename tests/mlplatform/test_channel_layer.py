"""The Redis channel layer survives idle sockets (redis-py 8 closes them after 5 s by default)."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis.exceptions import TimeoutError as RedisTimeoutError

IDLE_SECONDS = 7  # longer than redis-py's 5 s default socket timeout and the layer's 5 s pop


async def _receive_after_idle(layer) -> object:
    channel = await layer.new_channel()

    async def send_later() -> None:
        await asyncio.sleep(IDLE_SECONDS)
        await layer.send(channel, {"type": "snapshot.ingested", "id": 1})

    sender = asyncio.create_task(send_later())
    try:
        return await asyncio.wait_for(layer.receive(channel), IDLE_SECONDS + 10)
    except Exception as exc:  # reported as the outcome, compared below
        return exc
    finally:
        sender.cancel()
        await layer.flush()


@pytest.mark.slow
def test_a_receive_waiting_on_an_idle_socket_gets_its_message():
    configured = get_channel_layer()
    assert isinstance(configured, RedisChannelLayer)
    # The same layer with a socket read timeout shorter than its blocking pop, to show the wait below
    # is one that breaks. (redis-py's own default, 5 s, ties with the layer's 5 s pop, so which of
    # the two ends first is a race; 2 s shows the same failure every time.)
    url = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"]
    default = RedisChannelLayer(
        hosts=[{"address": url, "socket_timeout": 2}], prefix="test-asgi-default"
    )

    async def both():
        return await asyncio.gather(_receive_after_idle(configured), _receive_after_idle(default))

    started = time.monotonic()
    ours, theirs = asyncio.run(both())
    assert time.monotonic() - started >= IDLE_SECONDS
    assert ours == {"type": "snapshot.ingested", "id": 1}
    assert isinstance(theirs, RedisTimeoutError), theirs


def test_production_and_tests_configure_no_socket_timeout():
    from mlplatform.settings.base import redis_channel_layer

    host = redis_channel_layer("redis://h:6379/0")["default"]["CONFIG"]["hosts"][0]
    assert host == {"address": "redis://h:6379/0", "socket_timeout": None}
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["socket_timeout"] is None
