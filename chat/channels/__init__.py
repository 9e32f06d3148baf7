"""The channels a conversation can come through: one module per ``Conversation.Channel`` value, each
declaring ``CHANNEL = ChannelSpec(...)`` (``base.py``). Nothing outside this package names a channel:
inbound goes through ``inbound.receive``, outbound through ``delivery``. docs/extending.md has the recipe."""

from chat.models import Conversation

from . import api, email, web, wecom
from .base import ChannelSpec

Channel = Conversation.Channel

CHANNELS: dict[str, ChannelSpec] = {
    Channel.WEB: web.CHANNEL,
    Channel.WECOM: wecom.CHANNEL,
    Channel.API: api.CHANNEL,
    Channel.EMAIL: email.CHANNEL,
}
