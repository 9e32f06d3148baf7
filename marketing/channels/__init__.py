"""The delivery channels: one module per ``Campaign.Channel``, registered here with one line each.

Adding a channel: docs/extending.md, "Adding a marketing channel".
"""

from ..models import Campaign
from . import in_chat, webhook
from .base import ChannelSpec

Channel = Campaign.Channel

CHANNELS: dict[Campaign.Channel, ChannelSpec] = {
    Channel.IN_CHAT: in_chat.CHANNEL,
    Channel.WEBHOOK: webhook.CHANNEL,
}
