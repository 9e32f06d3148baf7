"""The channel layer of the embedded default: Channels' in-memory layer, swept for expiry once a second.

The stock ``InMemoryChannelLayer`` walks every channel and every group membership on each send and
receive to drop expired messages. With a thousand shopper sockets (a group each) that walk was most
of the work of a chat message. Expiry is measured in minutes (messages 60 s, memberships a day), so
sweeping at most once a second changes nothing a socket can notice. Production uses channels-redis.
"""

import time

from channels.layers import InMemoryChannelLayer


class EmbeddedChannelLayer(InMemoryChannelLayer):
    sweep_interval = 1.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._swept_at = float("-inf")

    def _clean_expired(self) -> None:
        now = time.time()
        if now - self._swept_at < self.sweep_interval:
            return
        self._swept_at = now
        super()._clean_expired()
