"""The embedded channel layer: Channels' in-memory layer, with its expiry sweep run at most once a second."""

import datetime as dt

import time_machine

from chat.layers import EmbeddedChannelLayer

START = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


async def test_a_message_nobody_reads_still_expires_and_takes_its_channel_out_of_its_groups():
    layer = EmbeddedChannelLayer(expiry=60)
    with time_machine.travel(START, tick=False) as clock:
        await layer.group_add("conversation.1", "specific.gone")
        await layer.group_add("conversation.1", "specific.here")
        await layer.send("specific.gone", {"type": "chat.messages"})  # its socket died: never read
        clock.shift(61)
        await layer.group_send("conversation.1", {"type": "chat.messages"})
    assert "specific.gone" not in layer.groups["conversation.1"]
    assert "specific.here" in layer.groups["conversation.1"]


async def test_the_sweep_runs_at_most_once_a_second_however_many_frames_pass():
    layer = EmbeddedChannelLayer(expiry=60)
    with time_machine.travel(START, tick=False) as clock:
        await layer.group_add("conversation.1", "specific.gone")
        await layer.send("specific.gone", {"type": "chat.messages"})
        clock.shift(59.8)
        await layer.group_send("conversation.2", {"type": "chat.messages"})  # sweeps: nothing expired yet
        clock.shift(0.4)
        await layer.group_send("conversation.2", {"type": "chat.messages"})
        assert "specific.gone" in layer.groups["conversation.1"]  # expired, but swept less than 1 s ago
        clock.shift(0.7)
        await layer.group_send("conversation.2", {"type": "chat.messages"})
    assert "conversation.1" not in layer.groups or "specific.gone" not in layer.groups["conversation.1"]
