"""The web widget: the shopper's socket is the channel. Messages reach it through the conversation's Channels
group (``chat.messaging``), with product cards and quick replies as they are; no connection to configure."""

from .base import ChannelSpec

CHANNEL = ChannelSpec(fields=(), send=None, check=None, rich=True)
